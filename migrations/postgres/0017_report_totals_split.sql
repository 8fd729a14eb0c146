-- Report totals that cannot overflow. 0013 kept each group's sum of amounts in one 64-bit
-- column: past 9.2 × 10^18 minor units SQLite turned the sum into a float (the pipeline then read
-- i64::MAX) and PostgreSQL failed the deal's write ("bigint out of range"). Each amount now goes
-- in as two parts, amount / 2^31 and amount % 2^31 (both truncate toward zero on both backends, so
-- amount = high × 2^31 + low exactly); each part's sum stays within 64 bits for up to 2^31 deals
-- in a group, and the reader adds them up in 128 bits, where a total too large for the API's
-- 64-bit amounts is the report's documented 422 `amount_overflow`, never a failed write.
-- Same tables, same triggers otherwise; see 0013 for what they hold and why.
-- Mirrors migrations/sqlite/0017_report_totals_split.sql.

DROP TRIGGER opportunities_report_totals ON opportunities;
DROP FUNCTION opportunities_keep_report_totals();
DROP FUNCTION rebuild_report_totals();
DROP TABLE pipeline_totals;
DROP TABLE deal_day_totals;
CREATE TABLE pipeline_totals (
    organization_id UUID NOT NULL,
    owner_id UUID NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability BIGINT NOT NULL,
    deal_count BIGINT NOT NULL,
    amount_high BIGINT NOT NULL,
    amount_low BIGINT NOT NULL,
    PRIMARY KEY (organization_id, owner_id, stage, currency, probability)
);

CREATE TABLE deal_day_totals (
    organization_id UUID NOT NULL,
    day DATE NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    probability BIGINT NOT NULL,
    deal_count BIGINT NOT NULL,
    amount_high BIGINT NOT NULL,
    amount_low BIGINT NOT NULL,
    PRIMARY KEY (organization_id, day, stage, currency, probability)
);

CREATE FUNCTION rebuild_report_totals() RETURNS void LANGUAGE sql AS $$
DELETE FROM pipeline_totals;
DELETE FROM deal_day_totals;
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
    INSERT INTO pipeline_totals AS t (organization_id, owner_id, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, owner_id, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT OLD.organization_id, OLD.owner_id, OLD.stage, COALESCE(OLD.currency, ''), OLD.probability,
               -1, -(COALESCE(OLD.amount, 0) / 2147483648), -(COALESCE(OLD.amount, 0) % 2147483648)
        WHERE TG_OP <> 'INSERT' AND OLD.archived_at IS NULL
          AND OLD.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
        UNION ALL
        SELECT NEW.organization_id, NEW.owner_id, NEW.stage, COALESCE(NEW.currency, ''), NEW.probability,
               1, COALESCE(NEW.amount, 0) / 2147483648, COALESCE(NEW.amount, 0) % 2147483648
        WHERE TG_OP <> 'DELETE' AND NEW.archived_at IS NULL
          AND NEW.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
    ) AS d (organization_id, owner_id, stage, currency, probability, n, h, l)
    GROUP BY organization_id, owner_id, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ORDER BY organization_id, owner_id, stage, currency, probability
    ON CONFLICT (organization_id, owner_id, stage, currency, probability)
    DO UPDATE SET deal_count = t.deal_count + EXCLUDED.deal_count, amount_high = t.amount_high + EXCLUDED.amount_high, amount_low = t.amount_low + EXCLUDED.amount_low;

    INSERT INTO deal_day_totals AS t (organization_id, day, stage, currency, probability, deal_count, amount_high, amount_low)
    SELECT organization_id, day, stage, currency, probability, SUM(n), SUM(h), SUM(l)
    FROM (
        SELECT OLD.organization_id,
               CASE WHEN OLD.stage = 'closed_won' THEN (OLD.closed_at AT TIME ZONE 'UTC')::date ELSE OLD.expected_close_date END,
               OLD.stage, COALESCE(OLD.currency, ''), OLD.probability, -1, -(COALESCE(OLD.amount, 0) / 2147483648), -(COALESCE(OLD.amount, 0) % 2147483648)
        WHERE TG_OP <> 'INSERT' AND OLD.archived_at IS NULL
          AND ((OLD.stage = 'closed_won' AND OLD.closed_at IS NOT NULL)
               OR (OLD.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
                   AND OLD.expected_close_date IS NOT NULL))
        UNION ALL
        SELECT NEW.organization_id,
               CASE WHEN NEW.stage = 'closed_won' THEN (NEW.closed_at AT TIME ZONE 'UTC')::date ELSE NEW.expected_close_date END,
               NEW.stage, COALESCE(NEW.currency, ''), NEW.probability, 1, COALESCE(NEW.amount, 0) / 2147483648, COALESCE(NEW.amount, 0) % 2147483648
        WHERE TG_OP <> 'DELETE' AND NEW.archived_at IS NULL
          AND ((NEW.stage = 'closed_won' AND NEW.closed_at IS NOT NULL)
               OR (NEW.stage IN ('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')
                   AND NEW.expected_close_date IS NOT NULL))
    ) AS d (organization_id, day, stage, currency, probability, n, h, l)
    GROUP BY organization_id, day, stage, currency, probability
    HAVING SUM(n) <> 0 OR SUM(h) <> 0 OR SUM(l) <> 0
    ORDER BY organization_id, day, stage, currency, probability
    ON CONFLICT (organization_id, day, stage, currency, probability)
    DO UPDATE SET deal_count = t.deal_count + EXCLUDED.deal_count, amount_high = t.amount_high + EXCLUDED.amount_high, amount_low = t.amount_low + EXCLUDED.amount_low;

    RETURN NULL;
END;
$$;

CREATE TRIGGER opportunities_report_totals
    AFTER INSERT OR DELETE OR UPDATE OF organization_id, owner_id, stage, currency, probability, amount,
        expected_close_date, closed_at, archived_at
    ON opportunities FOR EACH ROW EXECUTE FUNCTION opportunities_keep_report_totals();
