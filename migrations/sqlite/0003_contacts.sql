-- Contacts: the people the organisation deals with; a person buying for themselves has no
-- account. An email is unique among the organisation's active contacts. Mirrors
-- migrations/postgres/0003_contacts.sql.

CREATE TABLE contacts (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    first_name TEXT,
    last_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    mobile TEXT,
    title TEXT,
    account_id BLOB,
    lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('prospect', 'customer', 'former_customer', 'partner')),
    source TEXT CHECK (source IN ('web', 'cold_call', 'advertising', 'social', 'email_campaign', 'seminar',
                                  'trade_show', 'webinar', 'referral', 'partner', 'other')),
    tags TEXT NOT NULL,
    do_not_contact BOOLEAN NOT NULL,
    owner_id BLOB NOT NULL,
    description TEXT,
    custom_fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    archived_at TEXT,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, account_id) REFERENCES accounts (organization_id, id)
);
CREATE UNIQUE INDEX contacts_active_email_key ON contacts (organization_id, email)
    WHERE archived_at IS NULL AND email IS NOT NULL;
CREATE INDEX contacts_created ON contacts (organization_id, created_at, id);
CREATE INDEX contacts_updated ON contacts (organization_id, updated_at, id);
CREATE INDEX contacts_last_name ON contacts (organization_id, last_name, id);
CREATE INDEX contacts_account ON contacts (organization_id, account_id, last_name, id);
CREATE INDEX contacts_owner ON contacts (organization_id, owner_id, created_at, id);
