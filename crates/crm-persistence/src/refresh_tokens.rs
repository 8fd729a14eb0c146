use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::ports::{NewRefreshToken, RefreshRotation, RefreshTokenRepository};
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::plain;

macro_rules! insert_token {
    ($conn:expr, $t:expr) => {
        sqlx::query(
            "INSERT INTO refresh_tokens (organization_id, id, user_id, family_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($t.organization_id)
        .bind($t.id)
        .bind($t.user_id)
        .bind($t.family_id)
        .bind($t.token_hash.as_str())
        .bind($t.created_at)
        .bind($t.expires_at)
        .execute($conn)
        .await
        .map_err(plain)
    };
}

macro_rules! impl_refresh_tokens {
    ($Store:ident) => {
        #[async_trait]
        impl RefreshTokenRepository for $Store {
            async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                insert_token!(tx.conn(), token)?;
                tx.commit().await
            }

            async fn rotate_refresh_token(
                &self,
                organization_id: Uuid,
                presented_hash: &str,
                next_id: Uuid,
                next_hash: &str,
                now: DateTime<Utc>,
                next_expires_at: DateTime<Utc>,
            ) -> Result<RefreshRotation, RepoError> {
                let mut tx = self.begin_write().await?;
                let spent: Option<(Uuid, Uuid)> = sqlx::query_as(
                    "UPDATE refresh_tokens SET revoked_at = $3 \
                     WHERE organization_id = $1 AND token_hash = $2 AND revoked_at IS NULL AND expires_at > $3 \
                     RETURNING user_id, family_id",
                )
                .bind(organization_id)
                .bind(presented_hash)
                .bind(now)
                .fetch_optional(tx.conn())
                .await
                .map_err(plain)?;
                if let Some((user_id, family_id)) = spent {
                    let next = NewRefreshToken {
                        id: next_id,
                        organization_id,
                        user_id,
                        family_id,
                        token_hash: next_hash.to_owned(),
                        created_at: now,
                        expires_at: next_expires_at,
                    };
                    insert_token!(tx.conn(), next)?;
                    tx.commit().await?;
                    return Ok(RefreshRotation::Rotated { organization_id, user_id });
                }
                let known: Option<(Uuid, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "SELECT family_id, revoked_at FROM refresh_tokens WHERE organization_id = $1 AND token_hash = $2",
                )
                .bind(organization_id)
                .bind(presented_hash)
                .fetch_optional(tx.conn())
                .await
                .map_err(plain)?;
                let outcome = match known {
                    Some((family_id, Some(_))) => {
                        sqlx::query(
                            "UPDATE refresh_tokens SET revoked_at = $3 WHERE organization_id = $1 AND family_id = $2 AND revoked_at IS NULL",
                        )
                        .bind(organization_id)
                        .bind(family_id)
                        .bind(now)
                        .execute(tx.conn())
                        .await
                        .map_err(plain)?;
                        RefreshRotation::Reused
                    }
                    _ => RefreshRotation::Invalid,
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn revoke_refresh_family(&self, organization_id: Uuid, user_id: Uuid, presented_hash: &str, now: DateTime<Utc>) -> Result<bool, RepoError> {
                let mut tx = self.begin_write().await?;
                let family: Option<(Uuid,)> = sqlx::query_as(
                    "SELECT family_id FROM refresh_tokens WHERE organization_id = $1 AND user_id = $2 AND token_hash = $3",
                )
                .bind(organization_id)
                .bind(user_id)
                .bind(presented_hash)
                .fetch_optional(tx.conn())
                .await
                .map_err(plain)?;
                let Some((family_id,)) = family else { return Ok(false) };
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $3 WHERE organization_id = $1 AND family_id = $2 AND revoked_at IS NULL")
                    .bind(organization_id)
                    .bind(family_id)
                    .bind(now)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                tx.commit().await?;
                Ok(true)
            }

            async fn revoke_user_refresh_tokens(&self, organization_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $3 WHERE organization_id = $1 AND user_id = $2 AND revoked_at IS NULL")
                    .bind(organization_id)
                    .bind(user_id)
                    .bind(now)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                tx.commit().await
            }
        }
    };
}

impl_refresh_tokens!(SqliteStore);
impl_refresh_tokens!(PgStore);
