//! Invoices and their payments. A payment is written once, with the invoice it changes, and
//! never updated: it has no version, so it is no [`Table`] record; its columns are listed once
//! here for its insert and its reads.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::invoice::{Invoice, InvoiceQuery, InvoiceStatus, Payment, PaymentMethod};
use crm_domain::lines::Totals;
use crm_domain::list::{KeysetPosition, Page, SortDirection, SortValue, Window};
use crm_domain::money::{Currency, Money};
use crm_domain::ports::InvoiceRepository;
use crm_domain::quote::{DocumentKind, DocumentNumber};
use crm_domain::timeline::Concerns;
use crm_domain::value::{CustomFields, LongText, Name};
use serde_json::Value;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use std::sync::LazyLock;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::documents::{document_sort, lines_from_row, lines_json, numbered, parsed};
use crate::error::{Violations, plain};
use crate::rows::{custom_fields_json, rows};
use crate::table::{Table, table};

/// An order has at most one invoice that is not void.
const INVOICE_VIOLATIONS: Violations = Violations { unique: Some("order_id"), foreign_key: Some("owner_id") };

table! {
    Invoice => InvoiceRow in "invoices", entity "invoice", violations INVOICE_VIOLATIONS, |invoice| {
        number_seq: i64 = invoice.number.sequence,
        number: String = invoice.number.number.as_str(),
        order_id: Option<Uuid> = invoice.order_id,
        account_id: Option<Uuid> = invoice.account_id,
        contact_id: Option<Uuid> = invoice.contact_id,
        opportunity_id: Option<Uuid> = invoice.opportunity_id,
        owner_id: Uuid = invoice.owner_id,
        status: String = invoice.status.as_str(),
        currency: String = invoice.lines.currency.code(),
        line_items: Json<Value> = lines_json(&invoice.lines),
        subtotal: i64 = invoice.lines.totals.subtotal,
        discount_total: i64 = invoice.lines.totals.discount_total,
        tax_total: i64 = invoice.lines.totals.tax_total,
        total: i64 = invoice.lines.totals.total,
        issue_date: Option<NaiveDate> = invoice.issue_date,
        due_date: Option<NaiveDate> = invoice.due_date,
        amount_paid: i64 = invoice.amount_paid,
        paid_at: Option<DateTime<Utc>> = invoice.paid_at,
        voided_at: Option<DateTime<Utc>> = invoice.voided_at,
        void_reason: Option<String> = invoice.void_reason.as_ref().map(|v| v.as_str()),
        notes: Option<String> = invoice.notes.as_ref().map(|v| v.as_str()),
        custom_fields: Json<Value> = custom_fields_json(&invoice.custom_fields)?,
        updated_at: DateTime<Utc> = invoice.updated_at,
        version: i64 = invoice.version,
    }
}

numbered!(Invoice, DocumentKind::Invoice);

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
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
        })
    }
}

const PAYMENT_COLUMNS: &str =
    "organization_id, id, invoice_id, amount, currency, paid_at, method, reference, created_at, created_by";

static INSERT_PAYMENT: LazyLock<String> = LazyLock::new(|| {
    let placeholders: Vec<String> = (1..=PAYMENT_COLUMNS.split(',').count()).map(|i| format!("${i}")).collect();
    format!("INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ({})", placeholders.join(", "))
});

rows! {
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

macro_rules! impl_invoices {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl InvoiceRepository for $Store {
            async fn insert_invoice(&self, invoice: &Invoice, audit: &AuditContext) -> Result<Invoice, RepoError> {
                self.insert_numbered(invoice, audit).await
            }

            async fn find_invoice_of_order(
                &self,
                organization_id: Uuid,
                order_id: Uuid,
            ) -> Result<Option<Invoice>, RepoError> {
                let row: Option<InvoiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM invoices WHERE organization_id = $1 AND order_id = $2 AND status <> 'void'",
                    Invoice::sql().columns
                )))
                .bind(organization_id)
                .bind(order_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.map(Invoice::try_from).transpose()
            }

            async fn list_invoices(
                &self,
                organization_id: Uuid,
                query: &InvoiceQuery,
            ) -> Result<Page<Invoice>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM invoices WHERE organization_id = ",
                    Invoice::sql().columns
                ));
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
                let field = query.sort.field;
                self.fetch_page(
                    qb,
                    document_sort(query.sort.field),
                    query.sort.direction,
                    &query.window,
                    |i: &Invoice| i.position(field),
                )
                .await
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
                Self::update_record(tx.conn(), invoice, expected_version).await?;
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
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "invoice",
                    invoice.id,
                    changes,
                    invoice.updated_at,
                    invoice.about()
                )?;
                tx.commit().await
            }

            async fn list_payments(
                &self,
                organization_id: Uuid,
                invoice_id: Uuid,
                window: &Window,
            ) -> Result<Page<Payment>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {PAYMENT_COLUMNS} FROM payments WHERE organization_id = "
                ));
                qb.push_bind(organization_id).push(" AND invoice_id = ").push_bind(invoice_id);
                crate::list::push_keyset_page(
                    &mut qb,
                    "paid_at",
                    SortDirection::Ascending,
                    window.after.as_ref(),
                    window.limit,
                );
                let rows: Vec<PaymentRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(Payment::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok(Page::from_overfetch(items, window.limit, |p| KeysetPosition {
                    value: SortValue::Timestamp(p.paid_at),
                    id: p.id,
                }))
            }
        }
    };
}

impl_invoices!(SqliteStore, sqlx::Sqlite);
impl_invoices!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::sorted_columns;

    #[test]
    fn an_invoice_keeps_its_columns() {
        // Every column of the table (migration 0009), in any order.
        let expected = "organization_id, id, number_seq, number, order_id, account_id, contact_id, \
             opportunity_id, owner_id, status, currency, line_items, subtotal, discount_total, tax_total, total, issue_date, \
             due_date, amount_paid, paid_at, voided_at, void_reason, notes, custom_fields, created_at, updated_at, created_by, \
             version";
        assert_eq!(sorted_columns(&Invoice::sql().columns), sorted_columns(expected));
    }

    #[test]
    fn a_payment_binds_every_column() {
        assert_eq!(
            INSERT_PAYMENT.as_str(),
            "INSERT INTO payments (organization_id, id, invoice_id, amount, currency, paid_at, method, reference, \
             created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
    }
}
