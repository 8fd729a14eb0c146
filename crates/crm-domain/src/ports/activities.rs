//! Activities.

use async_trait::async_trait;
use uuid::Uuid;

use crate::activity::{Activity, ActivityQuery, Links, Reminder, ReminderQuery};
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

    /// How many activities a lead conversion would move onto `links` (its
    /// [`moved_activity_links`](crate::conversion::ConversionPlan::moved_activity_links)): what a
    /// dry run reports.
    async fn count_moved_activities(&self, organization_id: Uuid, links: &Links) -> Result<u64, RepoError>;

    async fn list_activities(&self, organization_id: Uuid, query: &ActivityQuery) -> Result<Page<Activity>, RepoError>;

    /// The owner's planned, active activities whose reminder (or, without one, due date) is at
    /// or before `until`, in [`crate::activity::reminder_order`], at most `limit`, each with the
    /// records it is about and their names. One range of the owner's alert index, however many
    /// activities the organisation holds.
    async fn reminders(&self, organization_id: Uuid, query: &ReminderQuery) -> Result<Vec<Reminder>, RepoError>;
}
