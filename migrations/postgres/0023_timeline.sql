-- The timeline (GET /{leads|contacts|accounts|opportunities}/{id}/timeline) reads the audit
-- trail; each event now says, from the moment it is written, which lead, contact, account and
-- deal it is about and which timeline item it is (`timeline_kind`, NULL for an event that is in
-- no timeline: a user, a product, an edit of a name, an activity's own events, the activities
-- being their own source). The application fills them (crm_domain::timeline::{About, kind_of});
-- this migration fills the events written before it by the same rules, from the records' links
-- as they are now. One partial index per kind of customer keeps a customer's events one range,
-- however long the organisation's history. Mirrors migrations/sqlite/0023_timeline.sql (BLOB ids and json_each there).

ALTER TABLE audit_events ADD COLUMN timeline_kind TEXT;
ALTER TABLE audit_events ADD COLUMN lead_id UUID;
ALTER TABLE audit_events ADD COLUMN contact_id UUID;
ALTER TABLE audit_events ADD COLUMN account_id UUID;
ALTER TABLE audit_events ADD COLUMN opportunity_id UUID;

-- backfill: begin (tests/api/timeline.rs runs this section again on events the application wrote)
UPDATE audit_events SET timeline_kind = CASE
    WHEN action = 'create' THEN 'created'
    WHEN action = 'archive' THEN 'archived'
    WHEN action = 'restore' THEN 'restored'
    WHEN action <> 'update' THEN NULL
    WHEN entity_type = 'lead' THEN
        (SELECT CASE WHEN c->>'new' = 'converted' THEN 'converted' ELSE 'status_changed' END FROM jsonb_array_elements(audit_events.changes) AS c WHERE c->>'field' = 'status' LIMIT 1)
    WHEN entity_type = 'opportunity' THEN (SELECT 'stage_changed' FROM jsonb_array_elements(audit_events.changes) AS c WHERE c->>'field' = 'stage' LIMIT 1)
    WHEN entity_type = 'quote' THEN
        (SELECT 'quote_' || (c->>'new') FROM jsonb_array_elements(audit_events.changes) AS c WHERE c->>'field' = 'status' AND c->>'new' IN ('sent', 'accepted', 'rejected') LIMIT 1)
    WHEN entity_type = 'order' THEN (SELECT 'order_status_changed' FROM jsonb_array_elements(audit_events.changes) AS c WHERE c->>'field' = 'status' LIMIT 1)
    WHEN entity_type = 'invoice' THEN COALESCE(
        (SELECT CASE c->>'new' WHEN 'issued' THEN 'invoice_issued' WHEN 'paid' THEN 'invoice_paid'
                WHEN 'void' THEN 'invoice_voided' END FROM jsonb_array_elements(audit_events.changes) AS c WHERE c->>'field' = 'status' LIMIT 1),
        (SELECT 'payment_recorded' FROM jsonb_array_elements(audit_events.changes) AS c WHERE c->>'field' = 'amount_paid' LIMIT 1))
    END
WHERE entity_type IN ('lead', 'contact', 'account', 'opportunity', 'quote', 'order', 'invoice');

UPDATE audit_events SET lead_id = entity_id WHERE entity_type = 'lead';
UPDATE audit_events SET
    contact_id = (SELECT l.converted_contact_id FROM leads AS l WHERE l.organization_id = audit_events.organization_id AND l.id = audit_events.entity_id),
    account_id = (SELECT l.converted_account_id FROM leads AS l WHERE l.organization_id = audit_events.organization_id AND l.id = audit_events.entity_id),
    opportunity_id = (SELECT l.converted_opportunity_id FROM leads AS l WHERE l.organization_id = audit_events.organization_id AND l.id = audit_events.entity_id)
WHERE entity_type = 'lead' AND timeline_kind = 'converted';
UPDATE audit_events SET account_id = entity_id WHERE entity_type = 'account';
UPDATE audit_events SET contact_id = entity_id,
    account_id = (SELECT r.account_id FROM contacts AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id)
WHERE entity_type = 'contact';
UPDATE audit_events SET opportunity_id = entity_id,
    account_id = (SELECT r.account_id FROM opportunities AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id),
    contact_id = (SELECT r.contact_id FROM opportunities AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id)
WHERE entity_type = 'opportunity';
UPDATE audit_events SET opportunity_id = (SELECT r.opportunity_id FROM quotes AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id),
    account_id = (SELECT r.account_id FROM quotes AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id),
    contact_id = (SELECT r.contact_id FROM quotes AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id)
WHERE entity_type = 'quote';
UPDATE audit_events SET opportunity_id = (SELECT r.opportunity_id FROM orders AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id),
    account_id = (SELECT r.account_id FROM orders AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id),
    contact_id = (SELECT r.contact_id FROM orders AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id)
WHERE entity_type = 'order';
UPDATE audit_events SET opportunity_id = (SELECT r.opportunity_id FROM invoices AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id),
    account_id = (SELECT r.account_id FROM invoices AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id),
    contact_id = (SELECT r.contact_id FROM invoices AS r WHERE r.organization_id = audit_events.organization_id AND r.id = audit_events.entity_id)
WHERE entity_type = 'invoice';
-- backfill: end

CREATE INDEX audit_events_timeline_lead ON audit_events (organization_id, lead_id, occurred_at, id)
    WHERE timeline_kind IS NOT NULL AND lead_id IS NOT NULL;
CREATE INDEX audit_events_timeline_contact ON audit_events (organization_id, contact_id, occurred_at, id)
    WHERE timeline_kind IS NOT NULL AND contact_id IS NOT NULL;
CREATE INDEX audit_events_timeline_account ON audit_events (organization_id, account_id, occurred_at, id)
    WHERE timeline_kind IS NOT NULL AND account_id IS NOT NULL;
CREATE INDEX audit_events_timeline_opportunity ON audit_events (organization_id, opportunity_id, occurred_at, id)
    WHERE timeline_kind IS NOT NULL AND opportunity_id IS NOT NULL;

-- The leads converted into a contact or an account: their history is in its timeline.
CREATE INDEX leads_converted_contact ON leads (organization_id, converted_contact_id) WHERE converted_contact_id IS NOT NULL;
CREATE INDEX leads_converted_account ON leads (organization_id, converted_account_id) WHERE converted_account_id IS NOT NULL;
