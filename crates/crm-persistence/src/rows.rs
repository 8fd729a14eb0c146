//! Row structs as both backends return them, and their conversion into domain types. The
//! `rows!` macro writes each struct's `FromRow` for SQLite and PostgreSQL from one field list.

use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::RepoError;
use crm_domain::account::{Account, AccountTier, LifecycleStage};
use crm_domain::address::{Address, CountryCode, Tags};
use crm_domain::audit::{AuditAction, AuditEvent, AuditValue, FieldChange};
use crm_domain::contact::Contact;
use crm_domain::lead::{Lead, LeadRating, LeadSource, LeadStatus};
use crm_domain::money::{Currency, Money};
use crm_domain::opportunity::{Opportunity, OpportunityKind, OpportunityStage, StageChange, StageHistoryEntry};
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
        converted_account_id: Option<Uuid>,
        converted_contact_id: Option<Uuid>,
        converted_opportunity_id: Option<Uuid>,
    }

    pub(crate) struct AccountRow {
        organization_id: Uuid,
        id: Uuid,
        name: String,
        industry: Option<String>,
        website: Option<String>,
        phone: Option<String>,
        email: Option<String>,
        billing_address: Option<Json<serde_json::Value>>,
        shipping_address: Option<Json<serde_json::Value>>,
        employee_count: Option<i64>,
        annual_revenue_amount: Option<i64>,
        annual_revenue_currency: Option<String>,
        tier: Option<String>,
        lifecycle_stage: String,
        tags: Json<Vec<String>>,
        parent_account_id: Option<Uuid>,
        owner_id: Uuid,
        description: Option<String>,
        custom_fields: Json<serde_json::Value>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        created_by: Uuid,
        version: i64,
        archived_at: Option<DateTime<Utc>>,
    }

    pub(crate) struct ContactRow {
        organization_id: Uuid,
        id: Uuid,
        first_name: Option<String>,
        last_name: String,
        email: Option<String>,
        phone: Option<String>,
        mobile: Option<String>,
        title: Option<String>,
        account_id: Option<Uuid>,
        lifecycle_stage: String,
        source: Option<String>,
        tags: Json<Vec<String>>,
        do_not_contact: bool,
        owner_id: Uuid,
        description: Option<String>,
        custom_fields: Json<serde_json::Value>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        created_by: Uuid,
        version: i64,
        archived_at: Option<DateTime<Utc>>,
    }

    pub(crate) struct OpportunityRow {
        organization_id: Uuid,
        id: Uuid,
        name: String,
        account_id: Option<Uuid>,
        contact_id: Option<Uuid>,
        amount: Option<i64>,
        currency: Option<String>,
        stage: String,
        probability: i64,
        expected_close_date: Option<NaiveDate>,
        kind: Option<String>,
        lead_source: Option<String>,
        next_step: Option<String>,
        owner_id: Uuid,
        description: Option<String>,
        custom_fields: Json<serde_json::Value>,
        closed_at: Option<DateTime<Utc>>,
        loss_reason: Option<String>,
        lost_to_competitor_id: Option<Uuid>,
        last_open_stage: String,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        created_by: Uuid,
        version: i64,
        archived_at: Option<DateTime<Utc>>,
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

pub(crate) const LEAD_COLUMNS: &str = "organization_id, id, first_name, last_name, company, title, email, phone, website, \
     source, source_detail, status, rating, owner_id, description, custom_fields, created_at, updated_at, created_by, \
     version, archived_at, converted_at, converted_account_id, converted_contact_id, converted_opportunity_id";

pub(crate) const ACCOUNT_COLUMNS: &str = "organization_id, id, name, industry, website, phone, email, billing_address, \
     shipping_address, employee_count, annual_revenue_amount, annual_revenue_currency, tier, lifecycle_stage, tags, \
     parent_account_id, owner_id, description, custom_fields, created_at, updated_at, created_by, version, archived_at";

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

impl TryFrom<AccountRow> for Account {
    type Error = RepoError;
    fn try_from(row: AccountRow) -> Result<Self, RepoError> {
        let name = |v: Option<String>| v.map(Name::from_trusted);
        let annual_revenue = match (row.annual_revenue_amount, row.annual_revenue_currency) {
            (Some(amount), Some(code)) => {
                Some(Money { amount, currency: Currency::parse("currency", &code).map_err(|_| corrupt("currency"))? })
            }
            _ => None,
        };
        Ok(Account {
            id: row.id,
            organization_id: row.organization_id,
            name: Name::from_trusted(row.name),
            industry: name(row.industry),
            website: row.website.map(Url::from_trusted),
            phone: row.phone.map(Phone::from_trusted),
            email: row.email.map(Email::from_trusted),
            billing_address: address_from_json(row.billing_address)?,
            shipping_address: address_from_json(row.shipping_address)?,
            employee_count: row.employee_count,
            annual_revenue,
            tier: row.tier.map(|t| AccountTier::parse("tier", &t).map_err(|_| corrupt("account tier"))).transpose()?,
            lifecycle_stage: LifecycleStage::parse("lifecycle_stage", &row.lifecycle_stage)
                .map_err(|_| corrupt("lifecycle stage"))?,
            tags: Tags::from_trusted(row.tags.0),
            parent_account_id: row.parent_account_id,
            owner_id: row.owner_id,
            description: row.description.map(LongText::from_trusted),
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
        })
    }
}

pub(crate) const CONTACT_COLUMNS: &str = "organization_id, id, first_name, last_name, email, phone, mobile, title, \
     account_id, lifecycle_stage, source, tags, do_not_contact, owner_id, description, custom_fields, created_at, \
     updated_at, created_by, version, archived_at";

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
        })
    }
}

pub(crate) const OPPORTUNITY_COLUMNS: &str = "organization_id, id, name, account_id, contact_id, amount, currency, stage, \
     probability, expected_close_date, kind, lead_source, next_step, owner_id, description, custom_fields, closed_at, \
     loss_reason, lost_to_competitor_id, last_open_stage, created_at, updated_at, created_by, version, archived_at";

fn money(amount: Option<i64>, currency: Option<String>) -> Result<Option<Money>, RepoError> {
    match (amount, currency) {
        (Some(amount), Some(code)) => {
            Ok(Some(Money { amount, currency: Currency::parse("currency", &code).map_err(|_| corrupt("currency"))? }))
        }
        _ => Ok(None),
    }
}

fn stage(raw: &str) -> Result<OpportunityStage, RepoError> {
    OpportunityStage::parse("stage", raw).map_err(|_| corrupt("opportunity stage"))
}

fn percent(raw: i64) -> Result<u8, RepoError> {
    u8::try_from(raw).map_err(|_| corrupt("probability"))
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
            last_open_stage: stage(&row.last_open_stage)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
        })
    }
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
            converted_account_id: row.converted_account_id,
            converted_contact_id: row.converted_contact_id,
            converted_opportunity_id: row.converted_opportunity_id,
        })
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
