//! Quotes, and the acceptance of a quote: the quote, its opportunity closed won and the new
//! order, in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext};
use crm_domain::lines::Totals;
use crm_domain::list::Page;
use crm_domain::order::Order;
use crm_domain::ports::QuoteRepository;
use crm_domain::quote::{Acceptance, DocumentKind, DocumentNumber, Quote, QuoteQuery, QuoteStatus};
use crm_domain::timeline::Concerns;
use crm_domain::value::{CustomFields, LongText};
use serde_json::Value;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::documents::{OWNER_VIOLATIONS, document_sort, lines_from_row, lines_json, next_number, numbered, parsed};
use crate::error::plain;
use crate::opportunities::write_stage_change;
use crate::rows::custom_fields_json;
use crate::table::{Table, table};

table! {
    Quote => QuoteRow in "quotes", entity "quote", violations OWNER_VIOLATIONS, |quote| {
        number_seq: i64 = quote.number.sequence,
        number: String = quote.number.number.as_str(),
        opportunity_id: Uuid = quote.opportunity_id,
        account_id: Option<Uuid> = quote.account_id,
        contact_id: Option<Uuid> = quote.contact_id,
        owner_id: Uuid = quote.owner_id,
        status: String = quote.status.as_str(),
        valid_until: Option<NaiveDate> = quote.valid_until,
        currency: String = quote.lines.currency.code(),
        line_items: Json<Value> = lines_json(&quote.lines),
        subtotal: i64 = quote.lines.totals.subtotal,
        discount_total: i64 = quote.lines.totals.discount_total,
        tax_total: i64 = quote.lines.totals.tax_total,
        total: i64 = quote.lines.totals.total,
        notes: Option<String> = quote.notes.as_ref().map(|v| v.as_str()),
        custom_fields: Json<Value> = custom_fields_json(&quote.custom_fields)?,
        sent_at: Option<DateTime<Utc>> = quote.sent_at,
        accepted_at: Option<DateTime<Utc>> = quote.accepted_at,
        rejected_at: Option<DateTime<Utc>> = quote.rejected_at,
        rejection_reason: Option<String> = quote.rejection_reason.as_ref().map(|v| v.as_str()),
        order_id: Option<Uuid> = quote.order_id,
        updated_at: DateTime<Utc> = quote.updated_at,
        version: i64 = quote.version,
        archived_at: Option<DateTime<Utc>> = quote.archived_at,
    }
}

numbered!(Quote, DocumentKind::Quote);

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
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
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

macro_rules! impl_quotes {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl QuoteRepository for $Store {
            async fn insert_quote(&self, quote: &Quote, audit: &AuditContext) -> Result<Quote, RepoError> {
                self.insert_numbered(quote, audit).await
            }

            async fn list_quotes(&self, organization_id: Uuid, query: &QuoteQuery) -> Result<Page<Quote>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM quotes WHERE organization_id = ",
                    Quote::sql().columns
                ));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                crate::list::push_any_of(&mut qb, &query.statuses, |qb, status| match status {
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
                });
                if let Some(id) = query.opportunity_id {
                    qb.push(" AND opportunity_id = ").push_bind(id);
                }
                if let Some(id) = query.account_id {
                    qb.push(" AND account_id = ").push_bind(id);
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
                    |q: &Quote| q.position(field),
                )
                .await
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
                Self::update_record(tx.conn(), &acceptance.quote, quote_version).await?;
                let opportunity = &acceptance.opportunity;
                Self::update_record(tx.conn(), opportunity, opportunity_version).await?;
                write_stage_change!(tx.conn(), opportunity, acceptance.stage_change)?;
                let mut stored = order.clone();
                stored.number = next_number!(tx.conn(), order.organization_id, DocumentKind::Order);
                Self::insert_row(tx.conn(), &stored).await?;
                let at = acceptance.quote.updated_at;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "quote",
                    acceptance.quote.id,
                    &acceptance.quote_changes,
                    at,
                    acceptance.quote.about()
                )?;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "opportunity",
                    opportunity.id,
                    &acceptance.opportunity_changes,
                    at,
                    opportunity.about()
                )?;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Create,
                    "order",
                    stored.id,
                    &stored.creation_changes(),
                    at,
                    stored.about()
                )?;
                tx.commit().await?;
                Ok(stored)
            }
        }
    };
}

impl_quotes!(SqliteStore, sqlx::Sqlite);
impl_quotes!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::sorted_columns;

    #[test]
    fn a_quote_keeps_its_columns() {
        // Every column of the table (migration 0009), in any order.
        let expected = "organization_id, id, number_seq, number, opportunity_id, account_id, contact_id, owner_id, \
             status, valid_until, currency, line_items, subtotal, discount_total, tax_total, total, notes, custom_fields, \
             sent_at, accepted_at, rejected_at, rejection_reason, order_id, created_at, updated_at, created_by, version, \
             archived_at";
        assert_eq!(sorted_columns(&Quote::sql().columns), sorted_columns(expected));
    }
}
