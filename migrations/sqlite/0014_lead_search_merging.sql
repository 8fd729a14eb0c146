-- Keep the lead search index in few segments (found with crm-bench: at 1,000,000 leads the
-- index had 18 segments, and a search for one lead's email took 2.9 ms, of which 2.6 ms went to
-- looking its trigrams up in every segment; merged into one segment, 0.75 ms). FTS5 merges a
-- level of its index once it holds `automerge` segments (default 4) and lets a level grow to
-- `crisismerge` (default 16) before merging it at once. With 2, every write that leaves two
-- segments on a level does a little merging at once, so the index holds about one segment per
-- level, as a binary counter does. The merge below brings an existing index there.
INSERT INTO leads_search (leads_search, rank) VALUES ('automerge', 2);
INSERT INTO leads_search (leads_search, rank) VALUES ('usermerge', 2);
INSERT INTO leads_search (leads_search, rank) VALUES ('merge', 1000000);
