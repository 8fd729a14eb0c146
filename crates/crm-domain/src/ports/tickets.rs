//! Support tickets.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditContext, FieldChange};
use crate::error::RepoError;
use crate::list::{Page, Window};
use crate::opportunity::{Opportunity, StageChange};
use crate::sla_settings::SlaSettings;
use crate::ticket::{CommentVisibility, Ticket, TicketComment, TicketQuery};
use crate::ticket_report::{TicketReportData, TicketReportQuery};
use crate::timeline::About;

/// The records a new or changed ticket names, to check before it is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketLinks {
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
}

/// Which of the named records the organisation has (archived ones included): for the contact,
/// its account (`Some(None)`: a contact without an account).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketTargets {
    pub contact: Option<Option<Uuid>>,
    pub account: bool,
    pub opportunity: bool,
    pub order: bool,
    pub product: bool,
}

/// A change of a ticket written with another write: the ticket as changed, the version it was
/// read at, and the changes of its audit event.
pub type TicketChange<'a> = (&'a Ticket, i64, &'a [FieldChange]);

/// Support tickets. Inserting a ticket gives it the next number of the organisation's ticket
/// sequence (`T-000001`) in the same transaction, whatever number it carried.
///
/// Reading and saving one ticket: [`RecordRepository<Ticket>`](super::RecordRepository); a save
/// answers [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait TicketRepository: Send + Sync {
    /// The records `links` names as the organisation has them, and its SLA policy, in one read:
    /// what opening or changing a ticket needs before the domain builds it.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no SLA policy.
    async fn ticket_targets(
        &self,
        organization_id: Uuid,
        links: &TicketLinks,
    ) -> Result<(TicketTargets, SlaSettings), RepoError>;

    /// Numbers and stores a new ticket with the audit event of its creation; answers it as
    /// stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_ticket(&self, ticket: &Ticket, audit: &AuditContext) -> Result<Ticket, RepoError>;

    /// One page of the organisation's tickets; the dated states (a solved ticket closed by its
    /// window, the SLA status) are judged at `query.now` from stored instants.
    async fn list_tickets(&self, organization_id: Uuid, query: &TicketQuery) -> Result<Page<Ticket>, RepoError>;

    /// Stores a deal handed to sales from a ticket (with its first stage and its creation's
    /// audit event) and the ticket that now lists it (under its version, with its audit event),
    /// in one transaction.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the ticket changed since it was read;
    /// [`RepoError::MissingReference`] on `owner_id`.
    async fn hand_to_sales(
        &self,
        ticket: TicketChange<'_>,
        opportunity: &Opportunity,
        stage: &StageChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Stores a comment with the audit event of its creation (about the ticket's customers,
    /// `about`) and, when the comment changed the ticket, the ticket under its version check
    /// with its own audit event, in one transaction.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the ticket changed since it was read.
    async fn add_ticket_comment(
        &self,
        comment: &TicketComment,
        ticket: Option<TicketChange<'_>>,
        about: About,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// One page of a ticket's comments, oldest first; `visibility` keeps one kind only.
    async fn list_ticket_comments(
        &self,
        organization_id: Uuid,
        ticket_id: Uuid,
        visibility: Option<CommentVisibility>,
        window: &Window,
    ) -> Result<Page<TicketComment>, RepoError>;

    /// One comment of a ticket.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the ticket has no such comment.
    async fn ticket_comment(
        &self,
        organization_id: Uuid,
        ticket_id: Uuid,
        comment_id: Uuid,
    ) -> Result<TicketComment, RepoError>;

    /// Writes a redacted comment (its body gone) with its audit event, unless it was redacted
    /// meanwhile.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when another redaction got there first.
    async fn redact_ticket_comment(
        &self,
        comment: &TicketComment,
        changes: &[FieldChange],
        about: About,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;
}

/// The tickets report's counts.
#[async_trait]
pub trait TicketReportRepository: Send + Sync {
    /// Counts the organisation's unarchived tickets (and the deals handed to sales) for the
    /// report: the backlog as it stands, the rest by the events in the query's range.
    async fn ticket_report(
        &self,
        organization_id: Uuid,
        query: &TicketReportQuery,
    ) -> Result<TicketReportData, RepoError>;
}
