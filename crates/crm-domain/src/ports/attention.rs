//! The attention policy of each organisation, and who is overdue under it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::attention::{AttentionPolicy, AttentionReport, Recompute};
use crate::audit::{AuditContext, FieldChange};
use crate::error::RepoError;

#[async_trait]
pub trait AttentionRepository: Send + Sync {
    /// The organisation's policy (created with the organisation).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has none.
    async fn attention_policy(&self, organization_id: Uuid) -> Result<AttentionPolicy, RepoError>;

    /// Saves a changed policy over `expected_version` with its audit event and, in the same
    /// transaction, brings the stored due dates of the organisation's accounts and people buying
    /// for themselves up to date, as `recompute` says.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the policy changed since it was read.
    async fn save_attention_policy(
        &self,
        policy: &AttentionPolicy,
        expected_version: i64,
        changes: &[FieldChange],
        recompute: Recompute,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// The active accounts and people buying for themselves due for attention before `now`,
    /// counted by class and owner: one range of each attention index, grouped.
    async fn attention_report(&self, organization_id: Uuid, now: DateTime<Utc>) -> Result<AttentionReport, RepoError>;
}
