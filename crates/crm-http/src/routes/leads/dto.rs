//! The lead DTOs: the JSON a client sends and receives, and their conversion to domain types.

use crm_domain::ValidationErrors;
use crm_domain::lead::{Lead, LeadDraft, LeadPatch, LeadRating, LeadSortField, LeadSource, LeadStatus};
use crm_domain::value::{CustomFields, Email, LongText, Name, Phone, Url};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::{double_option, nullable, opt, required};
use crate::schema::{any_of_list, fields, one_of, sort_param};

pub(crate) fn source_schema() -> Object {
    one_of(LeadSource::NAMES, true)
}
pub(crate) fn status_schema() -> Object {
    one_of(LeadStatus::NAMES, false)
}
pub(crate) fn rating_schema() -> Object {
    one_of(LeadRating::NAMES, true)
}

/// A new lead. Only `last_name` is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines Ltd", "title": "CTO",
    "email": "ada@example.com", "phone": "+44 20 7946 0000", "source": "trade_show",
    "source_detail": "Paris Expo 2026", "rating": "hot", "custom_fields": {"budget_eur": 50000}
}))]
pub struct CreateLeadRequest {
    #[schema(schema_with = fields::optional_name)]
    pub first_name: Option<String>,
    #[schema(schema_with = fields::name)]
    pub last_name: String,
    /// Absent for a person buying for themselves.
    #[schema(schema_with = fields::optional_name)]
    pub company: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub title: Option<String>,
    #[schema(schema_with = fields::optional_email)]
    pub email: Option<String>,
    #[schema(schema_with = fields::optional_phone)]
    pub phone: Option<String>,
    #[schema(schema_with = fields::optional_url)]
    pub website: Option<String>,
    #[schema(schema_with = source_schema)]
    pub source: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub source_detail: Option<String>,
    /// Defaults to `new`; `converted` is reached only through conversion.
    #[schema(schema_with = status_schema)]
    pub status: Option<String>,
    #[schema(schema_with = rating_schema)]
    pub rating: Option<String>,
    /// Defaults to the creator. Giving another user needs the right to reassign.
    pub owner_id: Option<Uuid>,
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<String>,
    /// Any JSON object, up to 16 KiB serialised.
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

use crate::extract::custom_fields;

impl CreateLeadRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<LeadDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let first_name = opt(&mut errors, self.first_name.as_deref(), |v| Name::parse("first_name", v));
        let last_name = errors.collect(Name::parse("last_name", &self.last_name));
        let company = opt(&mut errors, self.company.as_deref(), |v| Name::parse("company", v));
        let title = opt(&mut errors, self.title.as_deref(), |v| Name::parse("title", v));
        let email = opt(&mut errors, self.email.as_deref(), |v| Email::parse("email", v));
        let phone = opt(&mut errors, self.phone.as_deref(), |v| Phone::parse("phone", v));
        let website = opt(&mut errors, self.website.as_deref(), |v| Url::parse("website", v));
        let source = opt(&mut errors, self.source.as_deref(), |v| LeadSource::parse("source", v));
        let source_detail = opt(&mut errors, self.source_detail.as_deref(), |v| Name::parse("source_detail", v));
        let status = opt(&mut errors, self.status.as_deref(), |v| LeadStatus::parse("status", v));
        let rating = opt(&mut errors, self.rating.as_deref(), |v| LeadRating::parse("rating", v));
        let description = opt(&mut errors, self.description.as_deref(), |v| LongText::parse("description", v));
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        errors.into_result()?;
        let Some(last_name) = last_name else {
            return Err(ValidationErrors::new());
        };
        Ok(LeadDraft {
            first_name,
            last_name,
            company,
            title,
            email,
            phone,
            website,
            source,
            source_detail,
            status,
            rating,
            owner_id: self.owner_id,
            description,
            custom_fields,
        })
    }
}

/// A partial update: an absent field stays as it is, `null` clears it. `last_name`, `status`
/// and `owner_id` cannot be cleared; `custom_fields` is replaced as a whole (`null` empties it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "contacted", "rating": "warm", "title": null}))]
pub struct UpdateLeadRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_email)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_phone)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_url)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = source_schema)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub source_detail: Option<Option<String>>,
    /// Moves along the status machine; `converted` only through conversion.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = status_schema)]
    pub status: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = rating_schema)]
    pub rating: Option<Option<String>>,
    /// Reassigning needs the manager or admin role.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Uuid)]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl UpdateLeadRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<LeadPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = LeadPatch {
            first_name: nullable(&mut errors, self.first_name, |v| Name::parse("first_name", v)),
            last_name: required(&mut errors, "last_name", self.last_name, |v: String, e| {
                e.collect(Name::parse("last_name", &v))
            }),
            company: nullable(&mut errors, self.company, |v| Name::parse("company", v)),
            title: nullable(&mut errors, self.title, |v| Name::parse("title", v)),
            email: nullable(&mut errors, self.email, |v| Email::parse("email", v)),
            phone: nullable(&mut errors, self.phone, |v| Phone::parse("phone", v)),
            website: nullable(&mut errors, self.website, |v| Url::parse("website", v)),
            source: nullable(&mut errors, self.source, |v| LeadSource::parse("source", v)),
            source_detail: nullable(&mut errors, self.source_detail, |v| Name::parse("source_detail", v)),
            status: required(&mut errors, "status", self.status, |v: String, e| {
                e.collect(LeadStatus::parse("status", &v))
            }),
            rating: nullable(&mut errors, self.rating, |v| LeadRating::parse("rating", v)),
            owner_id: required(&mut errors, "owner_id", self.owner_id, |v, _| Some(v)),
            description: nullable(&mut errors, self.description, |v| LongText::parse("description", v)),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
        };
        errors.into_result().map(|()| patch)
    }
}

/// A lead as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "first_name": "Ada", "last_name": "Lovelace",
    "company": "Analytical Engines Ltd", "title": "CTO", "email": "ada@example.com", "phone": "+44 20 7946 0000",
    "website": null, "source": "trade_show", "source_detail": "Paris Expo 2026", "status": "new", "rating": "hot",
    "owner_id": "0193a8f2-0000-7000-8000-000000000001", "description": null, "custom_fields": {"budget_eur": 50000},
    "created_at": "2026-11-22T10:00:00.000000Z", "updated_at": "2026-11-22T10:00:00.000000Z",
    "created_by": "0193a8f2-0000-7000-8000-000000000001", "version": 1, "archived_at": null, "converted_at": null,
    "converted_account_id": null, "converted_contact_id": null, "converted_opportunity_id": null
}))]
pub struct LeadResponse {
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    #[schema(schema_with = source_schema)]
    pub source: Option<&'static str>,
    pub source_detail: Option<String>,
    #[schema(schema_with = status_schema)]
    pub status: &'static str,
    #[schema(schema_with = rating_schema)]
    pub rating: Option<&'static str>,
    pub owner_id: Uuid,
    pub description: Option<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    /// Increases with every change; the ETag carries it.
    pub version: i64,
    #[schema(format = DateTime)]
    pub archived_at: Option<String>,
    /// When the latest done activity about it happened (failed attempts included); `null` when
    /// there is none. Kept by the database in the transaction of every activity change.
    #[schema(format = DateTime)]
    pub last_interaction_at: Option<String>,
    /// The kind of that activity.
    #[schema(schema_with = crate::routes::activities::nullable_kind_schema)]
    pub last_interaction_kind: Option<&'static str>,
    /// The due date of the earliest planned activity about it; `null` when nothing is planned.
    #[schema(format = DateTime)]
    pub next_activity_at: Option<String>,
    #[schema(format = DateTime)]
    pub converted_at: Option<String>,
    /// The account the conversion created or merged into.
    pub converted_account_id: Option<Uuid>,
    pub converted_contact_id: Option<Uuid>,
    pub converted_opportunity_id: Option<Uuid>,
}

impl From<&Lead> for LeadResponse {
    fn from(lead: &Lead) -> Self {
        let text = |v: &Option<Name>| v.as_ref().map(|v| v.as_str().to_owned());
        LeadResponse {
            id: lead.id,
            first_name: text(&lead.first_name),
            last_name: lead.last_name.as_str().to_owned(),
            company: text(&lead.company),
            title: text(&lead.title),
            email: lead.email.as_ref().map(|v| v.as_str().to_owned()),
            phone: lead.phone.as_ref().map(|v| v.as_str().to_owned()),
            website: lead.website.as_ref().map(|v| v.as_str().to_owned()),
            source: lead.source.map(LeadSource::as_str),
            source_detail: text(&lead.source_detail),
            status: lead.status.as_str(),
            rating: lead.rating.map(LeadRating::as_str),
            owner_id: lead.owner_id,
            description: lead.description.as_ref().map(|v| v.as_str().to_owned()),
            custom_fields: serde_json::from_str(lead.custom_fields.as_json_text())
                .unwrap_or_else(|_| serde_json::json!({})),
            created_at: timestamp(lead.created_at),
            updated_at: timestamp(lead.updated_at),
            created_by: lead.created_by,
            version: lead.version,
            archived_at: optional_timestamp(lead.archived_at),
            last_interaction_at: optional_timestamp(lead.interactions.last_at),
            last_interaction_kind: lead.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
            next_activity_at: optional_timestamp(lead.interactions.next_at),
            converted_at: optional_timestamp(lead.converted_at),
            converted_account_id: lead.converted_account_id,
            converted_contact_id: lead.converted_contact_id,
            converted_opportunity_id: lead.converted_opportunity_id,
        }
    }
}

/// A page of leads.
pub type LeadList = crate::resource::Page<LeadResponse>;

pub(crate) fn status_filter_schema() -> Object {
    any_of_list(LeadStatus::NAMES)
}
pub(crate) fn source_filter_schema() -> Object {
    any_of_list(LeadSource::NAMES)
}
pub(crate) fn rating_filter_schema() -> Object {
    any_of_list(LeadRating::NAMES)
}
pub(crate) fn sort_schema() -> Object {
    sort_param(LeadSortField::NAMES)
}

/// The query parameters of `GET /api/v1/leads`. Any other parameter is refused with a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeadListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Default `-created_at`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    #[param(schema_with = source_filter_schema)]
    pub source: Option<String>,
    #[param(schema_with = rating_filter_schema)]
    pub rating: Option<String>,
    /// Comma-separated user ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    /// Only leads created strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_after: Option<String>,
    /// Only leads created strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<String>,
    /// Comma-separated email addresses, matched exactly and without regard to case; at most 100
    /// of them and 2,000 characters in all.
    #[param(schema_with = crate::schema::email_list_schema)]
    pub email: Option<String>,
    /// Case-insensitive search in first and last name, company and email.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    /// `false` (default): active leads only; `true`: archived leads too; `only`: archived leads only.
    #[param(schema_with = archived_schema)]
    pub archived: Option<String>,
    /// Only those whose last interaction was strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub last_interaction_before: Option<String>,
    /// Only those whose last interaction was strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub last_interaction_after: Option<String>,
    /// `true`: only those never interacted with; `false`: only those interacted with.
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub no_interaction: Option<String>,
    /// `none`: only those with nothing planned (the ones nobody follows up); `any`: only those
    /// with something planned.
    #[param(schema_with = crate::routes::activities::next_activity_schema)]
    pub next_activity: Option<String>,
}

pub(crate) fn archived_schema() -> Object {
    one_of(&["true", "false", "only"], false)
}
