//! The audit trail.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditEvent, AuditFilter};
use crate::error::RepoError;
use crate::list::{Page, Window};

#[async_trait]
pub trait AuditRepository: Send + Sync {
    /// Events newest first.
    async fn list_audit_events(
        &self,
        organization_id: Uuid,
        filter: &AuditFilter,
        window: &Window,
    ) -> Result<Page<AuditEvent>, RepoError>;
}
