-- Activities: every interaction with a customer (the failed attempts too) and what is planned
-- next. What an activity is about is four real links, each with the organisation-leading
-- composite foreign key every other link uses, not a polymorphic pair. `alert_at` is when its
-- owner is reminded (the reminder, else the due date; NULL unless planned), stored so that a
-- user's reminders are one range of a partial index. The two time orders are expressions that
-- are never NULL (a planned or cancelled activity has a due date, a done one the time it
-- happened), indexed as written in crates/crm-persistence/src/activities.rs. Participants are
-- the activity's own list (JSON). Mirrors migrations/sqlite/0019_activities.sql (UUID,
-- TIMESTAMPTZ, BIGINT and JSONB here).

CREATE TABLE activities (
    organization_id UUID NOT NULL,
    id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'visit', 'sms', 'chat', 'note', 'task')),
    direction TEXT CHECK (direction IN ('inbound', 'outbound')),
    subject TEXT NOT NULL,
    body TEXT,
    status TEXT NOT NULL CHECK (status IN ('planned', 'done', 'cancelled')),
    due_at TIMESTAMPTZ,
    remind_at TIMESTAMPTZ,
    alert_at TIMESTAMPTZ,
    occurred_at TIMESTAMPTZ,
    duration_minutes BIGINT CHECK (duration_minutes BETWEEN 0 AND 10080),
    outcome TEXT CHECK (outcome IN ('completed', 'no_answer', 'busy', 'left_voicemail', 'wrong_number', 'bounced', 'declined', 'rescheduled')),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high')),
    owner_id UUID NOT NULL,
    lead_id UUID,
    contact_id UUID,
    account_id UUID,
    opportunity_id UUID,
    participant_contact_ids JSONB NOT NULL,
    custom_fields JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID NOT NULL,
    version BIGINT NOT NULL,
    archived_at TIMESTAMPTZ,
    PRIMARY KEY (organization_id, id),
    CHECK (lead_id IS NOT NULL OR contact_id IS NOT NULL OR account_id IS NOT NULL OR opportunity_id IS NOT NULL),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, lead_id) REFERENCES leads (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id),
    FOREIGN KEY (organization_id, account_id) REFERENCES accounts (organization_id, id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id)
);
CREATE INDEX activities_due ON activities (organization_id, (COALESCE(due_at, occurred_at)), id);
CREATE INDEX activities_occurred ON activities (organization_id, (COALESCE(occurred_at, due_at)), id);
CREATE INDEX activities_created ON activities (organization_id, created_at, id);
CREATE INDEX activities_alerts ON activities (organization_id, owner_id, alert_at, id) WHERE alert_at IS NOT NULL AND archived_at IS NULL;
CREATE INDEX activities_lead ON activities (organization_id, lead_id, (COALESCE(occurred_at, due_at))) WHERE lead_id IS NOT NULL;
CREATE INDEX activities_contact ON activities (organization_id, contact_id, (COALESCE(occurred_at, due_at))) WHERE contact_id IS NOT NULL;
CREATE INDEX activities_account ON activities (organization_id, account_id, (COALESCE(occurred_at, due_at))) WHERE account_id IS NOT NULL;
CREATE INDEX activities_opportunity ON activities (organization_id, opportunity_id, (COALESCE(occurred_at, due_at))) WHERE opportunity_id IS NOT NULL;
