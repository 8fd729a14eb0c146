use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::contact::{AccountFilter, Contact, ContactQuery, ContactSortField};
use crm_domain::list::Page;
use crm_domain::ports::ContactRepository;
use crm_domain::value::Email;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, map, plain};
use crate::rows::{CONTACT_COLUMNS, ContactRow, custom_fields_json};

/// The handlers check `account_id` before writing, so a foreign-key failure is about the owner.
const VIOLATIONS: Violations = Violations { unique: Some("email"), foreign_key: Some("owner_id") };

fn sort_expr(field: ContactSortField) -> &'static str {
    match field {
        ContactSortField::CreatedAt => "created_at",
        ContactSortField::UpdatedAt => "updated_at",
        ContactSortField::LastName => "last_name",
        ContactSortField::FirstName => "COALESCE(first_name, '')",
        ContactSortField::Email => "COALESCE(email, '')",
    }
}

/// Binds a contact's stored fields in column order, from `first_name` to `custom_fields`
/// ($3 to $16 in the statements below).
macro_rules! bind_contact_fields {
    ($query:expr, $c:expr, $custom_fields:expr) => {
        $query
            .bind($c.first_name.as_ref().map(|v| v.as_str()))
            .bind($c.last_name.as_str())
            .bind($c.email.as_ref().map(|v| v.as_str()))
            .bind($c.phone.as_ref().map(|v| v.as_str()))
            .bind($c.mobile.as_ref().map(|v| v.as_str()))
            .bind($c.title.as_ref().map(|v| v.as_str()))
            .bind($c.account_id)
            .bind($c.lifecycle_stage.as_str())
            .bind($c.source.map(|v| v.as_str()))
            .bind(Json($c.tags.as_slice()))
            .bind($c.do_not_contact)
            .bind($c.owner_id)
            .bind($c.description.as_ref().map(|v| v.as_str()))
            .bind($custom_fields)
    };
}
pub(crate) use bind_contact_fields;

/// Inserts a contact row on a transaction's connection.
macro_rules! insert_contact_row {
    ($conn:expr, $x:expr, $custom_fields:expr) => {{
        let query = sqlx::query(
            "INSERT INTO contacts (organization_id, id, first_name, last_name, email, phone, mobile, title, account_id, \
             lifecycle_stage, source, tags, do_not_contact, owner_id, description, custom_fields, created_at, updated_at, \
             created_by, version, archived_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind($x.organization_id)
        .bind($x.id);
        bind_contact_fields!(query, $x, $custom_fields)
            .bind($x.created_at)
            .bind($x.updated_at)
            .bind($x.created_by)
            .bind($x.version)
            .bind($x.archived_at)
            .execute($conn)
            .await
            .map_err(|e| map(e, VIOLATIONS))?;
        Ok::<(), RepoError>(())
    }};
}
pub(crate) use insert_contact_row;

/// Updates a contact row when its version is `$expected`; answers the rows touched.
macro_rules! update_contact_row {
    ($conn:expr, $x:expr, $custom_fields:expr, $expected:expr) => {{
        let query = sqlx::query(
            "UPDATE contacts SET first_name = $3, last_name = $4, email = $5, phone = $6, mobile = $7, title = $8, \
             account_id = $9, lifecycle_stage = $10, source = $11, tags = $12, do_not_contact = $13, owner_id = $14, \
             description = $15, custom_fields = $16, updated_at = $17, version = $18, archived_at = $19 \
             WHERE organization_id = $1 AND id = $2 AND version = $20",
        )
        .bind($x.organization_id)
        .bind($x.id);
        let rows = bind_contact_fields!(query, $x, $custom_fields)
            .bind($x.updated_at)
            .bind($x.version)
            .bind($x.archived_at)
            .bind($expected)
            .execute($conn)
            .await
            .map_err(|e| map(e, VIOLATIONS))?
            .rows_affected();
        Ok::<u64, RepoError>(rows)
    }};
}
pub(crate) use update_contact_row;

macro_rules! impl_contacts {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl ContactRepository for $Store {
            async fn insert_contact(&self, contact: &Contact, audit: &AuditContext) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&contact.custom_fields)?;
                let mut tx = self.begin_write().await?;
                insert_contact_row!(tx.conn(), contact, custom_fields)?;
                write_audit!(tx.conn(), audit, AuditAction::Create, "contact", contact.id, &contact.creation_changes(), contact.created_at)?;
                tx.commit().await
            }

            async fn get_contact(&self, organization_id: Uuid, contact_id: Uuid) -> Result<Contact, RepoError> {
                let row: ContactRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {CONTACT_COLUMNS} FROM contacts WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(contact_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn find_active_contact_by_email(&self, organization_id: Uuid, email: &Email) -> Result<Option<Contact>, RepoError> {
                let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {CONTACT_COLUMNS} FROM contacts WHERE organization_id = $1 AND email = $2 AND archived_at IS NULL"
                )))
                .bind(organization_id)
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.map(Contact::try_from).transpose()
            }

            async fn update_contact(
                &self,
                contact: &Contact,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&contact.custom_fields)?;
                let mut tx = self.begin_write().await?;
                let updated = update_contact_row!(tx.conn(), contact, custom_fields, expected_version)?;
                if updated == 0 {
                    return Err(crate::error::stale_or_missing!(tx.conn(), "contacts", contact.organization_id, contact.id));
                }
                write_audit!(tx.conn(), audit, action, "contact", contact.id, changes, contact.updated_at)?;
                tx.commit().await
            }

            async fn list_contacts(&self, organization_id: Uuid, query: &ContactQuery) -> Result<Page<Contact>, RepoError> {
                // The email filter finds one or a few contacts: SQLite is told to read its index.
                let from = crate::list::from_table::<$Store>("contacts", "contacts_email", !query.emails.is_empty());
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {CONTACT_COLUMNS} FROM {from} WHERE organization_id = "));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                match query.account {
                    AccountFilter::Any => {}
                    AccountFilter::Of(account_id) => {
                        qb.push(" AND account_id = ").push_bind(account_id);
                    }
                    AccountFilter::NoAccount => {
                        qb.push(" AND account_id IS NULL");
                    }
                }
                let stages: Vec<&'static str> = query.lifecycle_stages.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "lifecycle_stage", &stages);
                crate::list::push_any_id(&mut qb, "owner_id", &query.owner_ids);
                let emails: Vec<&str> = query.emails.iter().map(|e| e.as_str()).collect();
                crate::list::push_any_text(&mut qb, "email", &emails);
                if let Some(flag) = query.do_not_contact {
                    qb.push(" AND do_not_contact = ").push_bind(flag);
                }
                if let Some(after) = query.created_after {
                    qb.push(" AND created_at > ").push_bind(after);
                }
                if let Some(before) = query.created_before {
                    qb.push(" AND created_at < ").push_bind(before);
                }
                crate::list::push_search(&mut qb, &["first_name", "last_name", "email"], query.search.as_deref());
                crate::list::push_keyset_page(
                    &mut qb,
                    sort_expr(query.sort.field),
                    query.sort.direction,
                    query.window.after.as_ref(),
                    query.window.limit,
                );
                let rows: Vec<ContactRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let contacts = rows.into_iter().map(Contact::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(contacts, query.window.limit, |c| c.position(field)))
            }
        }
    };
}

impl_contacts!(SqliteStore, sqlx::Sqlite);
impl_contacts!(PgStore, sqlx::Postgres);
