//! The tickets report's queries: the backlog, the created and solved counts per period, the SLA
//! counts per priority and agent, the one value a percentile needs, the reopens, and the
//! complaints per account and per product, each a range of one of migration 0027's covering
//! indexes of the unarchived tickets (no table row is read); and the deals handed to sales.
//! Every figure is a `GROUP BY` or a `LIMIT … OFFSET` of the database; archived tickets and
//! deals are not counted.

use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::activity_report::{median_of, median_window};
use crm_domain::ports::TicketReportRepository;
use crm_domain::ticket::{TicketPriority, TicketStatus};
use crm_domain::ticket_report::{
    BacklogCount, DurationStats, SupportSales, TOP_COMPLAINTS, TargetCount, TicketPeriod, TicketReportData,
    TicketReportQuery, p90_offset,
};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::documents::parsed;
use crate::error::plain;

/// The dialect's period of an instant column (UTC).
trait PeriodSql {
    fn period(column: &str, period: TicketPeriod) -> String;
}

impl PeriodSql for SqliteStore {
    fn period(column: &str, period: TicketPeriod) -> String {
        match period {
            TicketPeriod::Day => format!("substr({column}, 1, 10)"),
            // `weekday 0` moves to the next Sunday (or stays on one), six days back is its Monday.
            TicketPeriod::Week => format!("date(substr({column}, 1, 10), 'weekday 0', '-6 days')"),
            TicketPeriod::Month => format!("substr({column}, 1, 7)"),
        }
    }
}

impl PgStore {
    fn utc(column: &str, format: &str) -> String {
        format!("to_char({column} AT TIME ZONE 'UTC', '{format}')")
    }
}

impl PeriodSql for PgStore {
    fn period(column: &str, period: TicketPeriod) -> String {
        match period {
            TicketPeriod::Day => Self::utc(column, "YYYY-MM-DD"),
            TicketPeriod::Week => format!("to_char(date_trunc('week', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"),
            TicketPeriod::Month => Self::utc(column, "YYYY-MM"),
        }
    }
}

/// The SLA target counted: its event's column, and the flag of a missed deadline.
const FIRST_RESPONSE: (&str, &str, &str) =
    ("first_responded_at", "first_response_missed", "first_response_business_seconds");
const RESOLUTION: (&str, &str, &str) = ("solved_at", "resolution_missed", "resolution_business_seconds");

type TargetRow = (String, Option<Uuid>, i64, i64);

macro_rules! impl_ticket_report {
    ($Store:ident, $Db:ty) => {
        impl $Store {
            /// `FROM tickets WHERE` the organisation's unarchived tickets whose `column` lies in
            /// the range.
            fn tickets_in(
                qb: &mut QueryBuilder<$Db>,
                organization_id: Uuid,
                column: &str,
                query: &TicketReportQuery,
            ) {
                qb.push(" FROM tickets WHERE organization_id = ").push_bind(organization_id);
                qb.push(" AND archived_at IS NULL");
                qb.push(format_args!(" AND {column} >= ")).push_bind(query.from);
                qb.push(format_args!(" AND {column} < ")).push_bind(query.to);
            }

            async fn per_period(
                &self,
                organization_id: Uuid,
                column: &str,
                query: &TicketReportQuery,
            ) -> Result<Vec<(String, i64)>, RepoError> {
                let period = <$Store as PeriodSql>::period(column, query.period);
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {period} AS p, COUNT(*)"));
                Self::tickets_in(&mut qb, organization_id, column, query);
                qb.push(" GROUP BY p ORDER BY p");
                qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)
            }

            async fn target(
                &self,
                organization_id: Uuid,
                (column, missed, seconds): (&str, &str, &str),
                query: &TicketReportQuery,
            ) -> Result<(Vec<TargetCount>, DurationStats), RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT priority, owner_id, COUNT(*), CAST(COALESCE(SUM(CASE WHEN {missed} THEN 0 ELSE 1 END), 0) AS BIGINT)"
                ));
                Self::tickets_in(&mut qb, organization_id, column, query);
                qb.push(" GROUP BY priority, owner_id");
                let rows: Vec<TargetRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let counts = rows
                    .into_iter()
                    .map(|(priority, owner_id, total, met)| {
                        Ok(TargetCount {
                            priority: parsed(&priority, "ticket priority", TicketPriority::parse)?,
                            owner_id,
                            total,
                            met,
                        })
                    })
                    .collect::<Result<Vec<_>, RepoError>>()?;
                let count: i64 = counts.iter().map(|c| c.total).sum();
                // The values at the ranks a percentile needs, read in order from the range.
                let at = async |offset: i64, n: i64| -> Result<Vec<i64>, RepoError> {
                    let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {seconds} AS s"));
                    Self::tickets_in(&mut qb, organization_id, column, query);
                    qb.push(" ORDER BY s LIMIT ").push_bind(n).push(" OFFSET ").push_bind(offset);
                    let rows: Vec<(i64,)> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                    Ok(rows.into_iter().map(|(s,)| s).collect())
                };
                let median = match median_window(count) {
                    Some((offset, n)) => median_of(&at(offset, n).await?),
                    None => None,
                };
                let p90 = match p90_offset(count) {
                    Some(offset) => at(offset, 1).await?.first().copied(),
                    None => None,
                };
                Ok((counts, DurationStats { count, median, p90 }))
            }

            async fn complaints_by(
                &self,
                organization_id: Uuid,
                column: &str,
                query: &TicketReportQuery,
            ) -> Result<Vec<(Uuid, i64)>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {column}, COUNT(*) AS n"));
                Self::tickets_in(&mut qb, organization_id, "created_at", query);
                qb.push(format_args!(" AND category = 'complaint' AND {column} IS NOT NULL"));
                qb.push(format_args!(" GROUP BY {column} ORDER BY n DESC, {column} LIMIT "));
                qb.push_bind(TOP_COMPLAINTS);
                qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)
            }
        }

        #[async_trait]
        impl TicketReportRepository for $Store {
            async fn ticket_report(
                &self,
                organization_id: Uuid,
                query: &TicketReportQuery,
            ) -> Result<TicketReportData, RepoError> {
                // The backlog as it stands: the covering index of the active tickets.
                let mut qb = QueryBuilder::<$Db>::new("SELECT status, priority, COUNT(*) FROM tickets WHERE organization_id = ");
                qb.push_bind(organization_id);
                qb.push(" AND archived_at IS NULL AND status IN ('new', 'open', 'pending', 'on_hold')");
                qb.push(" GROUP BY status, priority");
                let rows: Vec<(String, String, i64)> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let mut backlog = rows
                    .into_iter()
                    .map(|(status, priority, count)| {
                        Ok(BacklogCount {
                            status: parsed(&status, "ticket status", TicketStatus::parse)?,
                            priority: parsed(&priority, "ticket priority", TicketPriority::parse)?,
                            count,
                        })
                    })
                    .collect::<Result<Vec<_>, RepoError>>()?;
                crm_domain::ticket_report::order_backlog(&mut backlog);

                let created = self.per_period(organization_id, "created_at", query).await?;
                let solved = self.per_period(organization_id, "solved_at", query).await?;
                let (first_responses, first_response_time) = self.target(organization_id, FIRST_RESPONSE, query).await?;
                let (resolutions, resolution_time) = self.target(organization_id, RESOLUTION, query).await?;

                // Of the tickets created in the range that were ever solved, those reopened.
                let mut qb = QueryBuilder::<$Db>::new(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN reopened_count > 0 THEN 1 ELSE 0 END), 0) AS BIGINT)",
                );
                Self::tickets_in(&mut qb, organization_id, "created_at", query);
                qb.push(" AND (solved_at IS NOT NULL OR reopened_count > 0)");
                let (ever_solved, reopened): (i64, i64) = qb.build_query_as().fetch_one(&self.pool).await.map_err(plain)?;

                let mut qb = QueryBuilder::<$Db>::new("SELECT COUNT(*)");
                Self::tickets_in(&mut qb, organization_id, "created_at", query);
                qb.push(" AND category = 'complaint'");
                let (complaints,): (i64,) = qb.build_query_as().fetch_one(&self.pool).await.map_err(plain)?;
                let complaints_by_account = self.complaints_by(organization_id, "account_id", query).await?;
                let complaints_by_product = self.complaints_by(organization_id, "product_id", query).await?;

                // The deals handed to sales in the range, by currency.
                let mut qb = QueryBuilder::<$Db>::new(
                    "SELECT currency, COUNT(*), \
                     CAST(COALESCE(SUM(CASE WHEN stage = 'closed_won' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(CASE WHEN stage = 'closed_won' THEN COALESCE(amount, 0) ELSE 0 END), 0) AS BIGINT) \
                     FROM opportunities WHERE organization_id = ",
                );
                qb.push_bind(organization_id);
                qb.push(" AND archived_at IS NULL AND source_ticket_id IS NOT NULL");
                qb.push(" AND created_at >= ").push_bind(query.from);
                qb.push(" AND created_at < ").push_bind(query.to);
                // Deals without an amount last, on both backends.
                qb.push(" GROUP BY currency ORDER BY CASE WHEN currency IS NULL THEN 1 ELSE 0 END, currency");
                let rows: Vec<(Option<String>, i64, i64, i64)> =
                    qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let support_sales = rows
                    .into_iter()
                    .map(|(currency, created, won, won_amount)| SupportSales { currency, created, won, won_amount })
                    .collect();

                Ok(TicketReportData {
                    backlog,
                    created,
                    solved,
                    first_responses,
                    resolutions,
                    first_response_time,
                    resolution_time,
                    ever_solved,
                    reopened,
                    complaints,
                    complaints_by_account,
                    complaints_by_product,
                    support_sales,
                })
            }
        }
    };
}

impl_ticket_report!(SqliteStore, sqlx::Sqlite);
impl_ticket_report!(PgStore, sqlx::Postgres);
