-- What a lead's conversion produced or merged into. The columns are added without foreign keys
-- (SQLite cannot add a composite foreign key to an existing table); the conversion writes them
-- in the transaction that creates or locks the records. Mirrors
-- migrations/sqlite/0005_lead_conversion.sql (UUID here).

ALTER TABLE leads ADD COLUMN converted_account_id UUID;
ALTER TABLE leads ADD COLUMN converted_contact_id UUID;
ALTER TABLE leads ADD COLUMN converted_opportunity_id UUID;
CREATE INDEX accounts_lower_name ON accounts (organization_id, lower(name));
