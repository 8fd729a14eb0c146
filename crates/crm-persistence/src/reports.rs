//! Report aggregates: the database groups and sums; the domain adds up the few groups.

use async_trait::async_trait;
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use crm_domain::RepoError;
use crm_domain::money::Currency;
use crm_domain::opportunity::OpportunityStage;
use crm_domain::ports::ReportRepository;
use crm_domain::reports::{ForecastOpenGroup, ForecastWonGroup, PipelineGroup, PipelineQuery};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{corrupt, plain};

/// Each row ends with its count and its amount in two parts (see [`amount_of`]).
type GroupRow = (String, Option<String>, i64, i64, i64, i64);
type MonthRow = (String, String, i64, i64, i64, i64);
type WonRow = (String, String, i64, i64, i64);

/// Amounts are summed in two parts, `amount / 2^31` and `amount % 2^31` (both truncate toward
/// zero on both backends), so that neither sum can leave 64 bits (migration 0017); the total is
/// `high × 2^31 + low`, in 128 bits.
pub(crate) fn amount_of(high: i64, low: i64) -> i128 {
    i128::from(high) * (1_i128 << 31) + i128::from(low)
}

/// The two sums of the amounts of `column` over a group of deals.
macro_rules! split_sums {
    ($column:literal) => {
        concat!(
            "CAST(COALESCE(SUM(",
            $column,
            " / 2147483648), 0) AS BIGINT), CAST(COALESCE(SUM(",
            $column,
            " % 2147483648), 0) AS BIGINT)"
        )
    };
}

fn open_stages() -> Vec<&'static str> {
    OpportunityStage::OPEN.iter().map(|s| s.as_str()).collect()
}

/// The start of the day after `day`, in UTC: the exclusive end of that day.
fn end_of(day: NaiveDate) -> chrono::DateTime<Utc> {
    (day + Duration::days(1)).and_time(NaiveTime::MIN).and_utc()
}

fn currency(code: &str) -> Result<Currency, RepoError> {
    Currency::parse("currency", code).map_err(|_| corrupt("currency"))
}

fn percent(raw: i64) -> Result<u8, RepoError> {
    u8::try_from(raw).map_err(|_| corrupt("probability"))
}

/// The dialect difference of reports: how a date or a timestamp becomes its `YYYY-MM` month.
/// SQLite stores both as ISO text; PostgreSQL formats them, timestamps in UTC whatever the
/// session's time zone.
trait MonthSql {
    const MONTH_OF_DATE: &'static str;
    const MONTH_OF_TIMESTAMP: &'static str;
    const MONTH_OF_DAY: &'static str;
}

impl MonthSql for SqliteStore {
    const MONTH_OF_DATE: &'static str = "substr(expected_close_date, 1, 7)";
    const MONTH_OF_TIMESTAMP: &'static str = "substr(closed_at, 1, 7)";
    const MONTH_OF_DAY: &'static str = "substr(day, 1, 7)";
}

impl MonthSql for PgStore {
    const MONTH_OF_DATE: &'static str = "to_char(expected_close_date, 'YYYY-MM')";
    const MONTH_OF_TIMESTAMP: &'static str = "to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM')";
    const MONTH_OF_DAY: &'static str = "to_char(day, 'YYYY-MM')";
}

/// Where a pipeline report is read from. The totals tables of migration 0013 are kept by
/// triggers on every opportunity write and hold a few rows per owner or per day, so a report
/// that they can answer costs the same at ten thousand deals as at a million; the others
/// aggregate the deals themselves over the covering indexes of 0011.
enum PipelineSource {
    /// `pipeline_totals`: today's pipeline, for everyone or for some owners.
    OwnerTotals,
    /// `deal_day_totals`: today's pipeline between expected close dates, for everyone.
    DayTotals,
    /// The deals: a past day (`as_of`), an account, or close dates with owners.
    Deals,
}

fn pipeline_source(query: &PipelineQuery) -> PipelineSource {
    let dated = query.expected_close_after.is_some() || query.expected_close_before.is_some();
    match (query.as_of, query.account_id, dated, query.owner_ids.is_empty()) {
        (None, None, false, _) => PipelineSource::OwnerTotals,
        (None, None, true, true) => PipelineSource::DayTotals,
        _ => PipelineSource::Deals,
    }
}

/// The sums of a totals table, as the aggregate over the deals would give them.
const TOTALS_SUMS: &str =
    "CAST(SUM(deal_count) AS BIGINT), CAST(SUM(amount_high) AS BIGINT), CAST(SUM(amount_low) AS BIGINT)";

macro_rules! impl_reports {
    ($Store:ident, $Db:ty) => {
        impl $Store {
            /// The forecast for everyone, from `deal_day_totals`: open deals on their expected
            /// close day, won deals on the day they closed.
            async fn forecast_rows_from_day_totals(
                &self,
                organization_id: Uuid,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<(Vec<ForecastOpenGroup>, Vec<ForecastWonGroup>), RepoError> {
                let month = <$Store as MonthSql>::MONTH_OF_DAY;
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {month}, currency, probability, {TOTALS_SUMS} FROM deal_day_totals WHERE organization_id = "
                ));
                qb.push_bind(organization_id).push(" AND currency <> ''");
                crate::list::push_any_text(&mut qb, "stage", &open_stages());
                qb.push(" AND day >= ").push_bind(from).push(" AND day <= ").push_bind(to);
                qb.push(format_args!(" GROUP BY {month}, currency, probability HAVING SUM(deal_count) > 0"));
                let open: Vec<MonthRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;

                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {month}, currency, {TOTALS_SUMS} FROM deal_day_totals WHERE organization_id = "
                ));
                qb.push_bind(organization_id).push(" AND currency <> '' AND stage = 'closed_won'");
                qb.push(" AND day >= ").push_bind(from).push(" AND day <= ").push_bind(to);
                qb.push(format_args!(" GROUP BY {month}, currency HAVING SUM(deal_count) > 0"));
                let won: Vec<WonRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                forecast_groups_of(open, won)
            }

            /// The pipeline aggregated over the deals themselves (or, for a past day, over the
            /// last stage change of each deal before it).
            async fn pipeline_rows_from_deals(
                &self,
                organization_id: Uuid,
                query: &PipelineQuery,
            ) -> Result<Vec<GroupRow>, RepoError> {
                let _turn = self.heavy.enter().await?;
                let mut qb = match query.as_of {
                    None => {
                        let mut qb = QueryBuilder::<$Db>::new(concat!(
                            "SELECT o.stage, o.currency, o.probability, COUNT(*), ",
                            split_sums!("o.amount"),
                            " FROM opportunities o WHERE o.organization_id = "
                        ));
                        qb.push_bind(organization_id).push(" AND o.archived_at IS NULL");
                        crate::list::push_any_text(&mut qb, "o.stage", &open_stages());
                        qb
                    }
                    Some(day) => {
                        // The last stage change of each deal before the end of the day.
                        let end = end_of(day);
                        let mut qb = QueryBuilder::<$Db>::new(concat!(
                            "SELECT h.to_stage, h.currency, h.probability, COUNT(*), ",
                            split_sums!("h.amount"),
                            " FROM opportunity_stage_history h JOIN opportunities o \
                             ON o.organization_id = h.organization_id AND o.id = h.opportunity_id WHERE h.organization_id = "
                        ));
                        qb.push_bind(organization_id);
                        qb.push(" AND h.changed_at < ").push_bind(end);
                        qb.push(
                            " AND NOT EXISTS (SELECT 1 FROM opportunity_stage_history l WHERE l.organization_id = h.organization_id \
                             AND l.opportunity_id = h.opportunity_id AND l.changed_at < ",
                        );
                        qb.push_bind(end);
                        qb.push(" AND (l.changed_at > h.changed_at OR (l.changed_at = h.changed_at AND l.id > h.id)))");
                        qb.push(" AND (o.archived_at IS NULL OR o.archived_at >= ").push_bind(end).push(")");
                        crate::list::push_any_text(&mut qb, "h.to_stage", &open_stages());
                        qb
                    }
                };
                crate::list::push_any_id(&mut qb, "o.owner_id", &query.owner_ids);
                if let Some(account_id) = query.account_id {
                    qb.push(" AND o.account_id = ").push_bind(account_id);
                }
                if let Some(after) = query.expected_close_after {
                    qb.push(" AND o.expected_close_date >= ").push_bind(after);
                }
                if let Some(before) = query.expected_close_before {
                    qb.push(" AND o.expected_close_date <= ").push_bind(before);
                }
                qb.push(match query.as_of {
                    None => " GROUP BY o.stage, o.currency, o.probability",
                    Some(_) => " GROUP BY h.to_stage, h.currency, h.probability",
                });
                qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)
            }
        }

        #[async_trait]
        impl ReportRepository for $Store {
            async fn pipeline_groups(&self, organization_id: Uuid, query: &PipelineQuery) -> Result<Vec<PipelineGroup>, RepoError> {
                let rows: Vec<GroupRow> = match pipeline_source(query) {
                    PipelineSource::OwnerTotals => {
                        let mut qb = QueryBuilder::<$Db>::new(format!(
                            "SELECT stage, NULLIF(currency, ''), probability, {TOTALS_SUMS} FROM pipeline_totals \
                             WHERE organization_id = "
                        ));
                        qb.push_bind(organization_id);
                        crate::list::push_any_id(&mut qb, "owner_id", &query.owner_ids);
                        qb.push(" GROUP BY stage, currency, probability HAVING SUM(deal_count) > 0");
                        qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?
                    }
                    PipelineSource::DayTotals => {
                        let mut qb = QueryBuilder::<$Db>::new(format!(
                            "SELECT stage, NULLIF(currency, ''), probability, {TOTALS_SUMS} FROM deal_day_totals \
                             WHERE organization_id = "
                        ));
                        qb.push_bind(organization_id);
                        crate::list::push_any_text(&mut qb, "stage", &open_stages());
                        if let Some(after) = query.expected_close_after {
                            qb.push(" AND day >= ").push_bind(after);
                        }
                        if let Some(before) = query.expected_close_before {
                            qb.push(" AND day <= ").push_bind(before);
                        }
                        qb.push(" GROUP BY stage, currency, probability HAVING SUM(deal_count) > 0");
                        qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?
                    }
                    PipelineSource::Deals => self.pipeline_rows_from_deals(organization_id, query).await?,
                };
                rows.into_iter()
                    .map(|(stage, code, probability, count, high, low)| {
                        Ok(PipelineGroup {
                            stage: OpportunityStage::parse("stage", &stage).map_err(|_| corrupt("opportunity stage"))?,
                            currency: code.as_deref().map(currency).transpose()?,
                            probability: percent(probability)?,
                            count,
                            amount: amount_of(high, low),
                        })
                    })
                    .collect()
            }

            async fn forecast_groups(
                &self,
                organization_id: Uuid,
                from: NaiveDate,
                to: NaiveDate,
                owner_ids: &[Uuid],
            ) -> Result<(Vec<ForecastOpenGroup>, Vec<ForecastWonGroup>), RepoError> {
                if owner_ids.is_empty() {
                    return self.forecast_rows_from_day_totals(organization_id, from, to).await;
                }
                let _turn = self.heavy.enter().await?;
                let month = <$Store as MonthSql>::MONTH_OF_DATE;
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {month}, currency, probability, COUNT(*), {} FROM opportunities \
                     WHERE organization_id = ",
                    split_sums!("amount")
                ));
                qb.push_bind(organization_id).push(" AND archived_at IS NULL AND currency IS NOT NULL");
                crate::list::push_any_text(&mut qb, "stage", &open_stages());
                qb.push(" AND expected_close_date >= ").push_bind(from);
                qb.push(" AND expected_close_date <= ").push_bind(to);
                crate::list::push_any_id(&mut qb, "owner_id", owner_ids);
                qb.push(format_args!(" GROUP BY {month}, currency, probability"));
                let open: Vec<MonthRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;

                let month = <$Store as MonthSql>::MONTH_OF_TIMESTAMP;
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {month}, currency, COUNT(*), {} FROM opportunities WHERE organization_id = ",
                    split_sums!("amount")
                ));
                qb.push_bind(organization_id).push(" AND archived_at IS NULL AND currency IS NOT NULL AND stage = 'closed_won'");
                qb.push(" AND closed_at >= ").push_bind(from.and_time(NaiveTime::MIN).and_utc());
                qb.push(" AND closed_at < ").push_bind(end_of(to));
                crate::list::push_any_id(&mut qb, "owner_id", owner_ids);
                qb.push(format_args!(" GROUP BY {month}, currency"));
                let won: Vec<WonRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                forecast_groups_of(open, won)
            }
        }
    };
}

/// The forecast's rows as the domain reads them.
fn forecast_groups_of(
    open: Vec<MonthRow>,
    won: Vec<WonRow>,
) -> Result<(Vec<ForecastOpenGroup>, Vec<ForecastWonGroup>), RepoError> {
    let open = open
        .into_iter()
        .map(|(month, code, probability, count, high, low)| {
            Ok(ForecastOpenGroup {
                month,
                currency: currency(&code)?,
                probability: percent(probability)?,
                count,
                amount: amount_of(high, low),
            })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    let won = won
        .into_iter()
        .map(|(month, code, count, high, low)| {
            Ok(ForecastWonGroup { month, currency: currency(&code)?, count, amount: amount_of(high, low) })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    Ok((open, won))
}

impl_reports!(SqliteStore, sqlx::Sqlite);
impl_reports!(PgStore, sqlx::Postgres);
