-- Each organisation's SLA policy (GET/PATCH /settings/sla, crates/crm-domain/src/sla_settings.rs):
-- the targets of each ticket priority ("<minutes> calendar" or "<minutes> business"), the
-- business calendar (an IANA time zone, each weekday's hours as "09:00-12:00,13:00-17:00", empty
-- when closed, and the holidays as "2026-12-25,2027-01-01"), and the reopen window. Written in
-- the text forms of sla_settings.rs, which checks them before they are stored. A new
-- organisation gets the defaults in the transaction that creates it; the organisations that
-- exist get them here. Mirrors migrations/postgres/0026_sla_policies.sql.

CREATE TABLE sla_policies (
    organization_id BLOB PRIMARY KEY NOT NULL REFERENCES organizations (id),
    urgent_first_response TEXT NOT NULL,
    urgent_resolution TEXT NOT NULL,
    high_first_response TEXT NOT NULL,
    high_resolution TEXT NOT NULL,
    normal_first_response TEXT NOT NULL,
    normal_resolution TEXT NOT NULL,
    low_first_response TEXT NOT NULL,
    low_resolution TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    monday TEXT NOT NULL,
    tuesday TEXT NOT NULL,
    wednesday TEXT NOT NULL,
    thursday TEXT NOT NULL,
    friday TEXT NOT NULL,
    saturday TEXT NOT NULL,
    sunday TEXT NOT NULL,
    holidays TEXT NOT NULL,
    reopen_window_days INTEGER NOT NULL CHECK (reopen_window_days BETWEEN 0 AND 365),
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

INSERT INTO sla_policies (organization_id, urgent_first_response, urgent_resolution, high_first_response,
    high_resolution, normal_first_response, normal_resolution, low_first_response, low_resolution, time_zone,
    monday, tuesday, wednesday, thursday, friday, saturday, sunday, holidays, reopen_window_days, version, updated_at)
SELECT id, '60 calendar', '240 calendar', '240 calendar', '510 business', '480 business', '1530 business',
    '1020 business', '2550 business', 'UTC', '09:00-17:30', '09:00-17:30', '09:00-17:30', '09:00-17:30',
    '09:00-17:30', '', '', '', 7, 1, created_at
FROM organizations;
