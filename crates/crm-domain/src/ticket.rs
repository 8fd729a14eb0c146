//! Support tickets: a customer's question, incident, problem, complaint or feature request,
//! handled in a time-bound way. A ticket moves through its statuses by actions (start, wait,
//! hold, resume, solve, reopen, close), and carries the deadlines of the organisation's SLA
//! policy ([`crate::sla`]) as stored instants, so that "which tickets are at risk" is a range
//! of an index on those instants, never business-hours arithmetic at read time.
//!
//! Two states are given by the date rather than stored, like a quote's expiry: a solved ticket
//! is closed once its reopen window has passed ([`Ticket::status_on`]), and its SLA status moves
//! from on track to at risk to breached as the instants pass ([`Ticket::sla_status_on`]). Both
//! belong in the ticket's ETag.
//!
//! The SLA clocks:
//! - the first response is due `first_response` after the ticket was opened; it is met by the
//!   first public comment of a member of staff, or by solving the ticket without one;
//! - the resolution is due `resolution` after the ticket was opened, or after it was last
//!   reopened (the clock restarts); while the ticket waits on the customer (pending) that clock
//!   stops, and when it starts again the deadline moves by the time spent waiting, measured on
//!   the target's clock ([`crate::sla::push_for_pause`]). A ticket on hold (waiting on a third
//!   party) keeps its clock running;
//! - each target is at risk once 80 % of its allowed time is spent
//!   ([`crate::sla::at_risk_instant`]);
//! - a priority change recomputes the deadlines with the policy's current targets, from the
//!   same starting instants and with the same time spent waiting. Changing the policy itself
//!   leaves existing tickets' deadlines as they are.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::address::Tags;
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::lead::ArchivedFilter;
use crate::list::{KeysetPosition, Sort, SortField, SortKind, SortValue, Window};
use crate::quote::DocumentNumber;
use crate::record::{Changes, rfc3339};
use crate::sla::{self, SlaClock, SlaError, SlaPolicy, SlaPriority, SlaTarget};
use crate::string_enum;
use crate::value::{CustomFields, LongText, Name};

string_enum!(
    /// What a ticket is about; a complaint is a ticket of category `complaint`.
    TicketCategory {
        Question => "question",
        Incident => "incident",
        Problem => "problem",
        Complaint => "complaint",
        FeatureRequest => "feature_request",
    }
);

/// A ticket's priority picks its SLA targets.
pub type TicketPriority = SlaPriority;

string_enum!(
    /// Where a ticket stands. `closed` is terminal; a `solved` ticket is closed by itself once
    /// the reopen window has passed.
    TicketStatus {
        New => "new",
        Open => "open",
        Pending => "pending",
        OnHold => "on_hold",
        Solved => "solved",
        Closed => "closed",
    }
);

string_enum!(
    /// How the request reached support.
    TicketChannel {
        Email => "email",
        Phone => "phone",
        Web => "web",
        Chat => "chat",
        InPerson => "in_person",
    }
);

string_enum!(
    /// The moves of a ticket: start (new → open), wait (open → pending: waiting on the customer),
    /// hold (open → on_hold: waiting on a third party), resume (pending or on_hold → open), solve
    /// (new, open, pending or on_hold → solved), reopen (solved → open, within the reopen
    /// window), close (solved → closed).
    TicketAction {
        Start => "start",
        Wait => "wait",
        Hold => "hold",
        Resume => "resume",
        Solve => "solve",
        Reopen => "reopen",
        Close => "close",
    }
);

string_enum!(
    /// Where a ticket stands against its deadlines: `on_track`; `at_risk` once 80 % of the time
    /// allowed for an open target is spent; `breached` when a deadline passed before its event
    /// (for good: a late first response stays a breach); `met` once solved with both met.
    SlaStatus {
        OnTrack => "on_track",
        AtRisk => "at_risk",
        Breached => "breached",
        Met => "met",
    }
);

string_enum!(
    /// Who may read a comment: `public` (the customer too) or `internal` (staff only).
    CommentVisibility {
        Public => "public",
        Internal => "internal",
    }
);

/// Who wrote a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAuthor {
    /// A member of staff.
    User(Uuid),
    /// The customer, as brought in by an integration.
    Contact(Uuid),
}

/// Why a ticket change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketRuleError {
    /// The action does not start from the ticket's status; `allowed` are the ones that do.
    #[error("the ticket cannot take this step from its current status")]
    InvalidTransition {
        /// The status the ticket is in (as it stands on the day).
        status: TicketStatus,
        /// The actions its status allows, in the order of [`TicketAction::ALL`].
        allowed: Vec<TicketAction>,
    },
    /// A reopen after the reopen window.
    #[error("the ticket was solved longer ago than the reopen window allows")]
    ReopenWindowPassed,
    /// Any change of a closed ticket except an internal comment.
    #[error("a closed ticket takes no change except an internal comment")]
    Closed,
    /// A ticket with neither a contact nor an account.
    #[error("a ticket needs a contact_id, an account_id, or both")]
    RequesterRequired,
    /// A customer's comment marked internal.
    #[error("a customer's comment is public")]
    CustomerCommentInternal,
    /// A ticket that already handed [`MAX_TICKET_OPPORTUNITIES`] deals to sales.
    #[error("the ticket already has 50 opportunities")]
    TooManyOpportunities,
    /// A redaction of a comment already redacted.
    #[error("the comment is already redacted")]
    CommentRedacted,
    /// The deadlines could not be computed (a calendar without business time for ten years).
    #[error("the SLA deadlines cannot be computed: {0}")]
    Sla(SlaError),
}

impl TicketRuleError {
    /// The stable machine code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            TicketRuleError::InvalidTransition { .. } => "invalid_transition",
            TicketRuleError::ReopenWindowPassed => "reopen_window_passed",
            TicketRuleError::Closed => "ticket_closed",
            TicketRuleError::RequesterRequired => "requester_required",
            TicketRuleError::CustomerCommentInternal => "customer_comment_public",
            TicketRuleError::CommentRedacted => "comment_redacted",
            TicketRuleError::TooManyOpportunities => "too_many_opportunities",
            TicketRuleError::Sla(e) => e.code(),
        }
    }
}

impl From<SlaError> for TicketRuleError {
    fn from(e: SlaError) -> Self {
        TicketRuleError::Sla(e)
    }
}

/// The actions `status` allows.
pub fn allowed_actions(status: TicketStatus) -> Vec<TicketAction> {
    TicketAction::ALL.iter().copied().filter(|a| target_of(*a, status).is_some()).collect()
}

/// Where `action` takes a ticket in `status`, when it may.
fn target_of(action: TicketAction, status: TicketStatus) -> Option<TicketStatus> {
    use TicketStatus::*;
    match (action, status) {
        (TicketAction::Start, New) => Some(Open),
        (TicketAction::Wait, Open) => Some(Pending),
        (TicketAction::Hold, Open) => Some(OnHold),
        (TicketAction::Resume, Pending | OnHold) => Some(Open),
        (TicketAction::Solve, New | Open | Pending | OnHold) => Some(Solved),
        (TicketAction::Reopen, Solved) => Some(Open),
        (TicketAction::Close, Solved) => Some(Closed),
        _ => None,
    }
}

/// A ticket's SLA as stored: the deadlines and at-risk instants of both targets, the instants
/// the clocks run from, the time spent waiting on the customer, and whether a target was
/// missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSla {
    /// When the first response is due.
    pub first_response_due_at: DateTime<Utc>,
    /// When 80 % of the time allowed for the first response is spent.
    pub first_response_at_risk_at: DateTime<Utc>,
    /// When the resolution is due.
    pub resolution_due_at: DateTime<Utc>,
    /// When 80 % of the time allowed for the resolution is spent.
    pub resolution_at_risk_at: DateTime<Utc>,
    /// When the resolution clock started: the ticket's opening or its last reopening.
    pub resolution_started_at: DateTime<Utc>,
    /// Business seconds spent waiting on the customer since the resolution clock started.
    pub paused_business_seconds: i64,
    /// Elapsed seconds spent waiting on the customer since the resolution clock started.
    pub paused_calendar_seconds: i64,
    /// Since when the ticket waits on the customer, while it does.
    pub paused_at: Option<DateTime<Utc>>,
    /// Whether the first response came after its deadline.
    pub first_response_missed: bool,
    /// Whether the ticket was solved after its resolution deadline (since the last reopening).
    pub resolution_missed: bool,
    /// The business time (on the policy's calendar of the day) from the opening to the first
    /// response, once given.
    pub first_response_business_seconds: Option<i64>,
    /// The business time the resolution clock ran (from the opening or the last reopening to
    /// the solve, less the time waiting on the customer), once solved.
    pub resolution_business_seconds: Option<i64>,
}

/// The deadline and at-risk instant of `target` started at `start`, after `paused` on each clock.
fn schedule(
    policy: &SlaPolicy,
    target: SlaTarget,
    start: DateTime<Utc>,
    paused_business: Duration,
    paused_calendar: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>), SlaError> {
    let due = sla::deadline(&policy.calendar, target, start)?;
    let paused = match target.clock {
        SlaClock::Business => paused_business,
        SlaClock::Calendar => paused_calendar,
    };
    let due =
        if paused > Duration::zero() { sla::add_on_clock(&policy.calendar, target.clock, due, paused)? } else { due };
    let at_risk = sla::at_risk_instant(&policy.calendar, target, start, due)?;
    Ok((due, at_risk))
}

impl TicketSla {
    /// The SLA of a ticket of `priority` opened at `opened_at`.
    ///
    /// # Errors
    /// Those of [`sla::deadline`].
    pub fn start(policy: &SlaPolicy, priority: TicketPriority, opened_at: DateTime<Utc>) -> Result<Self, SlaError> {
        let targets = policy.targets(priority);
        let zero = Duration::zero();
        let (first_due, first_risk) = schedule(policy, targets.first_response, opened_at, zero, zero)?;
        let (resolution_due, resolution_risk) = schedule(policy, targets.resolution, opened_at, zero, zero)?;
        Ok(Self {
            first_response_due_at: first_due,
            first_response_at_risk_at: first_risk,
            resolution_due_at: resolution_due,
            resolution_at_risk_at: resolution_risk,
            resolution_started_at: opened_at,
            paused_business_seconds: 0,
            paused_calendar_seconds: 0,
            paused_at: None,
            first_response_missed: false,
            resolution_missed: false,
            first_response_business_seconds: None,
            resolution_business_seconds: None,
        })
    }

    /// The resolution's deadline and at-risk instant under `priority`'s target again, from the
    /// clock's start and the time spent waiting.
    fn reschedule_resolution(&mut self, policy: &SlaPolicy, priority: TicketPriority) -> Result<(), SlaError> {
        let (due, risk) = schedule(
            policy,
            policy.targets(priority).resolution,
            self.resolution_started_at,
            Duration::seconds(self.paused_business_seconds),
            Duration::seconds(self.paused_calendar_seconds),
        )?;
        self.resolution_due_at = due;
        self.resolution_at_risk_at = risk;
        Ok(())
    }

    /// Stops the resolution clock at `now` (waiting on the customer).
    fn pause(&mut self, now: DateTime<Utc>) {
        if self.paused_at.is_none() {
            self.paused_at = Some(now);
        }
    }

    /// Starts the resolution clock again at `now`: the time spent waiting, on both clocks, moves
    /// the resolution's deadline.
    fn unpause(&mut self, policy: &SlaPolicy, priority: TicketPriority, now: DateTime<Utc>) -> Result<(), SlaError> {
        if let Some(since) = self.paused_at.take() {
            let business = sla::business_time_between(&policy.calendar, since, now);
            let calendar = (now - since).max(Duration::zero());
            self.paused_business_seconds = self.paused_business_seconds.saturating_add(business.num_seconds());
            self.paused_calendar_seconds = self.paused_calendar_seconds.saturating_add(calendar.num_seconds());
            self.reschedule_resolution(policy, priority)?;
        }
        Ok(())
    }
}

/// The stored instants that give a ticket's SLA status at any instant, so that the list filter
/// is a range of an index: at risk from `risk_at`, breached after `breach_at`, breached for good
/// when a target was `missed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaMarks {
    pub risk_at: Option<DateTime<Utc>>,
    pub breach_at: Option<DateTime<Utc>>,
    pub missed: bool,
}

impl SlaMarks {
    /// From when the ticket is at risk or breached (`None`: not before something happens to
    /// it): the at-risk instant, or for a missed target the ticket's opening (`opened_at`).
    pub fn alert_at(self, opened_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.missed { Some(opened_at) } else { self.risk_at.or(self.breach_at) }
    }

    /// The status at `now` of a ticket whose resolution is in (`resolved`) or not.
    pub fn status_on(self, now: DateTime<Utc>, resolved: bool) -> SlaStatus {
        if self.missed || self.breach_at.is_some_and(|at| at < now) {
            SlaStatus::Breached
        } else if self.risk_at.is_some_and(|at| at <= now) {
            SlaStatus::AtRisk
        } else if resolved {
            SlaStatus::Met
        } else {
            SlaStatus::OnTrack
        }
    }
}

string_enum!(
    /// The fields a list of tickets sorts by.
    TicketSortField {
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
        Number => "number",
        FirstResponseDueAt => "first_response_due_at",
        ResolutionDueAt => "resolution_due_at",
    }
);

impl SortField for TicketSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        TicketSortField::parse("sort", name)
    }
    fn kind(self) -> SortKind {
        match self {
            TicketSortField::Number => SortKind::Integer,
            _ => SortKind::Timestamp,
        }
    }
}

/// A list of tickets: each filter narrows it; empty lists do not filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketQuery {
    /// Statuses as they stand at `now` (a solved ticket past its window is `closed`).
    pub statuses: Vec<TicketStatus>,
    pub priorities: Vec<TicketPriority>,
    pub categories: Vec<TicketCategory>,
    pub sla_statuses: Vec<SlaStatus>,
    pub owner_id: Option<Uuid>,
    /// Only the tickets nobody owns.
    pub unassigned: bool,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    /// Tickets whose first response is due strictly before this instant and not yet given.
    pub first_response_due_before: Option<DateTime<Utc>>,
    /// Tickets whose resolution is due strictly before this instant and not yet in.
    pub resolution_due_before: Option<DateTime<Utc>>,
    /// The instant the dated states are judged at.
    pub now: DateTime<Utc>,
    pub archived: ArchivedFilter,
    pub sort: Sort<TicketSortField>,
    pub window: Window,
}

/// A support ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// `T-000001`, from the organisation's counter of tickets, never reused.
    pub number: DocumentNumber,
    pub subject: Name,
    pub description: Option<LongText>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    /// The stored status: never `closed` by the passing of the reopen window (see
    /// [`Ticket::status_on`]).
    pub status: TicketStatus,
    pub channel: TicketChannel,
    /// The agent; a ticket may be unassigned.
    pub owner_id: Option<Uuid>,
    pub tags: Tags,
    pub custom_fields: CustomFields,
    /// Why the ticket waits on the customer, while it does.
    pub pending_reason: Option<LongText>,
    /// How it was solved, once it was.
    pub resolution: Option<LongText>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    /// When a solved ticket closes by itself: `solved_at` plus the reopen window of the day it
    /// was solved.
    pub closes_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reopened_count: i64,
    /// The deals support handed to sales from this ticket (up-sells and cross-sells), oldest
    /// first; at most [`MAX_TICKET_OPPORTUNITIES`].
    pub opportunity_ids: Vec<Uuid>,
    pub sla: TicketSla,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
}

crate::record::impl_record!(Ticket);

/// How many deals one ticket may hand to sales.
pub const MAX_TICKET_OPPORTUNITIES: usize = 50;

/// A new ticket as the API took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDraft {
    pub subject: Name,
    pub description: Option<LongText>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    pub channel: TicketChannel,
    pub owner_id: Option<Uuid>,
    pub tags: Tags,
    pub custom_fields: CustomFields,
}

/// A change of a ticket's fields; what is `None` keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketPatch {
    pub subject: Option<Name>,
    pub description: Option<Option<LongText>>,
    pub contact_id: Option<Option<Uuid>>,
    pub account_id: Option<Option<Uuid>>,
    pub opportunity_id: Option<Option<Uuid>>,
    pub order_id: Option<Option<Uuid>>,
    pub product_id: Option<Option<Uuid>>,
    pub category: Option<TicketCategory>,
    pub priority: Option<TicketPriority>,
    pub channel: Option<TicketChannel>,
    pub owner_id: Option<Option<Uuid>>,
    pub tags: Option<Tags>,
    pub custom_fields: Option<CustomFields>,
}

fn at_audit(v: &Option<DateTime<Utc>>) -> AuditValue {
    v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
}

fn id_audit(v: &Option<Uuid>) -> AuditValue {
    v.map_or(AuditValue::Null, |id| AuditValue::Text(id.to_string()))
}

fn text_audit(v: &Option<LongText>) -> AuditValue {
    AuditValue::optional(v.as_ref())
}

impl Ticket {
    /// A new ticket, `new`, with its deadlines from `policy`.
    ///
    /// # Errors
    /// [`TicketRuleError::RequesterRequired`] without a contact or an account;
    /// [`TicketRuleError::Sla`] when the deadlines cannot be computed.
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        number: DocumentNumber,
        actor_id: Uuid,
        draft: TicketDraft,
        policy: &SlaPolicy,
        now: DateTime<Utc>,
    ) -> Result<Ticket, TicketRuleError> {
        if draft.contact_id.is_none() && draft.account_id.is_none() {
            return Err(TicketRuleError::RequesterRequired);
        }
        let sla = TicketSla::start(policy, draft.priority, now)?;
        Ok(Ticket {
            id,
            organization_id,
            number,
            subject: draft.subject,
            description: draft.description,
            contact_id: draft.contact_id,
            account_id: draft.account_id,
            opportunity_id: draft.opportunity_id,
            order_id: draft.order_id,
            product_id: draft.product_id,
            category: draft.category,
            priority: draft.priority,
            status: TicketStatus::New,
            channel: draft.channel,
            owner_id: draft.owner_id,
            tags: draft.tags,
            custom_fields: draft.custom_fields,
            pending_reason: None,
            resolution: None,
            first_responded_at: None,
            solved_at: None,
            closes_at: None,
            closed_at: None,
            reopened_count: 0,
            opportunity_ids: Vec::new(),
            sla,
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
        })
    }

    /// The fields of a creation's audit event.
    pub fn creation_changes(&self) -> Vec<FieldChange> {
        vec![
            FieldChange::new("number", AuditValue::Null, AuditValue::text(&self.number.number)),
            FieldChange::new("subject", AuditValue::Null, AuditValue::text(self.subject.as_str())),
            FieldChange::new("category", AuditValue::Null, AuditValue::text(self.category.as_str())),
            FieldChange::new("priority", AuditValue::Null, AuditValue::text(self.priority.as_str())),
            FieldChange::new("status", AuditValue::Null, AuditValue::text(self.status.as_str())),
            FieldChange::new("contact_id", AuditValue::Null, id_audit(&self.contact_id)),
            FieldChange::new("account_id", AuditValue::Null, id_audit(&self.account_id)),
            FieldChange::new("owner_id", AuditValue::Null, id_audit(&self.owner_id)),
        ]
    }

    /// The status as it stands at `now`: a solved ticket whose reopen window has passed is
    /// closed.
    pub fn status_on(&self, now: DateTime<Utc>) -> TicketStatus {
        match (self.status, self.closes_at) {
            (TicketStatus::Solved, Some(closes_at)) if closes_at <= now => TicketStatus::Closed,
            (status, _) => status,
        }
    }

    /// Whether the ticket is solved or closed: its resolution is in.
    fn is_resolved(&self) -> bool {
        matches!(self.status, TicketStatus::Solved | TicketStatus::Closed)
    }

    /// The open targets' earliest at-risk instant and deadline, which the list's `sla_status`
    /// filter reads from an index: the first response until it is given, the resolution until
    /// the ticket is solved, except while it waits on the customer. `None` when no clock runs.
    pub fn sla_watch(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let mut watch: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        let mut add = |risk: DateTime<Utc>, due: DateTime<Utc>| {
            watch = Some(match watch {
                None => (risk, due),
                Some((r, d)) => (r.min(risk), d.min(due)),
            });
        };
        if self.first_responded_at.is_none() && !self.is_resolved() {
            add(self.sla.first_response_at_risk_at, self.sla.first_response_due_at);
        }
        if !self.is_resolved() && self.sla.paused_at.is_none() {
            add(self.sla.resolution_at_risk_at, self.sla.resolution_due_at);
        }
        watch
    }

    /// The stored marks that give the SLA status at any instant ([`SlaMarks::status_on`]):
    /// what the list's `sla_status` filter reads as index ranges.
    pub fn sla_marks(&self) -> SlaMarks {
        let missed = self.sla.first_response_missed || self.sla.resolution_missed;
        match self.sla_watch() {
            Some((risk_at, breach_at)) => SlaMarks { risk_at: Some(risk_at), breach_at: Some(breach_at), missed },
            // Waiting on the customer with the first response given: as it stood when the
            // clock stopped, for as long as it waits.
            None if !self.is_resolved() => {
                let risk_at = match self.sla.paused_at {
                    Some(since) if self.sla.resolution_at_risk_at <= since => Some(self.sla.resolution_at_risk_at),
                    _ => None,
                };
                SlaMarks { risk_at, breach_at: None, missed }
            }
            None => SlaMarks { risk_at: None, breach_at: None, missed },
        }
    }

    /// Where the ticket stands against its deadlines at `now`.
    pub fn sla_status_on(&self, now: DateTime<Utc>) -> SlaStatus {
        self.sla_marks().status_on(now, self.is_resolved())
    }

    /// The tag of the states the date gives the ticket at `now` (letters only, for the ETag):
    /// `closed` once its reopen window has passed, and its SLA status unless it is on track or
    /// met by events alone.
    pub fn dated_state(&self, now: DateTime<Utc>) -> Option<&'static str> {
        let closed = self.status != TicketStatus::Closed && self.status_on(now) == TicketStatus::Closed;
        match (closed, self.sla_status_on(now)) {
            (false, SlaStatus::OnTrack | SlaStatus::Met) => None,
            (false, SlaStatus::AtRisk) => Some("atrisk"),
            (false, SlaStatus::Breached) => Some("breached"),
            (true, SlaStatus::Breached) => Some("closedbreached"),
            (true, _) => Some("closed"),
        }
    }

    /// The keyset position of the ticket in a list sorted by `field`.
    pub fn position(&self, field: TicketSortField) -> KeysetPosition {
        let value = match field {
            TicketSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            TicketSortField::UpdatedAt => SortValue::Timestamp(self.updated_at),
            TicketSortField::Number => SortValue::Integer(self.number.sequence),
            TicketSortField::FirstResponseDueAt => SortValue::Timestamp(self.sla.first_response_due_at),
            TicketSortField::ResolutionDueAt => SortValue::Timestamp(self.sla.resolution_due_at),
        };
        KeysetPosition { value, id: self.id }
    }

    /// Refuses every change of a ticket closed at `now`.
    fn ensure_open(&self, now: DateTime<Utc>) -> Result<(), TicketRuleError> {
        if self.status_on(now) == TicketStatus::Closed {
            return Err(TicketRuleError::Closed);
        }
        Ok(())
    }

    /// Records the first response at `now`, once.
    fn respond(&mut self, c: &mut Changes, policy: &SlaPolicy, now: DateTime<Utc>) {
        if self.first_responded_at.is_none() {
            self.sla.first_response_missed = now > self.sla.first_response_due_at;
            self.sla.first_response_business_seconds =
                Some(sla::business_time_between(&policy.calendar, self.created_at, now).num_seconds());
            c.set("first_responded_at", &mut self.first_responded_at, &Some(Some(now)), at_audit);
        }
    }

    /// Changes the ticket's fields; a new priority recomputes its deadlines with `policy`.
    ///
    /// # Errors
    /// [`TicketRuleError::Closed`] for a closed ticket; [`TicketRuleError::RequesterRequired`]
    /// when the patch leaves neither a contact nor an account; [`TicketRuleError::Sla`].
    pub fn apply(
        &self,
        patch: &TicketPatch,
        policy: &SlaPolicy,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<FieldChange>), TicketRuleError> {
        self.ensure_open(now)?;
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("subject", &mut next.subject, &patch.subject, |v: &Name| AuditValue::text(v.as_str()));
        c.set("description", &mut next.description, &patch.description, text_audit);
        c.set("contact_id", &mut next.contact_id, &patch.contact_id, id_audit);
        c.set("account_id", &mut next.account_id, &patch.account_id, id_audit);
        c.set("opportunity_id", &mut next.opportunity_id, &patch.opportunity_id, id_audit);
        c.set("order_id", &mut next.order_id, &patch.order_id, id_audit);
        c.set("product_id", &mut next.product_id, &patch.product_id, id_audit);
        c.set("category", &mut next.category, &patch.category, |v: &TicketCategory| AuditValue::text(v.as_str()));
        c.set("channel", &mut next.channel, &patch.channel, |v: &TicketChannel| AuditValue::text(v.as_str()));
        c.set("owner_id", &mut next.owner_id, &patch.owner_id, id_audit);
        c.set("tags", &mut next.tags, &patch.tags, crate::account::tags_audit);
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v: &CustomFields| {
            AuditValue::text(v.as_json_text())
        });
        if next.contact_id.is_none() && next.account_id.is_none() {
            return Err(TicketRuleError::RequesterRequired);
        }
        let before = next.priority;
        c.set("priority", &mut next.priority, &patch.priority, |v: &TicketPriority| AuditValue::text(v.as_str()));
        if next.priority != before {
            next.reschedule(policy)?;
            c.0.push(FieldChange::new(
                "resolution_due_at",
                AuditValue::Text(rfc3339(self.sla.resolution_due_at)),
                AuditValue::Text(rfc3339(next.sla.resolution_due_at)),
            ));
        }
        if !c.0.is_empty() {
            crate::record::Record::touch(&mut next, now);
        }
        Ok((next, c.0))
    }

    /// Both deadlines under the current priority's targets again: the first response from the
    /// opening (unless it was given), the resolution from its clock's start after the time spent
    /// waiting.
    fn reschedule(&mut self, policy: &SlaPolicy) -> Result<(), SlaError> {
        if self.first_responded_at.is_none() {
            let zero = Duration::zero();
            let (due, risk) =
                schedule(policy, policy.targets(self.priority).first_response, self.created_at, zero, zero)?;
            self.sla.first_response_due_at = due;
            self.sla.first_response_at_risk_at = risk;
        }
        if !self.is_resolved() {
            self.sla.reschedule_resolution(policy, self.priority)?;
        }
        Ok(())
    }

    /// Takes one step of the ticket's life at `now`. `note` is the reason of a wait, or the
    /// resolution of a solve.
    ///
    /// # Errors
    /// [`TicketRuleError::InvalidTransition`] when the action does not start from the ticket's
    /// status (with the actions that do); [`TicketRuleError::ReopenWindowPassed`] for a reopen
    /// after the window; [`TicketRuleError::Sla`].
    pub fn transition(
        &self,
        action: TicketAction,
        note: Option<LongText>,
        policy: &SlaPolicy,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<FieldChange>), TicketRuleError> {
        let status = self.status_on(now);
        if action == TicketAction::Reopen && status == TicketStatus::Closed && self.status == TicketStatus::Solved {
            return Err(TicketRuleError::ReopenWindowPassed);
        }
        let Some(to) = target_of(action, status) else {
            return Err(TicketRuleError::InvalidTransition { status, allowed: allowed_actions(status) });
        };
        let mut next = self.clone();
        let mut c = Changes::new();
        let status_audit = |v: &TicketStatus| AuditValue::text(v.as_str());
        if self.status == TicketStatus::Pending {
            next.sla.unpause(policy, self.priority, now)?;
            c.set("pending_reason", &mut next.pending_reason, &Some(None), text_audit);
        }
        c.set("status", &mut next.status, &Some(to), status_audit);
        match action {
            TicketAction::Wait => {
                next.sla.pause(now);
                c.set("pending_reason", &mut next.pending_reason, &Some(note), text_audit);
            }
            TicketAction::Solve => {
                // Solving answers the customer: it is the first response when none was given.
                next.respond(&mut c, policy, now);
                next.sla.resolution_missed = now > next.sla.resolution_due_at;
                let ran =
                    sla::business_time_between(&policy.calendar, next.sla.resolution_started_at, now).num_seconds();
                next.sla.resolution_business_seconds = Some((ran - next.sla.paused_business_seconds).max(0));
                c.set("solved_at", &mut next.solved_at, &Some(Some(now)), at_audit);
                let closes_at = now.checked_add_signed(policy.reopen_window()).unwrap_or(now);
                c.set("closes_at", &mut next.closes_at, &Some(Some(closes_at)), at_audit);
                c.set("resolution", &mut next.resolution, &Some(note), text_audit);
            }
            TicketAction::Reopen => {
                next.reopened_count += 1;
                c.set("solved_at", &mut next.solved_at, &Some(None), at_audit);
                c.set("closes_at", &mut next.closes_at, &Some(None), at_audit);
                // The resolution clock restarts from the reopening, with the current policy.
                next.sla.resolution_started_at = now;
                next.sla.paused_business_seconds = 0;
                next.sla.paused_calendar_seconds = 0;
                next.sla.resolution_missed = false;
                next.sla.resolution_business_seconds = None;
                next.sla.reschedule_resolution(policy, next.priority)?;
            }
            TicketAction::Close => {
                c.set("closed_at", &mut next.closed_at, &Some(Some(now)), at_audit);
            }
            TicketAction::Start | TicketAction::Hold | TicketAction::Resume => {}
        }
        crate::record::Record::touch(&mut next, now);
        Ok((next, c.0))
    }

    /// Links a deal handed to sales from this ticket at `now`.
    ///
    /// # Errors
    /// [`TicketRuleError::Closed`] for a closed ticket; [`TicketRuleError::TooManyOpportunities`].
    pub fn link_opportunity(
        &self,
        opportunity_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<FieldChange>), TicketRuleError> {
        self.ensure_open(now)?;
        if self.opportunity_ids.len() >= MAX_TICKET_OPPORTUNITIES {
            return Err(TicketRuleError::TooManyOpportunities);
        }
        let mut next = self.clone();
        next.opportunity_ids.push(opportunity_id);
        let ids = |ids: &[Uuid]| AuditValue::Text(ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","));
        let change = FieldChange::new("opportunity_ids", ids(&self.opportunity_ids), ids(&next.opportunity_ids));
        crate::record::Record::touch(&mut next, now);
        Ok((next, vec![change]))
    }

    /// What a new comment does to the ticket at `now`: the first public comment of staff is the
    /// first response; a customer's reply to a ticket waiting on them opens it again. A closed
    /// ticket takes only internal comments of staff.
    ///
    /// # Errors
    /// [`TicketRuleError::Closed`]; [`TicketRuleError::CustomerCommentInternal`] for a
    /// customer's comment marked internal; [`TicketRuleError::Sla`].
    pub fn comment(
        &self,
        author: CommentAuthor,
        visibility: CommentVisibility,
        policy: &SlaPolicy,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<FieldChange>), TicketRuleError> {
        if matches!(author, CommentAuthor::Contact(_)) && visibility == CommentVisibility::Internal {
            return Err(TicketRuleError::CustomerCommentInternal);
        }
        let status = self.status_on(now);
        if status == TicketStatus::Closed {
            return match (author, visibility) {
                (CommentAuthor::User(_), CommentVisibility::Internal) => Ok((self.clone(), Vec::new())),
                _ => Err(TicketRuleError::Closed),
            };
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        match (author, visibility) {
            (CommentAuthor::User(_), CommentVisibility::Public) => next.respond(&mut c, policy, now),
            (CommentAuthor::Contact(_), _) if self.status == TicketStatus::Pending => {
                next.sla.unpause(policy, self.priority, now)?;
                c.set("status", &mut next.status, &Some(TicketStatus::Open), |v: &TicketStatus| {
                    AuditValue::text(v.as_str())
                });
                c.set("pending_reason", &mut next.pending_reason, &Some(None), text_audit);
            }
            _ => {}
        }
        if !c.0.is_empty() {
            crate::record::Record::touch(&mut next, now);
        }
        Ok((next, c.0))
    }
}

/// A comment on a ticket: written once, never edited; an admin may redact its body, which
/// leaves a tombstone (who wrote it, when, who redacted it and when).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketComment {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub ticket_id: Uuid,
    /// `None` once redacted.
    pub body: Option<LongText>,
    pub visibility: CommentVisibility,
    pub author: CommentAuthor,
    pub created_at: DateTime<Utc>,
    /// The user whose request wrote it (for a customer's reply, the integration's user).
    pub created_by: Uuid,
    pub redacted_at: Option<DateTime<Utc>>,
    pub redacted_by: Option<Uuid>,
}

impl TicketComment {
    /// The fields of its creation's audit event: never the body, which a redaction must be able
    /// to remove for good.
    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let (kind, id) = match self.author {
            CommentAuthor::User(id) => ("author_user_id", id),
            CommentAuthor::Contact(id) => ("author_contact_id", id),
        };
        vec![
            FieldChange::new("ticket_id", AuditValue::Null, AuditValue::Text(self.ticket_id.to_string())),
            FieldChange::new("visibility", AuditValue::Null, AuditValue::text(self.visibility.as_str())),
            FieldChange::new(kind, AuditValue::Null, AuditValue::Text(id.to_string())),
        ]
    }

    /// Redacts the body at `now` by `actor`, keeping the tombstone.
    ///
    /// # Errors
    /// [`TicketRuleError::CommentRedacted`] when it already is.
    pub fn redact(
        &self,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(TicketComment, Vec<FieldChange>), TicketRuleError> {
        if self.redacted_at.is_some() {
            return Err(TicketRuleError::CommentRedacted);
        }
        let mut next = self.clone();
        next.body = None;
        next.redacted_at = Some(now);
        next.redacted_by = Some(actor);
        Ok((next, vec![FieldChange::new("redacted_at", AuditValue::Null, AuditValue::Text(rfc3339(now)))]))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDateTime, TimeZone};
    use chrono_tz::Europe::Paris;

    use super::*;
    use crate::quote::DocumentKind;

    /// A Paris wall-clock time ("2026-01-09 17:00").
    fn paris(s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        Paris.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
    }

    fn policy() -> SlaPolicy {
        SlaPolicy::default_for(Paris)
    }

    fn draft(priority: TicketPriority) -> TicketDraft {
        TicketDraft {
            subject: Name::parse("subject", "The export fails").unwrap(),
            description: None,
            contact_id: Some(Uuid::now_v7()),
            account_id: None,
            opportunity_id: None,
            order_id: None,
            product_id: None,
            category: TicketCategory::Incident,
            priority,
            channel: TicketChannel::Email,
            owner_id: None,
            tags: Tags::default(),
            custom_fields: CustomFields::empty(),
        }
    }

    fn opened(priority: TicketPriority, at: &str) -> Ticket {
        let number = DocumentNumber::new(DocumentKind::Ticket, 1);
        Ticket::create(Uuid::now_v7(), Uuid::now_v7(), number, Uuid::now_v7(), draft(priority), &policy(), paris(at))
            .unwrap()
    }

    fn step(t: &Ticket, action: TicketAction, at: &str) -> Ticket {
        t.transition(action, None, &policy(), paris(at)).unwrap().0
    }

    #[test]
    fn a_new_ticket_takes_its_deadlines_from_the_policy() {
        // Normal: first response in 8 business hours, resolution in 3 business days (1,530
        // business minutes = 25 h 30 min). Opened Friday 9 January 17:00: Friday gives 30 min,
        // Monday 8 h 30 min, Tuesday 8 h 30 min (17 h 30 min with Friday's), Wednesday the
        // last 8 h: 17:00.
        let t = opened(TicketPriority::Normal, "2026-01-09 17:00");
        // 8 business hours: 30 min on Friday, 7 h 30 min on Monday from 09:00 → 16:30.
        assert_eq!(t.sla.first_response_due_at, paris("2026-01-12 16:30"));
        assert_eq!(t.sla.resolution_due_at, paris("2026-01-14 17:00"));
        // At risk after 80 %: 6 h 24 min of business time → Monday 14:54 (30 min Friday,
        // 5 h 54 min Monday).
        assert_eq!(t.sla.first_response_at_risk_at, paris("2026-01-12 14:54"));
        assert_eq!(t.status, TicketStatus::New);
        assert_eq!(t.number.number, "T-000001");
        // Urgent: 1 h and 4 h of elapsed time, nights included.
        let urgent = opened(TicketPriority::Urgent, "2026-01-09 23:00");
        assert_eq!(urgent.sla.first_response_due_at, paris("2026-01-10 00:00"));
        assert_eq!(urgent.sla.resolution_due_at, paris("2026-01-10 03:00"));
        assert_eq!(urgent.sla.resolution_at_risk_at, paris("2026-01-10 02:12"));
    }

    #[test]
    fn a_ticket_needs_a_contact_or_an_account() {
        let mut d = draft(TicketPriority::Low);
        d.contact_id = None;
        let number = DocumentNumber::new(DocumentKind::Ticket, 2);
        let refused = Ticket::create(Uuid::now_v7(), Uuid::now_v7(), number, Uuid::now_v7(), d, &policy(), Utc::now());
        assert_eq!(refused.err(), Some(TicketRuleError::RequesterRequired));
        let t = opened(TicketPriority::Low, "2026-01-05 10:00");
        let patch = TicketPatch { contact_id: Some(None), ..TicketPatch::default() };
        assert_eq!(
            t.apply(&patch, &policy(), paris("2026-01-05 11:00")).err(),
            Some(TicketRuleError::RequesterRequired)
        );
    }

    #[test]
    fn statuses_move_by_their_actions_only() {
        let t = opened(TicketPriority::Normal, "2026-01-05 10:00");
        let refused = t.transition(TicketAction::Wait, None, &policy(), paris("2026-01-05 10:05")).err();
        assert_eq!(
            refused,
            Some(TicketRuleError::InvalidTransition {
                status: TicketStatus::New,
                allowed: vec![TicketAction::Start, TicketAction::Solve],
            })
        );
        let open = step(&t, TicketAction::Start, "2026-01-05 10:05");
        assert_eq!(allowed_actions(open.status), [TicketAction::Wait, TicketAction::Hold, TicketAction::Solve]);
        let held = step(&open, TicketAction::Hold, "2026-01-05 10:10");
        assert_eq!(held.status, TicketStatus::OnHold);
        let back = step(&held, TicketAction::Resume, "2026-01-05 11:00");
        assert_eq!((back.status, back.version), (TicketStatus::Open, 4));
        // On hold keeps the resolution clock running.
        assert_eq!(back.sla.resolution_due_at, t.sla.resolution_due_at);
        let solved = back.transition(
            TicketAction::Solve,
            Some(LongText::parse("resolution", "Restarted the export").unwrap()),
            &policy(),
            paris("2026-01-05 12:00"),
        );
        let solved = solved.unwrap().0;
        assert_eq!(solved.resolution.as_ref().map(LongText::as_str), Some("Restarted the export"));
        let closed = step(&solved, TicketAction::Close, "2026-01-05 13:00");
        assert_eq!(allowed_actions(closed.status), []);
        let patch = TicketPatch { priority: Some(TicketPriority::High), ..TicketPatch::default() };
        assert_eq!(closed.apply(&patch, &policy(), paris("2026-01-05 14:00")).err(), Some(TicketRuleError::Closed));
    }

    #[test]
    fn waiting_on_the_customer_moves_the_resolution_deadline_by_the_business_time_spent() {
        // Normal, opened Monday 5 January 09:00: resolution due Wednesday 7 January 17:30
        // (8 h 30 min on each of Monday, Tuesday and Wednesday = 25 h 30 min).
        let t = opened(TicketPriority::Normal, "2026-01-05 09:00");
        assert_eq!(t.sla.resolution_due_at, paris("2026-01-07 17:30"));
        let open = step(&t, TicketAction::Start, "2026-01-05 09:30");
        // Pending from Tuesday 10:00 to Wednesday 15:00: 7 h 30 min + 6 h = 13 h 30 min of
        // business time. The deadline, Wednesday 17:30, moves by it: Thursday's 8 h 30 min,
        // then Friday 09:00 + 5 h = 14:00.
        let pending = step(&open, TicketAction::Wait, "2026-01-06 10:00");
        assert_eq!(pending.sla.paused_at, Some(paris("2026-01-06 10:00")));
        assert_eq!(pending.sla_watch(), Some((t.sla.first_response_at_risk_at, t.sla.first_response_due_at)));
        let resumed = step(&pending, TicketAction::Resume, "2026-01-07 15:00");
        assert_eq!(resumed.sla.paused_business_seconds, 13 * 3600 + 1800);
        assert_eq!(resumed.sla.resolution_due_at, paris("2026-01-09 14:00"));
        assert_eq!(resumed.status, TicketStatus::Open);
        // A customer's reply to a pending ticket opens it again the same way.
        let waiting = step(&open, TicketAction::Wait, "2026-01-06 10:00");
        let replied = waiting
            .comment(
                CommentAuthor::Contact(Uuid::now_v7()),
                CommentVisibility::Public,
                &policy(),
                paris("2026-01-07 15:00"),
            )
            .unwrap()
            .0;
        assert_eq!((replied.status, replied.sla.resolution_due_at), (TicketStatus::Open, paris("2026-01-09 14:00")));
    }

    #[test]
    fn the_first_public_staff_comment_is_the_first_response() {
        let t = opened(TicketPriority::Normal, "2026-01-05 09:00");
        let agent = CommentAuthor::User(Uuid::now_v7());
        let (internal, changes) =
            t.comment(agent, CommentVisibility::Internal, &policy(), paris("2026-01-05 10:00")).unwrap();
        assert_eq!((internal.first_responded_at, changes.len()), (None, 0));
        let (answered, _) = t.comment(agent, CommentVisibility::Public, &policy(), paris("2026-01-05 11:00")).unwrap();
        assert_eq!(answered.first_responded_at, Some(paris("2026-01-05 11:00")));
        assert!(!answered.sla.first_response_missed);
        let (again, changes) =
            answered.comment(agent, CommentVisibility::Public, &policy(), paris("2026-01-05 12:00")).unwrap();
        assert_eq!((again.first_responded_at, changes.len()), (Some(paris("2026-01-05 11:00")), 0));
        // Due Monday 17:00 (8 business hours from 09:00); answered Tuesday: a breach for good.
        let (late, _) = t.comment(agent, CommentVisibility::Public, &policy(), paris("2026-01-06 09:30")).unwrap();
        assert!(late.sla.first_response_missed);
        assert_eq!(late.sla_status_on(paris("2026-01-06 09:31")), SlaStatus::Breached);
        let customer = CommentAuthor::Contact(Uuid::now_v7());
        assert_eq!(
            t.comment(customer, CommentVisibility::Internal, &policy(), paris("2026-01-05 10:00")).err(),
            Some(TicketRuleError::CustomerCommentInternal)
        );
    }

    #[test]
    fn sla_status_moves_with_the_clock() {
        // Normal, opened Monday 09:00: first response at risk 15:24 (80 % of 8 h), due 17:00;
        // breached once the deadline has passed.
        let t = opened(TicketPriority::Normal, "2026-01-05 09:00");
        assert_eq!(t.sla_status_on(paris("2026-01-05 15:23")), SlaStatus::OnTrack);
        assert_eq!(t.sla_status_on(paris("2026-01-05 15:24")), SlaStatus::AtRisk);
        // A response at the deadline is in time; a minute later it is not.
        assert_eq!(t.sla_status_on(paris("2026-01-05 17:00")), SlaStatus::AtRisk);
        assert_eq!(t.sla_status_on(paris("2026-01-05 17:01")), SlaStatus::Breached);
        // Answered at 10:00, the resolution is what is watched: due Wednesday 17:30, at risk
        // after 80 % of 25 h 30 min = 20 h 24 min: Wednesday 12:24.
        let agent = CommentAuthor::User(Uuid::now_v7());
        let answered = t.comment(agent, CommentVisibility::Public, &policy(), paris("2026-01-05 10:00")).unwrap().0;
        assert_eq!(answered.sla_watch(), Some((paris("2026-01-07 12:24"), paris("2026-01-07 17:30"))));
        assert_eq!(answered.sla_status_on(paris("2026-01-06 17:00")), SlaStatus::OnTrack);
        assert_eq!(answered.sla_status_on(paris("2026-01-07 12:24")), SlaStatus::AtRisk);
        // Waiting on the customer stops the clock: no watch, the status as it stood.
        let pending =
            step(&step(&answered, TicketAction::Start, "2026-01-05 10:01"), TicketAction::Wait, "2026-01-07 13:00");
        assert_eq!(pending.sla_watch(), None);
        assert_eq!(pending.sla_status_on(paris("2026-01-20 09:00")), SlaStatus::AtRisk);
        // Solved in time: met; solved late: breached.
        let solved = step(&answered, TicketAction::Solve, "2026-01-07 17:00");
        assert_eq!(solved.sla_status_on(paris("2026-01-30 09:00")), SlaStatus::Met);
        let late = step(&answered, TicketAction::Solve, "2026-01-08 09:00");
        assert_eq!(late.sla_status_on(paris("2026-01-08 09:00")), SlaStatus::Breached);
    }

    #[test]
    fn a_solved_ticket_reopens_within_the_window_and_closes_by_itself_after_it() {
        let t = opened(TicketPriority::High, "2026-01-05 09:00");
        let solved = step(&t, TicketAction::Solve, "2026-01-05 10:00");
        // Solving without a comment answered the customer.
        assert_eq!(solved.first_responded_at, Some(paris("2026-01-05 10:00")));
        assert_eq!(solved.closes_at, Some(paris("2026-01-12 10:00")));
        assert_eq!(solved.status_on(paris("2026-01-12 09:59")), TicketStatus::Solved);
        assert_eq!(solved.status_on(paris("2026-01-12 10:00")), TicketStatus::Closed);
        assert_eq!(
            solved.transition(TicketAction::Reopen, None, &policy(), paris("2026-01-12 10:00")).err(),
            Some(TicketRuleError::ReopenWindowPassed)
        );
        assert_eq!(
            solved.transition(TicketAction::Close, None, &policy(), paris("2026-01-12 10:00")).err(),
            Some(TicketRuleError::InvalidTransition { status: TicketStatus::Closed, allowed: vec![] })
        );
        let agent = CommentAuthor::User(Uuid::now_v7());
        assert_eq!(
            solved.comment(agent, CommentVisibility::Public, &policy(), paris("2026-01-13 10:00")).err(),
            Some(TicketRuleError::Closed)
        );
        assert!(solved.comment(agent, CommentVisibility::Internal, &policy(), paris("2026-01-13 10:00")).is_ok());
        // Reopened Thursday 8 January 16:00: the resolution clock restarts there. High: one
        // business day (8 h 30 min): 1 h 30 min on Thursday, 7 h on Friday → Friday 16:00.
        let reopened = step(&solved, TicketAction::Reopen, "2026-01-08 16:00");
        assert_eq!((reopened.status, reopened.reopened_count), (TicketStatus::Open, 1));
        assert_eq!((reopened.solved_at, reopened.closes_at), (None, None));
        assert_eq!(reopened.sla.resolution_due_at, paris("2026-01-09 16:00"));
        assert_eq!(reopened.sla_status_on(paris("2026-01-09 09:00")), SlaStatus::OnTrack);
    }

    #[test]
    fn a_new_priority_recomputes_the_deadlines_from_the_same_start() {
        // Low, opened Monday 09:00: first response in 2 business days (Tuesday 17:30).
        let t = opened(TicketPriority::Low, "2026-01-05 09:00");
        assert_eq!(t.sla.first_response_due_at, paris("2026-01-06 17:30"));
        let open = step(&t, TicketAction::Start, "2026-01-05 09:10");
        // Pending Monday 10:00 to 12:00 (2 business hours, 2 elapsed hours).
        let resumed =
            step(&step(&open, TicketAction::Wait, "2026-01-05 10:00"), TicketAction::Resume, "2026-01-05 12:00");
        // Urgent from Monday 14:00: first response Monday 10:00 (1 h after the opening, already
        // past), resolution 4 elapsed hours + the 2 spent waiting after 09:00: 15:00.
        let patch = TicketPatch { priority: Some(TicketPriority::Urgent), ..TicketPatch::default() };
        let (urgent, changes) = resumed.apply(&patch, &policy(), paris("2026-01-05 14:00")).unwrap();
        assert_eq!(urgent.sla.first_response_due_at, paris("2026-01-05 10:00"));
        assert_eq!(urgent.sla.resolution_due_at, paris("2026-01-05 15:00"));
        assert_eq!(urgent.sla_status_on(paris("2026-01-05 14:00")), SlaStatus::Breached);
        assert!(changes.iter().any(|c| c.field == "priority"));
    }
}
