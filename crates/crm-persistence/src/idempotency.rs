use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::ports::{IdempotencyClaim, IdempotencyRepository, IdempotencyScope, StoredResponse};
use sqlx::types::Json;

use crate::backend::{PgStore, SqliteStore};
use crate::error::plain;

type ExistingRow = (String, Option<i64>, Option<Json<Vec<(String, String)>>>, Option<Vec<u8>>);

macro_rules! impl_idempotency {
    ($Store:ident) => {
        #[async_trait]
        impl IdempotencyRepository for $Store {
            async fn claim_idempotency_key(
                &self,
                scope: &IdempotencyScope,
                request_hash: &str,
                now: DateTime<Utc>,
                expired_before: DateTime<Utc>,
                abandoned_before: DateTime<Utc>,
            ) -> Result<IdempotencyClaim, RepoError> {
                let mut tx = self.begin_write().await?;
                // Insert, or take over a record that expired or was abandoned mid-request.
                let claimed: Option<(String,)> = sqlx::query_as(
                    "INSERT INTO idempotency_keys (organization_id, user_id, idempotency_key, request_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (organization_id, user_id, idempotency_key) DO UPDATE \
                     SET request_hash = excluded.request_hash, created_at = excluded.created_at, \
                         response_status = NULL, response_headers = NULL, response_body = NULL \
                     WHERE idempotency_keys.created_at < $6 \
                        OR (idempotency_keys.response_status IS NULL AND idempotency_keys.created_at < $7) \
                     RETURNING request_hash",
                )
                .bind(scope.organization_id)
                .bind(scope.user_id)
                .bind(scope.key.as_str())
                .bind(request_hash)
                .bind(now)
                .bind(expired_before)
                .bind(abandoned_before)
                .fetch_optional(tx.conn())
                .await
                .map_err(plain)?;
                if claimed.is_some() {
                    tx.commit().await?;
                    return Ok(IdempotencyClaim::Acquired);
                }
                let existing: ExistingRow = sqlx::query_as(
                    "SELECT request_hash, response_status, response_headers, response_body FROM idempotency_keys \
                     WHERE organization_id = $1 AND user_id = $2 AND idempotency_key = $3",
                )
                .bind(scope.organization_id)
                .bind(scope.user_id)
                .bind(scope.key.as_str())
                .fetch_one(tx.conn())
                .await
                .map_err(plain)?;
                tx.commit().await?;
                let (request_hash, status, headers, body) = existing;
                let response = match status {
                    Some(status) => Some(StoredResponse {
                        status: u16::try_from(status).map_err(|_| crate::error::corrupt("stored status"))?,
                        headers: headers.map(|h| h.0).unwrap_or_default(),
                        body: body.unwrap_or_default(),
                    }),
                    None => None,
                };
                Ok(IdempotencyClaim::Existing { request_hash, response })
            }

            async fn complete_idempotency_key(&self, scope: &IdempotencyScope, response: &StoredResponse) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE idempotency_keys SET response_status = $4, response_headers = $5, response_body = $6 \
                     WHERE organization_id = $1 AND user_id = $2 AND idempotency_key = $3",
                )
                .bind(scope.organization_id)
                .bind(scope.user_id)
                .bind(scope.key.as_str())
                .bind(i64::from(response.status))
                .bind(Json(&response.headers))
                .bind(&response.body)
                .execute(tx.conn())
                .await
                .map_err(plain)?;
                tx.commit().await
            }

            async fn release_idempotency_key(&self, scope: &IdempotencyScope) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "DELETE FROM idempotency_keys WHERE organization_id = $1 AND user_id = $2 AND idempotency_key = $3 \
                     AND response_status IS NULL",
                )
                .bind(scope.organization_id)
                .bind(scope.user_id)
                .bind(scope.key.as_str())
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
                tx.commit().await?;
                Ok(deleted)
            }
        }
    };
}

impl_idempotency!(SqliteStore);
impl_idempotency!(PgStore);
