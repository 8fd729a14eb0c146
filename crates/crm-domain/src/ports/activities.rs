//! Activities.

use async_trait::async_trait;
use uuid::Uuid;

use crate::activity::{Activity, ActivityQuery};
use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::list::Page;

/// Reading and saving one activity: [`RecordRepository<Activity>`](super::RecordRepository); a
/// save answers [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait ActivityRepository: Send + Sync {
    /// Stores a new activity with its create audit event. Its links are checked by the caller
    /// (active records of the organisation).
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the
    /// organisation.
    async fn insert_activity(&self, activity: &Activity, audit: &AuditContext) -> Result<(), RepoError>;

    async fn list_activities(&self, organization_id: Uuid, query: &ActivityQuery) -> Result<Page<Activity>, RepoError>;
}
