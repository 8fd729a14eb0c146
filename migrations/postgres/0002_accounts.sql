-- Accounts: the businesses the organisation sells to. Addresses and tags are JSON documents;
-- annual revenue is money (minor units and an ISO 4217 currency). Mirrors
-- migrations/sqlite/0002_accounts.sql (UUID, TIMESTAMPTZ, JSONB and BIGINT here).

CREATE TABLE accounts (
    organization_id UUID NOT NULL,
    id UUID NOT NULL,
    name TEXT NOT NULL,
    industry TEXT,
    website TEXT,
    phone TEXT,
    email TEXT,
    billing_address JSONB,
    shipping_address JSONB,
    employee_count BIGINT,
    annual_revenue_amount BIGINT,
    annual_revenue_currency TEXT,
    tier TEXT CHECK (tier IN ('a', 'b', 'c')),
    lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('prospect', 'customer', 'former_customer', 'partner')),
    tags JSONB NOT NULL,
    parent_account_id UUID,
    owner_id UUID NOT NULL,
    description TEXT,
    custom_fields JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID NOT NULL,
    version BIGINT NOT NULL,
    archived_at TIMESTAMPTZ,
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
