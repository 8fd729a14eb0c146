-- Indexes that let the pipeline and forecast reports read indexes instead of the table, and lead
-- search (`q`, a case-insensitive substring) use trigram indexes instead of reading every lead
-- (found with crm-bench at 1,000,000 rows; see BENCHMARKS.md). pg_trgm ships with PostgreSQL's
-- contrib modules (in the official images) and is a trusted extension: the database owner may
-- create it. Mirrors migrations/sqlite/0011_report_indexes.sql, which has no lead-search part yet.

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

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX leads_first_name_trgm ON leads USING gin (lower(first_name) gin_trgm_ops);
CREATE INDEX leads_last_name_trgm ON leads USING gin (lower(last_name) gin_trgm_ops);
CREATE INDEX leads_company_trgm ON leads USING gin (lower(company) gin_trgm_ops);
CREATE INDEX leads_email_trgm ON leads USING gin (lower(email) gin_trgm_ops);
