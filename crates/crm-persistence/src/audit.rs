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

/// Writes one audit event on the transaction's connection:
/// `write_audit!(tx.conn(), &AuditContext, action, "lead", entity_id, &changes, occurred_at)`.
macro_rules! write_audit {
    ($conn:expr, $ctx:expr, $action:expr, $entity_type:expr, $entity_id:expr, $changes:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO audit_events (organization_id, id, actor_id, action, entity_type, entity_id, changes, request_id, occurred_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($ctx.organization_id)
        .bind(uuid::Uuid::now_v7())
        .bind($ctx.actor_id)
        .bind($action.as_str())
        .bind($entity_type)
        .bind($entity_id)
        .bind($crate::rows::changes_to_json($changes))
        .bind($ctx.request_id.as_str())
        .bind($at)
        .execute($conn)
        .await
        .map_err($crate::error::plain)
    };
}
pub(crate) use write_audit;

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
