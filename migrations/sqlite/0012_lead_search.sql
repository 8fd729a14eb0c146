-- Lead search by substring without reading every lead (found with crm-bench: one search at
-- 1,000,000 leads read the whole table, 3.6 s; see BENCHMARKS.md, finding 1). An FTS5 index with
-- the trigram tokenizer over the four searched columns, kept by triggers on every write of
-- leads, so no code path can forget it. It is an external-content table over `leads`: it stores
-- the trigrams and the lead's rowid, not a second copy of the text. The server never runs VACUUM,
-- which may renumber the rowids of a table without an INTEGER PRIMARY KEY; after a manual VACUUM,
-- `INSERT INTO leads_search (leads_search) VALUES ('rebuild');` rebuilds it.
-- PostgreSQL serves the same search with the trigram indexes of 0011.

CREATE VIRTUAL TABLE leads_search USING fts5(
    first_name, last_name, company, email,
    content = 'leads', content_rowid = 'rowid', tokenize = 'trigram'
);
INSERT INTO leads_search (leads_search) VALUES ('rebuild');

CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_search (rowid, first_name, last_name, company, email)
    VALUES (new.rowid, new.first_name, new.last_name, new.company, new.email);
END;

CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_search (leads_search, rowid, first_name, last_name, company, email)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.company, old.email);
END;

CREATE TRIGGER leads_search_update AFTER UPDATE OF first_name, last_name, company, email ON leads BEGIN
    INSERT INTO leads_search (leads_search, rowid, first_name, last_name, company, email)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.company, old.email);
    INSERT INTO leads_search (rowid, first_name, last_name, company, email)
    VALUES (new.rowid, new.first_name, new.last_name, new.company, new.email);
END;
