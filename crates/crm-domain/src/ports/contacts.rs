//! Contacts.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::contact::{Contact, ContactQuery};
use crate::error::RepoError;
use crate::list::Page;
use crate::value::Email;

/// Reading and saving one contact: [`RecordRepository<Contact>`](super::RecordRepository); a save answers
/// [`RepoError::Duplicate`] on `email` (also when a restore would make two active
/// contacts share one), [`RepoError::MissingReference`] on `owner_id` or `account_id`.
#[async_trait]
pub trait ContactRepository: Send + Sync {
    /// Stores a new contact with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `email` when an active contact of the organisation has that
    /// email; [`RepoError::MissingReference`] on `owner_id` or `account_id`.
    async fn insert_contact(&self, contact: &Contact, audit: &AuditContext) -> Result<(), RepoError>;

    /// The active contact of the organisation with this email, if any.
    async fn find_active_contact_by_email(
        &self,
        organization_id: Uuid,
        email: &Email,
    ) -> Result<Option<Contact>, RepoError>;

    async fn list_contacts(&self, organization_id: Uuid, query: &ContactQuery) -> Result<Page<Contact>, RepoError>;
}
