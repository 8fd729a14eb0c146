//! Quotes, and the acceptance that turns a quote into an order.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::list::Page;
use crate::order::Order;
use crate::quote::{Acceptance, Quote, QuoteQuery};

/// Quotes. Inserting a quote gives it the next number of the organisation's quote sequence in the
/// same transaction, whatever number it carried: concurrent inserts never share a number and a
/// number is never reused. The order that accepting a quote creates is numbered the same way,
/// from the order sequence.
///
/// Reading and saving one quote: [`RecordRepository<Quote>`](super::RecordRepository); a save answers
/// [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait QuoteRepository: Send + Sync {
    /// Numbers and stores a new quote with its audit event; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the organisation.
    async fn insert_quote(&self, quote: &Quote, audit: &AuditContext) -> Result<Quote, RepoError>;

    async fn list_quotes(&self, organization_id: Uuid, query: &QuoteQuery) -> Result<Page<Quote>, RepoError>;

    /// In one transaction: the accepted quote (if still at `quote_version`), the opportunity
    /// closed won (if still at `opportunity_version`) with its stage change, and the new order,
    /// numbered; answers the order as stored.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the quote or the opportunity changed since read.
    async fn accept_quote(
        &self,
        acceptance: &Acceptance,
        quote_version: i64,
        opportunity_version: i64,
        order: &Order,
        audit: &AuditContext,
    ) -> Result<Order, RepoError>;
}
