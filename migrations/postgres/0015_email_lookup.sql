-- The `email` filter of lead and contact lists: an exact lookup of stored (lowercased) emails
-- that costs the same at any number of rows. Contacts already have a unique index on the
-- emails of active contacts (0003); this one serves `archived=true` and `archived=only` too.
CREATE INDEX leads_email ON leads (organization_id, email);
CREATE INDEX contacts_email ON contacts (organization_id, email);
