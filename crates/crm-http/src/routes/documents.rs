//! What quotes, orders and invoices share at the edge: line items in and out, pricing them
//! against the price book, and the problem responses of their rule errors. Their owner rules are
//! the domain's (`crm_domain::permissions::may_change` and `may_assign`).

use chrono::NaiveDate;
use crm_domain::lines::{LineDraft, LineItem, Lines, Quantity};
use crm_domain::money::{Currency, Money};
use crm_domain::product::{Percent, Product};
use crm_domain::value::LongText;
use crm_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::conventions::now;
use crate::problem::{ApiError, ProblemCode};
use crate::routes::products::percent_schema;
use crate::schema::fields;
use crate::state::AppState;

/// A line as a client writes it: a product from the price book (its name, unit price and tax rate
/// are the defaults) or a free `description` with a `unit_price`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
#[schema(example = json!({"product_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "quantity": 3, "discount_percent": 10}))]
pub struct LineItemRequest {
    /// A product of the price book, active and not archived.
    pub product_id: Option<Uuid>,
    /// Required without a product; defaults to the product's name.
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<String>,
    /// Positive, at most three decimals.
    #[schema(minimum = 0.001, maximum = 1_000_000_000, multiple_of = 0.001, example = 2.5)]
    pub quantity: f64,
    /// In minor units of the document's currency; required without a product, defaults to the
    /// product's unit price (which must then be in the document's currency).
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub unit_price: Option<i64>,
    /// Defaults to 0.
    #[schema(schema_with = percent_schema)]
    pub discount_percent: Option<f64>,
    /// Defaults to the product's tax rate, else 0.
    #[schema(schema_with = percent_schema)]
    pub tax_rate: Option<f64>,
}
crate::extract::object_only!(LineItemRequest);

impl LineItemRequest {
    fn parse(&self, index: usize, errors: &mut ValidationErrors) -> Option<LineDraft> {
        let field = |name: &str| format!("line_items[{index}].{name}");
        let description =
            self.description.as_deref().and_then(|v| errors.collect(LongText::parse(&field("description"), v)));
        let quantity = errors.collect(Quantity::parse(&field("quantity"), self.quantity));
        let discount_percent =
            self.discount_percent.and_then(|v| errors.collect(Percent::parse(&field("discount_percent"), v)));
        let tax_rate = self.tax_rate.and_then(|v| errors.collect(Percent::parse(&field("tax_rate"), v)));
        Some(LineDraft {
            product_id: self.product_id,
            description,
            quantity: quantity?,
            unit_price: self.unit_price,
            discount_percent,
            tax_rate,
        })
    }
}

/// Parses every line, collecting every error.
pub fn parse_lines(lines: &[LineItemRequest], errors: &mut ValidationErrors) -> Vec<LineDraft> {
    lines.iter().enumerate().filter_map(|(i, line)| line.parse(i, errors)).collect()
}

/// Prices the lines in `currency` against the organisation's price book.
///
/// # Errors
/// 422 naming every invalid line.
pub async fn price(
    state: &AppState,
    organization_id: Uuid,
    currency: Currency,
    drafts: &[LineDraft],
) -> Result<Lines, ApiError> {
    let mut ids: Vec<Uuid> = drafts.iter().filter_map(|d| d.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let products = state.store.get_many::<Product>(organization_id, &ids).await?;
    Ok(Lines::price(currency, drafts, &products)?)
}

/// The new lines of a document patch: `drafts` priced in `currency` (default the current one),
/// or the current lines in a new currency; `None` when the patch changes neither.
///
/// # Errors
/// 422 naming every invalid line.
pub async fn reprice(
    state: &AppState,
    organization_id: Uuid,
    current: &Lines,
    currency: Option<Currency>,
    drafts: Option<&[LineDraft]>,
) -> Result<Option<Lines>, ApiError> {
    let target = currency.unwrap_or(current.currency);
    match drafts {
        Some(drafts) => Ok(Some(price(state, organization_id, target, drafts).await?)),
        None if target != current.currency => {
            // Same lines, another currency: their prices stay the same numbers.
            Ok(Some(Lines { currency: target, ..current.clone() }))
        }
        None => Ok(None),
    }
}

/// Why a quote is rejected, an order cancelled or an invoice voided; the body is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Budget moved to next year"}))]
pub struct ReasonRequest {
    #[schema(schema_with = fields::optional_long_text)]
    pub reason: Option<String>,
}

/// The optional `reason` of a status change.
///
/// # Errors
/// 400/415 for a malformed body, 422 for an invalid reason.
pub fn parse_reason(req: &actix_web::HttpRequest, body: &[u8]) -> Result<Option<LongText>, ApiError> {
    let request: ReasonRequest = crate::extract::parse_optional_json(req, body)?;
    match request.reason.as_deref() {
        None => Ok(None),
        Some(raw) => Ok(Some(LongText::parse("reason", raw).map_err(ValidationErrors::from)?)),
    }
}

/// A priced line. Money is in minor units of the document's currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineItemResponse {
    pub product_id: Option<Uuid>,
    pub description: String,
    pub quantity: f64,
    pub unit_price: i64,
    pub discount_percent: f64,
    pub tax_rate: f64,
    /// `round(quantity × unit_price)`.
    pub subtotal: i64,
    /// `round(subtotal × discount_percent / 100)`.
    pub discount: i64,
    /// `round((subtotal − discount) × tax_rate / 100)`.
    pub tax: i64,
    /// `subtotal − discount + tax`.
    pub total: i64,
}

impl From<&LineItem> for LineItemResponse {
    fn from(l: &LineItem) -> Self {
        Self {
            product_id: l.product_id,
            description: l.description.as_str().to_owned(),
            quantity: l.quantity.as_f64(),
            unit_price: l.unit_price,
            discount_percent: l.discount_percent.as_f64(),
            tax_rate: l.tax_rate.as_f64(),
            subtotal: l.subtotal,
            discount: l.discount,
            tax: l.tax,
            total: l.total,
        }
    }
}

/// The lines and totals of a document, flattened into its response.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinesResponse {
    /// Every amount of the document is in this currency.
    #[schema(schema_with = crate::schema::codes::currency)]
    pub currency: &'static str,
    pub line_items: Vec<LineItemResponse>,
    /// The sum of the lines' subtotals.
    pub subtotal: i64,
    pub discount_total: i64,
    pub tax_total: i64,
    /// `subtotal − discount_total + tax_total`.
    pub total: i64,
}

impl From<&Lines> for LinesResponse {
    fn from(lines: &Lines) -> Self {
        Self {
            currency: lines.currency.code(),
            line_items: lines.items.iter().map(LineItemResponse::from).collect(),
            subtotal: lines.totals.subtotal,
            discount_total: lines.totals.discount_total,
            tax_total: lines.totals.tax_total,
            total: lines.totals.total,
        }
    }
}

/// Today in UTC: the day quotes expire and invoices fall overdue on.
pub fn today() -> NaiveDate {
    now().date_naive()
}

/// Parses an optional currency field.
pub fn currency(field: &str, raw: Option<&str>, errors: &mut ValidationErrors) -> Option<Currency> {
    raw.and_then(|raw| errors.collect(Currency::parse(field, raw)))
}

/// A money amount in a document's currency, positive.
pub fn positive_money(field: &str, amount: i64, currency: Currency) -> Result<Money, FieldError> {
    let money = Money::non_negative(field, amount, currency)?;
    if money.amount == 0 {
        return Err(FieldError::new(field, "out_of_range", "must be greater than 0"));
    }
    Ok(money)
}

/// A rule error of a document as a 409 with its stable code.
pub fn conflict(code: ProblemCode, detail: impl std::fmt::Display) -> ApiError {
    ApiError::Conflict { code, detail: detail.to_string() }
}
