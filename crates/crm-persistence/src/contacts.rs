use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::account::LifecycleStage;
use crm_domain::address::Tags;
use crm_domain::audit::AuditContext;
use crm_domain::contact::{AccountFilter, Contact, ContactQuery, ContactSortField};
use crm_domain::lead::LeadSource;
use crm_domain::list::Page;
use crm_domain::ports::ContactRepository;
use crm_domain::value::{CustomFields, Email, LongText, Name, Phone};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, plain};
use crate::rows::custom_fields_json;
use crate::table::{Table, table};

/// The handlers check `account_id` before writing, so a foreign-key failure is about the owner.
const VIOLATIONS: Violations = Violations { unique: Some("email"), foreign_key: Some("owner_id") };

fn sort_expr(field: ContactSortField) -> &'static str {
    match field {
        ContactSortField::CreatedAt => "created_at",
        ContactSortField::UpdatedAt => "updated_at",
        ContactSortField::LastName => "last_name",
        ContactSortField::FirstName => "COALESCE(first_name, '')",
        ContactSortField::Email => "COALESCE(email, '')",
        ContactSortField::LastInteractionAt => crate::list::LAST_INTERACTION_ORDER,
        ContactSortField::AttentionDueAt => crate::list::ATTENTION_ORDER,
    }
}

table! {
    Contact => ContactRow in "contacts", entity "contact", violations VIOLATIONS, |contact| {
        first_name: Option<String> = contact.first_name.as_ref().map(|v| v.as_str()),
        last_name: String = contact.last_name.as_str(),
        email: Option<String> = contact.email.as_ref().map(|v| v.as_str()),
        phone: Option<String> = contact.phone.as_ref().map(|v| v.as_str()),
        mobile: Option<String> = contact.mobile.as_ref().map(|v| v.as_str()),
        title: Option<String> = contact.title.as_ref().map(|v| v.as_str()),
        account_id: Option<Uuid> = contact.account_id,
        lifecycle_stage: String = contact.lifecycle_stage.as_str(),
        source: Option<String> = contact.source.map(|v| v.as_str()),
        tags: Json<Vec<String>> = Json(contact.tags.as_slice()),
        do_not_contact: bool = contact.do_not_contact,
        owner_id: Uuid = contact.owner_id,
        description: Option<String> = contact.description.as_ref().map(|v| v.as_str()),
        custom_fields: Json<serde_json::Value> = custom_fields_json(&contact.custom_fields)?,
        updated_at: DateTime<Utc> = contact.updated_at,
        version: i64 = contact.version,
        archived_at: Option<DateTime<Utc>> = contact.archived_at,
        last_interaction_at: Option<DateTime<Utc>> = contact.interactions.last_at,
        last_interaction_kind: Option<String> = contact.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
        next_activity_at: Option<DateTime<Utc>> = contact.interactions.next_at,
        attention_due_at: Option<DateTime<Utc>> = contact.attention_due_at,
        open_complaints: i64 = contact.open_complaints,
    }
}

impl TryFrom<ContactRow> for Contact {
    type Error = RepoError;
    fn try_from(row: ContactRow) -> Result<Self, RepoError> {
        let name = |v: Option<String>| v.map(Name::from_trusted);
        Ok(Contact {
            id: row.id,
            organization_id: row.organization_id,
            first_name: name(row.first_name),
            last_name: Name::from_trusted(row.last_name),
            email: row.email.map(Email::from_trusted),
            phone: row.phone.map(Phone::from_trusted),
            mobile: row.mobile.map(Phone::from_trusted),
            title: name(row.title),
            account_id: row.account_id,
            lifecycle_stage: LifecycleStage::parse("lifecycle_stage", &row.lifecycle_stage)
                .map_err(|_| corrupt("lifecycle stage"))?,
            source: row
                .source
                .map(|s| LeadSource::parse("source", &s).map_err(|_| corrupt("contact source")))
                .transpose()?,
            tags: Tags::from_trusted(row.tags.0),
            do_not_contact: row.do_not_contact,
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

macro_rules! impl_contacts {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl ContactRepository for $Store {
            async fn insert_contact(&self, contact: &Contact, audit: &AuditContext) -> Result<(), RepoError> {
                self.insert_record(contact, &contact.creation_changes(), audit).await
            }

            async fn find_active_contact_by_email(
                &self,
                organization_id: Uuid,
                email: &Email,
            ) -> Result<Option<Contact>, RepoError> {
                let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM contacts WHERE organization_id = $1 AND email = $2 AND archived_at IS NULL",
                    Contact::sql().columns
                )))
                .bind(organization_id)
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.map(Contact::try_from).transpose()
            }

            async fn list_contacts(
                &self,
                organization_id: Uuid,
                query: &ContactQuery,
            ) -> Result<Page<Contact>, RepoError> {
                // The email filter finds one or a few contacts: SQLite is told to read its index.
                let from = crate::list::from_table::<$Store>("contacts", "contacts_email", !query.emails.is_empty());
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM {from} WHERE organization_id = ",
                    Contact::sql().columns
                ));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                crate::list::push_interactions(&mut qb, &query.interactions);
                crate::list::push_attention_overdue(&mut qb, query.attention_overdue_at);
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
                let field = query.sort.field;
                self.fetch_page(qb, sort_expr(query.sort.field), query.sort.direction, &query.window, |c: &Contact| {
                    c.position(field)
                })
                .await
            }
        }
    };
}

impl_contacts!(SqliteStore, sqlx::Sqlite);
impl_contacts!(PgStore, sqlx::Postgres);
