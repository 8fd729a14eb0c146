use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::list::{KeysetPosition, Page, SortDirection, SortValue, Window};
use crm_domain::opportunity::{
    BuyingRole, ContactRole, Opportunity, OpportunityQuery, OpportunitySortField, StageChange, StageHistoryEntry,
};
use crm_domain::ports::OpportunityRepository;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, map, plain};
use crate::rows::{OPPORTUNITY_COLUMNS, OpportunityRow, StageHistoryRow, custom_fields_json};

/// The handlers check `account_id` and `contact_id` first, so a foreign-key failure is the owner.
const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };

fn sort_expr(field: OpportunitySortField) -> &'static str {
    match field {
        OpportunitySortField::CreatedAt => "created_at",
        OpportunitySortField::UpdatedAt => "updated_at",
        OpportunitySortField::Name => "name",
        OpportunitySortField::ExpectedCloseDate => "COALESCE(CAST(expected_close_date AS TEXT), '')",
    }
}

/// Binds an opportunity's stored fields in column order, from `name` to `last_open_stage`
/// ($3 to $20 in the statements below).
macro_rules! bind_opportunity_fields {
    ($query:expr, $o:expr, $custom_fields:expr) => {
        $query
            .bind($o.name.as_str())
            .bind($o.account_id)
            .bind($o.contact_id)
            .bind($o.amount.map(|m| m.amount))
            .bind($o.amount.map(|m| m.currency.code()))
            .bind($o.stage.as_str())
            .bind(i64::from($o.probability))
            .bind($o.expected_close_date)
            .bind($o.kind.map(|v| v.as_str()))
            .bind($o.lead_source.map(|v| v.as_str()))
            .bind($o.next_step.as_ref().map(|v| v.as_str()))
            .bind($o.owner_id)
            .bind($o.description.as_ref().map(|v| v.as_str()))
            .bind($custom_fields)
            .bind($o.closed_at)
            .bind($o.loss_reason.as_ref().map(|v| v.as_str()))
            .bind($o.lost_to_competitor_id)
            .bind($o.last_open_stage.as_str())
    };
}
pub(crate) use bind_opportunity_fields;

/// Appends a stage change to the opportunity's history on the transaction's connection.
macro_rules! write_stage_change {
    ($conn:expr, $o:expr, $change:expr) => {
        sqlx::query(
            "INSERT INTO opportunity_stage_history (organization_id, id, opportunity_id, from_stage, to_stage, amount, \
             currency, probability, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind($o.organization_id)
        .bind(Uuid::now_v7())
        .bind($o.id)
        .bind($change.from_stage.map(|s| s.as_str()))
        .bind($change.to_stage.as_str())
        .bind($change.amount.map(|m| m.amount))
        .bind($change.amount.map(|m| m.currency.code()))
        .bind(i64::from($change.probability))
        .bind($change.changed_by)
        .bind($change.changed_at)
        .execute($conn)
        .await
        .map_err(plain)
    };
}
pub(crate) use write_stage_change;

/// Inserts a opportunity row on a transaction's connection.
macro_rules! insert_opportunity_row {
    ($conn:expr, $x:expr, $custom_fields:expr) => {{
        let query = sqlx::query(
            "INSERT INTO opportunities (organization_id, id, name, account_id, contact_id, amount, currency, stage, \
             probability, expected_close_date, kind, lead_source, next_step, owner_id, description, custom_fields, \
             closed_at, loss_reason, lost_to_competitor_id, last_open_stage, created_at, updated_at, created_by, version, \
             archived_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
             $22, $23, $24, $25)",
        )
        .bind($x.organization_id)
        .bind($x.id);
        bind_opportunity_fields!(query, $x, $custom_fields)
            .bind($x.created_at)
            .bind($x.updated_at)
            .bind($x.created_by)
            .bind($x.version)
            .bind($x.archived_at)
            .execute($conn)
            .await
            .map_err(|e| map(e, OWNER_VIOLATIONS))?;
        Ok::<(), RepoError>(())
    }};
}
pub(crate) use insert_opportunity_row;

/// Updates a opportunity row when its version is `$expected`; answers the rows touched.
macro_rules! update_opportunity_row {
    ($conn:expr, $x:expr, $custom_fields:expr, $expected:expr) => {{
        let query = sqlx::query(
            "UPDATE opportunities SET name = $3, account_id = $4, contact_id = $5, amount = $6, currency = $7, \
             stage = $8, probability = $9, expected_close_date = $10, kind = $11, lead_source = $12, next_step = $13, \
             owner_id = $14, description = $15, custom_fields = $16, closed_at = $17, loss_reason = $18, \
             lost_to_competitor_id = $19, last_open_stage = $20, updated_at = $21, version = $22, archived_at = $23 \
             WHERE organization_id = $1 AND id = $2 AND version = $24",
        )
        .bind($x.organization_id)
        .bind($x.id);
        let rows = bind_opportunity_fields!(query, $x, $custom_fields)
            .bind($x.updated_at)
            .bind($x.version)
            .bind($x.archived_at)
            .bind($expected)
            .execute($conn)
            .await
            .map_err(|e| map(e, OWNER_VIOLATIONS))?
            .rows_affected();
        Ok::<u64, RepoError>(rows)
    }};
}
pub(crate) use update_opportunity_row;

macro_rules! impl_opportunities {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl OpportunityRepository for $Store {
            async fn insert_opportunity(&self, opportunity: &Opportunity, stage: &StageChange, audit: &AuditContext) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&opportunity.custom_fields)?;
                let mut tx = self.begin_write().await?;
                insert_opportunity_row!(tx.conn(), opportunity, custom_fields)?;
                write_stage_change!(tx.conn(), opportunity, stage)?;
                write_audit!(tx.conn(), audit, AuditAction::Create, "opportunity", opportunity.id, &opportunity.creation_changes(), opportunity.created_at)?;
                tx.commit().await
            }

            async fn get_opportunity(&self, organization_id: Uuid, opportunity_id: Uuid) -> Result<Opportunity, RepoError> {
                let row: OpportunityRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {OPPORTUNITY_COLUMNS} FROM opportunities WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(opportunity_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn update_opportunity(
                &self,
                opportunity: &Opportunity,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                stage: Option<&StageChange>,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&opportunity.custom_fields)?;
                let mut tx = self.begin_write().await?;
                let updated = update_opportunity_row!(tx.conn(), opportunity, custom_fields, expected_version)?;
                if updated == 0 {
                    return Err(crate::error::stale_or_missing!(tx.conn(), "opportunities", opportunity.organization_id, opportunity.id));
                }
                if let Some(stage) = stage {
                    write_stage_change!(tx.conn(), opportunity, stage)?;
                }
                write_audit!(tx.conn(), audit, action, "opportunity", opportunity.id, changes, opportunity.updated_at)?;
                tx.commit().await
            }

            async fn list_opportunities(&self, organization_id: Uuid, query: &OpportunityQuery) -> Result<Page<Opportunity>, RepoError> {
                let mut qb =
                    QueryBuilder::<$Db>::new(format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunities WHERE organization_id = "));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                let stages: Vec<&'static str> = query.stages.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "stage", &stages);
                if let Some(account_id) = query.account_id {
                    qb.push(" AND account_id = ").push_bind(account_id);
                }
                if let Some(contact_id) = query.contact_id {
                    qb.push(" AND contact_id = ").push_bind(contact_id);
                }
                crate::list::push_any_id(&mut qb, "owner_id", &query.owner_ids);
                if !query.competitor_ids.is_empty() {
                    // `opportunity_competitors_competitor` serves the lookup.
                    qb.push(" AND id IN (SELECT opportunity_id FROM opportunity_competitors WHERE organization_id = ");
                    qb.push_bind(organization_id);
                    crate::list::push_any_id(&mut qb, "competitor_id", &query.competitor_ids);
                    qb.push(")");
                }
                if let Some(after) = query.expected_close_after {
                    qb.push(" AND expected_close_date >= ").push_bind(after);
                }
                if let Some(before) = query.expected_close_before {
                    qb.push(" AND expected_close_date <= ").push_bind(before);
                }
                crate::list::push_search(&mut qb, &["name"], query.search.as_deref());
                crate::list::push_keyset_page(
                    &mut qb,
                    sort_expr(query.sort.field),
                    query.sort.direction,
                    query.window.after.as_ref(),
                    query.window.limit,
                );
                let rows: Vec<OpportunityRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(Opportunity::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(items, query.window.limit, |o| o.position(field)))
            }

            async fn stage_history(&self, organization_id: Uuid, opportunity_id: Uuid, window: &Window) -> Result<Page<StageHistoryEntry>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(
                    "SELECT id, opportunity_id, from_stage, to_stage, amount, currency, probability, changed_by, changed_at \
                     FROM opportunity_stage_history WHERE organization_id = ",
                );
                qb.push_bind(organization_id).push(" AND opportunity_id = ").push_bind(opportunity_id);
                crate::list::push_keyset_page(&mut qb, "changed_at", SortDirection::Ascending, window.after.as_ref(), window.limit);
                let rows: Vec<StageHistoryRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(StageHistoryEntry::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok(Page::from_overfetch(items, window.limit, |e| KeysetPosition { value: SortValue::Timestamp(e.change.changed_at), id: e.id }))
            }

            async fn contact_roles(&self, organization_id: Uuid, opportunity_id: Uuid) -> Result<Vec<ContactRole>, RepoError> {
                let rows: Vec<RoleRow> = sqlx::query_as(
                    "SELECT opportunity_id, contact_id, role, is_primary, created_at, updated_at FROM opportunity_contacts \
                     WHERE organization_id = $1 AND opportunity_id = $2 ORDER BY is_primary DESC, created_at, contact_id",
                )
                .bind(organization_id)
                .bind(opportunity_id)
                .fetch_all(&self.pool)
                .await
                .map_err(plain)?;
                rows.into_iter().map(role_from_row).collect()
            }

            async fn put_contact_role(&self, organization_id: Uuid, role: &ContactRole, change: &FieldChange, audit: &AuditContext) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                if role.is_primary {
                    sqlx::query(
                        "UPDATE opportunity_contacts SET is_primary = FALSE, updated_at = $3 \
                         WHERE organization_id = $1 AND opportunity_id = $2 AND is_primary = TRUE",
                    )
                    .bind(organization_id)
                    .bind(role.opportunity_id)
                    .bind(role.updated_at)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                }
                sqlx::query(
                    "INSERT INTO opportunity_contacts (organization_id, opportunity_id, contact_id, role, is_primary, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (organization_id, opportunity_id, contact_id) \
                     DO UPDATE SET role = excluded.role, is_primary = excluded.is_primary, updated_at = excluded.updated_at",
                )
                .bind(organization_id)
                .bind(role.opportunity_id)
                .bind(role.contact_id)
                .bind(role.role.as_str())
                .bind(role.is_primary)
                .bind(role.created_at)
                .bind(role.updated_at)
                .execute(tx.conn())
                .await
                .map_err(|e| map(e, Violations { unique: None, foreign_key: Some("contact_id") }))?;
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", role.opportunity_id, std::slice::from_ref(change), role.updated_at)?;
                tx.commit().await
            }

            async fn delete_contact_role(
                &self,
                organization_id: Uuid,
                opportunity_id: Uuid,
                contact_id: Uuid,
                change: &FieldChange,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let deleted = sqlx::query(
                    "DELETE FROM opportunity_contacts WHERE organization_id = $1 AND opportunity_id = $2 AND contact_id = $3",
                )
                .bind(organization_id)
                .bind(opportunity_id)
                .bind(contact_id)
                .execute(tx.conn())
                .await
                .map_err(plain)?
                .rows_affected();
                if deleted == 0 {
                    return Err(RepoError::NotFound);
                }
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", opportunity_id, std::slice::from_ref(change), chrono::Utc::now())?;
                tx.commit().await
            }
        }
    };
}

type RoleRow = (Uuid, Uuid, String, bool, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);

fn role_from_row(row: RoleRow) -> Result<ContactRole, RepoError> {
    let (opportunity_id, contact_id, role, is_primary, created_at, updated_at) = row;
    Ok(ContactRole {
        opportunity_id,
        contact_id,
        role: BuyingRole::parse("role", &role).map_err(|_| crate::error::corrupt("buying role"))?,
        is_primary,
        created_at,
        updated_at,
    })
}

impl_opportunities!(SqliteStore, sqlx::Sqlite);
impl_opportunities!(PgStore, sqlx::Postgres);
