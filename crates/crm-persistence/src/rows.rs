//! Row structs as both backends return them, and their conversion into domain types. The
//! `rows!` macro writes each struct's `FromRow` for SQLite and PostgreSQL from one field list.

use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::address::{Address, CountryCode};
use crm_domain::audit::{AuditAction, AuditEvent, AuditValue, FieldChange};
use crm_domain::money::{Currency, Money};
use crm_domain::opportunity::{OpportunityStage, StageChange, StageHistoryEntry};
use crm_domain::permissions::Role;
use crm_domain::user::{Organization, User};
use crm_domain::value::{CustomFields, Email, Name};
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
pub(crate) use rows;

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

    pub(crate) struct StageHistoryRow {
        id: Uuid,
        opportunity_id: Uuid,
        from_stage: Option<String>,
        to_stage: String,
        amount: Option<i64>,
        currency: Option<String>,
        probability: i64,
        changed_by: Uuid,
        changed_at: DateTime<Utc>,
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

/// An address as its JSON column holds it.
pub(crate) fn address_json(address: Option<&Address>) -> Option<Json<serde_json::Value>> {
    address.map(|a| {
        let text = |v: &Option<Name>| v.as_ref().map(|v| v.as_str().to_owned());
        Json(serde_json::json!({
            "street": text(&a.street),
            "city": text(&a.city),
            "region": text(&a.region),
            "postal_code": text(&a.postal_code),
            "country": a.country.map(CountryCode::code),
        }))
    })
}

pub(crate) fn address_from_json(value: Option<Json<serde_json::Value>>) -> Result<Option<Address>, RepoError> {
    let Some(Json(value)) = value else { return Ok(None) };
    let text = |name: &str| value.get(name).and_then(|v| v.as_str()).map(|v| Name::from_trusted(v.to_owned()));
    let country = match value.get("country").and_then(|v| v.as_str()) {
        Some(code) => Some(CountryCode::parse("country", code).map_err(|_| corrupt("country code"))?),
        None => None,
    };
    Ok(Some(Address {
        street: text("street"),
        city: text("city"),
        region: text("region"),
        postal_code: text("postal_code"),
        country,
    }))
}

pub(crate) fn money(amount: Option<i64>, currency: Option<String>) -> Result<Option<Money>, RepoError> {
    match (amount, currency) {
        (Some(amount), Some(code)) => {
            Ok(Some(Money { amount, currency: Currency::parse("currency", &code).map_err(|_| corrupt("currency"))? }))
        }
        _ => Ok(None),
    }
}

pub(crate) fn stage(raw: &str) -> Result<OpportunityStage, RepoError> {
    OpportunityStage::parse("stage", raw).map_err(|_| corrupt("opportunity stage"))
}

pub(crate) fn percent(raw: i64) -> Result<u8, RepoError> {
    u8::try_from(raw).map_err(|_| corrupt("probability"))
}

impl TryFrom<StageHistoryRow> for StageHistoryEntry {
    type Error = RepoError;
    fn try_from(row: StageHistoryRow) -> Result<Self, RepoError> {
        Ok(StageHistoryEntry {
            id: row.id,
            opportunity_id: row.opportunity_id,
            change: StageChange {
                from_stage: row.from_stage.as_deref().map(stage).transpose()?,
                to_stage: stage(&row.to_stage)?,
                amount: money(row.amount, row.currency)?,
                probability: percent(row.probability)?,
                changed_by: row.changed_by,
                changed_at: row.changed_at,
            },
        })
    }
}

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

/// Custom fields as a JSON value to bind; the HTTP edge guarantees the text is a JSON object.
pub(crate) fn custom_fields_json(fields: &CustomFields) -> Result<Json<serde_json::Value>, RepoError> {
    serde_json::from_str(fields.as_json_text()).map(Json).map_err(|_| corrupt("custom fields document"))
}

/// An audit value as it is stored in `audit_events.changes`.
pub(crate) fn audit_value_to_json(value: &AuditValue) -> serde_json::Value {
    match value {
        AuditValue::Null => serde_json::Value::Null,
        AuditValue::Text(text) => serde_json::Value::String(text.clone()),
        AuditValue::Integer(n) => serde_json::Value::from(*n),
        AuditValue::Bool(b) => serde_json::Value::Bool(*b),
        AuditValue::Json(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.clone()))
        }
        AuditValue::List(items) => serde_json::Value::Array(items.iter().map(audit_value_to_json).collect()),
        AuditValue::Object(parts) => {
            serde_json::Value::Object(parts.iter().map(|(k, v)| (k.clone(), audit_value_to_json(v))).collect())
        }
    }
}

fn audit_value_from_json(value: &serde_json::Value) -> AuditValue {
    match value {
        serde_json::Value::Null => AuditValue::Null,
        serde_json::Value::String(text) => AuditValue::Text(text.clone()),
        serde_json::Value::Bool(b) => AuditValue::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| AuditValue::Json(n.to_string()), AuditValue::Integer),
        serde_json::Value::Array(items) => AuditValue::List(items.iter().map(audit_value_from_json).collect()),
        serde_json::Value::Object(parts) => {
            AuditValue::Object(parts.iter().map(|(k, v)| (k.clone(), audit_value_from_json(v))).collect())
        }
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

/// An audit event's change list as stored.
///
/// # Errors
/// [`RepoError::Internal`] when the stored value is not a list.
pub(crate) fn changes_from_json(changes: &Json<serde_json::Value>) -> Result<Vec<FieldChange>, RepoError> {
    Ok(changes
        .0
        .as_array()
        .ok_or_else(|| corrupt("audit change list"))?
        .iter()
        .map(|c| FieldChange {
            field: c.get("field").and_then(|f| f.as_str()).unwrap_or_default().to_owned(),
            old: c.get("old").map_or(AuditValue::Null, audit_value_from_json),
            new: c.get("new").map_or(AuditValue::Null, audit_value_from_json),
        })
        .collect())
}

impl TryFrom<AuditEventRow> for AuditEvent {
    type Error = RepoError;
    fn try_from(row: AuditEventRow) -> Result<Self, RepoError> {
        let changes = changes_from_json(&row.changes)?;
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

/// The interaction summary columns of a customer record, as the domain reads them.
///
/// # Errors
/// [`RepoError::Internal`] for a kind that is not an activity kind.
pub(crate) fn interactions(
    last_at: Option<chrono::DateTime<chrono::Utc>>,
    last_kind: Option<&str>,
    next_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<crm_domain::activity::Interactions, crm_domain::RepoError> {
    let last_kind = last_kind
        .map(|k| crm_domain::activity::ActivityKind::parse("last_interaction_kind", k))
        .transpose()
        .map_err(|_| crate::error::corrupt("last_interaction_kind"))?;
    Ok(crm_domain::activity::Interactions { last_at, last_kind, next_at })
}
