use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use crm_domain::audit::AuditAction;
use crm_domain::invoice::{Invoice, InvoiceDraft, InvoiceQuery, InvoiceRuleError, InvoiceStatus, PaymentDraft};
use crm_domain::order::{DocumentSortField, Order};
use crm_domain::permissions::{Action, Resource, authorize, may_assign, may_change};
use crm_domain::quote::{DocumentKind, DocumentNumber};
use crm_domain::{FieldError, RepoError, ValidationErrors};
use uuid::Uuid;

use super::dto::{
    CreateInvoiceRequest, CreatePaymentRequest, InvoiceList, InvoiceListQuery, InvoiceResponse, IssueInvoiceRequest,
    PaymentList, PaymentReceipt, PaymentResponse, UpdateInvoiceRequest,
};
use crate::auth::Caller;
use crate::conventions::{
    PageQuery, Tag, encode_cursor, fixed_order_window, if_match, list_params, next_cursor, now, parse_any_of,
    parse_bool_param, parse_uuid_param,
};
use crate::extract::{JsonBody, parse_optional_json};
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Edit, Page};
use crate::respond::audit_context;
use crate::routes::documents::{ReasonRequest, conflict, parse_reason, price, reprice, today};
use crate::routes::opportunities::check_buyers;
use crate::state::AppState;

impl From<InvoiceRuleError> for ApiError {
    fn from(error: InvoiceRuleError) -> Self {
        match error {
            InvoiceRuleError::NoBuyer => {
                ApiError::from(ValidationErrors::from(FieldError::new("account_id", error.code(), error.to_string())))
            }
            InvoiceRuleError::DueBeforeIssue => {
                ApiError::from(ValidationErrors::from(FieldError::new("due_date", error.code(), error.to_string())))
            }
            InvoiceRuleError::CurrencyMismatch => ApiError::from(ValidationErrors::from(FieldError::new(
                "amount.currency",
                error.code(),
                error.to_string(),
            ))),
            _ => conflict(ProblemCode::from(&error), error),
        }
    }
}

impl ApiRecord for Invoice {
    const NOUN: &'static str = "invoice";
    const COLLECTION: &'static str = "/api/v1/invoices";
    const MATRIX: Resource = Resource::SalesRecord;
    const OWNED: bool = true;
    type Response = InvoiceResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    /// The invoice as it reads today: an issued invoice past its due date reads `overdue`, and
    /// its tag says so.
    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (InvoiceResponse, Tag) {
        let body = InvoiceResponse::new(self, today());
        let tag = body.tag();
        (body, tag)
    }
}

/// Create a draft invoice of its own
#[utoipa::path(
    tag = "invoices",
    request_body = CreateInvoiceRequest,
    responses((status = 201, description = "The draft invoice", body = InvoiceResponse, headers(("ETag" = String), ("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/invoices")]
pub async fn create_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateInvoiceRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::SalesRecord, Action::Create, true)?;
    let input = body.0.try_into_domain()?;
    may_assign(&principal, Resource::SalesRecord, principal.user_id, input.owner_id)?;
    check_buyers(&state, principal.organization_id, input.account_id, input.contact_id).await?;
    let lines = price(&state, principal.organization_id, input.currency, &input.lines).await?;
    let draft = InvoiceDraft {
        account_id: input.account_id,
        contact_id: input.contact_id,
        due_date: input.due_date,
        notes: input.notes,
        custom_fields: input.custom_fields,
        owner_id: input.owner_id,
    };
    let placeholder = DocumentNumber::new(DocumentKind::Invoice, 0);
    let invoice = Invoice::create(
        Uuid::now_v7(),
        principal.organization_id,
        placeholder,
        principal.user_id,
        draft,
        lines,
        now(),
    )?;
    let invoice = state.store.insert_invoice(&invoice, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&invoice, state.clock.now()))
}

/// Invoice an order
///
/// A draft invoice with the order's lines, buyers and deal. An order has at most one invoice that
/// is not void (409 `already_invoiced` names it in `existing_id`); a cancelled order cannot be
/// invoiced (409 `order_cancelled`). `If-Match` names the order's version: 412 when the order
/// changed since it was read.
#[utoipa::path(
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 201, description = "The draft invoice", body = InvoiceResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "Already invoiced, or cancelled", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders/{id}/invoice")]
pub async fn invoice_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let principal = &caller.0;
    let if_match = if_match(&req)?;
    let order = resource::load::<Order>(&state, &caller, id.into_inner()).await?;
    may_change(principal, Resource::SalesRecord, Some(order.owner_id))?;
    if_match.check(order.version)?;
    let already = |existing: Invoice| ApiError::DuplicateOf {
        code: ProblemCode::AlreadyInvoiced,
        field: "order_id",
        existing_id: existing.id,
    };
    if let Some(existing) = state.store.find_invoice_of_order(principal.organization_id, order.id).await? {
        return Err(already(existing));
    }
    let placeholder = DocumentNumber::new(DocumentKind::Invoice, 0);
    let invoice = Invoice::from_order(Uuid::now_v7(), placeholder, &order, principal.user_id, now())?;
    match state.store.insert_invoice(&invoice, &audit_context(&req, principal)).await {
        Ok(invoice) => Ok(resource::created(&invoice, state.clock.now())),
        // Another request invoiced the order first.
        Err(RepoError::Duplicate { .. }) => {
            match state.store.find_invoice_of_order(principal.organization_id, order.id).await? {
                Some(existing) => Err(already(existing)),
                // It was voided in the meantime: the order may be invoiced again.
                None => Err(conflict(ProblemCode::AlreadyInvoiced, "the order was invoiced by another request; retry")),
            }
        }
        Err(other) => Err(other.into()),
    }
}

/// Get an invoice
#[utoipa::path(
    tag = "invoices",
    params(("id" = Uuid, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The invoice", body = InvoiceResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/invoices/{id}")]
pub async fn get_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Invoice>(&req, &state, &caller, id.into_inner()).await
}

/// List invoices
#[utoipa::path(
    tag = "invoices",
    params(InvoiceListQuery),
    responses((status = 200, description = "One page of invoices", body = InvoiceList)),
    security(("bearer" = []))
)]
#[get("/invoices")]
pub async fn list_invoices(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InvoiceListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<DocumentSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "-created_at",
    )?;
    let today = today();
    let invoice_query = InvoiceQuery {
        statuses: parse_any_of("status", query.status.as_deref(), InvoiceStatus::parse)?,
        overdue: parse_bool_param("overdue", query.overdue.as_deref())?,
        today,
        account_id: parse_uuid_param("account_id", query.account_id.as_deref())?,
        order_id: parse_uuid_param("order_id", query.order_id.as_deref())?,
        owner_id: parse_uuid_param("owner_id", query.owner_id.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_invoices(caller.0.organization_id, &invoice_query).await?;
    let next_cursor = next_cursor(&page, invoice_query.sort);
    Ok(Page::respond(page.items.iter().map(|i| InvoiceResponse::new(i, today)).collect(), next_cursor))
}

/// Update an invoice
///
/// Lines, currency and due date change only on drafts (409 `invoice_not_draft`); notes, custom
/// fields and the owner at any time.
#[utoipa::path(
    tag = "invoices",
    params(("id" = Uuid, Path, description = "The invoice's id")),
    request_body = UpdateInvoiceRequest,
    responses(
        (status = 200, description = "The updated invoice", body = InvoiceResponse, headers(("ETag" = String))),
        (status = 409, description = "The invoice is no longer a draft", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/invoices/{id}")]
pub async fn update_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateInvoiceRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Invoice>::begin(&req, &state, &caller, id.into_inner())?;
    let input = body.0.try_into_domain()?;
    let organization_id = edit.principal().organization_id;
    let invoice = edit
        .apply(AuditAction::Update, input.patch.owner_id, async |current: &Invoice| {
            let mut patch = input.patch.clone();
            patch.lines =
                reprice(&state, organization_id, &current.lines, input.currency, input.lines.as_deref()).await?;
            Ok(current.apply(&patch, now())?)
        })
        .await?;
    Ok(resource::ok(&invoice, state.clock.now()))
}

/// Issue a draft invoice
///
/// Needs at least one line and a total above zero (409 `invoice_empty`); the due date must not be
/// before the issue date (422 `due_before_issue`).
#[utoipa::path(
    tag = "invoices",
    params(("id" = Uuid, Path, description = "The invoice's id")),
    request_body(content = Option<IssueInvoiceRequest>, description = "Optional: issue and due dates"),
    responses(
        (status = 200, description = "The issued invoice", body = InvoiceResponse, headers(("ETag" = String))),
        (status = 409, description = "Not a draft, or empty", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/invoices/{id}/issue")]
pub async fn issue_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: IssueInvoiceRequest = parse_optional_json(&req, &body)?;
    let (issue_date, due_date) = request.parse()?;
    let edit = Edit::<Invoice>::begin(&req, &state, &caller, id.into_inner())?;
    let invoice = edit
        .apply(AuditAction::Update, None, async |i: &Invoice| Ok(i.issue(issue_date, due_date, today(), now())?))
        .await?;
    Ok(resource::ok(&invoice, state.clock.now()))
}

/// Void an invoice
///
/// A draft, or an issued invoice nothing has been paid on (409 `invoice_has_payments`). Voiding
/// the invoice of an order lets the order be invoiced again.
#[utoipa::path(
    tag = "invoices",
    params(("id" = Uuid, Path, description = "The invoice's id")),
    request_body(content = Option<ReasonRequest>, description = "Optional: why"),
    responses(
        (status = 200, description = "The void invoice", body = InvoiceResponse, headers(("ETag" = String))),
        (status = 409, description = "Already void, or paid in part or whole", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/invoices/{id}/void")]
pub async fn void_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let reason = parse_reason(&req, &body)?;
    let edit = Edit::<Invoice>::begin(&req, &state, &caller, id.into_inner())?;
    let invoice = edit.apply(AuditAction::Update, None, async |i: &Invoice| Ok(i.void(reason.clone(), now())?)).await?;
    Ok(resource::ok(&invoice, state.clock.now()))
}

/// Record a payment on an issued invoice
///
/// The invoice becomes `paid` when its payments reach the total. A payment above the balance due
/// is refused (409 `overpayment`, nothing recorded); one in another currency is a 422
/// `currency_mismatch`.
#[utoipa::path(
    tag = "invoices",
    params(("id" = Uuid, Path, description = "The invoice's id")),
    request_body = CreatePaymentRequest,
    responses(
        (status = 201, description = "The payment and the invoice as it now stands", body = PaymentReceipt, headers(("ETag" = String, description = "The invoice's version"), ("Location" = String))),
        (status = 409, description = "Not issued, or above the balance due", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/invoices/{id}/payments")]
pub async fn create_payment(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CreatePaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Invoice>::begin(&req, &state, &caller, id.into_inner())?;
    let input = body.0.try_into_domain()?;
    let principal = edit.principal();
    let (invoice, payment) = edit
        .run(None, async |current: Invoice| {
            let at = now();
            let draft = PaymentDraft {
                amount: input.amount,
                paid_at: input.paid_at.unwrap_or(at),
                method: input.method,
                reference: input.reference.clone(),
            };
            let (next, changes, payment) = current.pay(Uuid::now_v7(), draft, principal.user_id, at)?;
            state.store.record_payment(&next, current.version, &changes, &payment, edit.audit()).await?;
            Ok((next, payment))
        })
        .await?;
    let (invoice, tag) = invoice.response(state.clock.now());
    let body = PaymentReceipt { payment: PaymentResponse::from(&payment), invoice };
    // A payment has no URL of its own: `Location` names the invoice's payments.
    Ok(crate::respond::created(format!("{}/{}/payments", Invoice::COLLECTION, body.invoice.id), &body, tag))
}

/// The order of an invoice's payments, which its cursors carry.
const PAYMENT_ORDER: &str = "paid_at";

/// List an invoice's payments, oldest first
#[utoipa::path(
    tag = "invoices",
    params(("id" = Uuid, Path, description = "The invoice's id"), PageQuery),
    responses((status = 200, description = "One page of payments, oldest first", body = PaymentList)),
    security(("bearer" = []))
)]
#[get("/invoices/{id}/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let window = fixed_order_window(query.limit.as_deref(), query.cursor.as_deref(), PAYMENT_ORDER)?;
    let invoice = resource::load::<Invoice>(&state, &caller, id.into_inner()).await?;
    let page = state.store.list_payments(caller.0.organization_id, invoice.id, &window).await?;
    Ok(Page::respond(
        page.items.iter().map(PaymentResponse::from).collect(),
        page.next.as_ref().map(|p| encode_cursor(PAYMENT_ORDER, p)),
    ))
}
