//! Contacts.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditAction, AuditContext, FieldChange};
use crate::contact::{Contact, ContactQuery};
use crate::error::RepoError;
use crate::list::Page;
use crate::value::Email;

#[async_trait]
pub trait ContactRepository: Send + Sync {
    /// Stores a new contact with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `email` when an active contact of the organisation has that
    /// email; [`RepoError::MissingReference`] on `owner_id` or `account_id`.
    async fn insert_contact(&self, contact: &Contact, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such contact (archived ones are found).
    async fn get_contact(&self, organization_id: Uuid, contact_id: Uuid) -> Result<Contact, RepoError>;

    /// The active contact of the organisation with this email, if any.
    async fn find_active_contact_by_email(
        &self,
        organization_id: Uuid,
        email: &Email,
    ) -> Result<Option<Contact>, RepoError>;

    /// Stores `contact` (already changed by the domain) when its stored version is
    /// `expected_version`, with an audit event of `action` listing `changes`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::Duplicate`] on
    /// `email` (also when a restore would make two active contacts share one);
    /// [`RepoError::MissingReference`] on `owner_id` or `account_id`.
    async fn update_contact(
        &self,
        contact: &Contact,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_contacts(&self, organization_id: Uuid, query: &ContactQuery) -> Result<Page<Contact>, RepoError>;
}
