-- Attention by class of customer: how often each tier of account, and each lifecycle stage of a
-- person buying for themselves (a contact without an account), should hear from the
-- organisation, in days (NULL: no expectation). One policy row per organisation, created with it
-- (crates/crm-persistence/src/organizations.rs) from the domain's defaults, which this migration
-- copies once for the organisations that exist (crates/crm-domain/src/attention.rs).
--
-- Each account and contact stores `attention_due_at`: its last interaction plus its class's
-- period, or its creation when it was never reached; NULL without an expectation (and for a
-- contact of an account, followed through its account). The triggers below keep it in the
-- transaction of every write that moves the last interaction (the activity triggers of 0020
-- update `last_interaction_at`) or the class, so that the overdue customers are one range of the
-- index on the never-NULL order `COALESCE(attention_due_at, '9999-12-31T23:59:59+00:00')`
-- (crates/crm-persistence/src/list.rs), never arithmetic at read time. A policy change recomputes
-- its organisation's rows by rewriting the class column onto itself, which fires these triggers.
-- The date keeps the text shape sqlx writes (`YYYY-MM-DDTHH:MM:SS`, the fraction of a second
-- it needs, `+00:00`): the days are added to the first nineteen characters and the rest is
-- copied, so that a stored date equals the same instant bound by sqlx (a list's cursor). Mirrors migrations/postgres/0021_attention.sql.

CREATE TABLE attention_policies (
    organization_id BLOB PRIMARY KEY NOT NULL REFERENCES organizations (id),
    tier_a INTEGER CHECK (tier_a BETWEEN 1 AND 3650),
    tier_b INTEGER CHECK (tier_b BETWEEN 1 AND 3650),
    tier_c INTEGER CHECK (tier_c BETWEEN 1 AND 3650),
    tier_none INTEGER CHECK (tier_none BETWEEN 1 AND 3650),
    stage_prospect INTEGER CHECK (stage_prospect BETWEEN 1 AND 3650),
    stage_customer INTEGER CHECK (stage_customer BETWEEN 1 AND 3650),
    stage_former_customer INTEGER CHECK (stage_former_customer BETWEEN 1 AND 3650),
    stage_partner INTEGER CHECK (stage_partner BETWEEN 1 AND 3650),
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

INSERT INTO attention_policies (organization_id, tier_a, tier_b, tier_c, tier_none, stage_prospect, stage_customer,
    stage_former_customer, stage_partner, version, updated_at)
SELECT id, 14, 30, 90, NULL, 14, 30, 180, 30, 1, created_at FROM organizations;

ALTER TABLE accounts ADD COLUMN attention_due_at TEXT;
ALTER TABLE contacts ADD COLUMN attention_due_at TEXT;

CREATE TRIGGER accounts_attention_insert AFTER INSERT ON accounts BEGIN
    UPDATE accounts SET attention_due_at = (
        SELECT CASE WHEN NEW.last_interaction_at IS NULL THEN NEW.created_at
                    ELSE strftime('%Y-%m-%dT%H:%M:%S', NEW.last_interaction_at, '+' || period || ' days') || substr(NEW.last_interaction_at, 20) END
        FROM (SELECT CASE NEW.tier WHEN 'a' THEN tier_a WHEN 'b' THEN tier_b WHEN 'c' THEN tier_c ELSE tier_none END AS period
              FROM attention_policies WHERE organization_id = NEW.organization_id)
        WHERE period IS NOT NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.id;
END;

CREATE TRIGGER accounts_attention_update AFTER UPDATE OF tier, last_interaction_at ON accounts BEGIN
    UPDATE accounts SET attention_due_at = (
        SELECT CASE WHEN NEW.last_interaction_at IS NULL THEN NEW.created_at
                    ELSE strftime('%Y-%m-%dT%H:%M:%S', NEW.last_interaction_at, '+' || period || ' days') || substr(NEW.last_interaction_at, 20) END
        FROM (SELECT CASE NEW.tier WHEN 'a' THEN tier_a WHEN 'b' THEN tier_b WHEN 'c' THEN tier_c ELSE tier_none END AS period
              FROM attention_policies WHERE organization_id = NEW.organization_id)
        WHERE period IS NOT NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.id;
END;

CREATE TRIGGER contacts_attention_insert AFTER INSERT ON contacts BEGIN
    UPDATE contacts SET attention_due_at = (
        SELECT CASE WHEN NEW.last_interaction_at IS NULL THEN NEW.created_at
                    ELSE strftime('%Y-%m-%dT%H:%M:%S', NEW.last_interaction_at, '+' || period || ' days') || substr(NEW.last_interaction_at, 20) END
        FROM (SELECT CASE NEW.lifecycle_stage WHEN 'prospect' THEN stage_prospect WHEN 'customer' THEN stage_customer
                         WHEN 'former_customer' THEN stage_former_customer WHEN 'partner' THEN stage_partner END AS period
              FROM attention_policies WHERE organization_id = NEW.organization_id AND NEW.account_id IS NULL)
        WHERE period IS NOT NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.id;
END;

CREATE TRIGGER contacts_attention_update AFTER UPDATE OF account_id, lifecycle_stage, last_interaction_at ON contacts BEGIN
    UPDATE contacts SET attention_due_at = (
        SELECT CASE WHEN NEW.last_interaction_at IS NULL THEN NEW.created_at
                    ELSE strftime('%Y-%m-%dT%H:%M:%S', NEW.last_interaction_at, '+' || period || ' days') || substr(NEW.last_interaction_at, 20) END
        FROM (SELECT CASE NEW.lifecycle_stage WHEN 'prospect' THEN stage_prospect WHEN 'customer' THEN stage_customer
                         WHEN 'former_customer' THEN stage_former_customer WHEN 'partner' THEN stage_partner END AS period
              FROM attention_policies WHERE organization_id = NEW.organization_id AND NEW.account_id IS NULL)
        WHERE period IS NOT NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.id;
END;

UPDATE accounts SET tier = tier;
UPDATE contacts SET lifecycle_stage = lifecycle_stage;

CREATE INDEX accounts_attention ON accounts (organization_id, (COALESCE(attention_due_at, '9999-12-31T23:59:59+00:00')), id);
CREATE INDEX contacts_attention ON contacts (organization_id, (COALESCE(attention_due_at, '9999-12-31T23:59:59+00:00')), id);
