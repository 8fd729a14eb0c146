//! Support tickets.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::list::Page;
use crate::ticket::{Ticket, TicketQuery};

/// Support tickets. Inserting a ticket gives it the next number of the organisation's ticket
/// sequence (`T-000001`) in the same transaction, whatever number it carried.
///
/// Reading and saving one ticket: [`RecordRepository<Ticket>`](super::RecordRepository); a save
/// answers [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait TicketRepository: Send + Sync {
    /// Numbers and stores a new ticket with the audit event of its creation; answers it as
    /// stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_ticket(&self, ticket: &Ticket, audit: &AuditContext) -> Result<Ticket, RepoError>;

    /// One page of the organisation's tickets; the dated states (a solved ticket closed by its
    /// window, the SLA status) are judged at `query.now` from stored instants.
    async fn list_tickets(&self, organization_id: Uuid, query: &TicketQuery) -> Result<Page<Ticket>, RepoError>;
}
