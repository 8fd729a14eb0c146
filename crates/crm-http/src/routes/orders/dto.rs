//! The order DTOs.

use crm_domain::ValidationErrors;
use crm_domain::lines::LineDraft;
use crm_domain::money::Currency;
use crm_domain::order::{Order, OrderDraft, OrderPatch, OrderStatus};
use crm_domain::value::{CustomFields, LongText};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::custom_fields_value;
use crate::extract::{custom_fields, double_option, nullable, required};
use crate::routes::documents::{LineItemRequest, LinesResponse, parse_lines};
use crate::routes::values::{AddressDto, AddressResponse};
use crate::schema::{any_of_list, codes, fields, one_of};

pub(crate) fn status_schema() -> Object {
    one_of(OrderStatus::NAMES, false)
}
pub(crate) fn status_filter_schema() -> Object {
    any_of_list(OrderStatus::NAMES)
}

/// An order of its own; orders from accepted quotes come from `POST /api/v1/quotes/{id}/accept`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "account_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "currency": "EUR",
    "line_items": [{"product_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f81", "quantity": 10}]
}))]
pub struct CreateOrderRequest {
    /// The buyers default to the opportunity's; an order needs an `account_id`, a `contact_id`, or both.
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// A deal the order belongs to; the caller must be allowed to change it.
    pub opportunity_id: Option<Uuid>,
    #[schema(schema_with = codes::currency)]
    pub currency: String,
    #[serde(default)]
    pub line_items: Vec<LineItemRequest>,
    /// Defaults to the account's shipping address.
    pub shipping_address: Option<AddressDto>,
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<String>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    pub owner_id: Option<Uuid>,
}

/// A new order, parsed: its lines still to be priced and its buyers still to be checked.
pub struct OrderInput {
    pub draft: OrderDraft,
    pub currency: Currency,
    pub lines: Vec<LineDraft>,
}

impl CreateOrderRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<OrderInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let currency = errors.collect(Currency::parse("currency", &self.currency));
        let lines = parse_lines(&self.line_items, &mut errors);
        let shipping_address = self.shipping_address.and_then(|a| a.parse("shipping_address", &mut errors));
        let notes = self.notes.as_deref().and_then(|v| errors.collect(LongText::parse("notes", v)));
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        errors.into_result()?;
        let Some(currency) = currency else { return Err(ValidationErrors::new()) };
        let draft = OrderDraft {
            account_id: self.account_id,
            contact_id: self.contact_id,
            opportunity_id: self.opportunity_id,
            shipping_address,
            notes,
            custom_fields: custom_fields.unwrap_or_else(CustomFields::empty),
            owner_id: self.owner_id,
        };
        Ok(OrderInput { draft, currency, lines })
    }
}

/// Changes to an order: absent fields stay. The shipping address is fixed once the order is
/// fulfilled.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"shipping_address": {"street": "1 Dock Road", "city": "Leith", "country": "GB"}, "notes": "Deliver before noon"}))]
pub struct UpdateOrderRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<AddressDto>)]
    pub shipping_address: Option<Option<AddressDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Uuid)]
    pub owner_id: Option<Option<Uuid>>,
}

impl UpdateOrderRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<OrderPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let shipping_address = match self.shipping_address {
            None => None,
            Some(None) => Some(None),
            Some(Some(dto)) => Some(dto.parse("shipping_address", &mut errors)),
        };
        let patch = OrderPatch {
            shipping_address,
            notes: nullable(&mut errors, self.notes, |v| LongText::parse("notes", v)),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
            owner_id: required(&mut errors, "owner_id", self.owner_id, |v, _| Some(v)),
        };
        errors.into_result().map(|()| patch)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderResponse {
    pub id: Uuid,
    /// `SO-` and the organisation's order sequence.
    #[schema(example = "SO-000007")]
    pub number: String,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    /// The accepted quote the order came from.
    pub quote_id: Option<Uuid>,
    pub owner_id: Uuid,
    #[schema(schema_with = status_schema)]
    pub status: &'static str,
    #[serde(flatten)]
    pub lines: LinesResponse,
    pub shipping_address: Option<AddressResponse>,
    pub notes: Option<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub confirmed_at: Option<String>,
    /// When the order was handed to the people who ship the stock.
    #[schema(format = DateTime)]
    pub fulfilled_at: Option<String>,
    #[schema(format = DateTime)]
    pub delivered_at: Option<String>,
    #[schema(format = DateTime)]
    pub cancelled_at: Option<String>,
    pub cancellation_reason: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    pub version: i64,
}

impl From<&Order> for OrderResponse {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id,
            number: o.number.number.clone(),
            account_id: o.account_id,
            contact_id: o.contact_id,
            opportunity_id: o.opportunity_id,
            quote_id: o.quote_id,
            owner_id: o.owner_id,
            status: o.status.as_str(),
            lines: LinesResponse::from(&o.lines),
            shipping_address: o.shipping_address.as_ref().map(AddressResponse::from),
            notes: o.notes.as_ref().map(|v| v.as_str().to_owned()),
            custom_fields: custom_fields_value(&o.custom_fields),
            confirmed_at: optional_timestamp(o.confirmed_at),
            fulfilled_at: optional_timestamp(o.fulfilled_at),
            delivered_at: optional_timestamp(o.delivered_at),
            cancelled_at: optional_timestamp(o.cancelled_at),
            cancellation_reason: o.cancellation_reason.as_ref().map(|v| v.as_str().to_owned()),
            created_at: timestamp(o.created_at),
            updated_at: timestamp(o.updated_at),
            created_by: o.created_by,
            version: o.version,
        }
    }
}

/// A page of orders.
pub type OrderList = crate::resource::Page<OrderResponse>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `-created_at`; `number` sorts by the sequence.
    #[param(schema_with = crate::routes::quotes::sort_schema)]
    pub sort: Option<String>,
    /// Comma-separated statuses.
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub opportunity_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub owner_id: Option<String>,
}
