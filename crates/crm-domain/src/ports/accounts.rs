//! Accounts.

use async_trait::async_trait;
use uuid::Uuid;

use crate::account::{Account, AccountQuery};
use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::list::Page;

/// Reading and saving one account: [`RecordRepository<Account>`](super::RecordRepository); a save answers
/// [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// Stores a new account with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the
    /// organisation. The caller checks `parent_account_id` first with [`Self::account_lineage`].
    async fn insert_account(&self, account: &Account, audit: &AuditContext) -> Result<(), RepoError>;

    async fn list_accounts(&self, organization_id: Uuid, query: &AccountQuery) -> Result<Page<Account>, RepoError>;

    /// The account and the chain of its parents, nearest first, at most 100 deep.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such account.
    async fn account_lineage(&self, organization_id: Uuid, account_id: Uuid) -> Result<Vec<Uuid>, RepoError>;
}
