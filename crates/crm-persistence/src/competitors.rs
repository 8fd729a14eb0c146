//! Competitors and their products.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::competitor::{
    Competitor, CompetitorProduct, CompetitorProductQuery, CompetitorQuery, CompetitorSortField,
};
use crm_domain::list::Page;
use crm_domain::money::{Currency, Money};
use crm_domain::ports::CompetitorRepository;
use crm_domain::value::{CustomFields, LongText, Name, Url};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{NO_VIOLATIONS, Violations, corrupt, map, plain};
use crate::rows::custom_fields_json;
use crate::table::{Table, table};

table! {
    Competitor => CompetitorRow in "competitors", entity "competitor", violations NO_VIOLATIONS, |competitor| {
        name: String = competitor.name.as_str(),
        website: Option<String> = competitor.website.as_ref().map(|v| v.as_str()),
        strengths: Option<String> = competitor.strengths.as_ref().map(|v| v.as_str()),
        weaknesses: Option<String> = competitor.weaknesses.as_ref().map(|v| v.as_str()),
        notes: Option<String> = competitor.notes.as_ref().map(|v| v.as_str()),
        custom_fields: Json<serde_json::Value> = custom_fields_json(&competitor.custom_fields)?,
        updated_at: DateTime<Utc> = competitor.updated_at,
        version: i64 = competitor.version,
        archived_at: Option<DateTime<Utc>> = competitor.archived_at,
    }
}

impl TryFrom<CompetitorRow> for Competitor {
    type Error = RepoError;
    fn try_from(row: CompetitorRow) -> Result<Self, RepoError> {
        Ok(Competitor {
            id: row.id,
            organization_id: row.organization_id,
            name: Name::from_trusted(row.name),
            website: row.website.map(Url::from_trusted),
            strengths: row.strengths.map(LongText::from_trusted),
            weaknesses: row.weaknesses.map(LongText::from_trusted),
            notes: row.notes.map(LongText::from_trusted),
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
        })
    }
}

const PRODUCT_COLUMNS: &str = "organization_id, id, competitor_id, name, price, currency, compared_product_id, notes, \
     created_at, updated_at, created_by, version";

type ProductRow =
    (Uuid, Uuid, Uuid, String, i64, String, Option<Uuid>, Option<String>, DateTime<Utc>, DateTime<Utc>, Uuid, i64);

fn product_from_row(row: ProductRow) -> Result<CompetitorProduct, RepoError> {
    let (
        organization_id,
        id,
        competitor_id,
        name,
        price,
        currency,
        compared_product_id,
        notes,
        created_at,
        updated_at,
        created_by,
        version,
    ) = row;
    Ok(CompetitorProduct {
        id,
        organization_id,
        competitor_id,
        name: Name::from_trusted(name),
        price: Money {
            amount: price,
            currency: Currency::parse("currency", &currency).map_err(|_| corrupt("currency"))?,
        },
        compared_product_id,
        notes: notes.map(LongText::from_trusted),
        created_at,
        updated_at,
        created_by,
        version,
    })
}

fn sort_expr(field: CompetitorSortField) -> &'static str {
    match field {
        CompetitorSortField::Name => "name",
        CompetitorSortField::CreatedAt => "created_at",
    }
}

/// The handlers check the competitor first, so a foreign-key failure of a product that names a
/// compared product is that product.
fn product_violations(product: &CompetitorProduct) -> Violations {
    let field = if product.compared_product_id.is_some() { "compared_product_id" } else { "competitor_id" };
    Violations { unique: None, foreign_key: Some(field) }
}

macro_rules! impl_competitors {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl CompetitorRepository for $Store {
            async fn insert_competitor(&self, competitor: &Competitor, audit: &AuditContext) -> Result<(), RepoError> {
                self.insert_record(competitor, &competitor.creation_changes(), audit).await
            }

            async fn list_competitors(
                &self,
                organization_id: Uuid,
                query: &CompetitorQuery,
            ) -> Result<Page<Competitor>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM competitors WHERE organization_id = ",
                    Competitor::sql().columns
                ));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                crate::list::push_search(&mut qb, &["name"], query.search.as_deref());
                let field = query.sort.field;
                self.fetch_page(
                    qb,
                    sort_expr(query.sort.field),
                    query.sort.direction,
                    &query.window,
                    |c: &Competitor| c.position(field),
                )
                .await
            }

            async fn insert_competitor_product(
                &self,
                product: &CompetitorProduct,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO competitor_products (organization_id, id, competitor_id, name, price, currency, \
                     compared_product_id, notes, created_at, updated_at, created_by, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(product.organization_id)
                .bind(product.id)
                .bind(product.competitor_id)
                .bind(product.name.as_str())
                .bind(product.price.amount)
                .bind(product.price.currency.code())
                .bind(product.compared_product_id)
                .bind(product.notes.as_ref().map(|v| v.as_str()))
                .bind(product.created_at)
                .bind(product.updated_at)
                .bind(product.created_by)
                .bind(product.version)
                .execute(tx.conn())
                .await
                .map_err(|e| map(e, product_violations(product)))?;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Create,
                    "competitor_product",
                    product.id,
                    &product.creation_changes(),
                    product.created_at,
                    crm_domain::timeline::About::NONE
                )?;
                tx.commit().await
            }

            async fn get_competitor_product(
                &self,
                organization_id: Uuid,
                competitor_id: Uuid,
                product_id: Uuid,
            ) -> Result<CompetitorProduct, RepoError> {
                let row: ProductRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {PRODUCT_COLUMNS} FROM competitor_products \
                     WHERE organization_id = $1 AND id = $2 AND competitor_id = $3"
                )))
                .bind(organization_id)
                .bind(product_id)
                .bind(competitor_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                product_from_row(row)
            }

            async fn update_competitor_product(
                &self,
                product: &CompetitorProduct,
                expected_version: i64,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE competitor_products SET name = $3, price = $4, currency = $5, compared_product_id = $6, \
                     notes = $7, updated_at = $8, version = $9 \
                     WHERE organization_id = $1 AND id = $2 AND version = $10",
                )
                .bind(product.organization_id)
                .bind(product.id)
                .bind(product.name.as_str())
                .bind(product.price.amount)
                .bind(product.price.currency.code())
                .bind(product.compared_product_id)
                .bind(product.notes.as_ref().map(|v| v.as_str()))
                .bind(product.updated_at)
                .bind(product.version)
                .bind(expected_version)
                .execute(tx.conn())
                .await
                .map_err(|e| map(e, product_violations(product)))?
                .rows_affected();
                if updated == 0 {
                    return Err(crate::error::stale_or_missing!(
                        tx.conn(),
                        "competitor_products",
                        product.organization_id,
                        product.id
                    ));
                }
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "competitor_product",
                    product.id,
                    changes,
                    product.updated_at,
                    crm_domain::timeline::About::NONE
                )?;
                tx.commit().await
            }

            async fn delete_competitor_product(
                &self,
                product: &CompetitorProduct,
                expected_version: i64,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let deleted = sqlx::query(
                    "DELETE FROM competitor_products WHERE organization_id = $1 AND id = $2 AND version = $3",
                )
                .bind(product.organization_id)
                .bind(product.id)
                .bind(expected_version)
                .execute(tx.conn())
                .await
                .map_err(plain)?
                .rows_affected();
                if deleted == 0 {
                    return Err(crate::error::stale_or_missing!(
                        tx.conn(),
                        "competitor_products",
                        product.organization_id,
                        product.id
                    ));
                }
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Delete,
                    "competitor_product",
                    product.id,
                    changes,
                    Utc::now(),
                    crm_domain::timeline::About::NONE
                )?;
                tx.commit().await
            }

            async fn list_competitor_products(
                &self,
                organization_id: Uuid,
                query: &CompetitorProductQuery,
            ) -> Result<Page<CompetitorProduct>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {PRODUCT_COLUMNS} FROM competitor_products WHERE organization_id = "
                ));
                qb.push_bind(organization_id);
                qb.push(" AND competitor_id = ").push_bind(query.competitor_id);
                if let Some(compared) = query.compared_product_id {
                    qb.push(" AND compared_product_id = ").push_bind(compared);
                }
                crate::list::push_search(&mut qb, &["name"], query.search.as_deref());
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

impl_competitors!(SqliteStore, sqlx::Sqlite);
impl_competitors!(PgStore, sqlx::Postgres);
