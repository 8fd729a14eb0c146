//! Orders: of their own, or written by the acceptance of a quote (`quotes.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::AuditContext;
use crm_domain::lines::Totals;
use crm_domain::list::Page;
use crm_domain::order::{Order, OrderQuery, OrderStatus};
use crm_domain::ports::OrderRepository;
use crm_domain::quote::{DocumentKind, DocumentNumber};
use crm_domain::value::{CustomFields, LongText};
use serde_json::Value;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::documents::{OWNER_VIOLATIONS, document_sort, lines_from_row, lines_json, numbered, parsed};
use crate::rows::{address_from_json, address_json, custom_fields_json};
use crate::table::{Table, table};

table! {
    Order => OrderRow in "orders", entity "order", violations OWNER_VIOLATIONS, |order| {
        number_seq: i64 = order.number.sequence,
        number: String = order.number.number.as_str(),
        account_id: Option<Uuid> = order.account_id,
        contact_id: Option<Uuid> = order.contact_id,
        opportunity_id: Option<Uuid> = order.opportunity_id,
        quote_id: Option<Uuid> = order.quote_id,
        owner_id: Uuid = order.owner_id,
        status: String = order.status.as_str(),
        currency: String = order.lines.currency.code(),
        line_items: Json<Value> = lines_json(&order.lines),
        subtotal: i64 = order.lines.totals.subtotal,
        discount_total: i64 = order.lines.totals.discount_total,
        tax_total: i64 = order.lines.totals.tax_total,
        total: i64 = order.lines.totals.total,
        shipping_address: Option<Json<Value>> = address_json(order.shipping_address.as_ref()),
        notes: Option<String> = order.notes.as_ref().map(|v| v.as_str()),
        custom_fields: Json<Value> = custom_fields_json(&order.custom_fields)?,
        confirmed_at: Option<DateTime<Utc>> = order.confirmed_at,
        fulfilled_at: Option<DateTime<Utc>> = order.fulfilled_at,
        delivered_at: Option<DateTime<Utc>> = order.delivered_at,
        cancelled_at: Option<DateTime<Utc>> = order.cancelled_at,
        cancellation_reason: Option<String> = order.cancellation_reason.as_ref().map(|v| v.as_str()),
        updated_at: DateTime<Utc> = order.updated_at,
        version: i64 = order.version,
    }
}

numbered!(Order, DocumentKind::Order);

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
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
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

macro_rules! impl_orders {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl OrderRepository for $Store {
            async fn insert_order(&self, order: &Order, audit: &AuditContext) -> Result<Order, RepoError> {
                self.insert_numbered(order, audit).await
            }

            async fn list_orders(&self, organization_id: Uuid, query: &OrderQuery) -> Result<Page<Order>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM orders WHERE organization_id = ",
                    Order::sql().columns
                ));
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
                let field = query.sort.field;
                self.fetch_page(
                    qb,
                    document_sort(query.sort.field),
                    query.sort.direction,
                    &query.window,
                    |o: &Order| o.position(field),
                )
                .await
            }
        }
    };
}

impl_orders!(SqliteStore, sqlx::Sqlite);
impl_orders!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::sorted_columns;

    #[test]
    fn an_order_keeps_its_columns() {
        // Every column of the table (migration 0009), in any order.
        let expected = "organization_id, id, number_seq, number, account_id, contact_id, opportunity_id, quote_id, \
             owner_id, status, currency, line_items, subtotal, discount_total, tax_total, total, shipping_address, notes, \
             custom_fields, confirmed_at, fulfilled_at, delivered_at, cancelled_at, cancellation_reason, created_at, \
             updated_at, created_by, version";
        assert_eq!(sorted_columns(&Order::sql().columns), sorted_columns(expected));
    }
}
