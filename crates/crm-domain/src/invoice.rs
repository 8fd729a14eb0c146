//! Invoices: drafted from an order or on their own, issued with a due date, paid by one or more
//! payments that together reach the total (never more), or voided while nothing is paid.

use chrono::{DateTime, Days, NaiveDate, Utc};
use uuid::Uuid;

use crate::account::money_audit;
use crate::audit::{AuditValue, FieldChange};
use crate::lines::Lines;
use crate::list::{KeysetPosition, Sort, SortValue, Window};
use crate::money::Money;
use crate::order::{DocumentSortField, Order, OrderStatus};
use crate::quote::DocumentNumber;
use crate::record::{Changes, rfc3339};
use crate::string_enum;
use crate::value::{CustomFields, LongText, Name};

string_enum!(
    InvoiceStatus {
        Draft => "draft",
        Issued => "issued",
        Paid => "paid",
        Void => "void",
    }
);

string_enum!(
    PaymentMethod {
        BankTransfer => "bank_transfer",
        Card => "card",
        Cash => "cash",
        Check => "check",
        DirectDebit => "direct_debit",
        Other => "other",
    }
);

/// Days from the issue date to the due date when none is given.
pub const DEFAULT_PAYMENT_TERMS_DAYS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub number: DocumentNumber,
    pub order_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub status: InvoiceStatus,
    pub lines: Lines,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// The sum of the payments, in minor units of the invoice's currency.
    pub amount_paid: i64,
    /// When the last payment made the invoice paid.
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<LongText>,
    pub notes: Option<LongText>,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDraft {
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub due_date: Option<NaiveDate>,
    pub notes: Option<LongText>,
    pub custom_fields: CustomFields,
    pub owner_id: Option<Uuid>,
}

/// Changes to an invoice: lines, buyers and the due date only while it is a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoicePatch {
    pub due_date: Option<Option<NaiveDate>>,
    pub notes: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
    pub owner_id: Option<Uuid>,
    pub lines: Option<Lines>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub invoice_id: Uuid,
    pub amount: Money,
    pub paid_at: DateTime<Utc>,
    pub method: PaymentMethod,
    pub reference: Option<Name>,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDraft {
    /// Positive.
    pub amount: Money,
    pub paid_at: DateTime<Utc>,
    pub method: PaymentMethod,
    pub reference: Option<Name>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceRuleError {
    #[error("an invoice needs an account_id, a contact_id, or both")]
    NoBuyer,
    #[error("only draft invoices can change their lines, buyers or due date, or be issued")]
    NotDraft,
    #[error("an invoice needs at least one line and a total above zero to be issued")]
    Empty,
    #[error("the due date is before the issue date")]
    DueBeforeIssue,
    #[error("payments are recorded on issued invoices only")]
    NotIssued,
    #[error("the payment's currency is not the invoice's")]
    CurrencyMismatch,
    #[error("the payment exceeds the balance due of {0} minor units")]
    Overpayment(i64),
    #[error("an invoice with payments cannot be voided")]
    HasPayments,
    #[error("the invoice is already void")]
    AlreadyVoid,
    #[error("a cancelled order cannot be invoiced")]
    OrderCancelled,
}

impl InvoiceRuleError {
    pub fn code(self) -> &'static str {
        match self {
            InvoiceRuleError::NoBuyer => "buyer_required",
            InvoiceRuleError::NotDraft => "invoice_not_draft",
            InvoiceRuleError::Empty => "invoice_empty",
            InvoiceRuleError::DueBeforeIssue => "due_before_issue",
            InvoiceRuleError::NotIssued => "invoice_not_issued",
            InvoiceRuleError::CurrencyMismatch => "currency_mismatch",
            InvoiceRuleError::Overpayment(_) => "overpayment",
            InvoiceRuleError::HasPayments => "invoice_has_payments",
            InvoiceRuleError::AlreadyVoid => "invoice_void",
            InvoiceRuleError::OrderCancelled => "order_cancelled",
        }
    }
}

fn date_audit(v: &Option<NaiveDate>) -> AuditValue {
    v.map_or(AuditValue::Null, |d| AuditValue::Text(d.to_string()))
}

fn at_audit(v: &Option<DateTime<Utc>>) -> AuditValue {
    v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
}

impl Invoice {
    fn blank(
        id: Uuid,
        organization_id: Uuid,
        number: DocumentNumber,
        lines: Lines,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Self {
        Invoice {
            id,
            organization_id,
            number,
            order_id: None,
            account_id: None,
            contact_id: None,
            opportunity_id: None,
            owner_id: actor_id,
            status: InvoiceStatus::Draft,
            lines,
            issue_date: None,
            due_date: None,
            amount_paid: 0,
            paid_at: None,
            voided_at: None,
            void_reason: None,
            notes: None,
            custom_fields: CustomFields::empty(),
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
        }
    }

    /// A draft invoice of its own.
    ///
    /// # Errors
    /// [`InvoiceRuleError::NoBuyer`] without an account or a contact.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        number: DocumentNumber,
        actor_id: Uuid,
        draft: InvoiceDraft,
        lines: Lines,
        now: DateTime<Utc>,
    ) -> Result<Invoice, InvoiceRuleError> {
        if draft.account_id.is_none() && draft.contact_id.is_none() {
            return Err(InvoiceRuleError::NoBuyer);
        }
        let mut invoice = Self::blank(id, organization_id, number, lines, actor_id, now);
        invoice.account_id = draft.account_id;
        invoice.contact_id = draft.contact_id;
        invoice.due_date = draft.due_date;
        invoice.notes = draft.notes;
        invoice.custom_fields = draft.custom_fields;
        invoice.owner_id = draft.owner_id.unwrap_or(actor_id);
        Ok(invoice)
    }

    /// A draft invoice billing an order's lines to its buyers.
    ///
    /// # Errors
    /// [`InvoiceRuleError::OrderCancelled`] for a cancelled order.
    pub fn from_order(
        id: Uuid,
        number: DocumentNumber,
        order: &Order,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Invoice, InvoiceRuleError> {
        if order.status == OrderStatus::Cancelled {
            return Err(InvoiceRuleError::OrderCancelled);
        }
        let mut invoice = Self::blank(id, order.organization_id, number, order.lines.clone(), actor_id, now);
        invoice.order_id = Some(order.id);
        invoice.account_id = order.account_id;
        invoice.contact_id = order.contact_id;
        invoice.opportunity_id = order.opportunity_id;
        invoice.owner_id = order.owner_id;
        Ok(invoice)
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let mut changes = vec![
            FieldChange::new("number", AuditValue::Null, AuditValue::text(&self.number.number)),
            FieldChange::new("status", AuditValue::Null, AuditValue::text(self.status.as_str())),
            FieldChange::new("total", AuditValue::Null, AuditValue::Integer(self.lines.totals.total)),
        ];
        if let Some(order_id) = self.order_id {
            changes.push(FieldChange::new("order_id", AuditValue::Null, AuditValue::Text(order_id.to_string())));
        }
        changes
    }

    pub fn balance_due(&self) -> i64 {
        self.lines.totals.total - self.amount_paid
    }

    /// Issued, unpaid, and past its due date on `today`.
    pub fn overdue_on(&self, today: NaiveDate) -> bool {
        self.status == InvoiceStatus::Issued && self.due_date.is_some_and(|due| due < today)
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    /// # Errors
    /// [`InvoiceRuleError::NotDraft`] when lines or the due date change after issue.
    pub fn apply(
        &self,
        patch: &InvoicePatch,
        now: DateTime<Utc>,
    ) -> Result<(Invoice, Vec<FieldChange>), InvoiceRuleError> {
        let draft_only = patch.lines.as_ref().is_some_and(|l| *l != self.lines)
            || patch.due_date.is_some_and(|d| d != self.due_date);
        if draft_only && self.status != InvoiceStatus::Draft {
            return Err(InvoiceRuleError::NotDraft);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("due_date", &mut next.due_date, &patch.due_date, date_audit);
        c.set("notes", &mut next.notes, &patch.notes, |v| AuditValue::optional(v.as_ref()));
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v: &CustomFields| {
            AuditValue::text(v.as_json_text())
        });
        c.set("owner_id", &mut next.owner_id, &patch.owner_id, |v: &Uuid| AuditValue::Text(v.to_string()));
        c.set("line_items", &mut next.lines, &patch.lines, |l: &Lines| {
            money_audit(Some(&Money { amount: l.totals.total, currency: l.currency }))
        });
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    /// Issues a draft on `issue_date` (default `today`), due on `due_date` (default the draft's,
    /// else thirty days after issue).
    ///
    /// # Errors
    /// [`InvoiceRuleError`] unless a non-empty draft with a due date on or after the issue date.
    pub fn issue(
        &self,
        issue_date: Option<NaiveDate>,
        due_date: Option<NaiveDate>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(Invoice, Vec<FieldChange>), InvoiceRuleError> {
        if self.status != InvoiceStatus::Draft {
            return Err(InvoiceRuleError::NotDraft);
        }
        if self.lines.items.is_empty() || self.lines.totals.total == 0 {
            return Err(InvoiceRuleError::Empty);
        }
        let issue_date = issue_date.unwrap_or(today);
        let due_date = due_date
            .or(self.due_date)
            .or_else(|| issue_date.checked_add_days(Days::new(DEFAULT_PAYMENT_TERMS_DAYS)))
            .unwrap_or(issue_date);
        if due_date < issue_date {
            return Err(InvoiceRuleError::DueBeforeIssue);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("status", &mut next.status, &Some(InvoiceStatus::Issued), |v: &InvoiceStatus| {
            AuditValue::text(v.as_str())
        });
        c.set("issue_date", &mut next.issue_date, &Some(Some(issue_date)), date_audit);
        c.set("due_date", &mut next.due_date, &Some(Some(due_date)), date_audit);
        next.touch(now);
        Ok((next, c.0))
    }

    /// Voids a draft, or an issued invoice nothing has been paid on.
    ///
    /// # Errors
    /// [`InvoiceRuleError`] when already void or when payments exist.
    pub fn void(
        &self,
        reason: Option<LongText>,
        now: DateTime<Utc>,
    ) -> Result<(Invoice, Vec<FieldChange>), InvoiceRuleError> {
        match self.status {
            InvoiceStatus::Void => return Err(InvoiceRuleError::AlreadyVoid),
            InvoiceStatus::Paid => return Err(InvoiceRuleError::HasPayments),
            _ if self.amount_paid > 0 => return Err(InvoiceRuleError::HasPayments),
            _ => {}
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("status", &mut next.status, &Some(InvoiceStatus::Void), |v: &InvoiceStatus| AuditValue::text(v.as_str()));
        c.set("voided_at", &mut next.voided_at, &Some(Some(now)), at_audit);
        c.set("void_reason", &mut next.void_reason, &Some(reason), |v| AuditValue::optional(v.as_ref()));
        next.touch(now);
        Ok((next, c.0))
    }

    /// Records a payment on an issued invoice; the invoice is paid once the payments reach its
    /// total.
    ///
    /// # Errors
    /// [`InvoiceRuleError`] when not issued, in another currency, or above the balance due.
    pub fn pay(
        &self,
        id: Uuid,
        draft: PaymentDraft,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Invoice, Vec<FieldChange>, Payment), InvoiceRuleError> {
        if self.status != InvoiceStatus::Issued {
            return Err(InvoiceRuleError::NotIssued);
        }
        if draft.amount.currency != self.lines.currency {
            return Err(InvoiceRuleError::CurrencyMismatch);
        }
        let balance = self.balance_due();
        if draft.amount.amount > balance {
            return Err(InvoiceRuleError::Overpayment(balance));
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("amount_paid", &mut next.amount_paid, &Some(self.amount_paid + draft.amount.amount), |v: &i64| {
            AuditValue::Integer(*v)
        });
        if next.amount_paid == self.lines.totals.total {
            c.set("status", &mut next.status, &Some(InvoiceStatus::Paid), |v: &InvoiceStatus| {
                AuditValue::text(v.as_str())
            });
            c.set("paid_at", &mut next.paid_at, &Some(Some(draft.paid_at)), at_audit);
        }
        next.touch(now);
        let payment = Payment {
            id,
            organization_id: self.organization_id,
            invoice_id: self.id,
            amount: draft.amount,
            paid_at: draft.paid_at,
            method: draft.method,
            reference: draft.reference,
            created_at: now,
            created_by: actor_id,
        };
        Ok((next, c.0, payment))
    }

    pub fn position(&self, field: DocumentSortField) -> KeysetPosition {
        let value = match field {
            DocumentSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            DocumentSortField::UpdatedAt => SortValue::Timestamp(self.updated_at),
            DocumentSortField::Number => SortValue::Integer(self.number.sequence),
            DocumentSortField::Total => SortValue::Integer(self.lines.totals.total),
        };
        KeysetPosition { value, id: self.id }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceQuery {
    pub statuses: Vec<InvoiceStatus>,
    /// `Some(true)`: issued and past due on `today`; `Some(false)`: anything else.
    pub overdue: Option<bool>,
    pub today: NaiveDate,
    pub account_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub sort: Sort<DocumentSortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::{LineItem, Quantity, Totals};
    use crate::money::Currency;
    use crate::product::Percent;
    use crate::quote::DocumentKind;

    fn eur() -> Currency {
        Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn draft_of(total: i64) -> Invoice {
        let line = LineItem::price(
            "l",
            None,
            LongText::from_trusted("Work".into()),
            Quantity::from_thousandths(1000),
            total,
            Percent::from_hundredths(0),
            Percent::from_hundredths(0),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let totals = Totals::of(std::slice::from_ref(&line)).unwrap_or_else(|e| panic!("{e:?}"));
        let lines = Lines { currency: eur(), items: vec![line], totals };
        let draft = InvoiceDraft {
            account_id: Some(Uuid::now_v7()),
            contact_id: None,
            due_date: None,
            notes: None,
            custom_fields: CustomFields::empty(),
            owner_id: None,
        };
        Invoice::create(
            Uuid::now_v7(),
            Uuid::now_v7(),
            DocumentNumber::new(DocumentKind::Invoice, 7),
            Uuid::now_v7(),
            draft,
            lines,
            Utc::now(),
        )
        .unwrap()
    }

    fn payment(amount: i64, currency: Currency) -> PaymentDraft {
        PaymentDraft {
            amount: Money { amount, currency },
            paid_at: Utc::now(),
            method: PaymentMethod::BankTransfer,
            reference: None,
        }
    }

    #[test]
    fn issuing_defaults_to_thirty_days_of_credit_and_becomes_overdue_after() {
        let (issued, _) = draft_of(10_000).issue(None, None, day("2026-01-31"), Utc::now()).unwrap();
        assert_eq!(issued.issue_date, Some(day("2026-01-31")));
        assert_eq!(issued.due_date, Some(day("2026-03-02")));
        assert!(!issued.overdue_on(day("2026-03-02")));
        assert!(issued.overdue_on(day("2026-03-03")));
        let early_due =
            draft_of(10_000).issue(Some(day("2026-02-10")), Some(day("2026-02-09")), day("2026-02-10"), Utc::now());
        assert_eq!(early_due.err(), Some(InvoiceRuleError::DueBeforeIssue));
        assert_eq!(draft_of(0).issue(None, None, day("2026-01-31"), Utc::now()).err(), Some(InvoiceRuleError::Empty));
    }

    #[test]
    fn payments_reach_the_total_and_never_pass_it() {
        let draft = draft_of(10_000);
        assert_eq!(
            draft.pay(Uuid::now_v7(), payment(100, eur()), Uuid::now_v7(), Utc::now()).err(),
            Some(InvoiceRuleError::NotIssued)
        );
        let (issued, _) = draft.issue(None, None, day("2026-01-01"), Utc::now()).unwrap();
        let usd = Currency::parse("c", "USD").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            issued.pay(Uuid::now_v7(), payment(100, usd), Uuid::now_v7(), Utc::now()).err(),
            Some(InvoiceRuleError::CurrencyMismatch)
        );
        let (part, _, _) = issued.pay(Uuid::now_v7(), payment(4_000, eur()), Uuid::now_v7(), Utc::now()).unwrap();
        assert_eq!((part.status, part.balance_due()), (InvoiceStatus::Issued, 6_000));
        assert_eq!(
            part.pay(Uuid::now_v7(), payment(6_001, eur()), Uuid::now_v7(), Utc::now()).err(),
            Some(InvoiceRuleError::Overpayment(6_000))
        );
        assert_eq!(part.void(None, Utc::now()).err(), Some(InvoiceRuleError::HasPayments));
        let (paid, _, _) = part.pay(Uuid::now_v7(), payment(6_000, eur()), Uuid::now_v7(), Utc::now()).unwrap();
        assert_eq!((paid.status, paid.balance_due()), (InvoiceStatus::Paid, 0));
        assert!(paid.paid_at.is_some());
        assert!(!paid.overdue_on(day("2027-01-01")));
    }

    #[test]
    fn issued_invoices_keep_their_lines() {
        let (issued, _) = draft_of(10_000).issue(None, None, day("2026-01-01"), Utc::now()).unwrap();
        let patch = InvoicePatch { lines: Some(Lines::empty(eur())), ..InvoicePatch::default() };
        assert_eq!(issued.apply(&patch, Utc::now()).err(), Some(InvoiceRuleError::NotDraft));
        let notes =
            InvoicePatch { notes: Some(Some(LongText::from_trusted("PO 12".into()))), ..InvoicePatch::default() };
        assert!(issued.apply(&notes, Utc::now()).is_ok());
        let (void, _) = draft_of(1).void(None, Utc::now()).unwrap();
        assert_eq!(void.void(None, Utc::now()).err(), Some(InvoiceRuleError::AlreadyVoid));
    }
}
