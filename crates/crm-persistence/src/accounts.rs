use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::account::{Account, AccountQuery, AccountSortField};
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::list::Page;
use crm_domain::ports::AccountRepository;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, map, plain};
use crate::rows::{ACCOUNT_COLUMNS, AccountRow, address_json, custom_fields_json};

const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };

fn sort_expr(field: AccountSortField) -> &'static str {
    match field {
        AccountSortField::CreatedAt => "created_at",
        AccountSortField::UpdatedAt => "updated_at",
        AccountSortField::Name => "name",
    }
}

/// Binds an account's stored fields in column order, from `name` to `custom_fields`
/// ($3 to $19 in the statements below).
macro_rules! bind_account_fields {
    ($query:expr, $a:expr, $custom_fields:expr) => {
        $query
            .bind($a.name.as_str())
            .bind($a.industry.as_ref().map(|v| v.as_str()))
            .bind($a.website.as_ref().map(|v| v.as_str()))
            .bind($a.phone.as_ref().map(|v| v.as_str()))
            .bind($a.email.as_ref().map(|v| v.as_str()))
            .bind(address_json($a.billing_address.as_ref()))
            .bind(address_json($a.shipping_address.as_ref()))
            .bind($a.employee_count)
            .bind($a.annual_revenue.map(|m| m.amount))
            .bind($a.annual_revenue.map(|m| m.currency.code()))
            .bind($a.tier.map(|v| v.as_str()))
            .bind($a.lifecycle_stage.as_str())
            .bind(Json($a.tags.as_slice()))
            .bind($a.parent_account_id)
            .bind($a.owner_id)
            .bind($a.description.as_ref().map(|v| v.as_str()))
            .bind($custom_fields)
    };
}
pub(crate) use bind_account_fields;

/// Inserts an account row on a transaction's connection.
macro_rules! insert_account_row {
    ($conn:expr, $a:expr, $custom_fields:expr) => {{
        let query = sqlx::query(
            "INSERT INTO accounts (organization_id, id, name, industry, website, phone, email, billing_address, \
             shipping_address, employee_count, annual_revenue_amount, annual_revenue_currency, tier, lifecycle_stage, \
             tags, parent_account_id, owner_id, description, custom_fields, created_at, updated_at, created_by, version, \
             archived_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, $21, $22, $23, $24)",
        )
        .bind($a.organization_id)
        .bind($a.id);
        bind_account_fields!(query, $a, $custom_fields)
            .bind($a.created_at)
            .bind($a.updated_at)
            .bind($a.created_by)
            .bind($a.version)
            .bind($a.archived_at)
            .execute($conn)
            .await
            .map_err(|e| map(e, OWNER_VIOLATIONS))?;
        Ok::<(), RepoError>(())
    }};
}
pub(crate) use insert_account_row;

/// Updates an account row when its version is `$expected`; answers the rows touched.
macro_rules! update_account_row {
    ($conn:expr, $a:expr, $custom_fields:expr, $expected:expr) => {{
        let query = sqlx::query(
            "UPDATE accounts SET name = $3, industry = $4, website = $5, phone = $6, email = $7, billing_address = $8, \
             shipping_address = $9, employee_count = $10, annual_revenue_amount = $11, annual_revenue_currency = $12, \
             tier = $13, lifecycle_stage = $14, tags = $15, parent_account_id = $16, owner_id = $17, description = $18, \
             custom_fields = $19, updated_at = $20, version = $21, archived_at = $22 \
             WHERE organization_id = $1 AND id = $2 AND version = $23",
        )
        .bind($a.organization_id)
        .bind($a.id);
        let rows = bind_account_fields!(query, $a, $custom_fields)
            .bind($a.updated_at)
            .bind($a.version)
            .bind($a.archived_at)
            .bind($expected)
            .execute($conn)
            .await
            .map_err(|e| map(e, OWNER_VIOLATIONS))?
            .rows_affected();
        Ok::<u64, RepoError>(rows)
    }};
}
pub(crate) use update_account_row;

macro_rules! impl_accounts {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl AccountRepository for $Store {
            async fn insert_account(&self, account: &Account, audit: &AuditContext) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&account.custom_fields)?;
                let mut tx = self.begin_write().await?;
                insert_account_row!(tx.conn(), account, custom_fields)?;
                write_audit!(tx.conn(), audit, AuditAction::Create, "account", account.id, &account.creation_changes(), account.created_at)?;
                tx.commit().await
            }

            async fn get_account(&self, organization_id: Uuid, account_id: Uuid) -> Result<Account, RepoError> {
                let row: AccountRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(account_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn update_account(
                &self,
                account: &Account,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&account.custom_fields)?;
                let mut tx = self.begin_write().await?;
                let updated = update_account_row!(tx.conn(), account, custom_fields, expected_version)?;
                if updated == 0 {
                    return Err(crate::error::stale_or_missing!(tx.conn(), "accounts", account.organization_id, account.id));
                }
                write_audit!(tx.conn(), audit, action, "account", account.id, changes, account.updated_at)?;
                tx.commit().await
            }

            async fn list_accounts(&self, organization_id: Uuid, query: &AccountQuery) -> Result<Page<Account>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organization_id = "));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                let tiers: Vec<&'static str> = query.tiers.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "tier", &tiers);
                let stages: Vec<&'static str> = query.lifecycle_stages.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "lifecycle_stage", &stages);
                crate::list::push_any_id(&mut qb, "owner_id", &query.owner_ids);
                if let Some(parent) = query.parent_account_id {
                    qb.push(" AND parent_account_id = ").push_bind(parent);
                }
                if let Some(after) = query.created_after {
                    qb.push(" AND created_at > ").push_bind(after);
                }
                if let Some(before) = query.created_before {
                    qb.push(" AND created_at < ").push_bind(before);
                }
                crate::list::push_search(&mut qb, &["name", "email", "website"], query.search.as_deref());
                crate::list::push_keyset_page(
                    &mut qb,
                    sort_expr(query.sort.field),
                    query.sort.direction,
                    query.window.after.as_ref(),
                    query.window.limit,
                );
                let rows: Vec<AccountRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let accounts = rows.into_iter().map(Account::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(accounts, query.window.limit, |a| a.position(field)))
            }

            async fn account_lineage(&self, organization_id: Uuid, account_id: Uuid) -> Result<Vec<Uuid>, RepoError> {
                let rows: Vec<(Uuid, i64)> = sqlx::query_as(
                    "WITH RECURSIVE lineage (id, parent_account_id, depth) AS ( \
                         SELECT id, parent_account_id, CAST(0 AS BIGINT) FROM accounts WHERE organization_id = $1 AND id = $2 \
                         UNION ALL \
                         SELECT a.id, a.parent_account_id, lineage.depth + 1 FROM accounts a \
                         JOIN lineage ON a.organization_id = $1 AND a.id = lineage.parent_account_id \
                         WHERE lineage.depth < 100 \
                     ) SELECT id, depth FROM lineage ORDER BY depth",
                )
                .bind(organization_id)
                .bind(account_id)
                .fetch_all(&self.pool)
                .await
                .map_err(plain)?;
                if rows.is_empty() {
                    return Err(RepoError::NotFound);
                }
                Ok(rows.into_iter().map(|(id, _)| id).collect())
            }
        }
    };
}

impl_accounts!(SqliteStore, sqlx::Sqlite);
impl_accounts!(PgStore, sqlx::Postgres);
