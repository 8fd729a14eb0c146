//! The attention policy of each organisation (`attention_policies`, migration 0021), and the
//! attention report. The due dates themselves are kept by the migration's triggers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::attention::{
    AttentionPolicy, AttentionReport, OverdueGroup, Period, Recompute, StagePeriods, TierPeriods,
};
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::ports::AttentionRepository;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{corrupt, plain};

/// The policy's columns, in [`bind_policy!`] order after the organisation.
pub(crate) const POLICY_COLUMNS: &str = "tier_a, tier_b, tier_c, tier_none, stage_prospect, stage_customer, \
     stage_former_customer, stage_partner, version, updated_at";

crate::rows::rows! {
    pub(crate) struct PolicyRow {
        organization_id: Uuid,
        tier_a: Option<i32>,
        tier_b: Option<i32>,
        tier_c: Option<i32>,
        tier_none: Option<i32>,
        stage_prospect: Option<i32>,
        stage_customer: Option<i32>,
        stage_former_customer: Option<i32>,
        stage_partner: Option<i32>,
        version: i64,
        updated_at: DateTime<Utc>,
    }
}

fn period(value: Option<i32>) -> Result<Period, RepoError> {
    value.map(|d| u32::try_from(d).map_err(|_| corrupt("attention period"))).transpose()
}

impl TryFrom<PolicyRow> for AttentionPolicy {
    type Error = RepoError;
    fn try_from(row: PolicyRow) -> Result<Self, RepoError> {
        Ok(AttentionPolicy {
            organization_id: row.organization_id,
            tiers: TierPeriods {
                a: period(row.tier_a)?,
                b: period(row.tier_b)?,
                c: period(row.tier_c)?,
                untiered: period(row.tier_none)?,
            },
            stages: StagePeriods {
                prospect: period(row.stage_prospect)?,
                customer: period(row.stage_customer)?,
                former_customer: period(row.stage_former_customer)?,
                partner: period(row.stage_partner)?,
            },
            version: row.version,
            updated_at: row.updated_at,
        })
    }
}

/// Binds a policy's columns in [`POLICY_COLUMNS`] order.
macro_rules! bind_policy {
    ($query:expr, $policy:expr) => {
        $query
            .bind($crate::attention::column_of($policy.tiers.a))
            .bind($crate::attention::column_of($policy.tiers.b))
            .bind($crate::attention::column_of($policy.tiers.c))
            .bind($crate::attention::column_of($policy.tiers.untiered))
            .bind($crate::attention::column_of($policy.stages.prospect))
            .bind($crate::attention::column_of($policy.stages.customer))
            .bind($crate::attention::column_of($policy.stages.former_customer))
            .bind($crate::attention::column_of($policy.stages.partner))
            .bind($policy.version)
            .bind($policy.updated_at)
    };
}

/// A period as its column holds it (the domain keeps it within 1 to 3,650 days).
pub(crate) fn column_of(period: Period) -> Option<i32> {
    period.and_then(|d| i32::try_from(d).ok())
}

/// Writes a new organisation's policy on the transaction's connection:
/// `insert_attention_policy!(tx.conn(), &policy)`.
macro_rules! insert_attention_policy {
    ($conn:expr, $policy:expr) => {
        $crate::attention::bind_policy!(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO attention_policies (organization_id, {}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                $crate::attention::POLICY_COLUMNS
            )))
            .bind($policy.organization_id),
            $policy
        )
        .execute($conn)
        .await
        .map_err($crate::error::plain)
    };
}
pub(crate) use {bind_policy, insert_attention_policy};

/// Orders report lines as the API lists them: by class in the order of its values (the
/// accounts without a tier last), then by owner.
fn class_rank(class: Option<&str>, order: &[&str]) -> usize {
    class.and_then(|c| order.iter().position(|o| *o == c)).unwrap_or(order.len())
}

fn groups(rows: Vec<(Option<String>, Uuid, i64, DateTime<Utc>)>, order: &[&str]) -> Vec<OverdueGroup> {
    let mut groups: Vec<OverdueGroup> = rows
        .into_iter()
        .map(|(class, owner_id, overdue, oldest_due_at)| OverdueGroup { class, owner_id, overdue, oldest_due_at })
        .collect();
    groups.sort_by(|x, y| {
        class_rank(x.class.as_deref(), order)
            .cmp(&class_rank(y.class.as_deref(), order))
            .then(x.owner_id.cmp(&y.owner_id))
    });
    groups
}

macro_rules! impl_attention {
    ($Store:ident) => {
        #[async_trait]
        impl AttentionRepository for $Store {
            async fn attention_policy(&self, organization_id: Uuid) -> Result<AttentionPolicy, RepoError> {
                let row: Option<PolicyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT organization_id, {POLICY_COLUMNS} FROM attention_policies WHERE organization_id = $1"
                )))
                .bind(organization_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.ok_or(RepoError::NotFound)?.try_into()
            }

            async fn save_attention_policy(
                &self,
                policy: &AttentionPolicy,
                expected_version: i64,
                changes: &[FieldChange],
                recompute: Recompute,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let updated = bind_policy!(
                    sqlx::query(
                        "UPDATE attention_policies SET (tier_a, tier_b, tier_c, tier_none, stage_prospect, \
                         stage_customer, stage_former_customer, stage_partner, version, updated_at) = \
                         ($3, $4, $5, $6, $7, $8, $9, $10, $11, $12) WHERE organization_id = $1 AND version = $2",
                    )
                    .bind(policy.organization_id)
                    .bind(expected_version),
                    policy
                )
                .execute(tx.conn())
                .await
                .map_err(plain)?;
                if updated.rows_affected() == 0 {
                    return Err(crate::error::stale_settings!(tx.conn(), "attention_policies", policy.organization_id));
                }
                // Rewriting the class column onto itself fires migration 0021's triggers, which
                // recompute each row's due date under the new policy.
                if recompute.accounts {
                    sqlx::query("UPDATE accounts SET tier = tier WHERE organization_id = $1")
                        .bind(policy.organization_id)
                        .execute(tx.conn())
                        .await
                        .map_err(plain)?;
                }
                if recompute.contacts {
                    sqlx::query(
                        "UPDATE contacts SET lifecycle_stage = lifecycle_stage \
                         WHERE organization_id = $1 AND account_id IS NULL",
                    )
                    .bind(policy.organization_id)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                }
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "attention_policy",
                    policy.organization_id,
                    changes,
                    policy.updated_at,
                    crm_domain::timeline::About::NONE
                )?;
                tx.commit().await
            }

            async fn attention_report(
                &self,
                organization_id: Uuid,
                now: DateTime<Utc>,
            ) -> Result<AttentionReport, RepoError> {
                let overdue = format!("{} < $2", crate::list::ATTENTION_ORDER);
                let accounts: Vec<(Option<String>, Uuid, i64, DateTime<Utc>)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT tier, owner_id, COUNT(*), MIN(attention_due_at) FROM accounts \
                         WHERE organization_id = $1 AND {overdue} AND archived_at IS NULL GROUP BY tier, owner_id"
                    )))
                    .bind(organization_id)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(plain)?;
                let contacts: Vec<(Option<String>, Uuid, i64, DateTime<Utc>)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT lifecycle_stage, owner_id, COUNT(*), MIN(attention_due_at) FROM contacts \
                         WHERE organization_id = $1 AND {overdue} AND archived_at IS NULL \
                         GROUP BY lifecycle_stage, owner_id"
                    )))
                    .bind(organization_id)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(plain)?;
                Ok(AttentionReport {
                    accounts: groups(accounts, crm_domain::account::AccountTier::NAMES),
                    contacts: groups(contacts, crm_domain::account::LifecycleStage::NAMES),
                })
            }
        }
    };
}

impl_attention!(SqliteStore);
impl_attention!(PgStore);
