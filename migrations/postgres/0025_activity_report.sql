-- The activity report (GET /reports/activities, crates/crm-persistence/src/activity_report.rs)
-- reads the done activities of its range and the leads created in it. Both are now read from
-- covering indexes (index-only scans), so that a report costs a scan of its range's index
-- entries and no lookup of a row: about 95,000 done activities and 118,000 leads for 90 days at
-- 1,000,000 activities, where reading each row (and, for each lead, its first activity) cost
-- seconds.
--
-- A done activity always has its `occurred_at` (the domain sets it when an activity is logged
-- done or completed, and a PATCH cannot clear it), so the report's range is plain `occurred_at`.
-- Mirrors migrations/sqlite/0025_activity_report.sql.

CREATE INDEX activities_report ON activities (organization_id, occurred_at)
    INCLUDE (owner_id, kind, outcome, due_at, account_id)
    WHERE status = 'done' AND archived_at IS NULL;

-- Each lead's first interaction (its earliest done activity, failed attempts included, archived
-- ones aside), kept beside its last one in the transaction of every activity change, never
-- recomputed at read time. Internal to the report: the API does not show it, so keeping it does
-- not move the lead's version.
ALTER TABLE leads ADD COLUMN first_interaction_at TIMESTAMPTZ;
-- backfill: begin
UPDATE leads AS l SET first_interaction_at = f.first_at
    FROM (SELECT organization_id, lead_id, MIN(occurred_at) AS first_at FROM activities
          WHERE lead_id IS NOT NULL AND status = 'done' AND archived_at IS NULL
          GROUP BY organization_id, lead_id) AS f
    WHERE l.organization_id = f.organization_id AND l.id = f.lead_id;
-- backfill: end
CREATE INDEX leads_first_interaction ON leads (organization_id, created_at)
    INCLUDE (owner_id, first_interaction_at)
    WHERE archived_at IS NULL;

-- The first entry of `activities_done_lead` (0020) for one lead.
CREATE FUNCTION refresh_first_interaction(org_ref UUID, lead_ref UUID) RETURNS void LANGUAGE sql AS $$
    UPDATE leads AS l SET first_interaction_at = s.first_at
    FROM (SELECT MIN(occurred_at) AS first_at FROM activities
          WHERE organization_id = org_ref AND lead_id = lead_ref AND status = 'done' AND archived_at IS NULL) AS s
    WHERE l.organization_id = org_ref AND l.id = lead_ref AND l.first_interaction_at IS DISTINCT FROM s.first_at;
$$;

-- A new done activity can only bring a lead's first interaction earlier; a change of a done
-- activity (or to done) re-reads it for the lead it names now and, when relinked, the one it
-- named before.
CREATE FUNCTION activities_keep_first_interaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.lead_id IS NOT NULL AND NEW.status = 'done' AND NEW.archived_at IS NULL THEN
            UPDATE leads SET first_interaction_at = NEW.occurred_at
            WHERE organization_id = NEW.organization_id AND id = NEW.lead_id
                AND (first_interaction_at IS NULL OR first_interaction_at > NEW.occurred_at);
        END IF;
        RETURN NULL;
    END IF;
    IF OLD.status <> 'done' AND NEW.status <> 'done' THEN
        RETURN NULL;
    END IF;
    IF NEW.lead_id IS NOT NULL THEN
        PERFORM refresh_first_interaction(NEW.organization_id, NEW.lead_id);
    END IF;
    IF OLD.lead_id IS NOT NULL AND OLD.lead_id IS DISTINCT FROM NEW.lead_id THEN
        PERFORM refresh_first_interaction(OLD.organization_id, OLD.lead_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER activities_first_interaction
    AFTER INSERT OR UPDATE OF status, occurred_at, archived_at, lead_id
    ON activities FOR EACH ROW EXECUTE FUNCTION activities_keep_first_interaction();
