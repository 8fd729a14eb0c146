//! Lead conversion: every write of a conversion plan in one transaction.

use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::account::Account;
use crm_domain::audit::{AuditAction, AuditContext};
use crm_domain::conversion::{ConversionPlan, Outcome};
use crm_domain::ports::ConversionRepository;
use crm_domain::timeline::Concerns;
use uuid::Uuid;

use crate::accounts::AccountRow;
use crate::activities::move_lead_activities;
use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::plain;
use crate::opportunities::write_stage_change;
use crate::table::Table;

macro_rules! impl_conversion {
    ($Store:ident) => {
        #[async_trait]
        impl ConversionRepository for $Store {
            async fn apply_conversion(&self, plan: &ConversionPlan, audit: &AuditContext) -> Result<u64, RepoError> {
                let at = plan.lead.updated_at;
                let mut tx = self.begin_write().await?;
                if let Some(account) = &plan.account {
                    match account {
                        Outcome::Created(account) => {
                            Self::insert_row(tx.conn(), account).await?;
                            write_audit!(
                                tx.conn(),
                                audit,
                                AuditAction::Create,
                                "account",
                                account.id,
                                &account.creation_changes(),
                                at,
                                account.about()
                            )?;
                        }
                        Outcome::Merged { record, expected_version, changes } => {
                            if !changes.is_empty() {
                                Self::update_record(tx.conn(), record, *expected_version).await?;
                                write_audit!(
                                    tx.conn(),
                                    audit,
                                    AuditAction::Update,
                                    "account",
                                    record.id,
                                    changes,
                                    at,
                                    record.about()
                                )?;
                            }
                        }
                    }
                }
                match &plan.contact {
                    Outcome::Created(contact) => {
                        Self::insert_row(tx.conn(), contact).await?;
                        write_audit!(
                            tx.conn(),
                            audit,
                            AuditAction::Create,
                            "contact",
                            contact.id,
                            &contact.creation_changes(),
                            at,
                            contact.about()
                        )?;
                    }
                    Outcome::Merged { record, expected_version, changes } => {
                        if !changes.is_empty() {
                            Self::update_record(tx.conn(), record, *expected_version).await?;
                            write_audit!(
                                tx.conn(),
                                audit,
                                AuditAction::Update,
                                "contact",
                                record.id,
                                changes,
                                at,
                                record.about()
                            )?;
                        }
                    }
                }
                if let Some((opportunity, stage)) = &plan.opportunity {
                    Self::insert_row(tx.conn(), opportunity).await?;
                    write_stage_change!(tx.conn(), opportunity, stage)?;
                    write_audit!(
                        tx.conn(),
                        audit,
                        AuditAction::Create,
                        "opportunity",
                        opportunity.id,
                        &opportunity.creation_changes(),
                        at,
                        opportunity.about()
                    )?;
                }
                let lead = &plan.lead;
                Self::update_record(tx.conn(), lead, plan.lead_expected_version).await?;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "lead",
                    lead.id,
                    &plan.lead_changes,
                    at,
                    lead.about()
                )?;
                let moved = move_lead_activities!(tx.conn(), audit, plan, at).await?;
                tx.commit().await?;
                Ok(moved)
            }

            async fn find_accounts_by_name(
                &self,
                organization_id: Uuid,
                name: &str,
            ) -> Result<Vec<Account>, RepoError> {
                let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM accounts WHERE organization_id = $1 AND lower(name) = $2 \
                     AND archived_at IS NULL ORDER BY created_at, id LIMIT 20",
                    Account::sql().columns
                )))
                .bind(organization_id)
                .bind(name.to_lowercase())
                .fetch_all(&self.pool)
                .await
                .map_err(plain)?;
                rows.into_iter().map(Account::try_from).collect()
            }
        }
    };
}

impl_conversion!(SqliteStore);
impl_conversion!(PgStore);
