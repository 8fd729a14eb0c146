-- The people of a deal and the part each plays in the buying decision; at most one is primary
-- (kept by the repository in the transaction that sets one). Mirrors
-- migrations/postgres/0006_opportunity_contacts.sql.

CREATE TABLE opportunity_contacts (
    organization_id BLOB NOT NULL,
    opportunity_id BLOB NOT NULL,
    contact_id BLOB NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('decision_maker', 'economic_buyer', 'evaluator', 'user', 'influencer', 'gatekeeper')),
    is_primary BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (organization_id, opportunity_id, contact_id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id)
);
CREATE INDEX opportunity_contacts_contact ON opportunity_contacts (organization_id, contact_id);
