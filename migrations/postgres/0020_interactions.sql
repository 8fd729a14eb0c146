-- The last and the next interaction of every customer record, kept by the database in the
-- transaction of each activity change (create, complete, cancel, reschedule, archive, restore,
-- relink): never recomputed at read time. For each lead, contact, account and deal an activity
-- names (before and after the change), the trigger reads the latest done activity (failed
-- attempts included) and the earliest planned one from two partial indexes, so the cost does
-- not grow with the record's history, and bumps the record's version when what it shows
-- changed, so that its ETag follows. Lists sort by `last_interaction_at` through the never-NULL
-- expression `COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00')` (a record never reached
-- first), indexed as written in crates/crm-persistence/src/list.rs. Mirrors migrations/sqlite/0020_interactions.sql.

ALTER TABLE leads ADD COLUMN last_interaction_at TIMESTAMPTZ;
ALTER TABLE leads ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE leads ADD COLUMN next_activity_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN last_interaction_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE contacts ADD COLUMN next_activity_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN last_interaction_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE accounts ADD COLUMN next_activity_at TIMESTAMPTZ;
ALTER TABLE opportunities ADD COLUMN last_interaction_at TIMESTAMPTZ;
ALTER TABLE opportunities ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE opportunities ADD COLUMN next_activity_at TIMESTAMPTZ;

CREATE INDEX leads_last_interaction ON leads (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00'::timestamptz)), id);
CREATE INDEX leads_next_activity ON leads (organization_id, next_activity_at);
CREATE INDEX contacts_last_interaction ON contacts (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00'::timestamptz)), id);
CREATE INDEX contacts_next_activity ON contacts (organization_id, next_activity_at);
CREATE INDEX accounts_last_interaction ON accounts (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00'::timestamptz)), id);
CREATE INDEX accounts_next_activity ON accounts (organization_id, next_activity_at);
CREATE INDEX opportunities_last_interaction ON opportunities (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00'::timestamptz)), id);
CREATE INDEX opportunities_next_activity ON opportunities (organization_id, next_activity_at);
CREATE INDEX activities_done_lead ON activities (organization_id, lead_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND lead_id IS NOT NULL;
CREATE INDEX activities_planned_lead ON activities (organization_id, lead_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND lead_id IS NOT NULL;
CREATE INDEX activities_done_contact ON activities (organization_id, contact_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND contact_id IS NOT NULL;
CREATE INDEX activities_planned_contact ON activities (organization_id, contact_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND contact_id IS NOT NULL;
CREATE INDEX activities_done_account ON activities (organization_id, account_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND account_id IS NOT NULL;
CREATE INDEX activities_planned_account ON activities (organization_id, account_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND account_id IS NOT NULL;
CREATE INDEX activities_done_opportunity ON activities (organization_id, opportunity_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND opportunity_id IS NOT NULL;
CREATE INDEX activities_planned_opportunity ON activities (organization_id, opportunity_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND opportunity_id IS NOT NULL;

CREATE FUNCTION refresh_interactions(target TEXT, link TEXT, org UUID, record UUID) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'UPDATE %1$I AS r SET last_interaction_at = s.last_at, last_interaction_kind = s.last_kind, '
        'next_activity_at = s.next_at, version = r.version + 1 '
        'FROM (SELECT '
        '  (SELECT occurred_at FROM activities WHERE organization_id = $1 AND %2$I = $2 AND status = ''done'' AND archived_at IS NULL ORDER BY occurred_at DESC, id DESC LIMIT 1) AS last_at, '
        '  (SELECT kind FROM activities WHERE organization_id = $1 AND %2$I = $2 AND status = ''done'' AND archived_at IS NULL ORDER BY occurred_at DESC, id DESC LIMIT 1) AS last_kind, '
        '  (SELECT MIN(due_at) FROM activities WHERE organization_id = $1 AND %2$I = $2 AND status = ''planned'' AND archived_at IS NULL) AS next_at) AS s '
        'WHERE r.organization_id = $1 AND r.id = $2 AND (r.last_interaction_at IS DISTINCT FROM s.last_at '
        'OR r.last_interaction_kind IS DISTINCT FROM s.last_kind OR r.next_activity_at IS DISTINCT FROM s.next_at)',
        target, link)
    USING org, record;
END;
$$;

CREATE FUNCTION activities_keep_interactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.lead_id IS NOT NULL THEN
        PERFORM refresh_interactions('leads', 'lead_id', NEW.organization_id, NEW.lead_id);
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.lead_id IS NOT NULL AND OLD.lead_id IS DISTINCT FROM NEW.lead_id THEN
        PERFORM refresh_interactions('leads', 'lead_id', OLD.organization_id, OLD.lead_id);
    END IF;
    IF NEW.contact_id IS NOT NULL THEN
        PERFORM refresh_interactions('contacts', 'contact_id', NEW.organization_id, NEW.contact_id);
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.contact_id IS NOT NULL AND OLD.contact_id IS DISTINCT FROM NEW.contact_id THEN
        PERFORM refresh_interactions('contacts', 'contact_id', OLD.organization_id, OLD.contact_id);
    END IF;
    IF NEW.account_id IS NOT NULL THEN
        PERFORM refresh_interactions('accounts', 'account_id', NEW.organization_id, NEW.account_id);
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.account_id IS NOT NULL AND OLD.account_id IS DISTINCT FROM NEW.account_id THEN
        PERFORM refresh_interactions('accounts', 'account_id', OLD.organization_id, OLD.account_id);
    END IF;
    IF NEW.opportunity_id IS NOT NULL THEN
        PERFORM refresh_interactions('opportunities', 'opportunity_id', NEW.organization_id, NEW.opportunity_id);
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.opportunity_id IS NOT NULL AND OLD.opportunity_id IS DISTINCT FROM NEW.opportunity_id THEN
        PERFORM refresh_interactions('opportunities', 'opportunity_id', OLD.organization_id, OLD.opportunity_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER activities_interactions
    AFTER INSERT OR UPDATE OF status, kind, occurred_at, due_at, archived_at, lead_id, contact_id, account_id, opportunity_id
    ON activities FOR EACH ROW EXECUTE FUNCTION activities_keep_interactions();
