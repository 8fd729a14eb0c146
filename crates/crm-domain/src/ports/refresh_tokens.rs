//! Refresh tokens, kept as hashes and rotated on use.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::RepoError;

/// A refresh token as stored: only its SHA-256 hash, never the token itself.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    /// All tokens rotated from one login share a family; reuse of a rotated token revokes it.
    pub family_id: Uuid,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The token was live; it is now spent and the new one is stored in its family.
    Rotated { organization_id: Uuid, user_id: Uuid },
    /// The token had already been rotated or revoked: its whole family is now revoked.
    Reused,
    /// No such token, or it expired.
    Invalid,
}

#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<(), RepoError>;

    /// Atomically spends the organisation's token hashed as `presented_hash` and stores
    /// `next_hash` in its family (same user, organisation, family) with `next_id` and
    /// `next_expires_at`.
    async fn rotate_refresh_token(
        &self,
        organization_id: Uuid,
        presented_hash: &str,
        next_id: Uuid,
        next_hash: &str,
        now: DateTime<Utc>,
        next_expires_at: DateTime<Utc>,
    ) -> Result<RefreshRotation, RepoError>;

    /// Revokes the family of the user's token hashed as `presented_hash`; `false` when the user
    /// has no such token.
    async fn revoke_refresh_family(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        presented_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Revokes every refresh token of the user.
    async fn revoke_user_refresh_tokens(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
}
