-- Report totals that cannot overflow. 0013 kept each group's sum of amounts in one 64-bit
-- column: past 9.2 × 10^18 minor units SQLite turned the sum into a float (the pipeline then read
-- i64::MAX) and PostgreSQL failed the deal's write ("bigint out of range"). Each amount now goes
-- in as two parts, amount / 2^31 and amount % 2^31 (both truncate toward zero on both backends, so
-- amount = high × 2^31 + low exactly); each part's sum stays within 64 bits for up to 2^31 deals
-- in a group, and the reader adds them up in 128 bits, where a total too large for the API's
-- 64-bit amounts is the report's documented 422 `amount_overflow`, never a failed write.
-- Same tables, same triggers otherwise; see 0013 for what they hold and why.
-- Mirrors migrations/postgres/0017_report_totals_split.sql.

DROP TRIGGER opportunities_report_totals_insert;
DROP TRIGGER opportunities_report_totals_delete;
DROP TRIGGER opportunities_report_totals_update;
DROP TABLE pipeline_totals;
DROP TABLE deal_day_totals;
CREATE TABLE pipeline_totals (
    organization_id BLOB NOT NULL,
    owner_id BLOB NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability INTEGER NOT NULL,
    deal_count INTEGER NOT NULL,
    amount_high INTEGER NOT NULL,
    amount_low INTEGER NOT NULL,
    PRIMARY KEY (organization_id, owner_id, stage, currency, probability)
) WITHOUT ROWID;

CREATE TABLE deal_day_totals (
    organization_id BLOB NOT NULL,
    day TEXT NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability INTEGER NOT NULL,
    deal_count INTEGER NOT NULL,
    amount_high INTEGER NOT NULL,
    amount_low INTEGER NOT NULL,
    PRIMARY KEY (organization_id, day, stage, currency, probability)
) WITHOUT ROWID;

INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount_high, amount_low)
SELECT organization_id, owner_id, stage, COALESCE(currency, ''), probability, COUNT(*), COALESCE(SUM(amount / 2147483648), 0), COALESCE(SUM(amount % 2147483648), 0)
FROM opportunities
WHERE archived_at IS NULL AND stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
GROUP BY organization_id, owner_id, stage, COALESCE(currency, ''), probability;

INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount_high, amount_low)
SELECT organization_id, day, stage, currency, probability, COUNT(*), COALESCE(SUM(amount / 2147483648), 0), COALESCE(SUM(amount % 2147483648), 0)
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
    INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT new.organization_id AS organization_id, new.owner_id AS owner_id, new.stage AS stage,
               COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) / 2147483648 AS h, COALESCE(new.amount, 0) % 2147483648 AS l
        WHERE new.archived_at IS NULL AND new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    )
    WHERE true
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount_high = amount_high + excluded.amount_high, amount_low = amount_low + excluded.amount_low;
    INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT new.organization_id AS organization_id,
               CASE WHEN new.stage = 'closed_won' THEN substr(new.closed_at, 1, 10) ELSE new.expected_close_date END AS day,
               new.stage AS stage, COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) / 2147483648 AS h, COALESCE(new.amount, 0) % 2147483648 AS l
        WHERE new.archived_at IS NULL
          AND ((new.stage = 'closed_won' AND new.closed_at IS NOT NULL)
               OR (new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND new.expected_close_date IS NOT NULL))
    )
    WHERE true
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount_high = amount_high + excluded.amount_high, amount_low = amount_low + excluded.amount_low;
END;

CREATE TRIGGER opportunities_report_totals_delete AFTER DELETE ON opportunities BEGIN
    INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT old.organization_id AS organization_id, old.owner_id AS owner_id, old.stage AS stage,
               COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -(COALESCE(old.amount, 0) / 2147483648) AS h, -(COALESCE(old.amount, 0) % 2147483648) AS l
        WHERE old.archived_at IS NULL AND old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    )
    WHERE true
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount_high = amount_high + excluded.amount_high, amount_low = amount_low + excluded.amount_low;
    INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT old.organization_id AS organization_id,
               CASE WHEN old.stage = 'closed_won' THEN substr(old.closed_at, 1, 10) ELSE old.expected_close_date END AS day,
               old.stage AS stage, COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -(COALESCE(old.amount, 0) / 2147483648) AS h, -(COALESCE(old.amount, 0) % 2147483648) AS l
        WHERE old.archived_at IS NULL
          AND ((old.stage = 'closed_won' AND old.closed_at IS NOT NULL)
               OR (old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND old.expected_close_date IS NOT NULL))
    )
    WHERE true
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount_high = amount_high + excluded.amount_high, amount_low = amount_low + excluded.amount_low;
END;

CREATE TRIGGER opportunities_report_totals_update
    AFTER UPDATE OF organization_id, owner_id, stage, currency, probability, amount, expected_close_date, closed_at,
        archived_at
    ON opportunities BEGIN
    INSERT INTO pipeline_totals (organization_id, owner_id, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT old.organization_id AS organization_id, old.owner_id AS owner_id, old.stage AS stage,
               COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -(COALESCE(old.amount, 0) / 2147483648) AS h, -(COALESCE(old.amount, 0) % 2147483648) AS l
        WHERE old.archived_at IS NULL AND old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
        UNION ALL
        SELECT new.organization_id AS organization_id, new.owner_id AS owner_id, new.stage AS stage,
               COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) / 2147483648 AS h, COALESCE(new.amount, 0) % 2147483648 AS l
        WHERE new.archived_at IS NULL AND new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    )
    WHERE true
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount_high = amount_high + excluded.amount_high, amount_low = amount_low + excluded.amount_low;
    INSERT INTO deal_day_totals (organization_id, day, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT old.organization_id AS organization_id,
               CASE WHEN old.stage = 'closed_won' THEN substr(old.closed_at, 1, 10) ELSE old.expected_close_date END AS day,
               old.stage AS stage, COALESCE(old.currency, '') AS currency, old.probability AS probability,
               -1 AS n, -(COALESCE(old.amount, 0) / 2147483648) AS h, -(COALESCE(old.amount, 0) % 2147483648) AS l
        WHERE old.archived_at IS NULL
          AND ((old.stage = 'closed_won' AND old.closed_at IS NOT NULL)
               OR (old.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND old.expected_close_date IS NOT NULL))
        UNION ALL
        SELECT new.organization_id AS organization_id,
               CASE WHEN new.stage = 'closed_won' THEN substr(new.closed_at, 1, 10) ELSE new.expected_close_date END AS day,
               new.stage AS stage, COALESCE(new.currency, '') AS currency, new.probability AS probability,
               1 AS n, COALESCE(new.amount, 0) / 2147483648 AS h, COALESCE(new.amount, 0) % 2147483648 AS l
        WHERE new.archived_at IS NULL
          AND ((new.stage = 'closed_won' AND new.closed_at IS NOT NULL)
               OR (new.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation') AND new.expected_close_date IS NOT NULL))
    )
    WHERE true
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = deal_count + excluded.deal_count, amount_high = amount_high + excluded.amount_high, amount_low = amount_low + excluded.amount_low;
END;
