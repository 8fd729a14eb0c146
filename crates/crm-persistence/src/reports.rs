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

type GroupRow = (String, Option<String>, i64, i64, i64);
type MonthRow = (String, String, i64, i64, i64);
type WonRow = (String, String, i64, i64);

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
}

impl MonthSql for SqliteStore {
    const MONTH_OF_DATE: &'static str = "substr(expected_close_date, 1, 7)";
    const MONTH_OF_TIMESTAMP: &'static str = "substr(closed_at, 1, 7)";
}

impl MonthSql for PgStore {
    const MONTH_OF_DATE: &'static str = "to_char(expected_close_date, 'YYYY-MM')";
    const MONTH_OF_TIMESTAMP: &'static str = "to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM')";
}

macro_rules! impl_reports {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl ReportRepository for $Store {
            async fn pipeline_groups(&self, organization_id: Uuid, query: &PipelineQuery) -> Result<Vec<PipelineGroup>, RepoError> {
                let mut qb = match query.as_of {
                    None => {
                        let mut qb = QueryBuilder::<$Db>::new(
                            "SELECT o.stage, o.currency, o.probability, COUNT(*), CAST(COALESCE(SUM(o.amount), 0) AS BIGINT) \
                             FROM opportunities o WHERE o.organization_id = ",
                        );
                        qb.push_bind(organization_id).push(" AND o.archived_at IS NULL");
                        crate::list::push_any_text(&mut qb, "o.stage", &open_stages());
                        qb
                    }
                    Some(day) => {
                        // The last stage change of each deal before the end of the day.
                        let end = end_of(day);
                        let mut qb = QueryBuilder::<$Db>::new(
                            "SELECT h.to_stage, h.currency, h.probability, COUNT(*), CAST(COALESCE(SUM(h.amount), 0) AS BIGINT) \
                             FROM opportunity_stage_history h JOIN opportunities o \
                             ON o.organization_id = h.organization_id AND o.id = h.opportunity_id WHERE h.organization_id = ",
                        );
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
                let rows: Vec<GroupRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                rows.into_iter()
                    .map(|(stage, code, probability, count, amount)| {
                        Ok(PipelineGroup {
                            stage: OpportunityStage::parse("stage", &stage).map_err(|_| corrupt("opportunity stage"))?,
                            currency: code.as_deref().map(currency).transpose()?,
                            probability: percent(probability)?,
                            count,
                            amount,
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
                let month = <$Store as MonthSql>::MONTH_OF_DATE;
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {month}, currency, probability, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM opportunities \
                     WHERE organization_id = "
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
                    "SELECT {month}, currency, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM opportunities WHERE organization_id = "
                ));
                qb.push_bind(organization_id).push(" AND archived_at IS NULL AND currency IS NOT NULL AND stage = 'closed_won'");
                qb.push(" AND closed_at >= ").push_bind(from.and_time(NaiveTime::MIN).and_utc());
                qb.push(" AND closed_at < ").push_bind(end_of(to));
                crate::list::push_any_id(&mut qb, "owner_id", owner_ids);
                qb.push(format_args!(" GROUP BY {month}, currency"));
                let won: Vec<WonRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;

                let open = open
                    .into_iter()
                    .map(|(month, code, probability, count, amount)| {
                        Ok(ForecastOpenGroup { month, currency: currency(&code)?, probability: percent(probability)?, count, amount })
                    })
                    .collect::<Result<Vec<_>, RepoError>>()?;
                let won = won
                    .into_iter()
                    .map(|(month, code, count, amount)| Ok(ForecastWonGroup { month, currency: currency(&code)?, count, amount }))
                    .collect::<Result<Vec<_>, RepoError>>()?;
                Ok((open, won))
            }
        }
    };
}

impl_reports!(SqliteStore, sqlx::Sqlite);
impl_reports!(PgStore, sqlx::Postgres);
