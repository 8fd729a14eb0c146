//! The quote DTOs.

use chrono::NaiveDate;
use crm_domain::ValidationErrors;
use crm_domain::money::Currency;
use crm_domain::order::DocumentSortField;
use crm_domain::quote::{Quote, QuotePatch, QuoteStatus};
use crm_domain::value::{CustomFields, LongText};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::{custom_fields, custom_fields_value, double_option, nullable, required};
use crate::routes::documents::{LineItemRequest, LinesResponse, parse_lines};
use crate::routes::opportunities::{date_schema, parse_date};
use crate::schema::{any_of_list, codes, fields, one_of, sort_param};
use crm_domain::lines::LineDraft;

pub(crate) fn status_schema() -> Object {
    one_of(QuoteStatus::NAMES, false)
}
pub(crate) fn status_filter_schema() -> Object {
    any_of_list(QuoteStatus::NAMES)
}
pub(crate) fn sort_schema() -> Object {
    sort_param(DocumentSortField::NAMES)
}

/// A new draft quote on an open opportunity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "opportunity_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "currency": "EUR", "valid_until": "2027-01-31",
    "line_items": [
        {"description": "Installation", "quantity": 3, "unit_price": 1999, "discount_percent": 10, "tax_rate": 19},
        {"description": "Cables (m)", "quantity": 1.5, "unit_price": 33, "tax_rate": 5.5}
    ]
}))]
pub struct CreateQuoteRequest {
    pub opportunity_id: Uuid,
    /// Defaults to the opportunity's currency; required when the opportunity has no amount.
    #[schema(schema_with = codes::currency)]
    pub currency: Option<String>,
    /// The last day the offer stands (UTC); after it a sent quote is `expired`.
    #[schema(schema_with = date_schema)]
    pub valid_until: Option<String>,
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<String>,
    /// At most 500 lines.
    #[serde(default)]
    pub line_items: Vec<LineItemRequest>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Defaults to the caller; another owner needs the reassign right.
    pub owner_id: Option<Uuid>,
}

/// A new quote, parsed: its lines still to be priced.
pub struct QuoteInput {
    pub opportunity_id: Uuid,
    pub currency: Option<Currency>,
    pub valid_until: Option<NaiveDate>,
    pub notes: Option<LongText>,
    pub lines: Vec<LineDraft>,
    pub custom_fields: CustomFields,
    pub owner_id: Option<Uuid>,
}

impl CreateQuoteRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<QuoteInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let currency = crate::routes::documents::currency("currency", self.currency.as_deref(), &mut errors);
        let valid_until = self.valid_until.as_deref().and_then(|v| errors.collect(parse_date("valid_until", v)));
        let notes = self.notes.as_deref().and_then(|v| errors.collect(LongText::parse("notes", v)));
        let lines = parse_lines(&self.line_items, &mut errors);
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        errors.into_result()?;
        Ok(QuoteInput {
            opportunity_id: self.opportunity_id,
            currency,
            valid_until,
            notes,
            lines,
            custom_fields: custom_fields.unwrap_or_else(CustomFields::empty),
            owner_id: self.owner_id,
        })
    }
}

/// Changes to a draft quote: absent fields stay; `line_items` replaces every line.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"valid_until": "2027-02-28", "line_items": [{"description": "Installation", "quantity": 2, "unit_price": 1999}]}))]
pub struct UpdateQuoteRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = date_schema)]
    pub valid_until: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<Option<String>>,
    /// Changing the currency reprices the lines (send `line_items` too when they use products
    /// priced in another currency).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = codes::currency)]
    pub currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<LineItemRequest>)]
    pub line_items: Option<Option<Vec<LineItemRequest>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Uuid)]
    pub owner_id: Option<Option<Uuid>>,
}

/// A patch whose lines (and currency) are still to be priced.
pub struct QuotePatchInput {
    pub patch: QuotePatch,
    pub currency: Option<Currency>,
    pub lines: Option<Vec<LineDraft>>,
}

impl UpdateQuoteRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<QuotePatchInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let currency =
            required(&mut errors, "currency", self.currency, |v: String, e| e.collect(Currency::parse("currency", &v)));
        let lines =
            required(&mut errors, "line_items", self.line_items, |v: Vec<LineItemRequest>, e| Some(parse_lines(&v, e)));
        let patch = QuotePatch {
            valid_until: nullable(&mut errors, self.valid_until, |v| parse_date("valid_until", v)),
            notes: nullable(&mut errors, self.notes, |v| LongText::parse("notes", v)),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
            owner_id: required(&mut errors, "owner_id", self.owner_id, |v, _| Some(v)),
            lines: None,
        };
        errors.into_result()?;
        Ok(QuotePatchInput { patch, currency, lines })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteResponse {
    pub id: Uuid,
    /// `Q-` and the organisation's quote sequence, zero-padded to six digits.
    #[schema(example = "Q-000042")]
    pub number: String,
    pub opportunity_id: Uuid,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub owner_id: Uuid,
    /// `expired` is a sent quote whose `valid_until` day (UTC) has passed.
    #[schema(schema_with = status_schema)]
    pub status: &'static str,
    #[schema(format = Date)]
    pub valid_until: Option<String>,
    #[serde(flatten)]
    pub lines: LinesResponse,
    pub notes: Option<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    #[schema(format = DateTime)]
    pub accepted_at: Option<String>,
    #[schema(format = DateTime)]
    pub rejected_at: Option<String>,
    pub rejection_reason: Option<String>,
    /// The order accepting the quote created.
    pub order_id: Option<Uuid>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    pub version: i64,
    #[schema(format = DateTime)]
    pub archived_at: Option<String>,
}

impl QuoteResponse {
    /// The entity tag of this representation: the version, marked `expired` once the quote
    /// reads so (`"3-expired"`).
    pub fn tag(&self) -> crate::conventions::Tag {
        let expired = QuoteStatus::Expired.as_str();
        crate::conventions::Tag::dated(self.version, (self.status == expired).then_some(expired))
    }

    pub fn new(q: &Quote, today: NaiveDate) -> Self {
        Self {
            id: q.id,
            number: q.number.number.clone(),
            opportunity_id: q.opportunity_id,
            account_id: q.account_id,
            contact_id: q.contact_id,
            owner_id: q.owner_id,
            status: q.status_on(today).as_str(),
            valid_until: q.valid_until.map(|d| d.to_string()),
            lines: LinesResponse::from(&q.lines),
            notes: q.notes.as_ref().map(|v| v.as_str().to_owned()),
            custom_fields: custom_fields_value(&q.custom_fields),
            sent_at: optional_timestamp(q.sent_at),
            accepted_at: optional_timestamp(q.accepted_at),
            rejected_at: optional_timestamp(q.rejected_at),
            rejection_reason: q.rejection_reason.as_ref().map(|v| v.as_str().to_owned()),
            order_id: q.order_id,
            created_at: timestamp(q.created_at),
            updated_at: timestamp(q.updated_at),
            created_by: q.created_by,
            version: q.version,
            archived_at: optional_timestamp(q.archived_at),
        }
    }
}

/// A page of quotes.
pub type QuoteList = crate::resource::Page<QuoteResponse>;

/// What accepting a quote produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedQuote {
    pub quote: QuoteResponse,
    pub order: crate::routes::orders::OrderResponse,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `-created_at`; `number` sorts by the sequence.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Comma-separated statuses; `expired` and `sent` are told apart by today's date (UTC).
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub opportunity_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub owner_id: Option<String>,
    #[param(schema_with = crate::routes::leads::archived_schema)]
    pub archived: Option<String>,
}
