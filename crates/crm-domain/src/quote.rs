//! Quotes: priced offers on an opportunity. Drafts are edited; a sent quote is accepted (which
//! creates an order and closes the deal won with the quote's total), rejected, or expires once
//! its `valid_until` day has passed.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::account::money_audit;
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::lead::ArchivedFilter;
use crate::lines::Lines;
use crate::list::{KeysetPosition, Sort, SortField, SortKind, SortValue, Window};
use crate::money::Money;
use crate::opportunity::{Opportunity, OpportunityRuleError, Outcome, StageChange};
use crate::record::{Changes, Record, rfc3339};
use crate::string_enum;
use crate::value::{CustomFields, LongText};

string_enum!(
    /// `expired` is never stored: a sent quote whose `valid_until` day has passed (UTC) reads as
    /// expired.
    QuoteStatus {
        Draft => "draft",
        Sent => "sent",
        Accepted => "accepted",
        Rejected => "rejected",
        Expired => "expired",
    }
);

/// A document number such as `Q-000042`: the prefix and the sequence, zero-padded to six digits
/// (longer once the sequence passes 999999).
pub fn document_number(prefix: &str, sequence: i64) -> String {
    format!("{prefix}-{sequence:06}")
}

/// The counters that number documents, one sequence per organisation and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Quote,
    Order,
    Invoice,
    Ticket,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Quote => "quote",
            DocumentKind::Order => "order",
            DocumentKind::Invoice => "invoice",
            DocumentKind::Ticket => "ticket",
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Quote => "Q",
            DocumentKind::Order => "SO",
            DocumentKind::Invoice => "INV",
            DocumentKind::Ticket => "T",
        }
    }
}

/// A document's number: the sequence the counter gave and its display form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentNumber {
    pub sequence: i64,
    pub number: String,
}

impl DocumentNumber {
    pub fn new(kind: DocumentKind, sequence: i64) -> Self {
        Self { sequence, number: document_number(kind.prefix(), sequence) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub number: DocumentNumber,
    pub opportunity_id: Uuid,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub owner_id: Uuid,
    /// The stored status: never `Expired` (see [`Quote::status_on`]).
    pub status: QuoteStatus,
    pub valid_until: Option<NaiveDate>,
    pub lines: Lines,
    pub notes: Option<LongText>,
    pub custom_fields: CustomFields,
    pub sent_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub rejected_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<LongText>,
    /// The order accepting the quote created.
    pub order_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
}

crate::record::impl_record!(Quote);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteDraft {
    pub opportunity_id: Uuid,
    pub valid_until: Option<NaiveDate>,
    pub notes: Option<LongText>,
    pub custom_fields: CustomFields,
    pub owner_id: Option<Uuid>,
}

/// A draft's changes; `lines` replaces every line (and may change the currency).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotePatch {
    pub valid_until: Option<Option<NaiveDate>>,
    pub notes: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
    pub owner_id: Option<Uuid>,
    pub lines: Option<Lines>,
}

/// Why a quote cannot do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuoteRuleError {
    #[error("the quote is archived; restore it first")]
    Archived,
    #[error("only draft quotes can be changed or sent")]
    NotDraft,
    #[error("only sent quotes can be accepted or rejected")]
    NotSent,
    #[error("the quote's valid_until day has passed")]
    Expired,
    #[error("a quote needs at least one line to be sent")]
    NoLines,
    #[error("the quote's opportunity is archived or closed")]
    OpportunityNotOpen,
    #[error("the opportunity belongs to another quote's negotiation")]
    WrongOpportunity,
}

impl QuoteRuleError {
    pub fn code(self) -> &'static str {
        match self {
            QuoteRuleError::Archived => "quote_archived",
            QuoteRuleError::NotDraft => "quote_not_draft",
            QuoteRuleError::NotSent => "quote_not_sent",
            QuoteRuleError::Expired => "quote_expired",
            QuoteRuleError::NoLines => "quote_empty",
            QuoteRuleError::OpportunityNotOpen => "opportunity_not_open",
            QuoteRuleError::WrongOpportunity => "wrong_opportunity",
        }
    }
}

fn date_audit(v: &Option<NaiveDate>) -> AuditValue {
    v.map_or(AuditValue::Null, |d| AuditValue::Text(d.to_string()))
}

fn lines_audit(lines: &Lines) -> AuditValue {
    money_audit(Some(&Money { amount: lines.totals.total, currency: lines.currency }))
}

impl Quote {
    /// A new draft on an open opportunity, for its buyers.
    ///
    /// # Errors
    /// [`QuoteRuleError::OpportunityNotOpen`] when the deal is archived or closed.
    pub fn create(
        id: Uuid,
        number: DocumentNumber,
        actor_id: Uuid,
        draft: QuoteDraft,
        opportunity: &Opportunity,
        lines: Lines,
        now: DateTime<Utc>,
    ) -> Result<Quote, QuoteRuleError> {
        if opportunity.archived_at.is_some() || !opportunity.stage.is_open() {
            return Err(QuoteRuleError::OpportunityNotOpen);
        }
        Ok(Quote {
            id,
            organization_id: opportunity.organization_id,
            number,
            opportunity_id: opportunity.id,
            account_id: opportunity.account_id,
            contact_id: opportunity.contact_id,
            owner_id: draft.owner_id.unwrap_or(actor_id),
            status: QuoteStatus::Draft,
            valid_until: draft.valid_until,
            lines,
            notes: draft.notes,
            custom_fields: draft.custom_fields,
            sent_at: None,
            accepted_at: None,
            rejected_at: None,
            rejection_reason: None,
            order_id: None,
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
        })
    }

    /// The status as clients see it on `today` (UTC): a sent quote past its `valid_until` day is
    /// expired.
    pub fn status_on(&self, today: NaiveDate) -> QuoteStatus {
        match (self.status, self.valid_until) {
            (QuoteStatus::Sent, Some(until)) if until < today => QuoteStatus::Expired,
            (status, _) => status,
        }
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        vec![
            FieldChange::new("number", AuditValue::Null, AuditValue::text(&self.number.number)),
            FieldChange::new("opportunity_id", AuditValue::Null, AuditValue::Text(self.opportunity_id.to_string())),
            FieldChange::new("status", AuditValue::Null, AuditValue::text(self.status.as_str())),
            FieldChange::new("total", AuditValue::Null, lines_audit(&self.lines)),
        ]
    }

    fn editable(&self) -> Result<(), QuoteRuleError> {
        if self.archived_at.is_some() {
            return Err(QuoteRuleError::Archived);
        }
        if self.status != QuoteStatus::Draft {
            return Err(QuoteRuleError::NotDraft);
        }
        Ok(())
    }

    /// # Errors
    /// [`QuoteRuleError`] unless the quote is an active draft.
    pub fn apply(&self, patch: &QuotePatch, now: DateTime<Utc>) -> Result<(Quote, Vec<FieldChange>), QuoteRuleError> {
        self.editable()?;
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("valid_until", &mut next.valid_until, &patch.valid_until, date_audit);
        c.set("notes", &mut next.notes, &patch.notes, |v| AuditValue::optional(v.as_ref()));
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v: &CustomFields| {
            AuditValue::text(v.as_json_text())
        });
        c.set("owner_id", &mut next.owner_id, &patch.owner_id, |v: &Uuid| AuditValue::Text(v.to_string()));
        c.set("line_items", &mut next.lines, &patch.lines, lines_audit);
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    fn status_change(&self, next: &mut Quote, status: QuoteStatus, c: &mut Changes) {
        c.set("status", &mut next.status, &Some(status), |v: &QuoteStatus| AuditValue::text(v.as_str()));
    }

    /// Sends a draft with at least one line and a `valid_until` not yet passed.
    ///
    /// # Errors
    /// [`QuoteRuleError`] otherwise.
    pub fn send(&self, today: NaiveDate, now: DateTime<Utc>) -> Result<(Quote, Vec<FieldChange>), QuoteRuleError> {
        self.editable()?;
        if self.lines.items.is_empty() {
            return Err(QuoteRuleError::NoLines);
        }
        if self.valid_until.is_some_and(|until| until < today) {
            return Err(QuoteRuleError::Expired);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        self.status_change(&mut next, QuoteStatus::Sent, &mut c);
        c.set("sent_at", &mut next.sent_at, &Some(Some(now)), |v| {
            v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
        });
        next.touch(now);
        Ok((next, c.0))
    }

    fn answerable(&self, today: NaiveDate) -> Result<(), QuoteRuleError> {
        if self.archived_at.is_some() {
            return Err(QuoteRuleError::Archived);
        }
        match self.status_on(today) {
            QuoteStatus::Sent => Ok(()),
            QuoteStatus::Expired => Err(QuoteRuleError::Expired),
            _ => Err(QuoteRuleError::NotSent),
        }
    }

    /// Rejects a sent quote (an expired one too: the customer may still say no).
    ///
    /// # Errors
    /// [`QuoteRuleError`] unless the quote was sent.
    pub fn reject(
        &self,
        reason: Option<LongText>,
        now: DateTime<Utc>,
    ) -> Result<(Quote, Vec<FieldChange>), QuoteRuleError> {
        if self.archived_at.is_some() {
            return Err(QuoteRuleError::Archived);
        }
        if self.status != QuoteStatus::Sent {
            return Err(QuoteRuleError::NotSent);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        self.status_change(&mut next, QuoteStatus::Rejected, &mut c);
        c.set("rejected_at", &mut next.rejected_at, &Some(Some(now)), |v| {
            v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
        });
        c.set("rejection_reason", &mut next.rejection_reason, &Some(reason), |v| AuditValue::optional(v.as_ref()));
        next.touch(now);
        Ok((next, c.0))
    }

    /// Accepts a sent, unexpired quote: the quote records the order it creates and the
    /// opportunity closes won with the quote's total as its amount.
    ///
    /// # Errors
    /// [`QuoteRuleError`] when the quote cannot be accepted or the deal is not open.
    pub fn accept(
        &self,
        opportunity: &Opportunity,
        order_id: Uuid,
        actor_id: Uuid,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Acceptance, QuoteRuleError> {
        self.answerable(today)?;
        if opportunity.id != self.opportunity_id {
            return Err(QuoteRuleError::WrongOpportunity);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        self.status_change(&mut next, QuoteStatus::Accepted, &mut c);
        c.set("accepted_at", &mut next.accepted_at, &Some(Some(now)), |v| {
            v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
        });
        c.set("order_id", &mut next.order_id, &Some(Some(order_id)), |v| {
            v.map_or(AuditValue::Null, |id| AuditValue::Text(id.to_string()))
        });
        next.touch(now);

        let amount = Money { amount: self.lines.totals.total, currency: self.lines.currency };
        let mut priced = opportunity.clone();
        let mut amount_change = Changes::new();
        amount_change.set("amount", &mut priced.amount, &Some(Some(amount)), |v| money_audit(v.as_ref()));
        let (closed, mut opportunity_changes, stage_change) = priced
            .close(Outcome::Won, None, None, now, actor_id, now)
            .map_err(|_: OpportunityRuleError| QuoteRuleError::OpportunityNotOpen)?;
        opportunity_changes.splice(0..0, amount_change.0);
        Ok(Acceptance { quote: next, quote_changes: c.0, opportunity: closed, opportunity_changes, stage_change })
    }

    pub fn position(&self, field: QuoteSortField) -> KeysetPosition {
        let value = match field {
            QuoteSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            QuoteSortField::UpdatedAt => SortValue::Timestamp(self.updated_at),
            QuoteSortField::Number => SortValue::Integer(self.number.sequence),
            QuoteSortField::Total => SortValue::Integer(self.lines.totals.total),
        };
        KeysetPosition { value, id: self.id }
    }
}

/// What accepting a quote changes, written in one transaction with the new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    pub quote: Quote,
    pub quote_changes: Vec<FieldChange>,
    pub opportunity: Opportunity,
    pub opportunity_changes: Vec<FieldChange>,
    pub stage_change: StageChange,
}

string_enum!(
    QuoteSortField {
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
        Number => "number",
        Total => "total",
    }
);

impl SortField for QuoteSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        QuoteSortField::parse("sort", name)
    }
    fn kind(self) -> SortKind {
        match self {
            QuoteSortField::CreatedAt | QuoteSortField::UpdatedAt => SortKind::Timestamp,
            QuoteSortField::Number | QuoteSortField::Total => SortKind::Integer,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteQuery {
    pub statuses: Vec<QuoteStatus>,
    pub opportunity_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    /// The day `expired` is judged on.
    pub today: NaiveDate,
    pub archived: ArchivedFilter,
    pub sort: Sort<QuoteSortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::{LineItem, Quantity, Totals};
    use crate::money::Currency;
    use crate::opportunity::{OpportunityDraft, OpportunityStage};
    use crate::value::Name;

    fn open_opportunity() -> Opportunity {
        let draft = OpportunityDraft {
            name: Name::from_trusted("Deal".into()),
            account_id: Some(Uuid::now_v7()),
            contact_id: None,
            amount: None,
            stage: None,
            probability: None,
            expected_close_date: None,
            kind: None,
            lead_source: None,
            next_step: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        Opportunity::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft, Utc::now()).unwrap().0
    }
    use crate::product::Percent;

    fn eur() -> Currency {
        Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn quote_with_line(opportunity: &Opportunity, valid_until: Option<NaiveDate>) -> Quote {
        let line = LineItem::price(
            "l",
            None,
            LongText::from_trusted("Consulting".into()),
            Quantity::from_thousandths(2000),
            10_000,
            Percent::from_hundredths(0),
            Percent::from_hundredths(2000),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let totals = Totals::of(std::slice::from_ref(&line)).unwrap_or_else(|e| panic!("{e:?}"));
        let draft = QuoteDraft {
            opportunity_id: opportunity.id,
            valid_until,
            notes: None,
            custom_fields: CustomFields::empty(),
            owner_id: None,
        };
        let lines = Lines { currency: eur(), items: vec![line], totals };
        Quote::create(
            Uuid::now_v7(),
            DocumentNumber::new(DocumentKind::Quote, 42),
            Uuid::now_v7(),
            draft,
            opportunity,
            lines,
            Utc::now(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn numbers_are_zero_padded_sequences() {
        assert_eq!(DocumentNumber::new(DocumentKind::Quote, 42).number, "Q-000042");
        assert_eq!(DocumentNumber::new(DocumentKind::Invoice, 1_234_567).number, "INV-1234567");
    }

    #[test]
    fn a_sent_quote_expires_after_its_last_valid_day() {
        let opportunity = open_opportunity();
        let quote = quote_with_line(&opportunity, Some(day("2026-03-31")));
        let (sent, _) = quote.send(day("2026-03-01"), Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(sent.status_on(day("2026-03-31")), QuoteStatus::Sent);
        assert_eq!(sent.status_on(day("2026-04-01")), QuoteStatus::Expired);
        let late = sent.accept(&opportunity, Uuid::now_v7(), Uuid::now_v7(), day("2026-04-01"), Utc::now());
        assert_eq!(late.err(), Some(QuoteRuleError::Expired));
        assert_eq!(quote.send(day("2026-04-01"), Utc::now()).err(), Some(QuoteRuleError::Expired));
    }

    #[test]
    fn only_drafts_change_and_only_sent_quotes_are_answered() {
        let opportunity = open_opportunity();
        let quote = quote_with_line(&opportunity, None);
        let today = day("2026-03-01");
        assert_eq!(quote.reject(None, Utc::now()).err(), Some(QuoteRuleError::NotSent));
        let (sent, _) = quote.send(today, Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(sent.apply(&QuotePatch::default(), Utc::now()).err(), Some(QuoteRuleError::NotDraft));
        assert_eq!(sent.send(today, Utc::now()).err(), Some(QuoteRuleError::NotDraft));
        let empty = Quote { lines: Lines::empty(eur()), ..quote.clone() };
        assert_eq!(empty.send(today, Utc::now()).err(), Some(QuoteRuleError::NoLines));
    }

    #[test]
    fn accepting_closes_the_deal_won_with_the_quote_total() {
        let opportunity = open_opportunity();
        let quote = quote_with_line(&opportunity, None);
        let today = day("2026-03-01");
        let (sent, _) = quote.send(today, Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
        let order_id = Uuid::now_v7();
        let accepted =
            sent.accept(&opportunity, order_id, Uuid::now_v7(), today, Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(accepted.quote.status, QuoteStatus::Accepted);
        assert_eq!(accepted.quote.order_id, Some(order_id));
        assert_eq!(accepted.opportunity.stage, OpportunityStage::ClosedWon);
        // 2 × 100.00 + 20% tax = 240.00.
        assert_eq!(accepted.opportunity.amount.map(|m| m.amount), Some(24_000));
        assert_eq!(accepted.opportunity_changes.first().map(|c| c.field.as_str()), Some("amount"));
        let closed = accepted.opportunity.clone();
        assert_eq!(
            sent.accept(&closed, order_id, Uuid::now_v7(), today, Utc::now()).err(),
            Some(QuoteRuleError::OpportunityNotOpen)
        );
    }
}
