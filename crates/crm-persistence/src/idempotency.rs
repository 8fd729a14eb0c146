//! Idempotency keys: claims, their attempts and heartbeats, kept responses, and what a committed
//! attempt wrote (migration 0018 explains the fence).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::AuditAction;
use crm_domain::ports::{
    AttemptWrite, ClaimTimes, IdempotencyAttempt, IdempotencyClaim, IdempotencyRepository, IdempotencyScope,
    StoredResponse,
};
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{corrupt, plain};

type ExistingRow = (String, Option<Uuid>, bool, Option<i64>, Option<Json<Vec<(String, String)>>>, Option<Vec<u8>>);

/// Inserts the claim, or takes over a record that expired, or an unfinished claim whose write
/// did not commit and that is abandoned: too old, or held by a process whose heartbeat stopped.
/// A claim without a process (written before migration 0018) is only abandoned by age.
const CLAIM: &str = "INSERT INTO idempotency_keys \
     (organization_id, user_id, idempotency_key, request_hash, created_at, attempt_id, instance_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (organization_id, user_id, idempotency_key) DO UPDATE \
     SET request_hash = excluded.request_hash, created_at = excluded.created_at, \
         attempt_id = excluded.attempt_id, instance_id = excluded.instance_id, committed_at = NULL, \
         response_status = NULL, response_headers = NULL, response_body = NULL \
     WHERE idempotency_keys.created_at < $8 \
        OR (idempotency_keys.response_status IS NULL AND idempotency_keys.committed_at IS NULL \
            AND (idempotency_keys.created_at < $9 \
                 OR (idempotency_keys.instance_id IS NOT NULL AND NOT EXISTS ( \
                     SELECT 1 FROM server_instances s \
                     WHERE s.id = idempotency_keys.instance_id AND s.heartbeat_at >= $10)))) \
     RETURNING request_hash";

macro_rules! impl_idempotency {
    ($Store:ident) => {
        #[async_trait]
        impl IdempotencyRepository for $Store {
            async fn claim_idempotency_key(
                &self,
                scope: &IdempotencyScope,
                request_hash: &str,
                attempt: &IdempotencyAttempt,
                times: &ClaimTimes,
            ) -> Result<IdempotencyClaim, RepoError> {
                let mut tx = self.begin_write().await?;
                let claimed: Option<(String,)> = sqlx::query_as(CLAIM)
                    .bind(scope.organization_id)
                    .bind(scope.user_id)
                    .bind(scope.key.as_str())
                    .bind(request_hash)
                    .bind(times.now)
                    .bind(attempt.attempt_id)
                    .bind(attempt.instance_id)
                    .bind(times.expired_before)
                    .bind(times.abandoned_before)
                    .bind(times.silent_since)
                    .fetch_optional(tx.conn())
                    .await
                    .map_err(plain)?;
                if claimed.is_some() {
                    tx.commit().await?;
                    return Ok(IdempotencyClaim::Acquired);
                }
                let existing: ExistingRow = sqlx::query_as(
                    "SELECT request_hash, attempt_id, committed_at IS NOT NULL, response_status, response_headers, \
                     response_body FROM idempotency_keys \
                     WHERE organization_id = $1 AND user_id = $2 AND idempotency_key = $3",
                )
                .bind(scope.organization_id)
                .bind(scope.user_id)
                .bind(scope.key.as_str())
                .fetch_one(tx.conn())
                .await
                .map_err(plain)?;
                tx.commit().await?;
                let (request_hash, attempt_id, committed, status, headers, body) = existing;
                let response = match status {
                    Some(status) => Some(StoredResponse {
                        status: u16::try_from(status).map_err(|_| corrupt("stored status"))?,
                        headers: headers.map(|h| h.0).unwrap_or_default(),
                        body: body.unwrap_or_default(),
                    }),
                    None => None,
                };
                Ok(IdempotencyClaim::Existing { request_hash, attempt_id, committed, response })
            }

            async fn complete_idempotency_key(
                &self,
                scope: &IdempotencyScope,
                attempt_id: Uuid,
                response: &StoredResponse,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE idempotency_keys SET response_status = $5, response_headers = $6, response_body = $7 \
                     WHERE organization_id = $1 AND user_id = $2 AND idempotency_key = $3 AND attempt_id = $4",
                )
                .bind(scope.organization_id)
                .bind(scope.user_id)
                .bind(scope.key.as_str())
                .bind(attempt_id)
                .bind(i64::from(response.status))
                .bind(Json(&response.headers))
                .bind(&response.body)
                .execute(tx.conn())
                .await
                .map_err(plain)?;
                tx.commit().await
            }

            async fn release_idempotency_key(
                &self,
                scope: &IdempotencyScope,
                attempt_id: Uuid,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "DELETE FROM idempotency_keys WHERE organization_id = $1 AND user_id = $2 AND idempotency_key = $3 \
                     AND attempt_id = $4 AND response_status IS NULL AND committed_at IS NULL",
                )
                .bind(scope.organization_id)
                .bind(scope.user_id)
                .bind(scope.key.as_str())
                .bind(attempt_id)
                .execute(tx.conn())
                .await
                .map_err(plain)?;
                tx.commit().await
            }

            async fn attempt_outcome(
                &self,
                organization_id: Uuid,
                attempt_id: Uuid,
            ) -> Result<Vec<AttemptWrite>, RepoError> {
                let rows: Vec<(String, String, Uuid)> = sqlx::query_as(
                    "SELECT action, entity_type, entity_id FROM audit_events \
                     WHERE organization_id = $1 AND idempotency_attempt = $2 ORDER BY id",
                )
                .bind(organization_id)
                .bind(attempt_id)
                .fetch_all(&self.pool)
                .await
                .map_err(plain)?;
                rows.into_iter()
                    .map(|(action, entity_type, entity_id)| {
                        Ok(AttemptWrite {
                            action: AuditAction::parse("action", &action).map_err(|_| corrupt("audit action"))?,
                            entity_type,
                            entity_id,
                        })
                    })
                    .collect()
            }

            async fn beat(&self, instance_id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO server_instances (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
                     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                )
                .bind(instance_id)
                .bind(now)
                .execute(tx.conn())
                .await
                .map_err(plain)?;
                tx.commit().await
            }

            async fn retire_instance(&self, instance_id: Uuid) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM server_instances WHERE id = $1")
                    .bind(instance_id)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                tx.commit().await
            }

            async fn purge_idempotency_keys(&self, expired_before: DateTime<Utc>) -> Result<u64, RepoError> {
                let mut tx = self.begin_write().await?;
                let deleted = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                    .bind(expired_before)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?
                    .rows_affected();
                sqlx::query("DELETE FROM server_instances WHERE heartbeat_at < $1")
                    .bind(expired_before)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                tx.commit().await?;
                Ok(deleted)
            }
        }
    };
}

impl_idempotency!(SqliteStore);
impl_idempotency!(PgStore);
