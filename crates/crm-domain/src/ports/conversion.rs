//! Lead conversion, written in one transaction.

use async_trait::async_trait;
use uuid::Uuid;

use crate::account::Account;
use crate::audit::AuditContext;
use crate::conversion::ConversionPlan;
use crate::error::RepoError;

#[async_trait]
pub trait ConversionRepository: Send + Sync {
    /// Writes a lead conversion in one transaction: the converted lead, the account and contact
    /// created or merged into, the opportunity and its first stage, the lead's activities moved
    /// onto them ([`ConversionPlan::moved_activity_links`]), and an audit event for each. Nothing
    /// is written when any part fails. Answers how many activities moved; the records they moved
    /// onto then show them as their last and next interaction (and a newer version).
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the lead or a merge target changed since it was read;
    /// [`RepoError::Duplicate`] on `email` when a new contact's email belongs to an active
    /// contact; [`RepoError::MissingReference`] on `owner_id`.
    async fn apply_conversion(&self, plan: &ConversionPlan, audit: &AuditContext) -> Result<u64, RepoError>;

    /// Active accounts whose name equals `name` ignoring case, at most 20: likely duplicates of a
    /// company about to become an account.
    async fn find_accounts_by_name(&self, organization_id: Uuid, name: &str) -> Result<Vec<Account>, RepoError>;
}
