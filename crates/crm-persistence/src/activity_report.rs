//! The activity report's queries: the done activities of a range counted by `GROUP BY`, and how
//! fast the leads created in it were first reached (a median read as one or two rows).

use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::activity_report::{
    ActivityCounts, ActivityGrouping, ActivityReportQuery, LeadResponse, failed_outcomes, median_of, median_window,
};
use crm_domain::ports::ActivityReportRepository;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::plain;

/// The dialect's pieces of the report: an id-typed NULL, the period of an instant (all in UTC),
/// and the whole seconds between two instants.
trait ReportSql {
    const NULL_ID: &'static str;
    const DAY: &'static str;
    const WEEK: &'static str;
    const MONTH: &'static str;
    /// The seconds from `created` to `first_at`, rounded to whole seconds, at least zero.
    const WAIT: &'static str;
}

impl ReportSql for SqliteStore {
    const NULL_ID: &'static str = "CAST(NULL AS BLOB)";
    const DAY: &'static str = "substr(occurred_at, 1, 10)";
    // `weekday 0` moves to the next Sunday (or stays on one), six days back is its Monday.
    const WEEK: &'static str = "date(substr(occurred_at, 1, 10), 'weekday 0', '-6 days')";
    const MONTH: &'static str = "substr(occurred_at, 1, 7)";
    const WAIT: &'static str = "MAX(0, CAST(ROUND((julianday(first_at) - julianday(created)) * 86400) AS INTEGER))";
}

impl ReportSql for PgStore {
    const NULL_ID: &'static str = "CAST(NULL AS UUID)";
    const DAY: &'static str = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
    const WEEK: &'static str = "to_char(date_trunc('week', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')";
    const MONTH: &'static str = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')";
    const WAIT: &'static str = "GREATEST(0, CAST(ROUND(EXTRACT(EPOCH FROM (first_at - created))) AS BIGINT))";
}

/// The select list of one report: each key as itself when grouped by, else a typed NULL; and the
/// `GROUP BY` and `ORDER BY` list.
fn keys<S: ReportSql>(groups: &[ActivityGrouping]) -> (String, String) {
    let has = |g: ActivityGrouping| groups.contains(&g);
    let period = groups.iter().find_map(|g| match g {
        ActivityGrouping::Day => Some(S::DAY),
        ActivityGrouping::Week => Some(S::WEEK),
        ActivityGrouping::Month => Some(S::MONTH),
        _ => None,
    });
    let select = [
        if has(ActivityGrouping::Owner) { "owner_id" } else { S::NULL_ID },
        if has(ActivityGrouping::Kind) { "kind" } else { "CAST(NULL AS TEXT)" },
        if has(ActivityGrouping::Outcome) { "outcome" } else { "CAST(NULL AS TEXT)" },
        period.unwrap_or("CAST(NULL AS TEXT)"),
    ]
    .join(", ");
    let mut grouped: Vec<&str> = Vec::new();
    for g in groups {
        grouped.push(match g {
            ActivityGrouping::Owner => "owner_id",
            ActivityGrouping::Kind => "kind",
            ActivityGrouping::Outcome => "outcome",
            _ => period.unwrap_or("occurred_at"),
        });
    }
    (select, grouped.join(", "))
}

type CountsRow = (Option<Uuid>, Option<String>, Option<String>, Option<String>, i64, i64, i64, i64);

macro_rules! impl_activity_report {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl ActivityReportRepository for $Store {
            async fn activity_counts(
                &self,
                organization_id: Uuid,
                query: &ActivityReportQuery,
            ) -> Result<Vec<ActivityCounts>, RepoError> {
                let (select, grouped) = keys::<$Store>(&query.group_by);
                let failed: Vec<String> = failed_outcomes().iter().map(|o| format!("'{o}'")).collect();
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {select}, COUNT(*), \
                     COALESCE(SUM(CASE WHEN outcome IN ({}) THEN 1 ELSE 0 END), 0), \
                     COALESCE(SUM(CASE WHEN due_at IS NOT NULL AND occurred_at <= due_at THEN 1 ELSE 0 END), 0), \
                     COALESCE(SUM(CASE WHEN due_at IS NOT NULL AND occurred_at > due_at THEN 1 ELSE 0 END), 0) \
                     FROM activities WHERE organization_id = ",
                    failed.join(", ")
                ));
                qb.push_bind(organization_id).push(" AND status = 'done' AND archived_at IS NULL");
                // A done activity always has its `occurred_at`: the range is one range of the
                // covering index `activities_report` (0025), read without a row lookup (or, for
                // one account, of `activities_done_account`).
                qb.push(" AND occurred_at >= ").push_bind(query.from);
                qb.push(" AND occurred_at < ").push_bind(query.to);
                crate::list::push_any_id(&mut qb, "owner_id", &query.owner_ids);
                let kinds: Vec<&'static str> = query.kinds.iter().map(|k| k.as_str()).collect();
                crate::list::push_any_text(&mut qb, "kind", &kinds);
                if let Some(account) = query.account_id {
                    qb.push(" AND account_id = ").push_bind(account);
                }
                if !grouped.is_empty() {
                    qb.push(format_args!(" GROUP BY {grouped} ORDER BY {grouped}"));
                }
                let rows: Vec<CountsRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                Ok(rows
                    .into_iter()
                    .filter(|row| row.4 > 0)
                    .map(|(owner_id, kind, outcome, period, done, failed, on_time, late)| ActivityCounts {
                        owner_id,
                        kind,
                        outcome,
                        period,
                        done,
                        failed,
                        on_time,
                        late,
                    })
                    .collect())
            }

            async fn lead_response(
                &self,
                organization_id: Uuid,
                query: &ActivityReportQuery,
            ) -> Result<LeadResponse, RepoError> {
                // Each lead of the range with its first interaction, which 0025's triggers keep
                // on the lead: one range of the covering index `leads_first_interaction`.
                let reach = |qb: &mut QueryBuilder<$Db>| {
                    qb.push(
                        "WITH reach AS (SELECT l.created_at AS created, l.first_interaction_at AS first_at \
                         FROM leads AS l WHERE l.organization_id = ",
                    );
                    qb.push_bind(organization_id).push(" AND l.archived_at IS NULL");
                    qb.push(" AND l.created_at >= ").push_bind(query.from);
                    qb.push(" AND l.created_at < ").push_bind(query.to);
                    crate::list::push_any_id(qb, "l.owner_id", &query.owner_ids);
                    qb.push(") ");
                };
                let mut qb = QueryBuilder::<$Db>::new("");
                reach(&mut qb);
                qb.push("SELECT COUNT(*), COUNT(first_at) FROM reach");
                let (created, reached): (i64, i64) =
                    qb.build_query_as().fetch_one(&self.pool).await.map_err(plain)?;
                let median_seconds = match median_window(reached) {
                    None => None,
                    Some((offset, count)) => {
                        let mut qb = QueryBuilder::<$Db>::new("");
                        reach(&mut qb);
                        qb.push(format_args!(
                            "SELECT {} AS w FROM reach WHERE first_at IS NOT NULL ORDER BY w LIMIT ",
                            <$Store as ReportSql>::WAIT
                        ));
                        qb.push_bind(count).push(" OFFSET ").push_bind(offset);
                        let middle: Vec<(i64,)> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                        median_of(&middle.into_iter().map(|(w,)| w).collect::<Vec<_>>())
                    }
                };
                Ok(LeadResponse { leads_created: created, leads_reached: reached, median_seconds })
            }
        }
    };
}

impl_activity_report!(SqliteStore, sqlx::Sqlite);
impl_activity_report!(PgStore, sqlx::Postgres);
