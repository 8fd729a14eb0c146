use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::lead::LeadSource;
use crm_domain::list::{KeysetPosition, Page, SortDirection, SortValue, Window};
use crm_domain::opportunity::{
    BuyingRole, ContactRole, Opportunity, OpportunityKind, OpportunityQuery, OpportunitySortField, StageChange,
    StageHistoryEntry,
};
use crm_domain::ports::OpportunityRepository;
use crm_domain::timeline::{About, Concerns};
use crm_domain::value::{CustomFields, LongText, Name};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, map, plain};
use crate::rows::{StageHistoryRow, custom_fields_json, money, percent, stage};
use crate::table::{Table, table};

/// The handlers check `account_id` and `contact_id` first, so a foreign-key failure is the owner.
const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };

fn sort_expr(field: OpportunitySortField) -> &'static str {
    match field {
        OpportunitySortField::CreatedAt => "created_at",
        OpportunitySortField::UpdatedAt => "updated_at",
        OpportunitySortField::Name => "name",
        OpportunitySortField::ExpectedCloseDate => "COALESCE(CAST(expected_close_date AS TEXT), '')",
        OpportunitySortField::LastInteractionAt => crate::list::LAST_INTERACTION_ORDER,
    }
}

table! {
    Opportunity => OpportunityRow in "opportunities", entity "opportunity", violations OWNER_VIOLATIONS, |deal| {
        name: String = deal.name.as_str(),
        account_id: Option<Uuid> = deal.account_id,
        contact_id: Option<Uuid> = deal.contact_id,
        amount: Option<i64> = deal.amount.map(|m| m.amount),
        currency: Option<String> = deal.amount.map(|m| m.currency.code()),
        stage: String = deal.stage.as_str(),
        probability: i64 = i64::from(deal.probability),
        expected_close_date: Option<NaiveDate> = deal.expected_close_date,
        kind: Option<String> = deal.kind.map(|v| v.as_str()),
        lead_source: Option<String> = deal.lead_source.map(|v| v.as_str()),
        next_step: Option<String> = deal.next_step.as_ref().map(|v| v.as_str()),
        owner_id: Uuid = deal.owner_id,
        description: Option<String> = deal.description.as_ref().map(|v| v.as_str()),
        custom_fields: Json<serde_json::Value> = custom_fields_json(&deal.custom_fields)?,
        closed_at: Option<DateTime<Utc>> = deal.closed_at,
        loss_reason: Option<String> = deal.loss_reason.as_ref().map(|v| v.as_str()),
        lost_to_competitor_id: Option<Uuid> = deal.lost_to_competitor_id,
        source_ticket_id: Option<Uuid> = deal.source.map(|s| s.ticket_id),
        source_product_id: Option<Uuid> = deal.source.and_then(|s| s.product_id),
        last_open_stage: String = deal.last_open_stage.as_str(),
        updated_at: DateTime<Utc> = deal.updated_at,
        version: i64 = deal.version,
        archived_at: Option<DateTime<Utc>> = deal.archived_at,
        last_interaction_at: Option<DateTime<Utc>> = deal.interactions.last_at,
        last_interaction_kind: Option<String> = deal.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
        next_activity_at: Option<DateTime<Utc>> = deal.interactions.next_at,
    }
}

impl TryFrom<OpportunityRow> for Opportunity {
    type Error = RepoError;
    fn try_from(row: OpportunityRow) -> Result<Self, RepoError> {
        Ok(Opportunity {
            id: row.id,
            organization_id: row.organization_id,
            name: Name::from_trusted(row.name),
            account_id: row.account_id,
            contact_id: row.contact_id,
            amount: money(row.amount, row.currency)?,
            stage: stage(&row.stage)?,
            probability: percent(row.probability)?,
            expected_close_date: row.expected_close_date,
            kind: row
                .kind
                .map(|k| OpportunityKind::parse("kind", &k).map_err(|_| corrupt("opportunity kind")))
                .transpose()?,
            lead_source: row
                .lead_source
                .map(|s| LeadSource::parse("lead_source", &s).map_err(|_| corrupt("lead source")))
                .transpose()?,
            next_step: row.next_step.map(Name::from_trusted),
            owner_id: row.owner_id,
            description: row.description.map(LongText::from_trusted),
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            closed_at: row.closed_at,
            loss_reason: row.loss_reason.map(LongText::from_trusted),
            lost_to_competitor_id: row.lost_to_competitor_id,
            source: row.source_ticket_id.map(|ticket_id| crm_domain::opportunity::TicketSource {
                ticket_id,
                product_id: row.source_product_id,
            }),
            last_open_stage: stage(&row.last_open_stage)?,
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
        })
    }
}

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

macro_rules! impl_opportunities {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl OpportunityRepository for $Store {
            async fn insert_opportunity(&self, opportunity: &Opportunity, stage: &StageChange, audit: &AuditContext) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                Self::insert_row(tx.conn(), opportunity).await?;
                write_stage_change!(tx.conn(), opportunity, stage)?;
                write_audit!(tx.conn(), audit, AuditAction::Create, "opportunity", opportunity.id, &opportunity.creation_changes(), opportunity.created_at, opportunity.about())?;
                tx.commit().await
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
                let mut tx = self.begin_write().await?;
                Self::update_record(tx.conn(), opportunity, expected_version).await?;
                if let Some(stage) = stage {
                    write_stage_change!(tx.conn(), opportunity, stage)?;
                }
                write_audit!(tx.conn(), audit, action, "opportunity", opportunity.id, changes, opportunity.updated_at, opportunity.about())?;
                tx.commit().await
            }

            async fn list_opportunities(&self, organization_id: Uuid, query: &OpportunityQuery) -> Result<Page<Opportunity>, RepoError> {
                let mut qb =
                    QueryBuilder::<$Db>::new(format!("SELECT {} FROM opportunities WHERE organization_id = ", Opportunity::sql().columns));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                crate::list::push_interactions(&mut qb, &query.interactions);
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
                let field = query.sort.field;
                self.fetch_page(qb, sort_expr(query.sort.field), query.sort.direction, &query.window, |o: &Opportunity| o.position(field)).await
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
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", role.opportunity_id, std::slice::from_ref(change), role.updated_at, About::opportunity(role.opportunity_id))?;
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
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", opportunity_id, std::slice::from_ref(change), chrono::Utc::now(), About::opportunity(opportunity_id))?;
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
