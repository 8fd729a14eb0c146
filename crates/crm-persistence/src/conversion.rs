//! Lead conversion: every write of a conversion plan in one transaction.

use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::account::Account;
use crm_domain::audit::{AuditAction, AuditContext};
use crm_domain::conversion::{ConversionPlan, Outcome};
use crm_domain::ports::ConversionRepository;
use uuid::Uuid;

use crate::accounts::{bind_account_fields, insert_account_row, update_account_row};
use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::contacts::{bind_contact_fields, insert_contact_row, update_contact_row};
use crate::error::{Violations, map, plain};
use crate::leads::{bind_lead_fields, update_lead_row};
use crate::opportunities::{bind_opportunity_fields, insert_opportunity_row, write_stage_change};
use crate::rows::{ACCOUNT_COLUMNS, AccountRow, address_json, custom_fields_json};
use sqlx::types::Json;

const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };
const VIOLATIONS: Violations = Violations { unique: Some("email"), foreign_key: Some("owner_id") };

macro_rules! impl_conversion {
    ($Store:ident) => {
        #[async_trait]
        impl ConversionRepository for $Store {
            async fn apply_conversion(&self, plan: &ConversionPlan, audit: &AuditContext) -> Result<(), RepoError> {
                let at = plan.lead.updated_at;
                let mut tx = self.begin_write().await?;
                if let Some(account) = &plan.account {
                    match account {
                        Outcome::Created(account) => {
                            insert_account_row!(tx.conn(), account, custom_fields_json(&account.custom_fields)?)?;
                            write_audit!(
                                tx.conn(),
                                audit,
                                AuditAction::Create,
                                "account",
                                account.id,
                                &account.creation_changes(),
                                at
                            )?;
                        }
                        Outcome::Merged { record, expected_version, changes } => {
                            if !changes.is_empty() {
                                let custom_fields = custom_fields_json(&record.custom_fields)?;
                                if update_account_row!(tx.conn(), record, custom_fields, *expected_version)? == 0 {
                                    return Err(crate::error::stale_or_missing!(
                                        tx.conn(),
                                        "accounts",
                                        record.organization_id,
                                        record.id
                                    ));
                                }
                                write_audit!(tx.conn(), audit, AuditAction::Update, "account", record.id, changes, at)?;
                            }
                        }
                    }
                }
                match &plan.contact {
                    Outcome::Created(contact) => {
                        insert_contact_row!(tx.conn(), contact, custom_fields_json(&contact.custom_fields)?)?;
                        write_audit!(
                            tx.conn(),
                            audit,
                            AuditAction::Create,
                            "contact",
                            contact.id,
                            &contact.creation_changes(),
                            at
                        )?;
                    }
                    Outcome::Merged { record, expected_version, changes } => {
                        if !changes.is_empty() {
                            let custom_fields = custom_fields_json(&record.custom_fields)?;
                            if update_contact_row!(tx.conn(), record, custom_fields, *expected_version)? == 0 {
                                return Err(crate::error::stale_or_missing!(
                                    tx.conn(),
                                    "contacts",
                                    record.organization_id,
                                    record.id
                                ));
                            }
                            write_audit!(tx.conn(), audit, AuditAction::Update, "contact", record.id, changes, at)?;
                        }
                    }
                }
                if let Some((opportunity, stage)) = &plan.opportunity {
                    insert_opportunity_row!(tx.conn(), opportunity, custom_fields_json(&opportunity.custom_fields)?)?;
                    write_stage_change!(tx.conn(), opportunity, stage)?;
                    write_audit!(
                        tx.conn(),
                        audit,
                        AuditAction::Create,
                        "opportunity",
                        opportunity.id,
                        &opportunity.creation_changes(),
                        at
                    )?;
                }
                let lead = &plan.lead;
                let custom_fields = custom_fields_json(&lead.custom_fields)?;
                if update_lead_row!(tx.conn(), lead, custom_fields, plan.lead_expected_version)? == 0 {
                    return Err(crate::error::stale_or_missing!(tx.conn(), "leads", lead.organization_id, lead.id));
                }
                write_audit!(tx.conn(), audit, AuditAction::Update, "lead", lead.id, &plan.lead_changes, at)?;
                tx.commit().await
            }

            async fn find_accounts_by_name(
                &self,
                organization_id: Uuid,
                name: &str,
            ) -> Result<Vec<Account>, RepoError> {
                let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organization_id = $1 AND lower(name) = $2 \
                     AND archived_at IS NULL ORDER BY created_at, id LIMIT 20"
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
