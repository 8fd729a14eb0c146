-- The activity report (GET /reports/activities, crates/crm-persistence/src/activity_report.rs)
-- reads the done activities of its range and the leads created in it. Both are now read from
-- covering indexes, so that a report costs a scan of its range's index entries and no lookup of
-- a row: about 95,000 done activities and 118,000 leads for 90 days at 1,000,000 activities,
-- where reading each row (and, for each lead, its first activity) cost about three seconds.
--
-- A done activity always has its `occurred_at` (the domain sets it when an activity is logged
-- done or completed, and a PATCH cannot clear it), so the report's range is plain `occurred_at`.
-- Mirrors migrations/postgres/0025_activity_report.sql.

CREATE INDEX activities_report ON activities (organization_id, occurred_at, owner_id, kind, outcome, due_at, account_id)
    WHERE status = 'done' AND archived_at IS NULL;

-- Each lead's first interaction (its earliest done activity, failed attempts included, archived
-- ones aside), kept beside its last one in the transaction of every activity change, never
-- recomputed at read time. Internal to the report: the API does not show it, so keeping it does
-- not move the lead's version.
ALTER TABLE leads ADD COLUMN first_interaction_at TEXT;
-- backfill: begin
UPDATE leads SET first_interaction_at = (SELECT MIN(a.occurred_at) FROM activities AS a
        WHERE a.organization_id = leads.organization_id AND a.lead_id = leads.id AND a.status = 'done' AND a.archived_at IS NULL)
    WHERE EXISTS (SELECT 1 FROM activities AS a
        WHERE a.organization_id = leads.organization_id AND a.lead_id = leads.id AND a.status = 'done' AND a.archived_at IS NULL);
-- backfill: end
CREATE INDEX leads_first_interaction ON leads (organization_id, created_at, owner_id, first_interaction_at)
    WHERE archived_at IS NULL;

-- A new done activity can only bring a lead's first interaction earlier.
CREATE TRIGGER activities_first_interaction_insert AFTER INSERT ON activities
    WHEN NEW.lead_id IS NOT NULL AND NEW.status = 'done' AND NEW.archived_at IS NULL BEGIN
    UPDATE leads SET first_interaction_at = NEW.occurred_at
    WHERE organization_id = NEW.organization_id AND id = NEW.lead_id
        AND (first_interaction_at IS NULL OR first_interaction_at > NEW.occurred_at);
END;

-- A change of a done activity (or to done) re-reads the first entry of `activities_done_lead`
-- (0020) for the lead it names now and, when relinked, the one it named before.
CREATE TRIGGER activities_first_interaction_update AFTER UPDATE OF status, occurred_at, archived_at, lead_id ON activities
    WHEN OLD.status = 'done' OR NEW.status = 'done' BEGIN
    UPDATE leads SET first_interaction_at = (SELECT MIN(a.occurred_at) FROM activities AS a
            WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.lead_id
        AND first_interaction_at IS NOT (SELECT MIN(a.occurred_at) FROM activities AS a
            WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL);
    UPDATE leads SET first_interaction_at = (SELECT MIN(a.occurred_at) FROM activities AS a
            WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'done' AND a.archived_at IS NULL)
    WHERE organization_id = OLD.organization_id AND id = OLD.lead_id AND OLD.lead_id IS NOT NEW.lead_id
        AND first_interaction_at IS NOT (SELECT MIN(a.occurred_at) FROM activities AS a
            WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'done' AND a.archived_at IS NULL);
END;
