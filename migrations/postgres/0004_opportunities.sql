-- Opportunities and their stage history. Amounts are money (minor units and an ISO 4217
-- currency). Every stage change, including the first stage at creation, is a history row.
-- Mirrors migrations/sqlite/0004_opportunities.sql (UUID, TIMESTAMPTZ, JSONB and BIGINT here).

CREATE TABLE opportunities (
    organization_id UUID NOT NULL,
    id UUID NOT NULL,
    name TEXT NOT NULL,
    account_id UUID,
    contact_id UUID,
    amount BIGINT,
    currency TEXT,
    stage TEXT NOT NULL CHECK (stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation',
                                         'closed_won', 'closed_lost')),
    probability BIGINT NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close_date DATE,
    kind TEXT CHECK (kind IN ('new_business', 'upsell', 'cross_sell', 'renewal')),
    lead_source TEXT,
    next_step TEXT,
    owner_id UUID NOT NULL,
    description TEXT,
    custom_fields JSONB NOT NULL,
    closed_at TIMESTAMPTZ,
    loss_reason TEXT,
    last_open_stage TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID NOT NULL,
    version BIGINT NOT NULL,
    archived_at TIMESTAMPTZ,
    PRIMARY KEY (organization_id, id),
    CHECK ((amount IS NULL) = (currency IS NULL)),
    CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, account_id) REFERENCES accounts (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id)
);
CREATE INDEX opportunities_created ON opportunities (organization_id, created_at, id);
CREATE INDEX opportunities_updated ON opportunities (organization_id, updated_at, id);
CREATE INDEX opportunities_name ON opportunities (organization_id, name, id);
CREATE INDEX opportunities_account ON opportunities (organization_id, account_id, created_at, id);
CREATE INDEX opportunities_contact ON opportunities (organization_id, contact_id);
CREATE INDEX opportunities_stage ON opportunities (organization_id, stage, expected_close_date);
CREATE INDEX opportunities_owner ON opportunities (organization_id, owner_id, created_at, id);

CREATE TABLE opportunity_stage_history (
    organization_id UUID NOT NULL,
    id UUID NOT NULL,
    opportunity_id UUID NOT NULL,
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    amount BIGINT,
    currency TEXT,
    probability BIGINT NOT NULL,
    changed_by UUID NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id)
);
CREATE INDEX opportunity_stage_history_opportunity ON opportunity_stage_history (organization_id, opportunity_id, changed_at, id);
CREATE INDEX opportunity_stage_history_time ON opportunity_stage_history (organization_id, changed_at, opportunity_id);
