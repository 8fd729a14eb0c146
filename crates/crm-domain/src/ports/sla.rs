//! The SLA policy of each organisation.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditContext, FieldChange};
use crate::error::RepoError;
use crate::sla_settings::SlaSettings;

#[async_trait]
pub trait SlaRepository: Send + Sync {
    /// The organisation's policy (created with the organisation).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has none.
    async fn sla_settings(&self, organization_id: Uuid) -> Result<SlaSettings, RepoError>;

    /// Saves a changed policy over `expected_version`, with its audit event.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the policy changed since it was read.
    async fn save_sla_settings(
        &self,
        settings: &SlaSettings,
        expected_version: i64,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;
}
