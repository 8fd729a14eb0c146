-- The people of a deal and the part each plays in the buying decision; at most one is primary
-- (kept by the repository in the transaction that sets one). Mirrors
-- migrations/sqlite/0006_opportunity_contacts.sql (UUID and TIMESTAMPTZ here).

CREATE TABLE opportunity_contacts (
    organization_id UUID NOT NULL,
    opportunity_id UUID NOT NULL,
    contact_id UUID NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('decision_maker', 'economic_buyer', 'evaluator', 'user', 'influencer', 'gatekeeper')),
    is_primary BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, opportunity_id, contact_id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id)
);
CREATE INDEX opportunity_contacts_contact ON opportunity_contacts (organization_id, contact_id);
