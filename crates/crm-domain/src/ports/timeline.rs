//! Timelines.

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::RepoError;
use crate::list::{Page, Window};
use crate::timeline::{TimelineFilter, TimelineItem, TimelineSubject};

#[async_trait]
pub trait TimelineRepository: Send + Sync {
    /// One page of a customer's timeline, newest first by time then id, after the window's
    /// cursor: its active activities (linked, and for a contact those it took part in) and the
    /// audit events about it (for a contact or an account, those of the leads converted into it
    /// too), with [`crate::timeline::merge`]. Each source is one index range read no further
    /// than the page, so a page costs the same for a customer with fifty items and one with a
    /// hundred thousand. The subject is not checked: the caller has loaded it.
    async fn timeline(
        &self,
        organization_id: Uuid,
        subject: TimelineSubject,
        filter: &TimelineFilter,
        window: &Window,
    ) -> Result<Page<TimelineItem>, RepoError>;
}
