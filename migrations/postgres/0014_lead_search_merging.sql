-- SQLite only: the merging settings of its FTS5 lead search index. PostgreSQL's trigram GIN
-- indexes of 0011 merge their pending list on their own (`gin_pending_list_limit`).
SELECT 1;
