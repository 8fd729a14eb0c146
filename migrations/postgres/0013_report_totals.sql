-- Report totals kept by the database on every write of an opportunity, so that the pipeline and
-- the forecast read a few rows whatever the number of deals (found with crm-bench: at 1,000,000
-- deals one pipeline report read 640,000 index entries; see BENCHMARKS.md, findings 2 and 3).
-- Mirrors migrations/sqlite/0013_report_totals.sql.
--
-- pipeline_totals: open, non-archived deals per owner, stage, currency ('' when the deal has no
-- amount) and probability. Serves the pipeline report without an account or close-date filter.
-- deal_day_totals: per day, stage, currency and probability (no owner): open deals on their
-- expected close date, won deals on the UTC date they closed. Serves the forecast and the
-- pipeline filtered by expected close dates, when no owner filter is given. Any other filter
-- falls back to aggregating the covering indexes of 0011.
--
-- A row whose deal_count has fallen to 0 stays; readers skip it. A trigger writes each table in
-- key order (one INSERT … SELECT … ORDER BY) so that two transactions moving deals in opposite
-- directions lock the same rows in the same order and cannot deadlock.

CREATE TABLE pipeline_totals (
    organization_id UUID NOT NULL,
    owner_id UUID NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability BIGINT NOT NULL,
    deal_count BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (organization_id, owner_id, stage, currency, probability)
);

CREATE TABLE deal_day_totals (
    organization_id UUID NOT NULL,
    day DATE NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability BIGINT NOT NULL,
    deal_count BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (organization_id, day, stage, currency, probability)
);

-- Recomputes both tables from the deals: the backfill below, and what a bulk load that turned
-- the trigger off (the benchmark's seed) calls afterwards.
CREATE FUNCTION rebuild_report_totals() RETURNS void LANGUAGE sql AS $$
DELETE FROM pipeline_totals;
DELETE FROM deal_day_totals;
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
    WHERE archived_at IS NULL AND expected_close_date IS NOT NULL
      AND stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    UNION ALL
    SELECT organization_id, (closed_at AT TIME ZONE 'UTC')::date, stage, COALESCE(currency, ''), probability, amount
    FROM opportunities
    WHERE archived_at IS NULL AND closed_at IS NOT NULL AND stage = 'closed_won'
) AS d
GROUP BY organization_id, day, stage, currency, probability;
$$;

SELECT rebuild_report_totals();

CREATE FUNCTION opportunities_keep_report_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pipeline_totals AS t (organization_id, owner_id, stage, currency, probability, deal_count, amount)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT OLD.organization_id, OLD.owner_id, OLD.stage, COALESCE(OLD.currency, ''), OLD.probability,
               -1, -COALESCE(OLD.amount, 0)
        WHERE TG_OP <> 'INSERT' AND OLD.archived_at IS NULL
          AND OLD.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
        UNION ALL
        SELECT NEW.organization_id, NEW.owner_id, NEW.stage, COALESCE(NEW.currency, ''), NEW.probability,
               1, COALESCE(NEW.amount, 0)
        WHERE TG_OP <> 'DELETE' AND NEW.archived_at IS NULL
          AND NEW.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    ) AS d (organization_id, owner_id, stage, currency, probability, n, a)
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ORDER BY organization_id, owner_id, stage, currency, probability
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = t.deal_count + EXCLUDED.deal_count, amount = t.amount + EXCLUDED.amount;

    INSERT INTO deal_day_totals AS t (organization_id, day, stage, currency, probability, deal_count, amount)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(a)
    FROM (
        SELECT OLD.organization_id,
               CASE WHEN OLD.stage = 'closed_won' THEN (OLD.closed_at AT TIME ZONE 'UTC')::date ELSE OLD.expected_close_date END,
               OLD.stage, COALESCE(OLD.currency, ''), OLD.probability, -1, -COALESCE(OLD.amount, 0)
        WHERE TG_OP <> 'INSERT' AND OLD.archived_at IS NULL
          AND ((OLD.stage = 'closed_won' AND OLD.closed_at IS NOT NULL)
               OR (OLD.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
                   AND OLD.expected_close_date IS NOT NULL))
        UNION ALL
        SELECT NEW.organization_id,
               CASE WHEN NEW.stage = 'closed_won' THEN (NEW.closed_at AT TIME ZONE 'UTC')::date ELSE NEW.expected_close_date END,
               NEW.stage, COALESCE(NEW.currency, ''), NEW.probability, 1, COALESCE(NEW.amount, 0)
        WHERE TG_OP <> 'DELETE' AND NEW.archived_at IS NULL
          AND ((NEW.stage = 'closed_won' AND NEW.closed_at IS NOT NULL)
               OR (NEW.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
                   AND NEW.expected_close_date IS NOT NULL))
    ) AS d (organization_id, day, stage, currency, probability, n, a)
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(a) <> 0
    ORDER BY organization_id, day, stage, currency, probability
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = t.deal_count + EXCLUDED.deal_count, amount = t.amount + EXCLUDED.amount;

    RETURN NULL;
END;
$$;

CREATE TRIGGER opportunities_report_totals
    AFTER INSERT OR DELETE OR UPDATE OF organization_id, owner_id, stage, currency, probability, amount,
        expected_close_date, closed_at, archived_at
    ON opportunities FOR EACH ROW EXECUTE FUNCTION opportunities_keep_report_totals();
