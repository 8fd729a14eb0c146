-- Lead search on PostgreSQL is served by the trigram indexes of 0011_report_indexes.sql. This
-- version exists so that both backends hold the same migration versions; on SQLite it creates
-- the FTS5 trigram index (migrations/sqlite/0012_lead_search.sql).
SELECT 1;
