-- Accounts: the businesses the organisation sells to. Addresses and tags are JSON documents;
-- annual revenue is money (minor units and an ISO 4217 currency). Mirrors
-- migrations/postgres/0002_accounts.sql.

CREATE TABLE accounts (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    industry TEXT,
    website TEXT,
    phone TEXT,
    email TEXT,
    billing_address TEXT,
    shipping_address TEXT,
    employee_count INTEGER,
    annual_revenue_amount INTEGER,
    annual_revenue_currency TEXT,
    tier TEXT CHECK (tier IN ('a', 'b', 'c')),
    lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('prospect', 'customer', 'former_customer', 'partner')),
    tags TEXT NOT NULL,
    parent_account_id BLOB,
    owner_id BLOB NOT NULL,
    description TEXT,
    custom_fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    archived_at TEXT,
    PRIMARY KEY (organization_id, id),
    CHECK ((annual_revenue_amount IS NULL) = (annual_revenue_currency IS NULL)),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, parent_account_id) REFERENCES accounts (organization_id, id)
);
CREATE INDEX accounts_created ON accounts (organization_id, created_at, id);
CREATE INDEX accounts_updated ON accounts (organization_id, updated_at, id);
CREATE INDEX accounts_name ON accounts (organization_id, name, id);
CREATE INDEX accounts_owner ON accounts (organization_id, owner_id, created_at, id);
CREATE INDEX accounts_parent ON accounts (organization_id, parent_account_id);
