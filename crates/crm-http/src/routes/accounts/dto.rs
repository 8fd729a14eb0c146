//! The account DTOs and their conversion to domain types.

use crm_domain::account::{
    Account, AccountDraft, AccountPatch, AccountSortField, AccountTier, LifecycleStage, employee_count,
};
use crm_domain::address::Tags;
use crm_domain::value::{CustomFields, Email, LongText, Name, Phone, Url};
use crm_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::{double_option, nullable, opt, required};
use crate::routes::values::{AddressDto, AddressResponse, MoneyDto};
use crate::schema::{any_of_list, fields, one_of, sort_param};

pub(crate) fn tier_schema() -> Object {
    one_of(AccountTier::NAMES, true)
}
pub(crate) fn stage_schema() -> Object {
    one_of(LifecycleStage::NAMES, false)
}
pub(crate) fn tag_schema() -> Object {
    crate::schema::text(Tags::MAX_CHARS, false)
}

/// A new account. Only `name` is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Analytical Engines Ltd", "industry": "Manufacturing", "website": "https://engines.example",
    "billing_address": {"city": "London", "country": "GB"}, "employee_count": 120,
    "annual_revenue": {"amount": 125000000, "currency": "GBP"}, "tier": "a", "lifecycle_stage": "customer", "tags": ["emea"]
}))]
pub struct CreateAccountRequest {
    #[schema(schema_with = fields::name)]
    pub name: String,
    #[schema(schema_with = fields::optional_name)]
    pub industry: Option<String>,
    #[schema(schema_with = fields::optional_url)]
    pub website: Option<String>,
    #[schema(schema_with = fields::optional_phone)]
    pub phone: Option<String>,
    #[schema(schema_with = fields::optional_email)]
    pub email: Option<String>,
    pub billing_address: Option<AddressDto>,
    pub shipping_address: Option<AddressDto>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub employee_count: Option<i64>,
    pub annual_revenue: Option<MoneyDto>,
    #[schema(schema_with = tier_schema)]
    pub tier: Option<String>,
    /// Defaults to `prospect`.
    #[schema(schema_with = stage_schema)]
    pub lifecycle_stage: Option<String>,
    #[schema(max_items = 50, inline)]
    pub tags: Option<Vec<Tag>>,
    /// The account this one belongs to (a subsidiary's group).
    pub parent_account_id: Option<Uuid>,
    /// Defaults to the creator. Giving another user needs the right to reassign.
    pub owner_id: Option<Uuid>,
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<String>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A tag: 1 to 50 characters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Tag(pub String);

impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(tag_schema()))
    }
}

impl ToSchema for Tag {}

pub(crate) fn tags(errors: &mut ValidationErrors, raw: Option<Vec<Tag>>) -> Option<Tags> {
    let raw: Vec<String> = raw?.into_iter().map(|t| t.0).collect();
    match Tags::parse("tags", &raw) {
        Ok(tags) => Some(tags),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    }
}

use crate::extract::custom_fields;

impl CreateAccountRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<AccountDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.collect(Name::parse("name", &self.name));
        let industry = opt(&mut errors, self.industry.as_deref(), |v| Name::parse("industry", v));
        let website = opt(&mut errors, self.website.as_deref(), |v| Url::parse("website", v));
        let phone = opt(&mut errors, self.phone.as_deref(), |v| Phone::parse("phone", v));
        let email = opt(&mut errors, self.email.as_deref(), |v| Email::parse("email", v));
        let billing_address = self.billing_address.as_ref().and_then(|a| a.parse("billing_address", &mut errors));
        let shipping_address = self.shipping_address.as_ref().and_then(|a| a.parse("shipping_address", &mut errors));
        let employees = self.employee_count.and_then(|n| errors.collect(employee_count("employee_count", n)));
        let annual_revenue = self.annual_revenue.as_ref().and_then(|m| m.parse("annual_revenue", &mut errors));
        let tier = opt(&mut errors, self.tier.as_deref(), |v| AccountTier::parse("tier", v));
        let lifecycle_stage =
            opt(&mut errors, self.lifecycle_stage.as_deref(), |v| LifecycleStage::parse("lifecycle_stage", v));
        let tags = tags(&mut errors, self.tags);
        let description = opt(&mut errors, self.description.as_deref(), |v| LongText::parse("description", v));
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        errors.into_result()?;
        let Some(name) = name else { return Err(ValidationErrors::new()) };
        Ok(AccountDraft {
            name,
            industry,
            website,
            phone,
            email,
            billing_address,
            shipping_address,
            employee_count: employees,
            annual_revenue,
            tier,
            lifecycle_stage,
            tags: tags.unwrap_or_default(),
            parent_account_id: self.parent_account_id,
            owner_id: self.owner_id,
            description,
            custom_fields,
        })
    }
}

/// A partial update: an absent field stays as it is, `null` clears it. `name`,
/// `lifecycle_stage`, `tags` and `owner_id` cannot be cleared (send `[]` to remove every tag);
/// an address or `custom_fields` is replaced as a whole.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tier": "b", "lifecycle_stage": "customer", "industry": null}))]
pub struct UpdateAccountRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_url)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_phone)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_email)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub billing_address: Option<Option<AddressDto>>,
    #[serde(default, deserialize_with = "double_option")]
    pub shipping_address: Option<Option<AddressDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000_000)]
    pub employee_count: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub annual_revenue: Option<Option<MoneyDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = tier_schema)]
    pub tier: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = stage_schema)]
    pub lifecycle_stage: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<Tag>, max_items = 50)]
    pub tags: Option<Option<Vec<Tag>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_account_id: Option<Option<Uuid>>,
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

impl UpdateAccountRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<AccountPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = match self.name {
            None => None,
            Some(None) => {
                errors.push(FieldError::new("name", "required", "cannot be null"));
                None
            }
            Some(Some(raw)) => errors.collect(Name::parse("name", &raw)),
        };
        let billing_address = self.billing_address.map(|a| a.and_then(|a| a.parse("billing_address", &mut errors)));
        let shipping_address = self.shipping_address.map(|a| a.and_then(|a| a.parse("shipping_address", &mut errors)));
        let employees = match self.employee_count {
            None => None,
            Some(None) => Some(None),
            Some(Some(n)) => errors.collect(employee_count("employee_count", n)).map(Some),
        };
        let annual_revenue = match self.annual_revenue {
            None => None,
            Some(None) => Some(None),
            Some(Some(m)) => m.parse("annual_revenue", &mut errors).map(Some),
        };
        let lifecycle_stage = match self.lifecycle_stage {
            None => None,
            Some(None) => {
                errors.push(FieldError::new("lifecycle_stage", "required", "cannot be null"));
                None
            }
            Some(Some(raw)) => errors.collect(LifecycleStage::parse("lifecycle_stage", &raw)),
        };
        let tags = match self.tags {
            None => None,
            Some(None) => {
                errors.push(FieldError::new("tags", "required", "cannot be null; send [] to remove every tag"));
                None
            }
            Some(Some(raw)) => tags(&mut errors, Some(raw)),
        };
        let owner_id = required(&mut errors, "owner_id", self.owner_id, |v, _| Some(v));
        let patch = AccountPatch {
            name,
            industry: nullable(&mut errors, self.industry, |v| Name::parse("industry", v)),
            website: nullable(&mut errors, self.website, |v| Url::parse("website", v)),
            phone: nullable(&mut errors, self.phone, |v| Phone::parse("phone", v)),
            email: nullable(&mut errors, self.email, |v| Email::parse("email", v)),
            billing_address,
            shipping_address,
            employee_count: employees,
            annual_revenue,
            tier: nullable(&mut errors, self.tier, |v| AccountTier::parse("tier", v)),
            lifecycle_stage,
            tags,
            parent_account_id: self.parent_account_id,
            owner_id,
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

/// An account as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub billing_address: Option<AddressResponse>,
    pub shipping_address: Option<AddressResponse>,
    pub employee_count: Option<i64>,
    pub annual_revenue: Option<MoneyDto>,
    #[schema(schema_with = tier_schema)]
    pub tier: Option<&'static str>,
    #[schema(schema_with = stage_schema)]
    pub lifecycle_stage: &'static str,
    pub tags: Vec<String>,
    pub parent_account_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub description: Option<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
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
    /// Its open complaints: tickets of category `complaint` not yet solved (new, open, pending
    /// or on hold) and not archived. Kept by the server; a change bumps the version.
    pub open_complaints: i64,
}

impl From<&Account> for AccountResponse {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id,
            name: a.name.as_str().to_owned(),
            industry: a.industry.as_ref().map(|v| v.as_str().to_owned()),
            website: a.website.as_ref().map(|v| v.as_str().to_owned()),
            phone: a.phone.as_ref().map(|v| v.as_str().to_owned()),
            email: a.email.as_ref().map(|v| v.as_str().to_owned()),
            billing_address: a.billing_address.as_ref().map(AddressResponse::from),
            shipping_address: a.shipping_address.as_ref().map(AddressResponse::from),
            employee_count: a.employee_count,
            annual_revenue: a.annual_revenue.as_ref().map(MoneyDto::from_domain),
            tier: a.tier.map(AccountTier::as_str),
            lifecycle_stage: a.lifecycle_stage.as_str(),
            tags: a.tags.as_slice().to_vec(),
            parent_account_id: a.parent_account_id,
            owner_id: a.owner_id,
            description: a.description.as_ref().map(|v| v.as_str().to_owned()),
            custom_fields: serde_json::from_str(a.custom_fields.as_json_text())
                .unwrap_or_else(|_| serde_json::json!({})),
            created_at: timestamp(a.created_at),
            updated_at: timestamp(a.updated_at),
            created_by: a.created_by,
            version: a.version,
            archived_at: optional_timestamp(a.archived_at),
            last_interaction_at: optional_timestamp(a.interactions.last_at),
            last_interaction_kind: a.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
            next_activity_at: optional_timestamp(a.interactions.next_at),
            open_complaints: a.open_complaints,
        }
    }
}

/// A page of accounts.
pub type AccountList = crate::resource::Page<AccountResponse>;

pub(crate) fn tier_filter_schema() -> Object {
    any_of_list(AccountTier::NAMES)
}
pub(crate) fn stage_filter_schema() -> Object {
    any_of_list(LifecycleStage::NAMES)
}
pub(crate) fn sort_schema() -> Object {
    sort_param(AccountSortField::NAMES)
}

/// The query parameters of `GET /api/v1/accounts`. Any other parameter is refused with a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `name`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = tier_filter_schema)]
    pub tier: Option<String>,
    #[param(schema_with = stage_filter_schema)]
    pub lifecycle_stage: Option<String>,
    /// Comma-separated user ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    /// Only the direct subsidiaries of this account.
    #[param(value_type = Option<String>, pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    pub parent_account_id: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_after: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<String>,
    /// Case-insensitive search in name, email and website.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    /// `false` (default): active accounts only; `true`: archived too; `only`: archived only.
    #[param(schema_with = crate::routes::leads::archived_schema)]
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
    /// `overdue`: only the customers due for attention under the organisation's attention policy
    /// (`/settings/attention`): their last interaction is older than their class allows, or
    /// they were never reached. Sorted most overdue first unless `sort` says otherwise.
    #[param(schema_with = crate::routes::attention::attention_schema)]
    pub attention: Option<String>,
}
