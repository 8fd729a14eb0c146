//! Row structs as both backends return them, and their conversion into domain types. The
//! `rows!` macro writes each struct's `FromRow` for SQLite and PostgreSQL from one field list.

use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditEvent, AuditValue, FieldChange};
use crm_domain::lead::{Lead, LeadRating, LeadSource, LeadStatus};
use crm_domain::permissions::Role;
use crm_domain::user::{Organization, User};
use crm_domain::value::{CustomFields, Email, LongText, Name, Phone, Url};
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::corrupt;

macro_rules! rows {
    ($(pub(crate) struct $name:ident { $($field:ident : $ty:ty),+ $(,)? })+) => {
        $(
            #[derive(Debug)]
            pub(crate) struct $name { $(pub(crate) $field: $ty),+ }

            impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
                fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                    use sqlx::Row;
                    Ok(Self { $($field: row.try_get(stringify!($field))?),+ })
                }
            }

            impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
                fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                    use sqlx::Row;
                    Ok(Self { $($field: row.try_get(stringify!($field))?),+ })
                }
            }
        )+
    };
}

rows! {
    pub(crate) struct OrganizationRow {
        id: Uuid,
        name: String,
        created_at: DateTime<Utc>,
    }

    pub(crate) struct UserRow {
        organization_id: Uuid,
        id: Uuid,
        name: String,
        email: String,
        role: String,
        active: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        version: i64,
    }

    pub(crate) struct CredentialsRow {
        organization_id: Uuid,
        id: Uuid,
        name: String,
        email: String,
        role: String,
        active: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        version: i64,
        password_hash: String,
    }

    pub(crate) struct LeadRow {
        organization_id: Uuid,
        id: Uuid,
        first_name: Option<String>,
        last_name: String,
        company: Option<String>,
        title: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        website: Option<String>,
        source: Option<String>,
        source_detail: Option<String>,
        status: String,
        rating: Option<String>,
        owner_id: Uuid,
        description: Option<String>,
        custom_fields: Json<serde_json::Value>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        created_by: Uuid,
        version: i64,
        archived_at: Option<DateTime<Utc>>,
        converted_at: Option<DateTime<Utc>>,
    }

    pub(crate) struct AuditEventRow {
        organization_id: Uuid,
        id: Uuid,
        actor_id: Option<Uuid>,
        action: String,
        entity_type: String,
        entity_id: Uuid,
        changes: Json<serde_json::Value>,
        request_id: Option<String>,
        occurred_at: DateTime<Utc>,
    }
}

pub(crate) const USER_COLUMNS: &str = "organization_id, id, name, email, role, active, created_at, updated_at, version";

pub(crate) const LEAD_COLUMNS: &str = "organization_id, id, first_name, last_name, company, title, email, phone, website, \
     source, source_detail, status, rating, owner_id, description, custom_fields, created_at, updated_at, created_by, \
     version, archived_at, converted_at";

impl From<OrganizationRow> for Organization {
    fn from(row: OrganizationRow) -> Self {
        Organization { id: row.id, name: Name::from_trusted(row.name), created_at: row.created_at }
    }
}

fn role(raw: &str) -> Result<Role, RepoError> {
    Role::parse("role", raw).map_err(|_| corrupt("role"))
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;
    fn try_from(row: UserRow) -> Result<Self, RepoError> {
        Ok(User {
            id: row.id,
            organization_id: row.organization_id,
            name: Name::from_trusted(row.name),
            email: Email::from_trusted(row.email),
            role: role(&row.role)?,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

impl CredentialsRow {
    pub(crate) fn into_parts(self) -> Result<(User, String), RepoError> {
        let user = User {
            id: self.id,
            organization_id: self.organization_id,
            name: Name::from_trusted(self.name),
            email: Email::from_trusted(self.email),
            role: role(&self.role)?,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        };
        Ok((user, self.password_hash))
    }
}

impl TryFrom<LeadRow> for Lead {
    type Error = RepoError;
    fn try_from(row: LeadRow) -> Result<Self, RepoError> {
        let name = |v: Option<String>| v.map(Name::from_trusted);
        Ok(Lead {
            id: row.id,
            organization_id: row.organization_id,
            first_name: name(row.first_name),
            last_name: Name::from_trusted(row.last_name),
            company: name(row.company),
            title: name(row.title),
            email: row.email.map(Email::from_trusted),
            phone: row.phone.map(Phone::from_trusted),
            website: row.website.map(Url::from_trusted),
            source: row
                .source
                .map(|s| LeadSource::parse("source", &s).map_err(|_| corrupt("lead source")))
                .transpose()?,
            source_detail: name(row.source_detail),
            status: LeadStatus::parse("status", &row.status).map_err(|_| corrupt("lead status"))?,
            rating: row
                .rating
                .map(|s| LeadRating::parse("rating", &s).map_err(|_| corrupt("lead rating")))
                .transpose()?,
            owner_id: row.owner_id,
            description: row.description.map(LongText::from_trusted),
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
            converted_at: row.converted_at,
        })
    }
}

/// Custom fields as a JSON value to bind; the HTTP edge guarantees the text is a JSON object.
pub(crate) fn custom_fields_json(fields: &CustomFields) -> Result<Json<serde_json::Value>, RepoError> {
    serde_json::from_str(fields.as_json_text()).map(Json).map_err(|_| corrupt("custom fields document"))
}

fn audit_value_to_json(value: &AuditValue) -> serde_json::Value {
    match value {
        AuditValue::Null => serde_json::Value::Null,
        AuditValue::Text(text) => serde_json::Value::String(text.clone()),
        AuditValue::Integer(n) => serde_json::Value::from(*n),
        AuditValue::Bool(b) => serde_json::Value::Bool(*b),
        AuditValue::Json(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.clone()))
        }
    }
}

fn audit_value_from_json(value: &serde_json::Value) -> AuditValue {
    match value {
        serde_json::Value::Null => AuditValue::Null,
        serde_json::Value::String(text) => AuditValue::Text(text.clone()),
        serde_json::Value::Bool(b) => AuditValue::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| AuditValue::Json(n.to_string()), AuditValue::Integer),
        other => AuditValue::Json(other.to_string()),
    }
}

pub(crate) fn changes_to_json(changes: &[FieldChange]) -> Json<serde_json::Value> {
    Json(serde_json::Value::Array(
        changes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "field": c.field,
                    "old": audit_value_to_json(&c.old),
                    "new": audit_value_to_json(&c.new),
                })
            })
            .collect(),
    ))
}

impl TryFrom<AuditEventRow> for AuditEvent {
    type Error = RepoError;
    fn try_from(row: AuditEventRow) -> Result<Self, RepoError> {
        let changes = row
            .changes
            .0
            .as_array()
            .ok_or_else(|| corrupt("audit change list"))?
            .iter()
            .map(|c| FieldChange {
                field: c.get("field").and_then(|f| f.as_str()).unwrap_or_default().to_owned(),
                old: c.get("old").map_or(AuditValue::Null, audit_value_from_json),
                new: c.get("new").map_or(AuditValue::Null, audit_value_from_json),
            })
            .collect();
        Ok(AuditEvent {
            id: row.id,
            organization_id: row.organization_id,
            actor_id: row.actor_id,
            action: AuditAction::parse("action", &row.action).map_err(|_| corrupt("audit action"))?,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            changes,
            request_id: row.request_id,
            occurred_at: row.occurred_at,
        })
    }
}
