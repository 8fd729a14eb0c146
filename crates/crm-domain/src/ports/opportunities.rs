//! Opportunities, their stage history and their contacts.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditAction, AuditContext, FieldChange};
use crate::error::RepoError;
use crate::list::{Page, Window};
use crate::opportunity::{ContactRole, Opportunity, OpportunityQuery, StageChange, StageHistoryEntry};

/// Reading and saving one opportunity: [`RecordRepository<Opportunity>`](super::RecordRepository).
#[async_trait]
pub trait OpportunityRepository: Send + Sync {
    /// Stores a new opportunity, its first stage-history entry and its audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id`; the caller checks `account_id` and
    /// `contact_id` first.
    async fn insert_opportunity(
        &self,
        opportunity: &Opportunity,
        stage: &StageChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Stores `opportunity` when its stored version is `expected_version`, with the stage change
    /// (if any) appended to its history and an audit event, in one transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`]
    /// on `owner_id`.
    async fn update_opportunity(
        &self,
        opportunity: &Opportunity,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        stage: Option<&StageChange>,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_opportunities(
        &self,
        organization_id: Uuid,
        query: &OpportunityQuery,
    ) -> Result<Page<Opportunity>, RepoError>;

    /// One page of the opportunity's stage changes, oldest first (by `changed_at`, then id).
    /// An opportunity of another organisation has none.
    async fn stage_history(
        &self,
        organization_id: Uuid,
        opportunity_id: Uuid,
        window: &Window,
    ) -> Result<Page<StageHistoryEntry>, RepoError>;

    /// The contacts of an opportunity with their roles, primary first, then by when they were added.
    async fn contact_roles(&self, organization_id: Uuid, opportunity_id: Uuid) -> Result<Vec<ContactRole>, RepoError>;

    /// Sets a contact's role (adding the contact when it has none); a primary role makes every
    /// other contact of the deal not primary. Writes an audit event on the opportunity.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `contact_id`.
    async fn put_contact_role(
        &self,
        organization_id: Uuid,
        role: &ContactRole,
        change: &FieldChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Removes a contact from an opportunity, with an audit event.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the contact has no role in the opportunity.
    async fn delete_contact_role(
        &self,
        organization_id: Uuid,
        opportunity_id: Uuid,
        contact_id: Uuid,
        change: &FieldChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;
}
