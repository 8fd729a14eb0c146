-- Indexes that let the pipeline and forecast reports read indexes instead of the table (found
-- with crm-bench at 1,000,000 opportunities; see BENCHMARKS.md). opportunities_forecast_open
-- replaces opportunities_stage, whose leading columns it repeats: without ANALYZE statistics
-- SQLite keeps choosing the older index when both exist. Mirrors
-- migrations/postgres/0011_report_indexes.sql, which also indexes lead search.

CREATE INDEX opportunities_pipeline ON opportunities
    (organization_id, stage, currency, probability, amount, owner_id, account_id, expected_close_date)
    WHERE archived_at IS NULL;
DROP INDEX opportunities_stage;
CREATE INDEX opportunities_forecast_open ON opportunities
    (organization_id, stage, expected_close_date, currency, probability, amount, owner_id)
    WHERE archived_at IS NULL;
CREATE INDEX opportunities_forecast_won ON opportunities
    (organization_id, stage, closed_at, currency, amount, owner_id)
    WHERE archived_at IS NULL;
