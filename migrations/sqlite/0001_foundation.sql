-- Foundation: organisations, users, refresh tokens, idempotency records, the audit trail, leads.
-- Mirrors migrations/postgres/0001_foundation.sql; only column types differ (UUIDs are BLOBs,
-- timestamps RFC 3339 TEXT, JSON TEXT). Every tenant table leads its keys with organization_id.

CREATE TABLE organizations (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'sales_rep', 'support_agent')),
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
);
-- The one key that does not lead with the organisation: an email identifies a login across
-- organisations (login takes only email and password).
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_org_created ON users (organization_id, created_at, id);

CREATE TABLE refresh_tokens (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    family_id BLOB NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, user_id) REFERENCES users (organization_id, id)
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (organization_id, token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (organization_id, family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (organization_id, user_id);

CREATE TABLE idempotency_keys (
    organization_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body BLOB,
    PRIMARY KEY (organization_id, user_id, idempotency_key)
);
-- For the periodic purge of records older than 24 hours, which runs across organisations.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE audit_events (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    actor_id BLOB,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    changes TEXT NOT NULL,
    request_id TEXT,
    occurred_at TEXT NOT NULL,
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX audit_events_entity ON audit_events (organization_id, entity_type, entity_id, occurred_at, id);
CREATE INDEX audit_events_time ON audit_events (organization_id, occurred_at, id);

CREATE TABLE leads (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    first_name TEXT,
    last_name TEXT NOT NULL,
    company TEXT,
    title TEXT,
    email TEXT,
    phone TEXT,
    website TEXT,
    source TEXT CHECK (source IN ('web', 'cold_call', 'advertising', 'social', 'email_campaign', 'seminar',
                                  'trade_show', 'webinar', 'referral', 'partner', 'other')),
    source_detail TEXT,
    status TEXT NOT NULL CHECK (status IN ('new', 'contacted', 'qualified', 'unqualified', 'converted')),
    rating TEXT CHECK (rating IN ('hot', 'warm', 'cold')),
    owner_id BLOB NOT NULL,
    description TEXT,
    custom_fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    archived_at TEXT,
    converted_at TEXT,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE INDEX leads_created ON leads (organization_id, created_at, id);
CREATE INDEX leads_updated ON leads (organization_id, updated_at, id);
CREATE INDEX leads_status_created ON leads (organization_id, status, created_at, id);
CREATE INDEX leads_owner_created ON leads (organization_id, owner_id, created_at, id);
CREATE INDEX leads_last_name ON leads (organization_id, last_name, id);
