//! What quotes, orders and invoices share. Each document is one row of its table, declared once
//! with [`table!`](crate::table::table) in `quotes.rs`, `orders.rs` and `invoices.rs`; its lines
//! are a JSON array in `line_items` (read and written here), its totals are columns. A document
//! gets its number from its kind's sequence ([`next_number!`]) in the transaction that inserts it.

use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::lines::{LineItem, Lines, Quantity, Totals};
use crm_domain::money::Currency;
use crm_domain::order::DocumentSortField;
use crm_domain::product::Percent;
use crm_domain::quote::{DocumentKind, DocumentNumber};
use crm_domain::value::LongText;
use serde_json::{Value, json};
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt};
use crate::table::Table;

/// The handlers check the documents a document refers to first, so a foreign-key failure is the
/// owner.
pub(crate) const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };

/// Lines as their JSON column holds them: exact integers (thousandths, hundredths, minor units).
pub(crate) fn lines_json(lines: &Lines) -> Json<Value> {
    Json(Value::Array(
        lines
            .items
            .iter()
            .map(|l| {
                json!({
                    "product_id": l.product_id.map(|id| id.to_string()),
                    "description": l.description.as_str(),
                    "quantity": l.quantity.thousandths(),
                    "unit_price": l.unit_price,
                    "discount_percent": l.discount_percent.hundredths(),
                    "tax_rate": l.tax_rate.hundredths(),
                    "subtotal": l.subtotal,
                    "discount": l.discount,
                    "tax": l.tax,
                    "total": l.total,
                })
            })
            .collect(),
    ))
}

fn line_from_json(value: &Value) -> Option<LineItem> {
    let int = |name: &str| value.get(name).and_then(Value::as_i64);
    let hundredths = |name: &str| int(name).and_then(|v| u32::try_from(v).ok()).map(Percent::from_hundredths);
    let product_id = match value.get("product_id") {
        None | Some(Value::Null) => None,
        Some(id) => Some(Uuid::parse_str(id.as_str()?).ok()?),
    };
    Some(LineItem {
        product_id,
        description: LongText::from_trusted(value.get("description")?.as_str()?.to_owned()),
        quantity: Quantity::from_thousandths(int("quantity")?),
        unit_price: int("unit_price")?,
        discount_percent: hundredths("discount_percent")?,
        tax_rate: hundredths("tax_rate")?,
        subtotal: int("subtotal")?,
        discount: int("discount")?,
        tax: int("tax")?,
        total: int("total")?,
    })
}

/// A document's lines from its `currency`, `line_items` and totals columns.
pub(crate) fn lines_from_row(currency: &str, items: &Json<Value>, totals: Totals) -> Result<Lines, RepoError> {
    let currency = Currency::parse("currency", currency).map_err(|_| corrupt("currency"))?;
    let items = items
        .0
        .as_array()
        .ok_or_else(|| corrupt("line items"))?
        .iter()
        .map(|v| line_from_json(v).ok_or_else(|| corrupt("line item")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Lines { currency, items, totals })
}

/// A stored value that must parse (a status, a method); one that does not is a corrupt row.
pub(crate) fn parsed<T>(
    raw: &str,
    what: &'static str,
    parse: fn(&str, &str) -> Result<T, crm_domain::FieldError>,
) -> Result<T, RepoError> {
    parse(what, raw).map_err(|_| corrupt(what))
}

pub(crate) fn document_sort(field: DocumentSortField) -> &'static str {
    match field {
        DocumentSortField::CreatedAt => "created_at",
        DocumentSortField::UpdatedAt => "updated_at",
        DocumentSortField::Number => "number_seq",
        DocumentSortField::Total => "total",
    }
}

/// The next number of the organisation's sequence for `kind`, taken in the caller's transaction:
/// the counter row stays locked (PostgreSQL) or the database stays written (SQLite) until the
/// transaction ends, so two inserts never get the same number.
macro_rules! next_number {
    ($conn:expr, $organization_id:expr, $kind:expr) => {{
        let kind: crm_domain::quote::DocumentKind = $kind;
        let (sequence,): (i64,) = sqlx::query_as(
            "INSERT INTO document_counters (organization_id, kind, last_value) VALUES ($1, $2, 1) \
             ON CONFLICT (organization_id, kind) DO UPDATE SET last_value = document_counters.last_value + 1 \
             RETURNING last_value",
        )
        .bind($organization_id)
        .bind(kind.as_str())
        .fetch_one($conn)
        .await
        .map_err($crate::error::plain)?;
        crm_domain::quote::DocumentNumber::new(kind, sequence)
    }};
}
pub(crate) use next_number;

/// A document numbered from its kind's sequence when it is inserted.
pub(crate) trait Numbered: Table + Clone {
    const KIND: DocumentKind;
    fn set_number(&mut self, number: DocumentNumber);
    /// The changes of the audit event of its creation.
    fn creation_changes(&self) -> Vec<FieldChange>;
}

/// Implements [`Numbered`] for a document type with a `number` field and `creation_changes`.
macro_rules! numbered {
    ($document:ty, $kind:expr) => {
        impl $crate::documents::Numbered for $document {
            const KIND: crm_domain::quote::DocumentKind = $kind;

            fn set_number(&mut self, number: crm_domain::quote::DocumentNumber) {
                self.number = number;
            }

            fn creation_changes(&self) -> Vec<crm_domain::audit::FieldChange> {
                <$document>::creation_changes(self)
            }
        }
    };
}
pub(crate) use numbered;

macro_rules! impl_insert_numbered {
    ($Store:ident) => {
        impl $Store {
            /// Numbers a new document from its kind's sequence and inserts it with its audit
            /// event, in one transaction; answers the document as stored.
            ///
            /// # Errors
            /// What `T::VIOLATIONS` names.
            pub(crate) async fn insert_numbered<T: Numbered>(
                &self,
                document: &T,
                audit: &AuditContext,
            ) -> Result<T, RepoError> {
                let mut tx = self.begin_write().await?;
                let mut stored = document.clone();
                stored.set_number(next_number!(tx.conn(), document.organization_id(), T::KIND));
                Self::insert_row(tx.conn(), &stored).await?;
                let created_at: DateTime<Utc> = stored.created().0;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Create,
                    T::ENTITY,
                    stored.id(),
                    &stored.creation_changes(),
                    created_at,
                    stored.about()
                )?;
                tx.commit().await?;
                Ok(stored)
            }
        }
    };
}

impl_insert_numbered!(SqliteStore);
impl_insert_numbered!(PgStore);

/// A column list's names in order of name, to compare two lists as sets.
#[cfg(test)]
pub(crate) fn sorted_columns(list: &str) -> Vec<&str> {
    let mut columns: Vec<&str> = list.split(',').map(str::trim).collect();
    columns.sort_unstable();
    columns
}
