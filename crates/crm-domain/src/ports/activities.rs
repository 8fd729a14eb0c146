//! Activities.

use async_trait::async_trait;
use uuid::Uuid;

use crate::activity::{Activity, ActivityQuery, LinkTargets, Links, Reminder, ReminderQuery};
use crate::activity_report::{ActivityCounts, ActivityReportQuery, LeadResponse};
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

    /// Which of `links` name active records of the organisation, and the accounts of the contact
    /// and the deal they name, in one query (a link that is `None` reads as absent).
    async fn link_targets(&self, organization_id: Uuid, links: &Links) -> Result<LinkTargets, RepoError>;

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

/// The activity report's queries.
#[async_trait]
pub trait ActivityReportRepository: Send + Sync {
    /// The done, active activities that happened in the query's range, counted by `GROUP BY` in
    /// the database by its groupings, ordered by them.
    async fn activity_counts(
        &self,
        organization_id: Uuid,
        query: &ActivityReportQuery,
    ) -> Result<Vec<ActivityCounts>, RepoError>;

    /// The active leads created in the query's range (of its owners, when it names some), how
    /// many were reached, and the median wait before their first done activity: one counting
    /// query and one that reads the middle one or two waits, never the list.
    async fn lead_response(
        &self,
        organization_id: Uuid,
        query: &ActivityReportQuery,
    ) -> Result<LeadResponse, RepoError>;
}
