//! The organisations, one per tenant.

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::RepoError;
use crate::user::{Organization, User};

#[async_trait]
pub trait OrganizationRepository: Send + Sync {
    /// Creates an organisation and its first user in one transaction, with the user's audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `email` when any user already has that email: an email
    /// identifies a login across organisations.
    async fn create_organization(
        &self,
        organization: &Organization,
        admin: &User,
        password_hash: &str,
        request_id: &str,
    ) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when there is no such organisation.
    async fn get_organization(&self, organization_id: Uuid) -> Result<Organization, RepoError>;
}
