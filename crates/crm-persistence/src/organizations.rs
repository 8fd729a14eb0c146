use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext};
use crm_domain::ports::OrganizationRepository;
use crm_domain::user::{Organization, User};
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, map, plain};
use crate::rows::OrganizationRow;

macro_rules! impl_organizations {
    ($Store:ident) => {
        #[async_trait]
        impl OrganizationRepository for $Store {
            async fn create_organization(
                &self,
                organization: &Organization,
                admin: &User,
                password_hash: &str,
                request_id: &str,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(organization.id)
                    .bind(organization.name.as_str())
                    .bind(organization.created_at)
                    .execute(tx.conn())
                    .await
                    .map_err(plain)?;
                let policy = crm_domain::attention::AttentionPolicy::defaults(organization.id, organization.created_at);
                crate::attention::insert_attention_policy!(tx.conn(), &policy)?;
                let sla = crm_domain::sla_settings::SlaSettings::defaults(organization.id, organization.created_at);
                crate::sla::insert_sla_settings!(tx.conn(), &sla)?;
                crate::users::insert_user_row!(tx.conn(), admin, password_hash)
                    .map_err(|e| map(e, Violations { unique: Some("email"), foreign_key: None }))?;
                let ctx = AuditContext {
                    organization_id: organization.id,
                    actor_id: admin.id,
                    request_id: request_id.to_owned(),
                    idempotency_attempt: None,
                };
                write_audit!(
                    tx.conn(),
                    ctx,
                    AuditAction::Create,
                    "user",
                    admin.id,
                    &crm_domain::user::user_creation_changes(admin),
                    admin.created_at,
                    crm_domain::timeline::About::NONE
                )?;
                tx.commit().await
            }

            async fn get_organization(&self, organization_id: Uuid) -> Result<Organization, RepoError> {
                let row: OrganizationRow =
                    sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                        .bind(organization_id)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(plain)?;
                Ok(row.into())
            }
        }
    };
}

impl_organizations!(SqliteStore);
impl_organizations!(PgStore);
