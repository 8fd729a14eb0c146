//! The opportunity DTOs and their conversion to domain types.

use chrono::NaiveDate;
use crm_domain::lead::LeadSource;
use crm_domain::opportunity::{
    Opportunity, OpportunityDraft, OpportunityKind, OpportunityPatch, OpportunitySortField, OpportunityStage,
    probability,
};
use crm_domain::value::{CustomFields, LongText, Name};
use crm_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::{double_option, nullable, opt, required};
use crate::routes::values::MoneyDto;
use crate::schema::{any_of_list, fields, one_of, sort_param};

fn open_stage_names() -> Vec<&'static str> {
    OpportunityStage::OPEN.iter().map(|s| s.as_str()).collect()
}
pub fn open_stage_schema() -> Object {
    one_of(&open_stage_names(), false)
}
pub(crate) fn stage_schema() -> Object {
    one_of(OpportunityStage::NAMES, false)
}
pub(crate) fn kind_schema() -> Object {
    one_of(OpportunityKind::NAMES, true)
}
pub(crate) fn source_schema() -> Object {
    one_of(LeadSource::NAMES, true)
}
/// A date field of a body, `null` to clear it.
pub fn date_schema() -> Object {
    crate::schema::date(true)
}

/// A calendar date `YYYY-MM-DD`.
pub fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| raw.len() == 10 && (1900..=9999).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| FieldError::new(field, "invalid_date", "must be a date such as 2026-12-31"))
}

/// A new opportunity: `name` and an `account_id`, a `contact_id` or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Engines for 2027", "account_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "amount": {"amount": 5000000, "currency": "EUR"},
    "stage": "qualification", "expected_close_date": "2027-03-31", "kind": "new_business", "next_step": "Demo on Monday"
}))]
pub struct CreateOpportunityRequest {
    #[schema(schema_with = fields::name)]
    pub name: String,
    /// The buying business.
    pub account_id: Option<Uuid>,
    /// The primary contact; for a person buying for themselves, the buyer.
    pub contact_id: Option<Uuid>,
    pub amount: Option<MoneyDto>,
    /// An open stage; defaults to `prospecting`. Deals are closed with `/close`.
    #[schema(schema_with = open_stage_schema)]
    pub stage: Option<String>,
    /// Percent; defaults from the stage.
    #[schema(minimum = 0, maximum = 100)]
    pub probability: Option<i64>,
    #[schema(schema_with = date_schema)]
    pub expected_close_date: Option<String>,
    #[schema(schema_with = kind_schema)]
    pub kind: Option<String>,
    #[schema(schema_with = source_schema)]
    pub lead_source: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub next_step: Option<String>,
    pub owner_id: Option<Uuid>,
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<String>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

use crate::extract::custom_fields;

impl CreateOpportunityRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<OpportunityDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.collect(Name::parse("name", &self.name));
        let amount = self.amount.as_ref().and_then(|m| m.parse("amount", &mut errors));
        let stage = opt(&mut errors, self.stage.as_deref(), |v| OpportunityStage::parse_open("stage", v));
        let probability = self.probability.and_then(|p| errors.collect(probability("probability", p)));
        let expected_close_date =
            opt(&mut errors, self.expected_close_date.as_deref(), |v| parse_date("expected_close_date", v));
        let kind = opt(&mut errors, self.kind.as_deref(), |v| OpportunityKind::parse("kind", v));
        let lead_source = opt(&mut errors, self.lead_source.as_deref(), |v| LeadSource::parse("lead_source", v));
        let next_step = opt(&mut errors, self.next_step.as_deref(), |v| Name::parse("next_step", v));
        let description = opt(&mut errors, self.description.as_deref(), |v| LongText::parse("description", v));
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        if self.account_id.is_none() && self.contact_id.is_none() {
            errors.push(FieldError::new("account_id", "buyer_required", "give an account_id, a contact_id, or both"));
        }
        errors.into_result()?;
        let Some(name) = name else { return Err(ValidationErrors::new()) };
        Ok(OpportunityDraft {
            name,
            account_id: self.account_id,
            contact_id: self.contact_id,
            amount,
            stage,
            probability,
            expected_close_date,
            kind,
            lead_source,
            next_step,
            owner_id: self.owner_id,
            description,
            custom_fields,
        })
    }
}

/// A partial update of an open deal: an absent field stays, `null` clears it. `stage` moves
/// between open stages (the probability then follows the stage unless given too); closing goes
/// through `/close`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"stage": "proposal", "next_step": "Send the proposal"}))]
pub struct UpdateOpportunityRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub account_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub amount: Option<Option<MoneyDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = open_stage_schema)]
    pub stage: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = i64, minimum = 0, maximum = 100)]
    pub probability: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = date_schema)]
    pub expected_close_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = kind_schema)]
    pub kind: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = source_schema)]
    pub lead_source: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub next_step: Option<Option<String>>,
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

impl UpdateOpportunityRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<OpportunityPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = required(&mut errors, "name", self.name, |v: String, e| e.collect(Name::parse("name", &v)));
        let stage = required(&mut errors, "stage", self.stage, |v: String, e| {
            e.collect(OpportunityStage::parse_open("stage", &v))
        });
        let probability =
            required(&mut errors, "probability", self.probability, |v, e| e.collect(probability("probability", v)));
        let owner_id = required(&mut errors, "owner_id", self.owner_id, |v, _| Some(v));
        let amount = match self.amount {
            None => None,
            Some(None) => Some(None),
            Some(Some(m)) => m.parse("amount", &mut errors).map(Some),
        };
        let patch = OpportunityPatch {
            name,
            account_id: self.account_id,
            contact_id: self.contact_id,
            amount,
            stage,
            probability,
            expected_close_date: nullable(&mut errors, self.expected_close_date, |v| {
                parse_date("expected_close_date", v)
            }),
            kind: nullable(&mut errors, self.kind, |v| OpportunityKind::parse("kind", v)),
            lead_source: nullable(&mut errors, self.lead_source, |v| LeadSource::parse("lead_source", v)),
            next_step: nullable(&mut errors, self.next_step, |v| Name::parse("next_step", v)),
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

pub(crate) fn outcome_schema() -> Object {
    one_of(&["won", "lost"], false)
}

/// An opportunity as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityResponse {
    pub id: Uuid,
    pub name: String,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub amount: Option<MoneyDto>,
    #[schema(schema_with = stage_schema)]
    pub stage: &'static str,
    pub probability: u8,
    #[schema(schema_with = date_schema)]
    pub expected_close_date: Option<String>,
    #[schema(schema_with = kind_schema)]
    pub kind: Option<&'static str>,
    #[schema(schema_with = source_schema)]
    pub lead_source: Option<&'static str>,
    pub next_step: Option<String>,
    pub owner_id: Uuid,
    pub description: Option<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    pub loss_reason: Option<String>,
    /// The competitor a lost deal was lost to.
    pub lost_to_competitor_id: Option<Uuid>,
    /// The support ticket this deal was handed over from (`POST /api/v1/tickets/{id}/opportunity`).
    pub source_ticket_id: Option<Uuid>,
    /// The product support suggested, with `source_ticket_id`.
    pub source_product_id: Option<Uuid>,
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
}

impl From<&Opportunity> for OpportunityResponse {
    fn from(o: &Opportunity) -> Self {
        Self {
            id: o.id,
            name: o.name.as_str().to_owned(),
            account_id: o.account_id,
            contact_id: o.contact_id,
            amount: o.amount.as_ref().map(MoneyDto::from_domain),
            stage: o.stage.as_str(),
            probability: o.probability,
            expected_close_date: o.expected_close_date.map(|d| d.to_string()),
            kind: o.kind.map(OpportunityKind::as_str),
            lead_source: o.lead_source.map(LeadSource::as_str),
            next_step: o.next_step.as_ref().map(|v| v.as_str().to_owned()),
            owner_id: o.owner_id,
            description: o.description.as_ref().map(|v| v.as_str().to_owned()),
            custom_fields: serde_json::from_str(o.custom_fields.as_json_text())
                .unwrap_or_else(|_| serde_json::json!({})),
            closed_at: optional_timestamp(o.closed_at),
            loss_reason: o.loss_reason.as_ref().map(|v| v.as_str().to_owned()),
            lost_to_competitor_id: o.lost_to_competitor_id,
            source_ticket_id: o.source.map(|s| s.ticket_id),
            source_product_id: o.source.and_then(|s| s.product_id),
            created_at: timestamp(o.created_at),
            updated_at: timestamp(o.updated_at),
            created_by: o.created_by,
            version: o.version,
            archived_at: optional_timestamp(o.archived_at),
            last_interaction_at: optional_timestamp(o.interactions.last_at),
            last_interaction_kind: o.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
            next_activity_at: optional_timestamp(o.interactions.next_at),
        }
    }
}

/// A page of opportunities.
pub type OpportunityList = crate::resource::Page<OpportunityResponse>;

pub(crate) fn stage_filter_schema() -> Object {
    any_of_list(OpportunityStage::NAMES)
}
pub(crate) fn sort_schema() -> Object {
    sort_param(OpportunitySortField::NAMES)
}
/// A date query parameter.
pub fn date_param_schema() -> Object {
    crate::schema::date(false)
}

/// The query parameters of `GET /api/v1/opportunities`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OpportunityListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `-created_at`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = stage_filter_schema)]
    pub stage: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub contact_id: Option<String>,
    /// Comma-separated user ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    /// Comma-separated competitor ids: deals that track any of them (`/opportunities/{id}/competitors`).
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub competitor_id: Option<String>,
    /// Deals expected to close on or after this date.
    #[param(schema_with = date_param_schema)]
    pub expected_close_after: Option<String>,
    /// Deals expected to close on or before this date.
    #[param(schema_with = date_param_schema)]
    pub expected_close_before: Option<String>,
    /// Case-insensitive search in the name.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
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
}

/// The query parameters of `GET /api/v1/accounts/{id}/opportunities`: those of
/// `GET /api/v1/opportunities` but `account_id`, which the path names.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountOpportunityListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `-created_at`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = stage_filter_schema)]
    pub stage: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub contact_id: Option<String>,
    /// Comma-separated user ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    /// Comma-separated competitor ids: deals that track any of them (`/opportunities/{id}/competitors`).
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub competitor_id: Option<String>,
    /// Deals expected to close on or after this date.
    #[param(schema_with = date_param_schema)]
    pub expected_close_after: Option<String>,
    /// Deals expected to close on or before this date.
    #[param(schema_with = date_param_schema)]
    pub expected_close_before: Option<String>,
    /// Case-insensitive search in the name.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
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
}

impl From<AccountOpportunityListQuery> for OpportunityListQuery {
    fn from(q: AccountOpportunityListQuery) -> Self {
        OpportunityListQuery {
            limit: q.limit,
            cursor: q.cursor,
            sort: q.sort,
            stage: q.stage,
            account_id: None,
            contact_id: q.contact_id,
            owner_id: q.owner_id,
            competitor_id: q.competitor_id,
            expected_close_after: q.expected_close_after,
            expected_close_before: q.expected_close_before,
            q: q.q,
            archived: q.archived,
            last_interaction_before: q.last_interaction_before,
            last_interaction_after: q.last_interaction_after,
            no_interaction: q.no_interaction,
            next_activity: q.next_activity,
        }
    }
}
