-- A user's overdue planned activities by due date, the longest overdue first: the first range
-- of GET /me/reminders (crates/crm-persistence/src/activities.rs, `reminders`), so that the
-- page stays one index range however many overdue activities the user has; the others come from
-- `activities_alerts` (0019) by reminder time. Mirrors migrations/sqlite/0024_overdue_reminders.sql.

CREATE INDEX activities_overdue ON activities (organization_id, owner_id, due_at, id)
    WHERE alert_at IS NOT NULL AND archived_at IS NULL;
