//! Quotes, orders, invoices and payments. Each document is one row whose columns are listed once
//! (`*_COLUMNS`): the insert and the update statements are generated from that list and bound by
//! one macro per document, so the column order cannot drift between them. Lines are a JSON array
//! in `line_items`; totals are columns.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::invoice::{Invoice, InvoiceQuery, InvoiceStatus, Payment, PaymentMethod};
use crm_domain::lines::{LineItem, Lines, Quantity, Totals};
use crm_domain::list::{KeysetPosition, Page, SortDirection, SortValue, Window};
use crm_domain::money::{Currency, Money};
use crm_domain::order::{DocumentSortField, Order, OrderQuery, OrderStatus};
use crm_domain::ports::DocumentRepository;
use crm_domain::product::Percent;
use crm_domain::quote::{Acceptance, DocumentKind, DocumentNumber, Quote, QuoteQuery, QuoteStatus};
use crm_domain::value::{CustomFields, LongText, Name};
use serde_json::{Value, json};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use std::sync::LazyLock;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, map, plain};
use crate::opportunities::write_stage_change;
use crate::rows::{address_from_json, address_json, custom_fields_json, rows};

const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };
const INVOICE_VIOLATIONS: Violations = Violations { unique: Some("order_id"), foreign_key: Some("owner_id") };

const QUOTE_COLUMNS: &str = "organization_id, id, number_seq, number, opportunity_id, account_id, contact_id, owner_id, \
     status, valid_until, currency, line_items, subtotal, discount_total, tax_total, total, notes, custom_fields, \
     sent_at, accepted_at, rejected_at, rejection_reason, order_id, created_at, updated_at, created_by, version, \
     archived_at";

const ORDER_COLUMNS: &str = "organization_id, id, number_seq, number, account_id, contact_id, opportunity_id, quote_id, \
     owner_id, status, currency, line_items, subtotal, discount_total, tax_total, total, shipping_address, notes, \
     custom_fields, confirmed_at, fulfilled_at, delivered_at, cancelled_at, cancellation_reason, created_at, \
     updated_at, created_by, version";

const INVOICE_COLUMNS: &str = "organization_id, id, number_seq, number, order_id, account_id, contact_id, \
     opportunity_id, owner_id, status, currency, line_items, subtotal, discount_total, tax_total, total, issue_date, \
     due_date, amount_paid, paid_at, voided_at, void_reason, notes, custom_fields, created_at, updated_at, created_by, \
     version";

const PAYMENT_COLUMNS: &str =
    "organization_id, id, invoice_id, amount, currency, paid_at, method, reference, created_at, created_by";

fn columns(list: &str) -> Vec<&str> {
    list.split(',').map(str::trim).collect()
}

fn placeholders(range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `INSERT INTO table (every column) VALUES ($1, ...)`.
fn insert_sql(table: &str, list: &str) -> String {
    let n = columns(list).len();
    format!("INSERT INTO {table} ({list}) VALUES ({})", placeholders(1..n + 1))
}

/// `UPDATE table SET (every column but the key) = ($3, ...) WHERE key = ($1, $2) AND version = $n`:
/// bound exactly like the insert, plus the expected version last.
fn update_sql(table: &str, list: &str) -> String {
    let rest = &columns(list)[2..];
    let n = rest.len();
    format!(
        "UPDATE {table} SET ({}) = ({}) WHERE organization_id = $1 AND id = $2 AND version = ${}",
        rest.join(", "),
        placeholders(3..n + 3),
        n + 3
    )
}

static INSERT_QUOTE: LazyLock<String> = LazyLock::new(|| insert_sql("quotes", QUOTE_COLUMNS));
static UPDATE_QUOTE: LazyLock<String> = LazyLock::new(|| update_sql("quotes", QUOTE_COLUMNS));
static INSERT_ORDER: LazyLock<String> = LazyLock::new(|| insert_sql("orders", ORDER_COLUMNS));
static UPDATE_ORDER: LazyLock<String> = LazyLock::new(|| update_sql("orders", ORDER_COLUMNS));
static INSERT_INVOICE: LazyLock<String> = LazyLock::new(|| insert_sql("invoices", INVOICE_COLUMNS));
static UPDATE_INVOICE: LazyLock<String> = LazyLock::new(|| update_sql("invoices", INVOICE_COLUMNS));
static INSERT_PAYMENT: LazyLock<String> = LazyLock::new(|| insert_sql("payments", PAYMENT_COLUMNS));

rows! {
    pub(crate) struct QuoteRow {
        organization_id: Uuid,
        id: Uuid,
        number_seq: i64,
        number: String,
        opportunity_id: Uuid,
        account_id: Option<Uuid>,
        contact_id: Option<Uuid>,
        owner_id: Uuid,
        status: String,
        valid_until: Option<NaiveDate>,
        currency: String,
        line_items: Json<Value>,
        subtotal: i64,
        discount_total: i64,
        tax_total: i64,
        total: i64,
        notes: Option<String>,
        custom_fields: Json<Value>,
        sent_at: Option<DateTime<Utc>>,
        accepted_at: Option<DateTime<Utc>>,
        rejected_at: Option<DateTime<Utc>>,
        rejection_reason: Option<String>,
        order_id: Option<Uuid>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        created_by: Uuid,
        version: i64,
        archived_at: Option<DateTime<Utc>>,
    }

    pub(crate) struct OrderRow {
        organization_id: Uuid,
        id: Uuid,
        number_seq: i64,
        number: String,
        account_id: Option<Uuid>,
        contact_id: Option<Uuid>,
        opportunity_id: Option<Uuid>,
        quote_id: Option<Uuid>,
        owner_id: Uuid,
        status: String,
        currency: String,
        line_items: Json<Value>,
        subtotal: i64,
        discount_total: i64,
        tax_total: i64,
        total: i64,
        shipping_address: Option<Json<Value>>,
        notes: Option<String>,
        custom_fields: Json<Value>,
        confirmed_at: Option<DateTime<Utc>>,
        fulfilled_at: Option<DateTime<Utc>>,
        delivered_at: Option<DateTime<Utc>>,
        cancelled_at: Option<DateTime<Utc>>,
        cancellation_reason: Option<String>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        created_by: Uuid,
        version: i64,
    }

    pub(crate) struct InvoiceRow {
        organization_id: Uuid,
        id: Uuid,
        number_seq: i64,
        number: String,
        order_id: Option<Uuid>,
        account_id: Option<Uuid>,
        contact_id: Option<Uuid>,
        opportunity_id: Option<Uuid>,
        owner_id: Uuid,
        status: String,
        currency: String,
        line_items: Json<Value>,
        subtotal: i64,
        discount_total: i64,
        tax_total: i64,
        total: i64,
        issue_date: Option<NaiveDate>,
        due_date: Option<NaiveDate>,
        amount_paid: i64,
        paid_at: Option<DateTime<Utc>>,
        voided_at: Option<DateTime<Utc>>,
        void_reason: Option<String>,
        notes: Option<String>,
        custom_fields: Json<Value>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        created_by: Uuid,
        version: i64,
    }

    pub(crate) struct PaymentRow {
        organization_id: Uuid,
        id: Uuid,
        invoice_id: Uuid,
        amount: i64,
        currency: String,
        paid_at: DateTime<Utc>,
        method: String,
        reference: Option<String>,
        created_at: DateTime<Utc>,
        created_by: Uuid,
    }
}

/// Lines as their JSON column holds them: exact integers (thousandths, hundredths, minor units).
fn lines_json(lines: &Lines) -> Json<Value> {
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

fn lines_from_row(currency: &str, items: &Json<Value>, totals: Totals) -> Result<Lines, RepoError> {
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

fn custom_fields(value: &Json<Value>) -> CustomFields {
    CustomFields::from_trusted(value.0.to_string())
}

fn parsed<T>(
    raw: &str,
    what: &'static str,
    parse: fn(&str, &str) -> Result<T, crm_domain::FieldError>,
) -> Result<T, RepoError> {
    parse(what, raw).map_err(|_| corrupt(what))
}

impl TryFrom<QuoteRow> for Quote {
    type Error = RepoError;
    fn try_from(row: QuoteRow) -> Result<Self, RepoError> {
        let totals = Totals {
            subtotal: row.subtotal,
            discount_total: row.discount_total,
            tax_total: row.tax_total,
            total: row.total,
        };
        Ok(Quote {
            id: row.id,
            organization_id: row.organization_id,
            number: DocumentNumber { sequence: row.number_seq, number: row.number },
            opportunity_id: row.opportunity_id,
            account_id: row.account_id,
            contact_id: row.contact_id,
            owner_id: row.owner_id,
            status: parsed(&row.status, "quote status", QuoteStatus::parse)?,
            valid_until: row.valid_until,
            lines: lines_from_row(&row.currency, &row.line_items, totals)?,
            notes: row.notes.map(LongText::from_trusted),
            custom_fields: custom_fields(&row.custom_fields),
            sent_at: row.sent_at,
            accepted_at: row.accepted_at,
            rejected_at: row.rejected_at,
            rejection_reason: row.rejection_reason.map(LongText::from_trusted),
            order_id: row.order_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
        })
    }
}

impl TryFrom<OrderRow> for Order {
    type Error = RepoError;
    fn try_from(row: OrderRow) -> Result<Self, RepoError> {
        let totals = Totals {
            subtotal: row.subtotal,
            discount_total: row.discount_total,
            tax_total: row.tax_total,
            total: row.total,
        };
        Ok(Order {
            id: row.id,
            organization_id: row.organization_id,
            number: DocumentNumber { sequence: row.number_seq, number: row.number },
            account_id: row.account_id,
            contact_id: row.contact_id,
            opportunity_id: row.opportunity_id,
            quote_id: row.quote_id,
            owner_id: row.owner_id,
            status: parsed(&row.status, "order status", OrderStatus::parse)?,
            lines: lines_from_row(&row.currency, &row.line_items, totals)?,
            shipping_address: address_from_json(row.shipping_address)?,
            notes: row.notes.map(LongText::from_trusted),
            custom_fields: custom_fields(&row.custom_fields),
            confirmed_at: row.confirmed_at,
            fulfilled_at: row.fulfilled_at,
            delivered_at: row.delivered_at,
            cancelled_at: row.cancelled_at,
            cancellation_reason: row.cancellation_reason.map(LongText::from_trusted),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
        })
    }
}

impl TryFrom<InvoiceRow> for Invoice {
    type Error = RepoError;
    fn try_from(row: InvoiceRow) -> Result<Self, RepoError> {
        let totals = Totals {
            subtotal: row.subtotal,
            discount_total: row.discount_total,
            tax_total: row.tax_total,
            total: row.total,
        };
        Ok(Invoice {
            id: row.id,
            organization_id: row.organization_id,
            number: DocumentNumber { sequence: row.number_seq, number: row.number },
            order_id: row.order_id,
            account_id: row.account_id,
            contact_id: row.contact_id,
            opportunity_id: row.opportunity_id,
            owner_id: row.owner_id,
            status: parsed(&row.status, "invoice status", InvoiceStatus::parse)?,
            lines: lines_from_row(&row.currency, &row.line_items, totals)?,
            issue_date: row.issue_date,
            due_date: row.due_date,
            amount_paid: row.amount_paid,
            paid_at: row.paid_at,
            voided_at: row.voided_at,
            void_reason: row.void_reason.map(LongText::from_trusted),
            notes: row.notes.map(LongText::from_trusted),
            custom_fields: custom_fields(&row.custom_fields),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
        })
    }
}

impl TryFrom<PaymentRow> for Payment {
    type Error = RepoError;
    fn try_from(row: PaymentRow) -> Result<Self, RepoError> {
        Ok(Payment {
            id: row.id,
            organization_id: row.organization_id,
            invoice_id: row.invoice_id,
            amount: Money { amount: row.amount, currency: parsed(&row.currency, "currency", Currency::parse)? },
            paid_at: row.paid_at,
            method: parsed(&row.method, "payment method", PaymentMethod::parse)?,
            reference: row.reference.map(Name::from_trusted),
            created_at: row.created_at,
            created_by: row.created_by,
        })
    }
}

/// Binds a document's `currency, line_items, subtotal, discount_total, tax_total, total`.
macro_rules! bind_lines {
    ($query:expr, $lines:expr) => {{
        let lines: &Lines = $lines;
        $query
            .bind(lines.currency.code())
            .bind(lines_json(lines))
            .bind(lines.totals.subtotal)
            .bind(lines.totals.discount_total)
            .bind(lines.totals.tax_total)
            .bind(lines.totals.total)
    }};
}

/// Binds a quote in `QUOTE_COLUMNS` order.
macro_rules! bind_quote {
    ($query:expr, $q:expr) => {{
        let q = $q;
        let query = $query
            .bind(q.organization_id)
            .bind(q.id)
            .bind(q.number.sequence)
            .bind(q.number.number.as_str())
            .bind(q.opportunity_id)
            .bind(q.account_id)
            .bind(q.contact_id)
            .bind(q.owner_id)
            .bind(q.status.as_str())
            .bind(q.valid_until);
        bind_lines!(query, &q.lines)
            .bind(q.notes.as_ref().map(|v| v.as_str()))
            .bind(custom_fields_json(&q.custom_fields)?)
            .bind(q.sent_at)
            .bind(q.accepted_at)
            .bind(q.rejected_at)
            .bind(q.rejection_reason.as_ref().map(|v| v.as_str()))
            .bind(q.order_id)
            .bind(q.created_at)
            .bind(q.updated_at)
            .bind(q.created_by)
            .bind(q.version)
            .bind(q.archived_at)
    }};
}

/// Binds an order in `ORDER_COLUMNS` order.
macro_rules! bind_order {
    ($query:expr, $o:expr) => {{
        let o = $o;
        let query = $query
            .bind(o.organization_id)
            .bind(o.id)
            .bind(o.number.sequence)
            .bind(o.number.number.as_str())
            .bind(o.account_id)
            .bind(o.contact_id)
            .bind(o.opportunity_id)
            .bind(o.quote_id)
            .bind(o.owner_id)
            .bind(o.status.as_str());
        bind_lines!(query, &o.lines)
            .bind(address_json(o.shipping_address.as_ref()))
            .bind(o.notes.as_ref().map(|v| v.as_str()))
            .bind(custom_fields_json(&o.custom_fields)?)
            .bind(o.confirmed_at)
            .bind(o.fulfilled_at)
            .bind(o.delivered_at)
            .bind(o.cancelled_at)
            .bind(o.cancellation_reason.as_ref().map(|v| v.as_str()))
            .bind(o.created_at)
            .bind(o.updated_at)
            .bind(o.created_by)
            .bind(o.version)
    }};
}

/// Binds an invoice in `INVOICE_COLUMNS` order.
macro_rules! bind_invoice {
    ($query:expr, $i:expr) => {{
        let i = $i;
        let query = $query
            .bind(i.organization_id)
            .bind(i.id)
            .bind(i.number.sequence)
            .bind(i.number.number.as_str())
            .bind(i.order_id)
            .bind(i.account_id)
            .bind(i.contact_id)
            .bind(i.opportunity_id)
            .bind(i.owner_id)
            .bind(i.status.as_str());
        bind_lines!(query, &i.lines)
            .bind(i.issue_date)
            .bind(i.due_date)
            .bind(i.amount_paid)
            .bind(i.paid_at)
            .bind(i.voided_at)
            .bind(i.void_reason.as_ref().map(|v| v.as_str()))
            .bind(i.notes.as_ref().map(|v| v.as_str()))
            .bind(custom_fields_json(&i.custom_fields)?)
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(i.created_by)
            .bind(i.version)
    }};
}

/// The next number of the organisation's sequence for `kind`, taken in the caller's transaction:
/// the counter row stays locked (PostgreSQL) or the database stays written (SQLite) until the
/// transaction ends, so two inserts never get the same number.
macro_rules! next_number {
    ($conn:expr, $organization_id:expr, $kind:expr) => {{
        let kind: DocumentKind = $kind;
        let (sequence,): (i64,) = sqlx::query_as(
            "INSERT INTO document_counters (organization_id, kind, last_value) VALUES ($1, $2, 1) \
             ON CONFLICT (organization_id, kind) DO UPDATE SET last_value = document_counters.last_value + 1 \
             RETURNING last_value",
        )
        .bind($organization_id)
        .bind(kind.as_str())
        .fetch_one($conn)
        .await
        .map_err(plain)?;
        DocumentNumber::new(kind, sequence)
    }};
}

/// Runs a document update statement; a missing or changed row answers `NotFound` or `VersionMismatch`.
macro_rules! update_document {
    ($conn:expr, $sql:expr, $bind:ident, $doc:expr, $expected:expr, $table:literal) => {{
        let updated = $bind!(sqlx::query(sqlx::AssertSqlSafe($sql.as_str())), $doc)
            .bind($expected)
            .execute(&mut *$conn)
            .await
            .map_err(|e| map(e, OWNER_VIOLATIONS))?
            .rows_affected();
        if updated == 0 {
            return Err(crate::error::stale_or_missing!(&mut *$conn, $table, $doc.organization_id, $doc.id));
        }
    }};
}

/// Numbers a new document from its kind's sequence and inserts it with its audit event, in one
/// transaction; answers the document as stored.
macro_rules! insert_numbered {
    ($store:expr, $doc:expr, $kind:expr, $sql:expr, $bind:ident, $violations:expr, $entity:literal, $audit:expr) => {{
        let mut tx = $store.begin_write().await?;
        let mut stored = $doc.clone();
        stored.number = next_number!(tx.conn(), $doc.organization_id, $kind);
        $bind!(sqlx::query(sqlx::AssertSqlSafe($sql.as_str())), &stored)
            .execute(tx.conn())
            .await
            .map_err(|e| map(e, $violations))?;
        write_audit!(
            tx.conn(),
            $audit,
            AuditAction::Create,
            $entity,
            stored.id,
            &stored.creation_changes(),
            stored.created_at
        )?;
        tx.commit().await?;
        Ok(stored)
    }};
}

/// Updates a document at its expected version with its audit event, in one transaction.
macro_rules! update_versioned {
    ($store:expr, $doc:expr, $expected:expr, $sql:expr, $bind:ident, $table:literal, $entity:literal, $action:expr, $changes:expr, $audit:expr) => {{
        let mut tx = $store.begin_write().await?;
        let conn = tx.conn();
        update_document!(conn, $sql, $bind, $doc, $expected, $table);
        write_audit!(tx.conn(), $audit, $action, $entity, $doc.id, $changes, $doc.updated_at)?;
        tx.commit().await
    }};
}

fn document_sort(field: DocumentSortField) -> &'static str {
    match field {
        DocumentSortField::CreatedAt => "created_at",
        DocumentSortField::UpdatedAt => "updated_at",
        DocumentSortField::Number => "number_seq",
        DocumentSortField::Total => "total",
    }
}

macro_rules! impl_documents {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl DocumentRepository for $Store {
            async fn insert_quote(&self, quote: &Quote, audit: &AuditContext) -> Result<Quote, RepoError> {
                insert_numbered!(self, quote, DocumentKind::Quote, INSERT_QUOTE, bind_quote, OWNER_VIOLATIONS, "quote", audit)
            }

            async fn get_quote(&self, organization_id: Uuid, quote_id: Uuid) -> Result<Quote, RepoError> {
                let row: QuoteRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {QUOTE_COLUMNS} FROM quotes WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(quote_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn update_quote(
                &self,
                quote: &Quote,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                update_versioned!(self, quote, expected_version, UPDATE_QUOTE, bind_quote, "quotes", "quote", action, changes, audit)
            }

            async fn list_quotes(&self, organization_id: Uuid, query: &QuoteQuery) -> Result<Page<Quote>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {QUOTE_COLUMNS} FROM quotes WHERE organization_id = "));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                if !query.statuses.is_empty() {
                    qb.push(" AND (");
                    for (i, status) in query.statuses.iter().enumerate() {
                        if i > 0 {
                            qb.push(" OR ");
                        }
                        match status {
                            QuoteStatus::Sent => {
                                qb.push("(status = 'sent' AND (valid_until IS NULL OR valid_until >= ");
                                qb.push_bind(query.today).push("))");
                            }
                            QuoteStatus::Expired => {
                                qb.push("(status = 'sent' AND valid_until < ").push_bind(query.today).push(")");
                            }
                            other => {
                                qb.push("status = ").push_bind(other.as_str());
                            }
                        }
                    }
                    qb.push(")");
                }
                if let Some(id) = query.opportunity_id {
                    qb.push(" AND opportunity_id = ").push_bind(id);
                }
                if let Some(id) = query.account_id {
                    qb.push(" AND account_id = ").push_bind(id);
                }
                if let Some(id) = query.owner_id {
                    qb.push(" AND owner_id = ").push_bind(id);
                }
                crate::list::push_keyset_page(&mut qb, document_sort(query.sort.field), query.sort.direction, query.window.after.as_ref(), query.window.limit);
                let rows: Vec<QuoteRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(Quote::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(items, query.window.limit, |q| q.position(field)))
            }

            async fn accept_quote(
                &self,
                acceptance: &Acceptance,
                quote_version: i64,
                opportunity_version: i64,
                order: &Order,
                audit: &AuditContext,
            ) -> Result<Order, RepoError> {
                let mut tx = self.begin_write().await?;
                let conn = tx.conn();
                update_document!(conn, UPDATE_QUOTE, bind_quote, &acceptance.quote, quote_version, "quotes");
                let opportunity = &acceptance.opportunity;
                Self::update_record(tx.conn(), opportunity, opportunity_version).await?;
                write_stage_change!(tx.conn(), opportunity, acceptance.stage_change)?;
                let mut stored = order.clone();
                stored.number = next_number!(tx.conn(), order.organization_id, DocumentKind::Order);
                bind_order!(sqlx::query(sqlx::AssertSqlSafe(INSERT_ORDER.as_str())), &stored)
                    .execute(tx.conn())
                    .await
                    .map_err(|e| map(e, OWNER_VIOLATIONS))?;
                let at = acceptance.quote.updated_at;
                write_audit!(tx.conn(), audit, AuditAction::Update, "quote", acceptance.quote.id, &acceptance.quote_changes, at)?;
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", opportunity.id, &acceptance.opportunity_changes, at)?;
                write_audit!(tx.conn(), audit, AuditAction::Create, "order", stored.id, &stored.creation_changes(), at)?;
                tx.commit().await?;
                Ok(stored)
            }

            async fn insert_order(&self, order: &Order, audit: &AuditContext) -> Result<Order, RepoError> {
                insert_numbered!(self, order, DocumentKind::Order, INSERT_ORDER, bind_order, OWNER_VIOLATIONS, "order", audit)
            }

            async fn get_order(&self, organization_id: Uuid, order_id: Uuid) -> Result<Order, RepoError> {
                let row: OrderRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(order_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn update_order(
                &self,
                order: &Order,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                update_versioned!(self, order, expected_version, UPDATE_ORDER, bind_order, "orders", "order", action, changes, audit)
            }

            async fn list_orders(&self, organization_id: Uuid, query: &OrderQuery) -> Result<Page<Order>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE organization_id = "));
                qb.push_bind(organization_id);
                let statuses: Vec<&'static str> = query.statuses.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "status", &statuses);
                if let Some(id) = query.account_id {
                    qb.push(" AND account_id = ").push_bind(id);
                }
                if let Some(id) = query.opportunity_id {
                    qb.push(" AND opportunity_id = ").push_bind(id);
                }
                if let Some(id) = query.owner_id {
                    qb.push(" AND owner_id = ").push_bind(id);
                }
                crate::list::push_keyset_page(&mut qb, document_sort(query.sort.field), query.sort.direction, query.window.after.as_ref(), query.window.limit);
                let rows: Vec<OrderRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(Order::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(items, query.window.limit, |o| o.position(field)))
            }

            async fn insert_invoice(&self, invoice: &Invoice, audit: &AuditContext) -> Result<Invoice, RepoError> {
                insert_numbered!(self, invoice, DocumentKind::Invoice, INSERT_INVOICE, bind_invoice, INVOICE_VIOLATIONS, "invoice", audit)
            }

            async fn get_invoice(&self, organization_id: Uuid, invoice_id: Uuid) -> Result<Invoice, RepoError> {
                let row: InvoiceRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {INVOICE_COLUMNS} FROM invoices WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(invoice_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn find_invoice_of_order(&self, organization_id: Uuid, order_id: Uuid) -> Result<Option<Invoice>, RepoError> {
                let row: Option<InvoiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {INVOICE_COLUMNS} FROM invoices WHERE organization_id = $1 AND order_id = $2 AND status <> 'void'"
                )))
                .bind(organization_id)
                .bind(order_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.map(Invoice::try_from).transpose()
            }

            async fn update_invoice(
                &self,
                invoice: &Invoice,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                update_versioned!(self, invoice, expected_version, UPDATE_INVOICE, bind_invoice, "invoices", "invoice", action, changes, audit)
            }

            async fn list_invoices(&self, organization_id: Uuid, query: &InvoiceQuery) -> Result<Page<Invoice>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE organization_id = "));
                qb.push_bind(organization_id);
                let statuses: Vec<&'static str> = query.statuses.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "status", &statuses);
                match query.overdue {
                    Some(true) => {
                        qb.push(" AND status = 'issued' AND due_date < ").push_bind(query.today);
                    }
                    Some(false) => {
                        qb.push(" AND NOT (status = 'issued' AND due_date < ").push_bind(query.today).push(")");
                    }
                    None => {}
                }
                if let Some(id) = query.account_id {
                    qb.push(" AND account_id = ").push_bind(id);
                }
                if let Some(id) = query.order_id {
                    qb.push(" AND order_id = ").push_bind(id);
                }
                if let Some(id) = query.owner_id {
                    qb.push(" AND owner_id = ").push_bind(id);
                }
                crate::list::push_keyset_page(&mut qb, document_sort(query.sort.field), query.sort.direction, query.window.after.as_ref(), query.window.limit);
                let rows: Vec<InvoiceRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(Invoice::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(items, query.window.limit, |i| i.position(field)))
            }

            async fn record_payment(
                &self,
                invoice: &Invoice,
                expected_version: i64,
                changes: &[FieldChange],
                payment: &Payment,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let conn = tx.conn();
                update_document!(conn, UPDATE_INVOICE, bind_invoice, invoice, expected_version, "invoices");
                sqlx::query(sqlx::AssertSqlSafe(INSERT_PAYMENT.as_str()))
                    .bind(payment.organization_id)
                    .bind(payment.id)
                    .bind(payment.invoice_id)
                    .bind(payment.amount.amount)
                    .bind(payment.amount.currency.code())
                    .bind(payment.paid_at)
                    .bind(payment.method.as_str())
                    .bind(payment.reference.as_ref().map(|v| v.as_str()))
                    .bind(payment.created_at)
                    .bind(payment.created_by)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                write_audit!(tx.conn(), audit, AuditAction::Update, "invoice", invoice.id, changes, invoice.updated_at)?;
                tx.commit().await
            }

            async fn list_payments(&self, organization_id: Uuid, invoice_id: Uuid, window: &Window) -> Result<Page<Payment>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE organization_id = "));
                qb.push_bind(organization_id).push(" AND invoice_id = ").push_bind(invoice_id);
                crate::list::push_keyset_page(&mut qb, "paid_at", SortDirection::Ascending, window.after.as_ref(), window.limit);
                let rows: Vec<PaymentRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(Payment::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok(Page::from_overfetch(items, window.limit, |p| KeysetPosition { value: SortValue::Timestamp(p.paid_at), id: p.id }))
            }
        }
    };
}

impl_documents!(SqliteStore, sqlx::Sqlite);
impl_documents!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_bind_like_inserts() {
        assert_eq!(
            update_sql("payments", "organization_id, id, a, version"),
            "UPDATE payments SET (a, version) = ($3, $4) WHERE organization_id = $1 AND id = $2 AND version = $5"
        );
        assert_eq!(
            insert_sql("t", "organization_id, id, a"),
            "INSERT INTO t (organization_id, id, a) VALUES ($1, $2, $3)"
        );
    }
}
