//! Leads.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::lead::{Lead, LeadQuery};
use crate::list::Page;

/// Reading and saving one lead: [`RecordRepository<Lead>`](super::RecordRepository); a save answers
/// [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait LeadRepository: Send + Sync {
    /// Stores a new lead with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the organisation.
    async fn insert_lead(&self, lead: &Lead, audit: &AuditContext) -> Result<(), RepoError>;

    async fn list_leads(&self, organization_id: Uuid, query: &LeadQuery) -> Result<Page<Lead>, RepoError>;

    /// One bounded step of upkeep of the lead search index, for every organisation at once (it is
    /// one index). Returns whether there was work to do; the caller repeats until there is none.
    /// A no-op where the database keeps its indexes itself.
    async fn tidy_lead_search(&self) -> Result<bool, RepoError>;
}
