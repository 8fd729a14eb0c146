-- Attention by class of customer: how often each tier of account, and each lifecycle stage of a
-- person buying for themselves (a contact without an account), should hear from the
-- organisation, in days (NULL: no expectation). One policy row per organisation, created with it
-- (crates/crm-persistence/src/organizations.rs) from the domain's defaults, which this migration
-- copies once for the organisations that exist (crates/crm-domain/src/attention.rs).
--
-- Each account and contact stores `attention_due_at`: its last interaction plus its class's
-- period, or its creation when it was never reached; NULL without an expectation (and for a
-- contact of an account, followed through its account). The triggers below keep it in the
-- statement of every write that moves the last interaction (the activity triggers of 0020 update
-- `last_interaction_at`) or the class, so that the overdue customers are one range of the index
-- on the never-NULL order `COALESCE(attention_due_at, '9999-12-31T23:59:59+00:00')`
-- (crates/crm-persistence/src/list.rs), never arithmetic at read time. A policy change recomputes
-- its organisation's rows by rewriting the class column onto itself, which fires these triggers.
-- Mirrors migrations/sqlite/0021_attention.sql.

CREATE TABLE attention_policies (
    organization_id UUID PRIMARY KEY REFERENCES organizations (id),
    tier_a INTEGER CHECK (tier_a BETWEEN 1 AND 3650),
    tier_b INTEGER CHECK (tier_b BETWEEN 1 AND 3650),
    tier_c INTEGER CHECK (tier_c BETWEEN 1 AND 3650),
    tier_none INTEGER CHECK (tier_none BETWEEN 1 AND 3650),
    stage_prospect INTEGER CHECK (stage_prospect BETWEEN 1 AND 3650),
    stage_customer INTEGER CHECK (stage_customer BETWEEN 1 AND 3650),
    stage_former_customer INTEGER CHECK (stage_former_customer BETWEEN 1 AND 3650),
    stage_partner INTEGER CHECK (stage_partner BETWEEN 1 AND 3650),
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

INSERT INTO attention_policies (organization_id, tier_a, tier_b, tier_c, tier_none, stage_prospect, stage_customer,
    stage_former_customer, stage_partner, version, updated_at)
SELECT id, 14, 30, 90, NULL, 14, 30, 180, 30, 1, created_at FROM organizations;

ALTER TABLE accounts ADD COLUMN attention_due_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN attention_due_at TIMESTAMPTZ;

CREATE FUNCTION attention_due(last_at TIMESTAMPTZ, created TIMESTAMPTZ, period INTEGER) RETURNS TIMESTAMPTZ
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN period IS NULL THEN NULL WHEN last_at IS NULL THEN created
                ELSE last_at + make_interval(days => period) END
$$;

CREATE FUNCTION accounts_attention() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    period INTEGER;
BEGIN
    SELECT CASE NEW.tier WHEN 'a' THEN p.tier_a WHEN 'b' THEN p.tier_b WHEN 'c' THEN p.tier_c ELSE p.tier_none END
        INTO period FROM attention_policies AS p WHERE p.organization_id = NEW.organization_id;
    NEW.attention_due_at := attention_due(NEW.last_interaction_at, NEW.created_at, period);
    RETURN NEW;
END;
$$;

CREATE FUNCTION contacts_attention() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    period INTEGER;
BEGIN
    IF NEW.account_id IS NULL THEN
        SELECT CASE NEW.lifecycle_stage WHEN 'prospect' THEN p.stage_prospect WHEN 'customer' THEN p.stage_customer
                   WHEN 'former_customer' THEN p.stage_former_customer WHEN 'partner' THEN p.stage_partner END
            INTO period FROM attention_policies AS p WHERE p.organization_id = NEW.organization_id;
    END IF;
    NEW.attention_due_at := attention_due(NEW.last_interaction_at, NEW.created_at, period);
    RETURN NEW;
END;
$$;

CREATE TRIGGER accounts_attention BEFORE INSERT OR UPDATE OF tier, last_interaction_at, attention_due_at
    ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_attention();
CREATE TRIGGER contacts_attention BEFORE INSERT OR UPDATE OF account_id, lifecycle_stage, last_interaction_at, attention_due_at
    ON contacts FOR EACH ROW EXECUTE FUNCTION contacts_attention();

UPDATE accounts SET tier = tier;
UPDATE contacts SET lifecycle_stage = lifecycle_stage;

CREATE INDEX accounts_attention ON accounts (organization_id, (COALESCE(attention_due_at, '9999-12-31T23:59:59+00:00'::timestamptz)), id);
CREATE INDEX contacts_attention ON contacts (organization_id, (COALESCE(attention_due_at, '9999-12-31T23:59:59+00:00'::timestamptz)), id);
