-- PostgreSQL only: one trigram index over the joined search text (see
-- migrations/postgres/0016_lead_search_text.sql). SQLite searches its FTS5 index of 0012.
SELECT 1;
