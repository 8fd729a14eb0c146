//! The timeline: one customer's whole story, newest first, read from what is already stored:
//! the activities, and the audit trail's events about the customer's records (with the stage
//! history for the amount and probability of a deal's stage change). No third copy.
//!
//! Each audit event carries, from the moment it is written, which lead, contact, account and
//! deal it is about ([`About`]) and its timeline kind ([`kind_of`]), so that one customer's
//! events are one index range however long the organisation's history is.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::account::Account;
use crate::activity::Activity;
use crate::audit::{AuditAction, AuditValue, FieldChange};
use crate::contact::Contact;
use crate::invoice::Invoice;
use crate::lead::Lead;
use crate::list::{KeysetPosition, Page, SortValue};
use crate::money::Money;
use crate::opportunity::Opportunity;
use crate::order::Order;
use crate::quote::Quote;
use crate::string_enum;

string_enum!(
    /// What a timeline item is: the closed set a frontend renders.
    TimelineKind {
        Activity => "activity",
        Created => "created",
        Archived => "archived",
        Restored => "restored",
        StatusChanged => "status_changed",
        Converted => "converted",
        StageChanged => "stage_changed",
        QuoteSent => "quote_sent",
        QuoteAccepted => "quote_accepted",
        QuoteRejected => "quote_rejected",
        OrderStatusChanged => "order_status_changed",
        InvoiceIssued => "invoice_issued",
        InvoicePaid => "invoice_paid",
        InvoiceVoided => "invoice_voided",
        PaymentRecorded => "payment_recorded",
        TicketStatusChanged => "ticket_status_changed",
        TicketSolved => "ticket_solved",
        TicketCommented => "ticket_commented",
        TicketNote => "ticket_note",
    }
);

/// The customer records an audit event is about, stored with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct About {
    pub lead_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
}

impl About {
    /// An event that is in no customer's timeline (a user, a product, a setting).
    pub const NONE: Self = Self { lead_id: None, contact_id: None, account_id: None, opportunity_id: None };

    /// A change of one deal known by its id only.
    pub fn opportunity(id: Uuid) -> Self {
        Self { opportunity_id: Some(id), ..Self::NONE }
    }

    /// A deal or one of its documents: its deal, account and contact.
    fn sale(opportunity_id: Option<Uuid>, account_id: Option<Uuid>, contact_id: Option<Uuid>) -> Self {
        Self { opportunity_id, account_id, contact_id, lead_id: None }
    }
}

/// The customer records a record concerns; the records outside every timeline keep the default.
pub trait Concerns {
    fn about(&self) -> About {
        About::NONE
    }
}

impl Concerns for Lead {
    /// A lead, and once converted, what it became: the conversion shows in the contact's, the
    /// account's and the deal's timelines.
    fn about(&self) -> About {
        About {
            lead_id: Some(self.id),
            contact_id: self.converted_contact_id,
            account_id: self.converted_account_id,
            opportunity_id: self.converted_opportunity_id,
        }
    }
}

impl Concerns for Account {
    fn about(&self) -> About {
        About { account_id: Some(self.id), ..About::NONE }
    }
}

impl Concerns for Contact {
    fn about(&self) -> About {
        About { contact_id: Some(self.id), account_id: self.account_id, ..About::NONE }
    }
}

impl Concerns for Opportunity {
    fn about(&self) -> About {
        About::sale(Some(self.id), self.account_id, self.contact_id)
    }
}

impl Concerns for Quote {
    fn about(&self) -> About {
        About::sale(Some(self.opportunity_id), self.account_id, self.contact_id)
    }
}

impl Concerns for Order {
    fn about(&self) -> About {
        About::sale(self.opportunity_id, self.account_id, self.contact_id)
    }
}

impl Concerns for Invoice {
    fn about(&self) -> About {
        About::sale(self.opportunity_id, self.account_id, self.contact_id)
    }
}

/// A support ticket shows in its contact's and its account's timelines.
impl Concerns for crate::ticket::Ticket {
    fn about(&self) -> About {
        About { contact_id: self.contact_id, account_id: self.account_id, ..About::NONE }
    }
}

/// Activities are their own source of the timeline: their audit events are not items.
impl Concerns for Activity {}
impl Concerns for crate::product::Product {}
impl Concerns for crate::competitor::Competitor {}

/// The new text value of `field` in a change list.
fn new_text<'a>(changes: &'a [FieldChange], field: &str) -> Option<&'a str> {
    changes.iter().find(|c| c.field == field).and_then(|c| match &c.new {
        AuditValue::Text(text) => Some(text.as_str()),
        _ => None,
    })
}

fn changed(changes: &[FieldChange], field: &str) -> bool {
    changes.iter().any(|c| c.field == field)
}

/// The timeline kind of an audit event, or `None` when it is not a timeline item (an edit of a
/// name, a user, a product, an activity's own events).
pub fn kind_of(entity_type: &str, action: AuditAction, changes: &[FieldChange]) -> Option<TimelineKind> {
    // A public comment on a ticket is an item; an internal one, or a redaction, is not.
    if entity_type == "ticket_comment" {
        let public = action == AuditAction::Create && new_text(changes, "visibility") == Some("public");
        return public.then_some(TimelineKind::TicketCommented);
    }
    const CUSTOMER_RECORDS: [&str; 8] =
        ["lead", "contact", "account", "opportunity", "quote", "order", "invoice", "ticket"];
    if !CUSTOMER_RECORDS.contains(&entity_type) {
        return None;
    }
    match action {
        AuditAction::Create => return Some(TimelineKind::Created),
        AuditAction::Archive => return Some(TimelineKind::Archived),
        AuditAction::Restore => return Some(TimelineKind::Restored),
        AuditAction::Delete => return None,
        AuditAction::Update => {}
    }
    let status = new_text(changes, "status");
    match entity_type {
        "lead" => status.map(|s| if s == "converted" { TimelineKind::Converted } else { TimelineKind::StatusChanged }),
        "opportunity" => changed(changes, "stage").then_some(TimelineKind::StageChanged),
        "quote" => match status? {
            "sent" => Some(TimelineKind::QuoteSent),
            "accepted" => Some(TimelineKind::QuoteAccepted),
            "rejected" => Some(TimelineKind::QuoteRejected),
            _ => None,
        },
        "order" => status.map(|_| TimelineKind::OrderStatusChanged),
        "invoice" => match status {
            Some("issued") => Some(TimelineKind::InvoiceIssued),
            Some("paid") => Some(TimelineKind::InvoicePaid),
            Some("void") => Some(TimelineKind::InvoiceVoided),
            _ => changed(changes, "amount_paid").then_some(TimelineKind::PaymentRecorded),
        },
        "ticket" => match status? {
            "solved" => Some(TimelineKind::TicketSolved),
            _ => Some(TimelineKind::TicketStatusChanged),
        },
        _ => None,
    }
}

/// Whose timeline is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineSubject {
    Lead(Uuid),
    Contact(Uuid),
    Account(Uuid),
    Opportunity(Uuid),
    /// A support ticket's own story: its events, its comments (internal ones too) and the
    /// activities logged against it.
    Ticket(Uuid),
}

/// The filters of a timeline page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineFilter {
    /// Empty: every kind.
    pub kinds: Vec<TimelineKind>,
    /// Items strictly after this instant.
    pub after: Option<DateTime<Utc>>,
    /// Items strictly before this instant.
    pub before: Option<DateTime<Utc>>,
}

impl TimelineFilter {
    pub fn wants(&self, kind: TimelineKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }

    /// The kinds the audit trail gives that the filter keeps (all of them when it names none).
    pub fn event_kinds(&self) -> Vec<TimelineKind> {
        let all = TimelineKind::ALL
            .iter()
            .copied()
            .filter(|k| !matches!(k, TimelineKind::Activity | TimelineKind::TicketNote));
        all.filter(|k| self.wants(*k)).collect()
    }
}

/// A deal's stage at an event, from the stage history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSnapshot {
    pub stage: crate::opportunity::OpportunityStage,
    pub amount: Option<Money>,
    pub probability: u8,
}

/// What an item shows.
#[derive(Debug, Clone)]
pub enum Detail {
    Activity(Box<Activity>),
    /// A comment on a ticket, in the ticket's own timeline.
    Comment(Box<crate::ticket::TicketComment>),
    Event {
        action: AuditAction,
        changes: Vec<FieldChange>,
        /// For a deal's creation and stage changes.
        stage: Option<StageSnapshot>,
    },
}

/// One item of a timeline.
#[derive(Debug, Clone)]
pub struct TimelineItem {
    pub id: Uuid,
    pub kind: TimelineKind,
    /// An activity's `occurred_at`, or its `due_at` while planned; an event's time.
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub record_type: String,
    pub record_id: Uuid,
    pub detail: Detail,
}

impl TimelineItem {
    /// An activity as an item: it happened, or is planned, at `COALESCE(occurred_at, due_at)`,
    /// the order of the activities' link indexes.
    pub fn from_activity(activity: Activity) -> Self {
        let at = activity.occurred_at.or(activity.due_at).unwrap_or(activity.created_at);
        Self {
            id: activity.id,
            kind: TimelineKind::Activity,
            occurred_at: at,
            actor_id: Some(activity.owner_id),
            record_type: "activity".to_owned(),
            record_id: activity.id,
            detail: Detail::Activity(Box::new(activity)),
        }
    }

    /// A ticket's comment as an item of the ticket's timeline: `ticket_commented` when public,
    /// `ticket_note` when internal.
    pub fn from_comment(comment: crate::ticket::TicketComment) -> Self {
        let kind = match comment.visibility {
            crate::ticket::CommentVisibility::Public => TimelineKind::TicketCommented,
            crate::ticket::CommentVisibility::Internal => TimelineKind::TicketNote,
        };
        Self {
            id: comment.id,
            kind,
            occurred_at: comment.created_at,
            actor_id: Some(comment.created_by),
            record_type: "ticket_comment".to_owned(),
            record_id: comment.id,
            detail: Detail::Comment(Box::new(comment)),
        }
    }

    pub fn position(&self) -> KeysetPosition {
        KeysetPosition { value: SortValue::Timestamp(self.occurred_at), id: self.id }
    }

    /// One line a person reads: "Call (outbound), no answer: Intro", "Stage changed to
    /// proposal", "Lead converted". It names no old value: the audit trail's values stay with
    /// the roles that read it.
    pub fn summary(&self) -> String {
        let record = self.record_type.as_str();
        match &self.detail {
            Detail::Activity(a) => {
                let mut text = capitalised(a.kind.as_str());
                if let Some(direction) = a.direction {
                    text.push_str(&format!(" ({direction})"));
                }
                match (a.status, a.outcome) {
                    (crate::activity::ActivityStatus::Planned, _) => text.push_str(", planned"),
                    (crate::activity::ActivityStatus::Cancelled, _) => text.push_str(", cancelled"),
                    (_, Some(outcome)) => text.push_str(&format!(", {}", outcome.as_str().replace('_', " "))),
                    (_, None) => {}
                }
                format!("{text}: {}", a.subject.as_str())
            }
            Detail::Comment(c) => match (c.visibility, c.author) {
                (crate::ticket::CommentVisibility::Internal, _) => "Internal note".to_owned(),
                (_, crate::ticket::CommentAuthor::Contact(_)) => "Reply from the customer".to_owned(),
                (_, crate::ticket::CommentAuthor::User(_)) => "Public comment on the ticket".to_owned(),
            },
            Detail::Event { changes, stage, .. } => {
                let noun = capitalised(record);
                let status = new_text(changes, "status").map(|s| s.replace('_', " "));
                match self.kind {
                    TimelineKind::Created => format!("{noun} created"),
                    TimelineKind::Archived => format!("{noun} archived"),
                    TimelineKind::Restored => format!("{noun} restored"),
                    TimelineKind::StatusChanged
                    | TimelineKind::OrderStatusChanged
                    | TimelineKind::TicketStatusChanged => {
                        format!("{noun} status changed to {}", status.unwrap_or_default())
                    }
                    TimelineKind::TicketSolved => "Ticket solved".to_owned(),
                    TimelineKind::TicketCommented => "Public comment on the ticket".to_owned(),
                    TimelineKind::TicketNote => "Internal note".to_owned(),
                    TimelineKind::Converted => "Lead converted".to_owned(),
                    TimelineKind::StageChanged => {
                        let to = stage.as_ref().map(|s| s.stage.as_str().replace('_', " ")).unwrap_or_default();
                        format!("Stage changed to {to}")
                    }
                    TimelineKind::QuoteSent => "Quote sent".to_owned(),
                    TimelineKind::QuoteAccepted => "Quote accepted".to_owned(),
                    TimelineKind::QuoteRejected => "Quote rejected".to_owned(),
                    TimelineKind::InvoiceIssued => "Invoice issued".to_owned(),
                    TimelineKind::InvoicePaid => "Invoice paid".to_owned(),
                    TimelineKind::InvoiceVoided => "Invoice voided".to_owned(),
                    TimelineKind::PaymentRecorded => "Payment recorded".to_owned(),
                    TimelineKind::Activity => noun,
                }
            }
        }
    }

    /// The value a kind is defined by (a lead's or an order's new status), which every reader
    /// of the record sees: the record's field as of the event, not a before-and-after.
    pub fn status(&self) -> Option<&str> {
        match &self.detail {
            Detail::Event { changes, .. } => match self.kind {
                TimelineKind::StatusChanged
                | TimelineKind::Converted
                | TimelineKind::OrderStatusChanged
                | TimelineKind::TicketStatusChanged => new_text(changes, "status"),
                _ => None,
            },
            Detail::Activity(_) | Detail::Comment(_) => None,
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// Merges sources that are each sorted newest first (by time, then id) and each hold up to
/// `limit + 1` items after the cursor: the page is the `limit` newest of them all, and there is
/// a next page when any item is left over. A k-way merge of index-ordered ranges: no source is
/// read further than one page.
pub fn merge(sources: Vec<Vec<TimelineItem>>, limit: u32) -> Page<TimelineItem> {
    let mut items: Vec<TimelineItem> = sources.into_iter().flatten().collect();
    items.sort_by(|a, b| b.occurred_at.cmp(&a.occurred_at).then(b.id.cmp(&a.id)));
    items.dedup_by_key(|item| item.id);
    Page::from_overfetch(items, limit, TimelineItem::position)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(field: &str, new: &str) -> FieldChange {
        FieldChange::new(field, AuditValue::Null, AuditValue::text(new))
    }

    #[test]
    fn an_event_has_the_kind_its_change_says() {
        use AuditAction::{Archive, Create, Update};
        assert_eq!(kind_of("lead", Create, &[]), Some(TimelineKind::Created));
        assert_eq!(kind_of("lead", Update, &[change("status", "qualified")]), Some(TimelineKind::StatusChanged));
        assert_eq!(kind_of("lead", Update, &[change("status", "converted")]), Some(TimelineKind::Converted));
        assert_eq!(kind_of("lead", Update, &[change("first_name", "Ada")]), None);
        assert_eq!(kind_of("opportunity", Update, &[change("stage", "proposal")]), Some(TimelineKind::StageChanged));
        assert_eq!(kind_of("quote", Update, &[change("status", "sent")]), Some(TimelineKind::QuoteSent));
        assert_eq!(kind_of("quote", Update, &[change("status", "expired")]), None);
        assert_eq!(kind_of("order", Update, &[change("status", "delivered")]), Some(TimelineKind::OrderStatusChanged));
        assert_eq!(kind_of("invoice", Update, &[change("status", "paid")]), Some(TimelineKind::InvoicePaid));
        let partial = [FieldChange::new("amount_paid", AuditValue::Integer(0), AuditValue::Integer(500))];
        assert_eq!(kind_of("invoice", Update, &partial), Some(TimelineKind::PaymentRecorded));
        assert_eq!(kind_of("account", Archive, &[]), Some(TimelineKind::Archived));
        assert_eq!(kind_of("activity", Create, &[]), None);
        assert_eq!(kind_of("user", Create, &[]), None);
    }

    fn item(seconds: i64, id: u128) -> TimelineItem {
        TimelineItem {
            id: Uuid::from_u128(id),
            kind: TimelineKind::Created,
            occurred_at: DateTime::from_timestamp(seconds, 0).unwrap(),
            actor_id: None,
            record_type: "lead".to_owned(),
            record_id: Uuid::from_u128(id),
            detail: Detail::Event { action: AuditAction::Create, changes: vec![], stage: None },
        }
    }

    #[test]
    fn merging_takes_the_newest_of_all_sources_and_says_what_follows() {
        let page = merge(vec![vec![item(50, 1), item(10, 2)], vec![item(40, 3), item(40, 4), item(5, 5)]], 3);
        let ids: Vec<u128> = page.items.iter().map(|i| i.id.as_u128()).collect();
        assert_eq!(ids, vec![1, 4, 3]);
        assert_eq!(
            page.next,
            Some(KeysetPosition {
                value: SortValue::Timestamp(DateTime::from_timestamp(40, 0).unwrap()),
                id: Uuid::from_u128(3)
            })
        );
        let last = merge(vec![vec![item(10, 2)], vec![]], 3);
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.next, None);
    }
}
