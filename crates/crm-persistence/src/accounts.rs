use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::account::{Account, AccountQuery, AccountSortField, AccountTier, LifecycleStage};
use crm_domain::address::Tags;
use crm_domain::audit::AuditContext;
use crm_domain::list::Page;
use crm_domain::money::{Currency, Money};
use crm_domain::ports::AccountRepository;
use crm_domain::value::{CustomFields, Email, LongText, Name, Phone, Url};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, plain};
use crate::rows::{address_from_json, address_json, custom_fields_json};
use crate::table::{Table, table};

const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };

fn sort_expr(field: AccountSortField) -> &'static str {
    match field {
        AccountSortField::CreatedAt => "created_at",
        AccountSortField::UpdatedAt => "updated_at",
        AccountSortField::Name => "name",
        AccountSortField::LastInteractionAt => crate::list::LAST_INTERACTION_ORDER,
        AccountSortField::AttentionDueAt => crate::list::ATTENTION_ORDER,
    }
}

table! {
    Account => AccountRow in "accounts", entity "account", violations OWNER_VIOLATIONS, |account| {
        name: String = account.name.as_str(),
        industry: Option<String> = account.industry.as_ref().map(|v| v.as_str()),
        website: Option<String> = account.website.as_ref().map(|v| v.as_str()),
        phone: Option<String> = account.phone.as_ref().map(|v| v.as_str()),
        email: Option<String> = account.email.as_ref().map(|v| v.as_str()),
        billing_address: Option<Json<serde_json::Value>> = address_json(account.billing_address.as_ref()),
        shipping_address: Option<Json<serde_json::Value>> = address_json(account.shipping_address.as_ref()),
        employee_count: Option<i64> = account.employee_count,
        annual_revenue_amount: Option<i64> = account.annual_revenue.map(|m| m.amount),
        annual_revenue_currency: Option<String> = account.annual_revenue.map(|m| m.currency.code()),
        tier: Option<String> = account.tier.map(|v| v.as_str()),
        lifecycle_stage: String = account.lifecycle_stage.as_str(),
        tags: Json<Vec<String>> = Json(account.tags.as_slice()),
        parent_account_id: Option<Uuid> = account.parent_account_id,
        owner_id: Uuid = account.owner_id,
        description: Option<String> = account.description.as_ref().map(|v| v.as_str()),
        custom_fields: Json<serde_json::Value> = custom_fields_json(&account.custom_fields)?,
        updated_at: DateTime<Utc> = account.updated_at,
        version: i64 = account.version,
        archived_at: Option<DateTime<Utc>> = account.archived_at,
        last_interaction_at: Option<DateTime<Utc>> = account.interactions.last_at,
        last_interaction_kind: Option<String> = account.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
        next_activity_at: Option<DateTime<Utc>> = account.interactions.next_at,
        attention_due_at: Option<DateTime<Utc>> = account.attention_due_at,
        open_complaints: i64 = account.open_complaints,
    }
}

impl TryFrom<AccountRow> for Account {
    type Error = RepoError;
    fn try_from(row: AccountRow) -> Result<Self, RepoError> {
        let name = |v: Option<String>| v.map(Name::from_trusted);
        let annual_revenue = match (row.annual_revenue_amount, row.annual_revenue_currency) {
            (Some(amount), Some(code)) => {
                Some(Money { amount, currency: Currency::parse("currency", &code).map_err(|_| corrupt("currency"))? })
            }
            _ => None,
        };
        Ok(Account {
            id: row.id,
            organization_id: row.organization_id,
            name: Name::from_trusted(row.name),
            industry: name(row.industry),
            website: row.website.map(Url::from_trusted),
            phone: row.phone.map(Phone::from_trusted),
            email: row.email.map(Email::from_trusted),
            billing_address: address_from_json(row.billing_address)?,
            shipping_address: address_from_json(row.shipping_address)?,
            employee_count: row.employee_count,
            annual_revenue,
            tier: row.tier.map(|t| AccountTier::parse("tier", &t).map_err(|_| corrupt("account tier"))).transpose()?,
            lifecycle_stage: LifecycleStage::parse("lifecycle_stage", &row.lifecycle_stage)
                .map_err(|_| corrupt("lifecycle stage"))?,
            tags: Tags::from_trusted(row.tags.0),
            parent_account_id: row.parent_account_id,
            owner_id: row.owner_id,
            description: row.description.map(LongText::from_trusted),
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
            interactions: crate::rows::interactions(
                row.last_interaction_at,
                row.last_interaction_kind.as_deref(),
                row.next_activity_at,
            )?,
            attention_due_at: row.attention_due_at,
            open_complaints: row.open_complaints,
        })
    }
}

macro_rules! impl_accounts {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl AccountRepository for $Store {
            async fn insert_account(&self, account: &Account, audit: &AuditContext) -> Result<(), RepoError> {
                self.insert_record(account, &account.creation_changes(), audit).await
            }

            async fn list_accounts(&self, organization_id: Uuid, query: &AccountQuery) -> Result<Page<Account>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {} FROM accounts WHERE organization_id = ", Account::sql().columns));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                crate::list::push_interactions(&mut qb, &query.interactions);
                crate::list::push_attention_overdue(&mut qb, query.attention_overdue_at);
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
                let field = query.sort.field;
                self.fetch_page(qb, sort_expr(query.sort.field), query.sort.direction, &query.window, |a: &Account| a.position(field)).await
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
