//! Orders: the closed sale, created by accepting a quote, moving from pending through confirmed,
//! fulfilled (handed to the people who ship the stock) and delivered, or cancelled before it ships.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::address::Address;
use crate::audit::{AuditValue, FieldChange};
use crate::lines::Lines;
use crate::list::{KeysetPosition, Sort, SortValue, Window};
use crate::quote::{DocumentNumber, Quote, QuoteSortField};
use crate::record::{Changes, rfc3339};
use crate::string_enum;
use crate::value::{CustomFields, LongText};

string_enum!(
    OrderStatus {
        Pending => "pending",
        Confirmed => "confirmed",
        Fulfilled => "fulfilled",
        Delivered => "delivered",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// The transitions: confirm (pending → confirmed), fulfill (confirmed → fulfilled), deliver
    /// (fulfilled → delivered), cancel (pending or confirmed → cancelled).
    OrderAction {
        Confirm => "confirm",
        Fulfill => "fulfill",
        Deliver => "deliver",
        Cancel => "cancel",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub number: DocumentNumber,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub quote_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub status: OrderStatus,
    pub lines: Lines,
    pub shipping_address: Option<Address>,
    pub notes: Option<LongText>,
    pub custom_fields: CustomFields,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancellation_reason: Option<LongText>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
}

/// An order of its own, not from a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDraft {
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub shipping_address: Option<Address>,
    pub notes: Option<LongText>,
    pub custom_fields: CustomFields,
    pub owner_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderPatch {
    pub shipping_address: Option<Option<Address>>,
    pub notes: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
    pub owner_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrderRuleError {
    #[error("the order cannot take this step from its current status")]
    InvalidTransition,
    #[error("the shipping address cannot change once the order is fulfilled or cancelled")]
    Shipped,
    #[error("a cancelled order cannot be invoiced")]
    Cancelled,
    #[error("an order needs an account_id, a contact_id, or both")]
    NoBuyer,
}

impl OrderRuleError {
    pub fn code(self) -> &'static str {
        match self {
            OrderRuleError::InvalidTransition => "invalid_transition",
            OrderRuleError::Shipped => "order_shipped",
            OrderRuleError::Cancelled => "order_cancelled",
            OrderRuleError::NoBuyer => "buyer_required",
        }
    }
}

fn at_audit(v: &Option<DateTime<Utc>>) -> AuditValue {
    v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
}

impl Order {
    /// The order an accepted quote creates: its lines, buyers and deal; shipped to
    /// `shipping_address` (the account's, when it has one).
    pub fn from_quote(
        id: Uuid,
        number: DocumentNumber,
        quote: &Quote,
        shipping_address: Option<Address>,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Order {
        Order {
            id,
            organization_id: quote.organization_id,
            number,
            account_id: quote.account_id,
            contact_id: quote.contact_id,
            opportunity_id: Some(quote.opportunity_id),
            quote_id: Some(quote.id),
            owner_id: quote.owner_id,
            status: OrderStatus::Pending,
            lines: quote.lines.clone(),
            shipping_address,
            notes: None,
            custom_fields: CustomFields::empty(),
            confirmed_at: None,
            fulfilled_at: None,
            delivered_at: None,
            cancelled_at: None,
            cancellation_reason: None,
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
        }
    }

    /// A pending order of its own.
    ///
    /// # Errors
    /// [`OrderRuleError::NoBuyer`] without an account or a contact.
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        number: DocumentNumber,
        actor_id: Uuid,
        draft: OrderDraft,
        lines: Lines,
        now: DateTime<Utc>,
    ) -> Result<Order, OrderRuleError> {
        if draft.account_id.is_none() && draft.contact_id.is_none() {
            return Err(OrderRuleError::NoBuyer);
        }
        Ok(Order {
            id,
            organization_id,
            number,
            account_id: draft.account_id,
            contact_id: draft.contact_id,
            opportunity_id: draft.opportunity_id,
            quote_id: None,
            owner_id: draft.owner_id.unwrap_or(actor_id),
            status: OrderStatus::Pending,
            lines,
            shipping_address: draft.shipping_address,
            notes: draft.notes,
            custom_fields: draft.custom_fields,
            confirmed_at: None,
            fulfilled_at: None,
            delivered_at: None,
            cancelled_at: None,
            cancellation_reason: None,
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
        })
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let mut changes = vec![
            FieldChange::new("number", AuditValue::Null, AuditValue::text(&self.number.number)),
            FieldChange::new("status", AuditValue::Null, AuditValue::text(self.status.as_str())),
            FieldChange::new("total", AuditValue::Null, AuditValue::Integer(self.lines.totals.total)),
        ];
        if let Some(quote_id) = self.quote_id {
            changes.push(FieldChange::new("quote_id", AuditValue::Null, AuditValue::Text(quote_id.to_string())));
        }
        changes
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    /// # Errors
    /// [`OrderRuleError::Shipped`] when the shipping address changes after fulfilment.
    pub fn apply(&self, patch: &OrderPatch, now: DateTime<Utc>) -> Result<(Order, Vec<FieldChange>), OrderRuleError> {
        let shipped = matches!(self.status, OrderStatus::Fulfilled | OrderStatus::Delivered | OrderStatus::Cancelled);
        if shipped && patch.shipping_address.as_ref().is_some_and(|a| *a != self.shipping_address) {
            return Err(OrderRuleError::Shipped);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("shipping_address", &mut next.shipping_address, &patch.shipping_address, |v| {
            AuditValue::Bool(v.is_some())
        });
        c.set("notes", &mut next.notes, &patch.notes, |v| AuditValue::optional(v.as_ref()));
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v: &CustomFields| {
            AuditValue::text(v.as_json_text())
        });
        c.set("owner_id", &mut next.owner_id, &patch.owner_id, |v: &Uuid| AuditValue::Text(v.to_string()));
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    /// Takes one step of the order's life.
    ///
    /// # Errors
    /// [`OrderRuleError::InvalidTransition`] when the step does not start from the current status.
    pub fn transition(
        &self,
        action: OrderAction,
        reason: Option<LongText>,
        now: DateTime<Utc>,
    ) -> Result<(Order, Vec<FieldChange>), OrderRuleError> {
        use OrderStatus::*;
        let to = match (action, self.status) {
            (OrderAction::Confirm, Pending) => Confirmed,
            (OrderAction::Fulfill, Confirmed) => Fulfilled,
            (OrderAction::Deliver, Fulfilled) => Delivered,
            (OrderAction::Cancel, Pending | Confirmed) => Cancelled,
            _ => return Err(OrderRuleError::InvalidTransition),
        };
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("status", &mut next.status, &Some(to), |v: &OrderStatus| AuditValue::text(v.as_str()));
        let slot = match to {
            Confirmed => &mut next.confirmed_at,
            Fulfilled => &mut next.fulfilled_at,
            Delivered => &mut next.delivered_at,
            _ => &mut next.cancelled_at,
        };
        let field = match to {
            Confirmed => "confirmed_at",
            Fulfilled => "fulfilled_at",
            Delivered => "delivered_at",
            _ => "cancelled_at",
        };
        c.set(field, slot, &Some(Some(now)), at_audit);
        if to == Cancelled {
            c.set("cancellation_reason", &mut next.cancellation_reason, &Some(reason), |v| {
                AuditValue::optional(v.as_ref())
            });
        }
        next.touch(now);
        Ok((next, c.0))
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

/// The sort fields of orders and invoices are those of quotes.
pub type DocumentSortField = QuoteSortField;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub statuses: Vec<OrderStatus>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub sort: Sort<DocumentSortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::quote::DocumentKind;

    fn pending() -> Order {
        let eur = Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"));
        Order {
            id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            number: DocumentNumber::new(DocumentKind::Order, 1),
            account_id: None,
            contact_id: Some(Uuid::now_v7()),
            opportunity_id: None,
            quote_id: None,
            owner_id: Uuid::now_v7(),
            status: OrderStatus::Pending,
            lines: Lines::empty(eur),
            shipping_address: None,
            notes: None,
            custom_fields: CustomFields::empty(),
            confirmed_at: None,
            fulfilled_at: None,
            delivered_at: None,
            cancelled_at: None,
            cancellation_reason: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            created_by: Uuid::now_v7(),
            version: 1,
        }
    }

    #[test]
    fn an_order_moves_forward_one_step_at_a_time() {
        let step = |o: &Order, a| o.transition(a, None, Utc::now()).map(|(n, _)| n);
        let order = pending();
        assert_eq!(step(&order, OrderAction::Fulfill).err(), Some(OrderRuleError::InvalidTransition));
        let confirmed = step(&order, OrderAction::Confirm).unwrap();
        let fulfilled = step(&confirmed, OrderAction::Fulfill).unwrap();
        assert!(fulfilled.fulfilled_at.is_some());
        assert_eq!(fulfilled.version, 3);
        assert_eq!(step(&fulfilled, OrderAction::Cancel).err(), Some(OrderRuleError::InvalidTransition));
        let delivered = step(&fulfilled, OrderAction::Deliver).unwrap();
        assert_eq!(delivered.status, OrderStatus::Delivered);
        let cancelled = step(&confirmed, OrderAction::Cancel).unwrap();
        assert_eq!(step(&cancelled, OrderAction::Confirm).err(), Some(OrderRuleError::InvalidTransition));
    }
}
