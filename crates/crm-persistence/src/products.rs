use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::AuditContext;
use crm_domain::list::Page;
use crm_domain::money::{Currency, Money};
use crm_domain::ports::ProductRepository;
use crm_domain::product::{Percent, Product, ProductQuery, ProductSortField, Sku};
use crm_domain::value::{CustomFields, LongText, Name};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, plain};
use crate::rows::custom_fields_json;
use crate::table::{Table, table};

const SKU_VIOLATIONS: Violations = Violations { unique: Some("sku"), foreign_key: None };

table! {
    Product => ProductRow in "products", entity "product", violations SKU_VIOLATIONS, |product| {
        name: String = product.name.as_str(),
        sku: String = product.sku.as_str(),
        description: Option<String> = product.description.as_ref().map(|v| v.as_str()),
        unit_price: i64 = product.unit_price.amount,
        currency: String = product.unit_price.currency.code(),
        tax_rate: i64 = i64::from(product.tax_rate.hundredths()),
        active: bool = product.active,
        custom_fields: Json<serde_json::Value> = custom_fields_json(&product.custom_fields)?,
        updated_at: DateTime<Utc> = product.updated_at,
        version: i64 = product.version,
        archived_at: Option<DateTime<Utc>> = product.archived_at,
    }
}

impl TryFrom<ProductRow> for Product {
    type Error = RepoError;
    fn try_from(row: ProductRow) -> Result<Self, RepoError> {
        Ok(Product {
            id: row.id,
            organization_id: row.organization_id,
            name: Name::from_trusted(row.name),
            sku: Sku::from_trusted(row.sku),
            description: row.description.map(LongText::from_trusted),
            unit_price: Money {
                amount: row.unit_price,
                currency: Currency::parse("currency", &row.currency).map_err(|_| corrupt("currency"))?,
            },
            tax_rate: Percent::from_hundredths(u32::try_from(row.tax_rate).map_err(|_| corrupt("tax rate"))?),
            active: row.active,
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
        })
    }
}

fn sort_expr(field: ProductSortField) -> &'static str {
    match field {
        ProductSortField::CreatedAt => "created_at",
        ProductSortField::Name => "name",
        ProductSortField::Sku => "sku",
    }
}

macro_rules! impl_products {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl ProductRepository for $Store {
            async fn insert_product(&self, product: &Product, audit: &AuditContext) -> Result<(), RepoError> {
                self.insert_record(product, &product.creation_changes(), audit).await
            }

            async fn find_product_by_sku(
                &self,
                organization_id: Uuid,
                sku: &str,
            ) -> Result<Option<Product>, RepoError> {
                let row: Option<ProductRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM products WHERE organization_id = $1 AND sku = $2",
                    Product::sql().columns
                )))
                .bind(organization_id)
                .bind(sku)
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.map(Product::try_from).transpose()
            }

            async fn list_products(
                &self,
                organization_id: Uuid,
                query: &ProductQuery,
            ) -> Result<Page<Product>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM products WHERE organization_id = ",
                    Product::sql().columns
                ));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                if let Some(active) = query.active {
                    qb.push(" AND active = ").push_bind(active);
                }
                if let Some(currency) = query.currency {
                    qb.push(" AND currency = ").push_bind(currency.code());
                }
                crate::list::push_search(&mut qb, &["name", "sku"], query.search.as_deref());
                let field = query.sort.field;
                self.fetch_page(qb, sort_expr(query.sort.field), query.sort.direction, &query.window, |p: &Product| {
                    p.position(field)
                })
                .await
            }
        }
    };
}

impl_products!(SqliteStore, sqlx::Sqlite);
impl_products!(PgStore, sqlx::Postgres);
