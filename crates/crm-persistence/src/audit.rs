//! The audit trail: events are written by the repositories inside the transaction of the change
//! they describe (see `write_audit!`), and read here.

use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::audit::{AuditEvent, AuditFilter};
use crm_domain::list::{KeysetPosition, Page, SortDirection, SortValue, Window};
use crm_domain::ports::AuditRepository;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::rows::AuditEventRow;

/// The columns of an audit event, in the order `bind_audit!` binds them.
const AUDIT_INSERT: &str = "INSERT INTO audit_events (organization_id, id, actor_id, action, entity_type, entity_id, \
     changes, request_id, occurred_at, idempotency_attempt, timeline_kind, lead_id, contact_id, account_id, opportunity_id) \
     VALUES ";

/// How many values an audit event binds.
pub(crate) const AUDIT_PARAMS: usize = 15;

/// The audit INSERT with its fifteen placeholders numbered from `first`.
pub(crate) fn audit_insert_sql(first: usize) -> String {
    let placeholders: Vec<String> = (first..first + AUDIT_PARAMS).map(|n| format!("${n}")).collect();
    format!("{AUDIT_INSERT}({})", placeholders.join(", "))
}

/// The audit INSERT on its own (`$1` to `$15`), built once.
pub(crate) static AUDIT_INSERT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| audit_insert_sql(1));

/// Binds an audit event's fifteen values to a query, in `audit_insert_sql` order:
/// `bind_audit!(query, &AuditContext, action, "lead", entity_id, &changes, occurred_at, about)`,
/// `about` being the [`About`](crm_domain::timeline::About) of the record (`About::NONE` for a
/// record in no timeline); the event's timeline kind comes from
/// [`kind_of`](crm_domain::timeline::kind_of).
macro_rules! bind_audit {
    ($query:expr, $ctx:expr, $action:expr, $entity_type:expr, $entity_id:expr, $changes:expr, $at:expr, $about:expr) => {{
        let changes: &[crm_domain::audit::FieldChange] = $changes;
        let action: crm_domain::audit::AuditAction = $action;
        let entity_type: &'static str = $entity_type;
        let about: crm_domain::timeline::About = $about;
        $query
            .bind($ctx.organization_id)
            .bind(uuid::Uuid::now_v7())
            .bind($ctx.actor_id)
            .bind(action.as_str())
            .bind(entity_type)
            .bind($entity_id)
            .bind($crate::rows::changes_to_json(changes))
            .bind($ctx.request_id.as_str())
            .bind($at)
            .bind($ctx.idempotency_attempt)
            .bind(crm_domain::timeline::kind_of(entity_type, action, changes).map(|k| k.as_str()))
            .bind(about.lead_id)
            .bind(about.contact_id)
            .bind(about.account_id)
            .bind(about.opportunity_id)
    }};
}
pub(crate) use bind_audit;

/// Writes one audit event on the transaction's connection:
/// `write_audit!(tx.conn(), &AuditContext, action, "lead", entity_id, &changes, occurred_at, about)`.
macro_rules! write_audit {
    ($conn:expr, $ctx:expr, $action:expr, $entity_type:expr, $entity_id:expr, $changes:expr, $at:expr, $about:expr) => {
        $crate::audit::bind_audit!(
            sqlx::query(sqlx::AssertSqlSafe($crate::audit::AUDIT_INSERT_SQL.as_str())),
            $ctx,
            $action,
            $entity_type,
            $entity_id,
            $changes,
            $at,
            $about
        )
        .execute($conn)
        .await
        .map_err($crate::error::plain)
    };
}
pub(crate) use write_audit;

/// How a row and the audit event of its creation are written in one trip to the database, the
/// shape of the busiest write (finding 5 of BENCHMARKS.md: the audit event in its own statement
/// between `BEGIN` and `COMMIT` was most of the gap between a create and the floor). The text is
/// run by the store's `run_audited_insert`.
pub(crate) trait AuditedInsertSql {
    /// The row's INSERT (placeholders `$1` to `$params`) and the audit INSERT (the next fifteen).
    fn audited_insert(insert: &str, params: usize) -> String;
}

/// SQLite: the whole transaction as one text, which sqlx runs in one call to the connection's
/// worker thread, binding `$n` by number across the statements
/// ([`SqliteStore::write_in_one_call`]).
impl AuditedInsertSql for SqliteStore {
    fn audited_insert(insert: &str, params: usize) -> String {
        format!("BEGIN IMMEDIATE; {insert}; {}; COMMIT", audit_insert_sql(params + 1))
    }
}

/// PostgreSQL runs a data-modifying CTE as part of its statement: one statement, atomic on its
/// own, with no `BEGIN` or `COMMIT` round trip.
impl AuditedInsertSql for PgStore {
    fn audited_insert(insert: &str, params: usize) -> String {
        format!("WITH created AS ({insert}) {}", audit_insert_sql(params + 1))
    }
}

impl SqliteStore {
    pub(crate) async fn run_audited_insert(
        &self,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<(), sqlx::Error> {
        self.write_in_one_call(query).await
    }
}

impl PgStore {
    pub(crate) async fn run_audited_insert(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<(), sqlx::Error> {
        query.execute(&self.pool).await.map(|_| ())
    }
}

macro_rules! impl_audit {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl AuditRepository for $Store {
            async fn list_audit_events(&self, organization_id: Uuid, filter: &AuditFilter, window: &Window) -> Result<Page<AuditEvent>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(
                    "SELECT organization_id, id, actor_id, action, entity_type, entity_id, changes, request_id, occurred_at \
                     FROM audit_events WHERE organization_id = ",
                );
                qb.push_bind(organization_id);
                if let Some(entity_type) = &filter.entity_type {
                    qb.push(" AND entity_type = ").push_bind(entity_type.clone());
                }
                if let Some(entity_id) = filter.entity_id {
                    qb.push(" AND entity_id = ").push_bind(entity_id);
                }
                if let Some(actor_id) = filter.actor_id {
                    qb.push(" AND actor_id = ").push_bind(actor_id);
                }
                crate::list::push_keyset_page(&mut qb, "occurred_at", SortDirection::Descending, window.after.as_ref(), window.limit);
                let rows: Vec<AuditEventRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(crate::error::plain)?;
                let events = rows.into_iter().map(AuditEvent::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok(Page::from_overfetch(events, window.limit, |e| KeysetPosition { value: SortValue::Timestamp(e.occurred_at), id: e.id }))
            }
        }
    };
}

impl_audit!(SqliteStore, sqlx::Sqlite);
impl_audit!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_insert_numbers_its_placeholders_after_the_row() {
        assert!(
            audit_insert_sql(26)
                .ends_with("VALUES ($26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40)")
        );
        assert_eq!(
            <PgStore as AuditedInsertSql>::audited_insert("INSERT INTO t (a) VALUES ($1)", 1),
            format!("WITH created AS (INSERT INTO t (a) VALUES ($1)) {}", audit_insert_sql(2))
        );
    }
}
