-- Lead search on PostgreSQL reads one trigram index over the four searched columns, joined by
-- U+0001, in place of the four indexes of 0011. Stored text cannot contain U+0001 (text fields
-- refuse control characters), so a needle without it matches the joined text exactly where it
-- matches one of the columns; the server searches the four columns one by one for a needle with
-- it. The planner costs a GIN scan by the trigrams it looks up: with four indexes, an email of 40
-- trigrams cost four index scans, and below about 100,000 leads the planner read the whole table
-- instead (8.4 ms at 10,000 leads, against 0.4 ms through this index; found with crm-bench, see
-- BENCHMARKS.md). One index also costs a lead write one GIN update instead of four. The
-- expression must stay exactly as `leads.rs` writes it, or the planner will not match it.
CREATE INDEX leads_search_trgm ON leads USING gin (
    (lower(coalesce(first_name, '') || E'\x01' || last_name || E'\x01' || coalesce(company, '') || E'\x01' || coalesce(email, ''))) gin_trgm_ops
);
DROP INDEX leads_first_name_trgm;
DROP INDEX leads_last_name_trgm;
DROP INDEX leads_company_trgm;
DROP INDEX leads_email_trgm;
