-- Report totals kept by the database on every write of an opportunity, so that the pipeline and
-- the forecast read a few rows whatever the number of deals (found with crm-bench: at 1,000,000
-- deals one pipeline report read 640,000 index entries; see BENCHMARKS.md, findings 2 and 3).
-- Mirrors migrations/postgres/0013_report_totals.sql, where the comments say what each table
-- serves. Days are ISO text, as every date here; a won deal counts on the UTC date of its
-- closed_at (its first ten characters). The update trigger subtracts the old row and adds the
-- new one in one statement per table, so a change that moves nothing writes nothing.
-- Both tables are WITHOUT ROWID: a report reads a range of the primary key and finds the sums
-- there, with no second lookup per row.

CREATE TABLE pipeline_totals (
    organization_id BLOB NOT NULL,
    owner_id BLOB NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability INTEGER NOT NULL,
    deal_count INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (organization_id, owner_id, stage, currency, probability)
) WITHOUT ROWID;

CREATE TABLE deal_day_totals (
    organization_id BLOB NOT NULL,
    day TEXT NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability INTEGER NOT NULL,
    deal_count INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (organization_id, day, stage, currency, probability)
) WITHOUT ROWID;

INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount)
SELECT organization_id, owner_id, stage, COALESCE(currency, ''), probability, COUNT(*), COALESCE(SUM(amount), 0)
FROM opportunities
WHERE archived_at IS NULL AND stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
GROUP BY organization_id, owner_id, stage, COALESCE(currency, ''), probability;

INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount)
SELECT organization_id, day, stage, currency, probability, COUNT(*), COALESCE(SUM(amount), 0)
FROM (
    SELECT organization_id, expected_close_date AS day, stage, COALESCE(currency, '') AS currency, probability, amount
    FROM opportunities
    WHERE archived_at IS NULL AND expected_close_date IS NOT NULL AND stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    UNION ALL
    SELECT organization_id, substr(closed_at, 1, 10), stage, COALESCE(currency, ''), probability, amount
    FROM opportunities
    WHERE archived_at IS NULL AND closed_at IS NOT NULL AND stage = 'closed_won'
)
GROUP BY organization_id, day, stage, currency, probability;

CREATE TRIGGER opportunities_report_totals_insert AFTER INSERT ON opportunities BEGIN
    INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT new.organization_id AS organization_id, new.owner_id AS owner_id, new.stage AS stage,
               COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) AS a
        WHERE new.archived_at IS NULL AND new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    )
    WHERE true
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount = amount + excluded.amount;
    INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT new.organization_id AS organization_id,
               CASE WHEN new.stage = 'closed_won' THEN substr(new.closed_at, 1, 10) ELSE new.expected_close_date END AS day,
               new.stage AS stage, COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) AS a
        WHERE new.archived_at IS NULL
          AND ((new.stage = 'closed_won' AND new.closed_at IS NOT NULL)
               OR (new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND new.expected_close_date IS NOT NULL))
    )
    WHERE true
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount = amount + excluded.amount;
END;

CREATE TRIGGER opportunities_report_totals_delete AFTER DELETE ON opportunities BEGIN
    INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT old.organization_id AS organization_id, old.owner_id AS owner_id, old.stage AS stage,
               COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -COALESCE(old.amount, 0) AS a
        WHERE old.archived_at IS NULL AND old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    )
    WHERE true
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount = amount + excluded.amount;
    INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT old.organization_id AS organization_id,
               CASE WHEN old.stage = 'closed_won' THEN substr(old.closed_at, 1, 10) ELSE old.expected_close_date END AS day,
               old.stage AS stage, COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -COALESCE(old.amount, 0) AS a
        WHERE old.archived_at IS NULL
          AND ((old.stage = 'closed_won' AND old.closed_at IS NOT NULL)
               OR (old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND old.expected_close_date IS NOT NULL))
    )
    WHERE true
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount = amount + excluded.amount;
END;

CREATE TRIGGER opportunities_report_totals_update
    AFTER UPDATE OF organization_id, owner_id, stage, currency, probability, amount, expected_close_date, closed_at,
        archived_at
    ON opportunities BEGIN
    INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT old.organization_id AS organization_id, old.owner_id AS owner_id, old.stage AS stage,
               COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -COALESCE(old.amount, 0) AS a
        WHERE old.archived_at IS NULL AND old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
        UNION ALL
        SELECT new.organization_id AS organization_id, new.owner_id AS owner_id, new.stage AS stage,
               COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) AS a
        WHERE new.archived_at IS NULL AND new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    )
    WHERE true
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount = amount + excluded.amount;
    INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT old.organization_id AS organization_id,
               CASE WHEN old.stage = 'closed_won' THEN substr(old.closed_at, 1, 10) ELSE old.expected_close_date END AS day,
               old.stage AS stage, COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -COALESCE(old.amount, 0) AS a
        WHERE old.archived_at IS NULL
          AND ((old.stage = 'closed_won' AND old.closed_at IS NOT NULL)
               OR (old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND old.expected_close_date IS NOT NULL))
        UNION ALL
        SELECT new.organization_id AS organization_id,
               CASE WHEN new.stage = 'closed_won' THEN substr(new.closed_at, 1, 10) ELSE new.expected_close_date END AS day,
               new.stage AS stage, COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) AS a
        WHERE new.archived_at IS NULL
          AND ((new.stage = 'closed_won' AND new.closed_at IS NOT NULL)
               OR (new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND new.expected_close_date IS NOT NULL))
    )
    WHERE true
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount = amount + excluded.amount;
END;
