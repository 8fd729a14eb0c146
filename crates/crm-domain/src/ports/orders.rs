//! Orders.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::list::Page;
use crate::order::{Order, OrderQuery};

/// Orders. Inserting an order gives it the next number of the organisation's order sequence in
/// the same transaction, whatever number it carried: concurrent inserts never share a number and
/// a number is never reused.
///
/// Reading and saving one order: [`RecordRepository<Order>`](super::RecordRepository); a save answers
/// [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// Numbers and stores an order of its own; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_order(&self, order: &Order, audit: &AuditContext) -> Result<Order, RepoError>;

    async fn list_orders(&self, organization_id: Uuid, query: &OrderQuery) -> Result<Page<Order>, RepoError>;
}
