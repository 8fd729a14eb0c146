-- Support tickets (issue 15). A ticket takes its number `T-000001` from the organisation's
-- document counters (kind `ticket`). Its SLA is stored as instants computed by the domain when
-- the ticket changes (crm_domain::ticket): the deadlines and at-risk instants of both targets,
-- the clock's start and the time spent waiting on the customer, and the marks the list filters
-- read as index ranges (never business-hours arithmetic in SQL):
--   sla_risk_at    at risk from this instant (NULL: no clock runs towards a risk);
--   sla_breach_at  breached after this instant (NULL: no deadline runs);
--   sla_missed     a target was missed: breached for good;
--   sla_alert_at   at risk or breached from this instant (the union the queue asks for most).
-- The statuses `new`, `open`, `pending` and `on_hold` are the active ones: the partial indexes
-- below hold only those tickets, and the list repeats their predicate word for word so that
-- both planners may use them.
-- Tickets are numbered from the document counters too: SQLite changes a CHECK by rebuilding
-- the table.
CREATE TABLE document_counters_next (
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'order', 'invoice', 'ticket')),
    last_value INTEGER NOT NULL,
    PRIMARY KEY (organization_id, kind)
);
INSERT INTO document_counters_next (organization_id, kind, last_value)
    SELECT organization_id, kind, last_value FROM document_counters;
DROP TABLE document_counters;
ALTER TABLE document_counters_next RENAME TO document_counters;

CREATE TABLE tickets (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    number_seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT,
    contact_id BLOB,
    account_id BLOB,
    opportunity_id BLOB,
    order_id BLOB,
    product_id BLOB,
    category TEXT NOT NULL CHECK (category IN ('question', 'incident', 'problem', 'complaint', 'feature_request')),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status TEXT NOT NULL CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'phone', 'web', 'chat', 'in_person')),
    owner_id BLOB,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    pending_reason TEXT,
    resolution TEXT,
    first_responded_at TEXT,
    solved_at TEXT,
    closes_at TEXT,
    closed_at TEXT,
    opportunity_ids TEXT NOT NULL,
    reopened_count INTEGER NOT NULL,
    first_response_due_at TEXT NOT NULL,
    first_response_at_risk_at TEXT NOT NULL,
    resolution_due_at TEXT NOT NULL,
    resolution_at_risk_at TEXT NOT NULL,
    resolution_started_at TEXT NOT NULL,
    paused_business_seconds INTEGER NOT NULL,
    paused_calendar_seconds INTEGER NOT NULL,
    paused_at TEXT,
    first_response_missed INTEGER NOT NULL,
    resolution_missed INTEGER NOT NULL,
    first_response_business_seconds INTEGER,
    resolution_business_seconds INTEGER,
    sla_risk_at TEXT,
    sla_breach_at TEXT,
    sla_missed INTEGER NOT NULL,
    sla_alert_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    archived_at TEXT,
    PRIMARY KEY (organization_id, id),
    CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id),
    FOREIGN KEY (organization_id, account_id) REFERENCES accounts (organization_id, id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id),
    FOREIGN KEY (organization_id, order_id) REFERENCES orders (organization_id, id),
    FOREIGN KEY (organization_id, product_id) REFERENCES products (organization_id, id),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE UNIQUE INDEX tickets_number_key ON tickets (organization_id, number_seq);
CREATE INDEX tickets_created ON tickets (organization_id, created_at, id);
-- The tickets report's ranges, each a covering index of the unarchived tickets that holds every
-- column its queries read (the partial index's own columns too, so that SQLite reads no row):
-- tickets by when they were created (the flow, the reopen rate), complaints by when they were
-- made (per account and per product), first responses and solves by when they happened (the
-- flow, SLA compliance per priority and agent, the business time's percentiles), and the
-- backlog by status and priority.
CREATE INDEX tickets_report_created ON tickets (organization_id, created_at, reopened_count, solved_at, archived_at)
    WHERE archived_at IS NULL;
CREATE INDEX tickets_report_complaints ON tickets
    (organization_id, created_at, account_id, product_id, category, archived_at)
    WHERE category = 'complaint' AND archived_at IS NULL;
CREATE INDEX tickets_first_responded ON tickets (organization_id, first_responded_at, priority, owner_id,
    first_response_missed, first_response_business_seconds, archived_at)
    WHERE first_responded_at IS NOT NULL AND archived_at IS NULL;
CREATE INDEX tickets_solved ON tickets (organization_id, solved_at, priority, owner_id,
    resolution_missed, resolution_business_seconds, archived_at)
    WHERE solved_at IS NOT NULL AND archived_at IS NULL;
CREATE INDEX tickets_backlog ON tickets (organization_id, status, priority, archived_at)
    WHERE status IN ('new', 'open', 'pending', 'on_hold') AND archived_at IS NULL;
CREATE INDEX tickets_active_resolution_due ON tickets (organization_id, resolution_due_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold');
CREATE INDEX tickets_active_first_response_due ON tickets (organization_id, first_response_due_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold') AND first_responded_at IS NULL;
CREATE INDEX tickets_alert ON tickets (organization_id, sla_alert_at, id) WHERE sla_alert_at IS NOT NULL;
CREATE INDEX tickets_contact ON tickets (organization_id, contact_id, created_at, id) WHERE contact_id IS NOT NULL;
CREATE INDEX tickets_account ON tickets (organization_id, account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX tickets_owner ON tickets (organization_id, owner_id, created_at, id) WHERE owner_id IS NOT NULL;

-- Comments on a ticket: written once; an admin's redaction empties `body` and keeps the rest.
-- A comment is by a user of the organisation or, for a customer's reply brought in by an
-- integration, by a contact (exactly one of the two).
CREATE TABLE ticket_comments (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    ticket_id BLOB NOT NULL,
    body TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
    author_user_id BLOB,
    author_contact_id BLOB,
    created_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    redacted_at TEXT,
    redacted_by BLOB,
    PRIMARY KEY (organization_id, id),
    CHECK ((author_user_id IS NULL) <> (author_contact_id IS NULL)),
    CHECK ((body IS NULL) = (redacted_at IS NOT NULL)),
    FOREIGN KEY (organization_id, ticket_id) REFERENCES tickets (organization_id, id),
    FOREIGN KEY (organization_id, author_user_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, author_contact_id) REFERENCES contacts (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, redacted_by) REFERENCES users (organization_id, id)
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (organization_id, ticket_id, created_at, id);

-- Each account's and contact's open complaints: its tickets of category `complaint` still
-- active (new, open, pending, on hold) and not archived, kept by the database in the transaction
-- of every ticket change, counted from a partial index of exactly those tickets, with the
-- record's version bumped when the count changed so that its ETag follows (as 0020 does for
-- interactions). The API shows it; the application never writes it.
ALTER TABLE accounts ADD COLUMN open_complaints INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN open_complaints INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_open_complaints_account ON tickets (organization_id, account_id)
    WHERE category = 'complaint' AND status IN ('new', 'open', 'pending', 'on_hold') AND archived_at IS NULL AND account_id IS NOT NULL;
CREATE INDEX tickets_open_complaints_contact ON tickets (organization_id, contact_id)
    WHERE category = 'complaint' AND status IN ('new', 'open', 'pending', 'on_hold') AND archived_at IS NULL AND contact_id IS NOT NULL;
CREATE TRIGGER tickets_open_complaints_insert AFTER INSERT ON tickets WHEN NEW.category = 'complaint' BEGIN
    UPDATE accounts SET version = version + 1, open_complaints = (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.account_id = NEW.account_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL)
        WHERE organization_id = NEW.organization_id AND id = NEW.account_id AND open_complaints <> (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.account_id = NEW.account_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL);
    UPDATE contacts SET version = version + 1, open_complaints = (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.contact_id = NEW.contact_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL)
        WHERE organization_id = NEW.organization_id AND id = NEW.contact_id AND open_complaints <> (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.contact_id = NEW.contact_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL);
END;
CREATE TRIGGER tickets_open_complaints_update AFTER UPDATE ON tickets
    WHEN OLD.category = 'complaint' OR NEW.category = 'complaint' BEGIN
    UPDATE accounts SET version = version + 1, open_complaints = (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = OLD.organization_id AND t.account_id = OLD.account_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL)
        WHERE organization_id = OLD.organization_id AND id = OLD.account_id AND open_complaints <> (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = OLD.organization_id AND t.account_id = OLD.account_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL);
    UPDATE contacts SET version = version + 1, open_complaints = (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = OLD.organization_id AND t.contact_id = OLD.contact_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL)
        WHERE organization_id = OLD.organization_id AND id = OLD.contact_id AND open_complaints <> (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = OLD.organization_id AND t.contact_id = OLD.contact_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL);
    UPDATE accounts SET version = version + 1, open_complaints = (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.account_id = NEW.account_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL)
        WHERE organization_id = NEW.organization_id AND id = NEW.account_id AND open_complaints <> (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.account_id = NEW.account_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL);
    UPDATE contacts SET version = version + 1, open_complaints = (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.contact_id = NEW.contact_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL)
        WHERE organization_id = NEW.organization_id AND id = NEW.contact_id AND open_complaints <> (SELECT COUNT(*) FROM tickets AS t WHERE t.organization_id = NEW.organization_id AND t.contact_id = NEW.contact_id AND t.category = 'complaint' AND t.status IN ('new', 'open', 'pending', 'on_hold') AND t.archived_at IS NULL);
END;

-- A deal support handed to sales (an up-sell or a cross-sell, POST /tickets/{id}/opportunity)
-- names its ticket and the product suggested. Like 0005's columns, they are added without a
-- foreign key (SQLite cannot add a composite one); the route checks both and they never change.
ALTER TABLE opportunities ADD COLUMN source_ticket_id BLOB;
ALTER TABLE opportunities ADD COLUMN source_product_id BLOB;
CREATE INDEX opportunities_source_ticket ON opportunities (organization_id, source_ticket_id)
    WHERE source_ticket_id IS NOT NULL;

-- A call (any activity) logged against a ticket names it; the ticket's timeline reads them from
-- this index in the order of the other link indexes (0019). Added without a foreign key, like
-- the deals' source (the route checks it).
ALTER TABLE activities ADD COLUMN ticket_id BLOB;
CREATE INDEX activities_ticket ON activities (organization_id, ticket_id, (COALESCE(occurred_at, due_at)))
    WHERE ticket_id IS NOT NULL;
