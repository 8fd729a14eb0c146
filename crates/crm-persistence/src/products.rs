use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::list::Page;
use crm_domain::money::{Currency, Money};
use crm_domain::ports::ProductRepository;
use crm_domain::product::{Percent, Product, ProductQuery, ProductSortField, Sku};
use crm_domain::value::{CustomFields, LongText, Name};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, map, plain};
use crate::rows::custom_fields_json;

const SKU_VIOLATIONS: Violations = Violations { unique: Some("sku"), foreign_key: None };

const PRODUCT_COLUMNS: &str = "organization_id, id, name, sku, description, unit_price, currency, tax_rate, active, \
     custom_fields, created_at, updated_at, created_by, version, archived_at";

type ProductRow = (
    Uuid,
    Uuid,
    String,
    String,
    Option<String>,
    i64,
    String,
    i64,
    bool,
    Json<serde_json::Value>,
    DateTime<Utc>,
    DateTime<Utc>,
    Uuid,
    i64,
    Option<DateTime<Utc>>,
);

fn product_from_row(row: ProductRow) -> Result<Product, RepoError> {
    let (
        organization_id,
        id,
        name,
        sku,
        description,
        unit_price,
        currency,
        tax_rate,
        active,
        custom_fields,
        created_at,
        updated_at,
        created_by,
        version,
        archived_at,
    ) = row;
    Ok(Product {
        id,
        organization_id,
        name: Name::from_trusted(name),
        sku: Sku::from_trusted(sku),
        description: description.map(LongText::from_trusted),
        unit_price: Money {
            amount: unit_price,
            currency: Currency::parse("currency", &currency).map_err(|_| corrupt("currency"))?,
        },
        tax_rate: Percent::from_hundredths(u32::try_from(tax_rate).map_err(|_| corrupt("tax rate"))?),
        active,
        custom_fields: CustomFields::from_trusted(custom_fields.0.to_string()),
        created_at,
        updated_at,
        created_by,
        version,
        archived_at,
    })
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
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO products (organization_id, id, name, sku, description, unit_price, currency, tax_rate, active, \
                     created_at, updated_at, created_by, version, archived_at, custom_fields) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(product.organization_id)
                .bind(product.id)
                .bind(product.name.as_str())
                .bind(product.sku.as_str())
                .bind(product.description.as_ref().map(|v| v.as_str()))
                .bind(product.unit_price.amount)
                .bind(product.unit_price.currency.code())
                .bind(i64::from(product.tax_rate.hundredths()))
                .bind(product.active)
                .bind(product.created_at)
                .bind(product.updated_at)
                .bind(product.created_by)
                .bind(product.version)
                .bind(product.archived_at)
                .bind(custom_fields_json(&product.custom_fields)?)
                .execute(tx.conn())
                .await
                .map_err(|e| map(e, SKU_VIOLATIONS))?;
                write_audit!(tx.conn(), audit, AuditAction::Create, "product", product.id, &product.creation_changes(), product.created_at)?;
                tx.commit().await
            }

            async fn get_product(&self, organization_id: Uuid, product_id: Uuid) -> Result<Product, RepoError> {
                let row: ProductRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {PRODUCT_COLUMNS} FROM products WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(product_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                product_from_row(row)
            }

            async fn get_products(&self, organization_id: Uuid, product_ids: &[Uuid]) -> Result<Vec<Product>, RepoError> {
                if product_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE organization_id = "));
                qb.push_bind(organization_id);
                crate::list::push_any_id(&mut qb, "id", product_ids);
                let rows: Vec<ProductRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                rows.into_iter().map(product_from_row).collect()
            }

            async fn find_product_by_sku(&self, organization_id: Uuid, sku: &str) -> Result<Option<Product>, RepoError> {
                let row: Option<ProductRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {PRODUCT_COLUMNS} FROM products WHERE organization_id = $1 AND sku = $2"
                )))
                .bind(organization_id)
                .bind(sku)
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.map(product_from_row).transpose()
            }

            async fn update_product(
                &self,
                product: &Product,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE products SET name = $3, sku = $4, description = $5, unit_price = $6, currency = $7, tax_rate = $8, \
                     active = $9, updated_at = $10, version = $11, archived_at = $12, custom_fields = $14 \
                     WHERE organization_id = $1 AND id = $2 AND version = $13",
                )
                .bind(product.organization_id)
                .bind(product.id)
                .bind(product.name.as_str())
                .bind(product.sku.as_str())
                .bind(product.description.as_ref().map(|v| v.as_str()))
                .bind(product.unit_price.amount)
                .bind(product.unit_price.currency.code())
                .bind(i64::from(product.tax_rate.hundredths()))
                .bind(product.active)
                .bind(product.updated_at)
                .bind(product.version)
                .bind(product.archived_at)
                .bind(expected_version)
                .bind(custom_fields_json(&product.custom_fields)?)
                .execute(tx.conn())
                .await
                .map_err(|e| map(e, SKU_VIOLATIONS))?
                .rows_affected();
                if updated == 0 {
                    return Err(crate::error::stale_or_missing!(tx.conn(), "products", product.organization_id, product.id));
                }
                write_audit!(tx.conn(), audit, action, "product", product.id, changes, product.updated_at)?;
                tx.commit().await
            }

            async fn list_products(&self, organization_id: Uuid, query: &ProductQuery) -> Result<Page<Product>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE organization_id = "));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                if let Some(active) = query.active {
                    qb.push(" AND active = ").push_bind(active);
                }
                if let Some(currency) = query.currency {
                    qb.push(" AND currency = ").push_bind(currency.code());
                }
                crate::list::push_search(&mut qb, &["name", "sku"], query.search.as_deref());
                crate::list::push_keyset_page(
                    &mut qb,
                    sort_expr(query.sort.field),
                    query.sort.direction,
                    query.window.after.as_ref(),
                    query.window.limit,
                );
                let rows: Vec<ProductRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(product_from_row).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(items, query.window.limit, |p| p.position(field)))
            }
        }
    };
}

impl_products!(SqliteStore, sqlx::Sqlite);
impl_products!(PgStore, sqlx::Postgres);
