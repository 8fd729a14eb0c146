-- The last and the next interaction of every customer record, kept by the database in the
-- transaction of each activity change (create, complete, cancel, reschedule, archive, restore,
-- relink): never recomputed at read time. For each lead, contact, account and deal an activity
-- names (before and after the change), the trigger reads the latest done activity (failed
-- attempts included) and the earliest planned one from two partial indexes, so the cost does
-- not grow with the record's history, and bumps the record's version when what it shows
-- changed, so that its ETag follows. Lists sort by `last_interaction_at` through the never-NULL
-- expression `COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00')` (a record never reached
-- first), indexed as written in crates/crm-persistence/src/list.rs. Mirrors migrations/postgres/0020_interactions.sql.

ALTER TABLE leads ADD COLUMN last_interaction_at TEXT;
ALTER TABLE leads ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE leads ADD COLUMN next_activity_at TEXT;
ALTER TABLE contacts ADD COLUMN last_interaction_at TEXT;
ALTER TABLE contacts ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE contacts ADD COLUMN next_activity_at TEXT;
ALTER TABLE accounts ADD COLUMN last_interaction_at TEXT;
ALTER TABLE accounts ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE accounts ADD COLUMN next_activity_at TEXT;
ALTER TABLE opportunities ADD COLUMN last_interaction_at TEXT;
ALTER TABLE opportunities ADD COLUMN last_interaction_kind TEXT;
ALTER TABLE opportunities ADD COLUMN next_activity_at TEXT;

CREATE INDEX leads_last_interaction ON leads (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00')), id);
CREATE INDEX leads_next_activity ON leads (organization_id, next_activity_at);
CREATE INDEX contacts_last_interaction ON contacts (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00')), id);
CREATE INDEX contacts_next_activity ON contacts (organization_id, next_activity_at);
CREATE INDEX accounts_last_interaction ON accounts (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00')), id);
CREATE INDEX accounts_next_activity ON accounts (organization_id, next_activity_at);
CREATE INDEX opportunities_last_interaction ON opportunities (organization_id, (COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00')), id);
CREATE INDEX opportunities_next_activity ON opportunities (organization_id, next_activity_at);
CREATE INDEX activities_done_lead ON activities (organization_id, lead_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND lead_id IS NOT NULL;
CREATE INDEX activities_planned_lead ON activities (organization_id, lead_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND lead_id IS NOT NULL;
CREATE INDEX activities_done_contact ON activities (organization_id, contact_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND contact_id IS NOT NULL;
CREATE INDEX activities_planned_contact ON activities (organization_id, contact_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND contact_id IS NOT NULL;
CREATE INDEX activities_done_account ON activities (organization_id, account_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND account_id IS NOT NULL;
CREATE INDEX activities_planned_account ON activities (organization_id, account_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND account_id IS NOT NULL;
CREATE INDEX activities_done_opportunity ON activities (organization_id, opportunity_id, occurred_at, id) WHERE status = 'done' AND archived_at IS NULL AND opportunity_id IS NOT NULL;
CREATE INDEX activities_planned_opportunity ON activities (organization_id, opportunity_id, due_at) WHERE status = 'planned' AND archived_at IS NULL AND opportunity_id IS NOT NULL;

CREATE TRIGGER activities_interactions_insert AFTER INSERT ON activities BEGIN
    UPDATE leads SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.lead_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE contacts SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.contact_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE accounts SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.account_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE opportunities SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.opportunity_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'planned' AND a.archived_at IS NULL));
END;

CREATE TRIGGER activities_interactions_update
    AFTER UPDATE OF status, kind, occurred_at, due_at, archived_at, lead_id, contact_id, account_id, opportunity_id
    ON activities BEGIN
    UPDATE leads SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.lead_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.lead_id = NEW.lead_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE contacts SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.contact_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.contact_id = NEW.contact_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE accounts SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.account_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.account_id = NEW.account_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE opportunities SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = NEW.organization_id AND id = NEW.opportunity_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = NEW.organization_id AND a.opportunity_id = NEW.opportunity_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE leads SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = OLD.organization_id AND id = OLD.lead_id AND OLD.lead_id IS NOT NEW.lead_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.lead_id = OLD.lead_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE contacts SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.contact_id = OLD.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.contact_id = OLD.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.contact_id = OLD.contact_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = OLD.organization_id AND id = OLD.contact_id AND OLD.contact_id IS NOT NEW.contact_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.contact_id = OLD.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.contact_id = OLD.contact_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.contact_id = OLD.contact_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE accounts SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.account_id = OLD.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.account_id = OLD.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.account_id = OLD.account_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = OLD.organization_id AND id = OLD.account_id AND OLD.account_id IS NOT NEW.account_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.account_id = OLD.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.account_id = OLD.account_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.account_id = OLD.account_id AND a.status = 'planned' AND a.archived_at IS NULL));
    UPDATE opportunities SET version = version + 1,
        last_interaction_at = (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.opportunity_id = OLD.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        last_interaction_kind = (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.opportunity_id = OLD.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1),
        next_activity_at = (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.opportunity_id = OLD.opportunity_id AND a.status = 'planned' AND a.archived_at IS NULL)
    WHERE organization_id = OLD.organization_id AND id = OLD.opportunity_id AND OLD.opportunity_id IS NOT NEW.opportunity_id
        AND (last_interaction_at IS NOT (SELECT a.occurred_at FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.opportunity_id = OLD.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR last_interaction_kind IS NOT (SELECT a.kind FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.opportunity_id = OLD.opportunity_id AND a.status = 'done' AND a.archived_at IS NULL ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
            OR next_activity_at IS NOT (SELECT MIN(a.due_at) FROM activities AS a WHERE a.organization_id = OLD.organization_id AND a.opportunity_id = OLD.opportunity_id AND a.status = 'planned' AND a.archived_at IS NULL));
END;
