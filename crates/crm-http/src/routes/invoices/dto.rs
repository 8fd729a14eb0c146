//! The invoice and payment DTOs.

use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::invoice::{Invoice, InvoicePatch, InvoiceStatus, Payment, PaymentMethod};
use crm_domain::lines::LineDraft;
use crm_domain::money::Currency;
use crm_domain::value::{CustomFields, LongText, Name};
use crm_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, parse_instant, timestamp};
use crate::extract::custom_fields_value;
use crate::extract::{custom_fields, double_option, nullable, opt, required};
use crate::routes::documents::{LineItemRequest, LinesResponse, parse_lines, positive_money};
use crate::routes::opportunities::{date_schema, parse_date};
use crate::routes::values::MoneyDto;
use crate::schema::{any_of_list, codes, fields, one_of};

pub(crate) fn status_schema() -> Object {
    one_of(InvoiceStatus::NAMES, false)
}
pub(crate) fn status_filter_schema() -> Object {
    any_of_list(InvoiceStatus::NAMES)
}
pub(crate) fn method_schema() -> Object {
    one_of(PaymentMethod::NAMES, false)
}

/// A draft invoice of its own (to invoice an order, `POST /api/v1/orders/{id}/invoice`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "account_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "currency": "EUR", "due_date": "2027-01-31",
    "line_items": [{"description": "Support, December", "quantity": 1, "unit_price": 50000, "tax_rate": 20}]
}))]
pub struct CreateInvoiceRequest {
    /// The billed business; an invoice needs an `account_id`, a `contact_id`, or both.
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    #[schema(schema_with = codes::currency)]
    pub currency: String,
    /// Default: thirty days after the issue date.
    #[schema(schema_with = date_schema)]
    pub due_date: Option<String>,
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItemRequest>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    pub owner_id: Option<Uuid>,
}

pub struct InvoiceInput {
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub currency: Currency,
    pub due_date: Option<NaiveDate>,
    pub notes: Option<LongText>,
    pub lines: Vec<LineDraft>,
    pub custom_fields: CustomFields,
    pub owner_id: Option<Uuid>,
}

impl CreateInvoiceRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<InvoiceInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let currency = errors.collect(Currency::parse("currency", &self.currency));
        let due_date = self.due_date.as_deref().and_then(|v| errors.collect(parse_date("due_date", v)));
        let notes = self.notes.as_deref().and_then(|v| errors.collect(LongText::parse("notes", v)));
        let lines = parse_lines(&self.line_items, &mut errors);
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        if self.account_id.is_none() && self.contact_id.is_none() {
            errors.push(FieldError::new(
                "account_id",
                "buyer_required",
                "an invoice needs an account_id, a contact_id, or both",
            ));
        }
        errors.into_result()?;
        let Some(currency) = currency else { return Err(ValidationErrors::new()) };
        Ok(InvoiceInput {
            account_id: self.account_id,
            contact_id: self.contact_id,
            currency,
            due_date,
            notes,
            lines,
            custom_fields: custom_fields.unwrap_or_else(CustomFields::empty),
            owner_id: self.owner_id,
        })
    }
}

/// Changes to an invoice: lines, currency and due date only while it is a draft.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"due_date": "2027-02-15", "notes": "PO 4711"}))]
pub struct UpdateInvoiceRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = date_schema)]
    pub due_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<Option<String>>,
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

pub struct InvoicePatchInput {
    pub patch: InvoicePatch,
    pub currency: Option<Currency>,
    pub lines: Option<Vec<LineDraft>>,
}

impl UpdateInvoiceRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<InvoicePatchInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let currency =
            required(&mut errors, "currency", self.currency, |v: String, e| e.collect(Currency::parse("currency", &v)));
        let lines =
            required(&mut errors, "line_items", self.line_items, |v: Vec<LineItemRequest>, e| Some(parse_lines(&v, e)));
        let patch = InvoicePatch {
            due_date: nullable(&mut errors, self.due_date, |v| parse_date("due_date", v)),
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
        Ok(InvoicePatchInput { patch, currency, lines })
    }
}

/// Optional: the issue date (default today, UTC) and the due date (default the draft's, else
/// thirty days after issue).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"issue_date": "2026-12-01", "due_date": "2026-12-31"}))]
pub struct IssueInvoiceRequest {
    #[schema(schema_with = date_schema)]
    pub issue_date: Option<String>,
    #[schema(schema_with = date_schema)]
    pub due_date: Option<String>,
}

impl IssueInvoiceRequest {
    /// # Errors
    /// 422 on a malformed date.
    pub fn parse(&self) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let issue = self.issue_date.as_deref().and_then(|v| errors.collect(parse_date("issue_date", v)));
        let due = self.due_date.as_deref().and_then(|v| errors.collect(parse_date("due_date", v)));
        errors.into_result().map(|()| (issue, due))
    }
}

/// A payment received.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": 30000, "currency": "EUR"}, "paid_at": "2026-12-10T09:30:00Z", "method": "bank_transfer", "reference": "SEPA 2026-12-10/0042"}))]
pub struct CreatePaymentRequest {
    /// Positive, in the invoice's currency, at most the balance due.
    #[schema(schema_with = crate::schema::positive_money)]
    pub amount: MoneyDto,
    /// Default: now.
    #[schema(format = DateTime)]
    pub paid_at: Option<String>,
    #[schema(schema_with = method_schema)]
    pub method: String,
    #[schema(schema_with = fields::optional_name)]
    pub reference: Option<String>,
}

pub struct PaymentInput {
    pub amount: crm_domain::money::Money,
    pub paid_at: Option<DateTime<Utc>>,
    pub method: PaymentMethod,
    pub reference: Option<Name>,
}

impl CreatePaymentRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<PaymentInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let currency = errors.collect(Currency::parse("amount.currency", &self.amount.currency));
        let amount = currency.and_then(|c| errors.collect(positive_money("amount.amount", self.amount.amount, c)));
        let paid_at = opt(&mut errors, self.paid_at.as_deref(), |raw| parse_instant("paid_at", raw));
        let method = errors.collect(PaymentMethod::parse("method", &self.method));
        let reference = self.reference.as_deref().and_then(|v| errors.collect(Name::parse("reference", v)));
        errors.into_result()?;
        let (Some(amount), Some(method)) = (amount, method) else { return Err(ValidationErrors::new()) };
        Ok(PaymentInput { amount, paid_at, method, reference })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceResponse {
    pub id: Uuid,
    /// `INV-` and the organisation's invoice sequence.
    #[schema(example = "INV-000003")]
    pub number: String,
    pub order_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub owner_id: Uuid,
    #[schema(schema_with = status_schema)]
    pub status: &'static str,
    #[serde(flatten)]
    pub lines: LinesResponse,
    #[schema(format = Date)]
    pub issue_date: Option<String>,
    #[schema(format = Date)]
    pub due_date: Option<String>,
    /// Issued, not fully paid, and past its due date (UTC).
    pub overdue: bool,
    /// The sum of the payments, in minor units.
    pub amount_paid: i64,
    /// `total − amount_paid`.
    pub balance_due: i64,
    /// When the payments reached the total.
    #[schema(format = DateTime)]
    pub paid_at: Option<String>,
    #[schema(format = DateTime)]
    pub voided_at: Option<String>,
    pub void_reason: Option<String>,
    pub notes: Option<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    pub version: i64,
}

impl InvoiceResponse {
    /// The entity tag of this representation: the version, marked `overdue` while the invoice
    /// reads so (`"3-overdue"`).
    pub fn tag(&self) -> crate::conventions::Tag {
        crate::conventions::Tag::dated(self.version, self.overdue.then_some("overdue"))
    }

    pub fn new(i: &Invoice, today: NaiveDate) -> Self {
        Self {
            id: i.id,
            number: i.number.number.clone(),
            order_id: i.order_id,
            account_id: i.account_id,
            contact_id: i.contact_id,
            opportunity_id: i.opportunity_id,
            owner_id: i.owner_id,
            status: i.status.as_str(),
            lines: LinesResponse::from(&i.lines),
            issue_date: i.issue_date.map(|d| d.to_string()),
            due_date: i.due_date.map(|d| d.to_string()),
            overdue: i.overdue_on(today),
            amount_paid: i.amount_paid,
            balance_due: i.balance_due(),
            paid_at: optional_timestamp(i.paid_at),
            voided_at: optional_timestamp(i.voided_at),
            void_reason: i.void_reason.as_ref().map(|v| v.as_str().to_owned()),
            notes: i.notes.as_ref().map(|v| v.as_str().to_owned()),
            custom_fields: custom_fields_value(&i.custom_fields),
            created_at: timestamp(i.created_at),
            updated_at: timestamp(i.updated_at),
            created_by: i.created_by,
            version: i.version,
        }
    }
}

/// A page of invoices.
pub type InvoiceList = crate::resource::Page<InvoiceResponse>;

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResponse {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub amount: MoneyDto,
    #[schema(format = DateTime)]
    pub paid_at: String,
    #[schema(schema_with = method_schema)]
    pub method: &'static str,
    pub reference: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: Uuid,
}

impl From<&Payment> for PaymentResponse {
    fn from(p: &Payment) -> Self {
        Self {
            id: p.id,
            invoice_id: p.invoice_id,
            amount: MoneyDto::from_domain(&p.amount),
            paid_at: timestamp(p.paid_at),
            method: p.method.as_str(),
            reference: p.reference.as_ref().map(|v| v.as_str().to_owned()),
            created_at: timestamp(p.created_at),
            created_by: p.created_by,
        }
    }
}

/// A recorded payment and the invoice as it now stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentReceipt {
    pub payment: PaymentResponse,
    pub invoice: InvoiceResponse,
}

/// A page of an invoice's payments, oldest first.
pub type PaymentList = crate::resource::Page<PaymentResponse>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `-created_at`; `number` sorts by the sequence.
    #[param(schema_with = crate::routes::quotes::sort_schema)]
    pub sort: Option<String>,
    /// Comma-separated statuses.
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    /// `true`: issued invoices past their due date (UTC); `false`: all others.
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub overdue: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub order_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub owner_id: Option<String>,
}
