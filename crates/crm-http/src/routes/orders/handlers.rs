use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use crm_domain::account::Account;
use crm_domain::audit::AuditAction;
use crm_domain::opportunity::Opportunity;
use crm_domain::order::{DocumentSortField, Order, OrderAction, OrderQuery, OrderRuleError, OrderStatus};
use crm_domain::permissions::{Action, Resource, authorize, may_assign, may_change};
use crm_domain::quote::{DocumentKind, DocumentNumber};
use crm_domain::value::LongText;
use crm_domain::{FieldError, RepoError, ValidationErrors};
use uuid::Uuid;

use super::dto::{CreateOrderRequest, OrderInput, OrderList, OrderListQuery, OrderResponse, UpdateOrderRequest};
use crate::auth::Caller;
use crate::conventions::{Tag, list_params, next_cursor, now, parse_any_of, parse_uuid_param};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Edit, Page};
use crate::respond::audit_context;
use crate::routes::documents::{ReasonRequest, conflict, parse_reason, price};
use crate::routes::opportunities::check_buyers;
use crate::state::AppState;

impl From<OrderRuleError> for ApiError {
    fn from(error: OrderRuleError) -> Self {
        match error {
            OrderRuleError::NoBuyer => {
                ApiError::from(ValidationErrors::from(FieldError::new("account_id", error.code(), error.to_string())))
            }
            _ => conflict(ProblemCode::from(&error), error),
        }
    }
}

impl ApiRecord for Order {
    const NOUN: &'static str = "order";
    const COLLECTION: &'static str = "/api/v1/orders";
    const MATRIX: Resource = Resource::SalesRecord;
    const OWNED: bool = true;
    type Response = OrderResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (OrderResponse, Tag) {
        (OrderResponse::from(self), self.version.into())
    }
}

/// Create an order of its own
///
/// Orders usually come from accepting a quote. This one takes the next `SO-` number, its lines
/// priced by the rounding rule, the opportunity's buyers when none are given, and the account's
/// shipping address unless one is given.
#[utoipa::path(
    tag = "orders",
    request_body = CreateOrderRequest,
    responses((status = 201, description = "The pending order", body = OrderResponse, headers(("ETag" = String), ("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/orders")]
pub async fn create_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::SalesRecord, Action::Create, true)?;
    let OrderInput { mut draft, currency, lines } = body.0.try_into_domain()?;
    may_assign(&principal, Resource::SalesRecord, principal.user_id, draft.owner_id)?;
    if let Some(opportunity_id) = draft.opportunity_id {
        let opportunity = match state.store.get::<Opportunity>(principal.organization_id, opportunity_id).await {
            Ok(opportunity) => opportunity,
            Err(RepoError::NotFound) => return Err(ApiError::unknown_reference("opportunity_id")),
            Err(other) => return Err(other.into()),
        };
        may_change(&principal, Resource::SalesRecord, Some(opportunity.owner_id))?;
        if draft.account_id.is_none() && draft.contact_id.is_none() {
            draft.account_id = opportunity.account_id;
            draft.contact_id = opportunity.contact_id;
        }
    }
    check_buyers(&state, principal.organization_id, draft.account_id, draft.contact_id).await?;
    if draft.shipping_address.is_none()
        && let Some(account_id) = draft.account_id
    {
        draft.shipping_address =
            state.store.get::<Account>(principal.organization_id, account_id).await?.shipping_address;
    }
    let lines = price(&state, principal.organization_id, currency, &lines).await?;
    let placeholder = DocumentNumber::new(DocumentKind::Order, 0);
    let order =
        Order::create(Uuid::now_v7(), principal.organization_id, placeholder, principal.user_id, draft, lines, now())?;
    let order = state.store.insert_order(&order, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&order, state.clock.now()))
}

/// Get an order
#[utoipa::path(
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = OrderResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/orders/{id}")]
pub async fn get_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Order>(&req, &state, &caller, id.into_inner()).await
}

/// List orders
#[utoipa::path(
    tag = "orders",
    params(OrderListQuery),
    responses((status = 200, description = "One page of orders", body = OrderList)),
    security(("bearer" = []))
)]
#[get("/orders")]
pub async fn list_orders(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<OrderListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<DocumentSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "-created_at",
    )?;
    let order_query = OrderQuery {
        statuses: parse_any_of("status", query.status.as_deref(), OrderStatus::parse)?,
        account_id: parse_uuid_param("account_id", query.account_id.as_deref())?,
        opportunity_id: parse_uuid_param("opportunity_id", query.opportunity_id.as_deref())?,
        owner_id: parse_uuid_param("owner_id", query.owner_id.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_orders(caller.0.organization_id, &order_query).await?;
    let next_cursor = next_cursor(&page, order_query.sort);
    Ok(Page::respond(page.items.iter().map(OrderResponse::from).collect(), next_cursor))
}

/// Update an order's shipping address, notes, custom fields or owner
#[utoipa::path(
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    request_body = UpdateOrderRequest,
    responses(
        (status = 200, description = "The updated order", body = OrderResponse, headers(("ETag" = String))),
        (status = 409, description = "The shipping address of a fulfilled, delivered or cancelled order", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/orders/{id}")]
pub async fn update_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Order>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    let order = edit
        .apply(AuditAction::Update, patch.owner_id, async |current: &Order| Ok(current.apply(&patch, now())?))
        .await?;
    Ok(resource::ok(&order, state.clock.now()))
}

async fn transition(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: OrderAction,
    reason: Option<LongText>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Order>::begin(req, state, caller, id)?;
    let order = edit
        .apply(AuditAction::Update, None, async |current: &Order| {
            Ok(current.transition(action, reason.clone(), now())?)
        })
        .await?;
    Ok(resource::ok(&order, state.clock.now()))
}

/// Confirm a pending order
#[utoipa::path(
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The confirmed order", body = OrderResponse, headers(("ETag" = String))),
        (status = 409, description = "The order is not pending (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders/{id}/confirm")]
pub async fn confirm_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    transition(&req, &state, &caller, id.into_inner(), OrderAction::Confirm, None).await
}

/// Fulfil a confirmed order: hand it to the people who ship the stock
///
/// Records `fulfilled_at`.
#[utoipa::path(
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The fulfilled order", body = OrderResponse, headers(("ETag" = String))),
        (status = 409, description = "The order is not confirmed (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders/{id}/fulfill")]
pub async fn fulfill_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    transition(&req, &state, &caller, id.into_inner(), OrderAction::Fulfill, None).await
}

/// Record that a fulfilled order was delivered
#[utoipa::path(
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The delivered order", body = OrderResponse, headers(("ETag" = String))),
        (status = 409, description = "The order is not fulfilled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders/{id}/deliver")]
pub async fn deliver_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    transition(&req, &state, &caller, id.into_inner(), OrderAction::Deliver, None).await
}

/// Cancel a pending or confirmed order
#[utoipa::path(
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    request_body(content = Option<ReasonRequest>, description = "Optional: why"),
    responses(
        (status = 200, description = "The cancelled order", body = OrderResponse, headers(("ETag" = String))),
        (status = 409, description = "The order was already fulfilled, delivered or cancelled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let reason = parse_reason(&req, &body)?;
    transition(&req, &state, &caller, id.into_inner(), OrderAction::Cancel, reason).await
}
