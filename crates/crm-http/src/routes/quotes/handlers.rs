use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::account::Account;
use crm_domain::audit::AuditAction;
use crm_domain::opportunity::Opportunity;
use crm_domain::order::{DocumentSortField, Order};
use crm_domain::permissions::{Action, Resource, authorize, may_assign, may_change};
use crm_domain::quote::{DocumentKind, DocumentNumber, Quote, QuoteDraft, QuoteQuery, QuoteRuleError, QuoteStatus};
use crm_domain::{FieldError, RepoError, ValidationErrors};
use uuid::Uuid;

use super::dto::{AcceptedQuote, CreateQuoteRequest, QuoteList, QuoteListQuery, QuoteResponse, UpdateQuoteRequest};
use crate::auth::Caller;
use crate::conventions::{Tag, archived_filter, list_params, next_cursor, now, parse_any_of, parse_uuid_param};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::{audit_context, with_etag};
use crate::routes::documents::{ReasonRequest, conflict, parse_reason, price, reprice, today};
use crate::routes::orders::OrderResponse;
use crate::state::AppState;

impl From<QuoteRuleError> for ApiError {
    fn from(error: QuoteRuleError) -> Self {
        conflict(ProblemCode::from(&error), error)
    }
}

impl ApiRecord for Quote {
    const NOUN: &'static str = "quote";
    const COLLECTION: &'static str = "/api/v1/quotes";
    const MATRIX: Resource = Resource::SalesRecord;
    const OWNED: bool = true;
    type Response = QuoteResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    /// The quote as it reads today: a sent quote past its `valid_until` reads `expired`, and its
    /// tag says so.
    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (QuoteResponse, Tag) {
        let body = QuoteResponse::new(self, today());
        let tag = body.tag();
        (body, tag)
    }
}

impl Archivable for Quote {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) = (ProblemCode::QuoteArchived, ProblemCode::QuoteNotArchived);
}

/// Create a draft quote
///
/// The quote takes the next number of the organisation's quote sequence (`Q-000042`), the
/// opportunity's account and contact, and lines priced by the rounding rule in the API
/// description. The opportunity must be open.
#[utoipa::path(
    tag = "quotes",
    request_body = CreateQuoteRequest,
    responses(
        (status = 201, description = "The draft quote", body = QuoteResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The opportunity is closed or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/quotes")]
pub async fn create_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateQuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::SalesRecord, Action::Create, true)?;
    let input = body.0.try_into_domain()?;
    may_assign(&principal, Resource::SalesRecord, principal.user_id, input.owner_id)?;
    let opportunity = match state.store.get::<Opportunity>(principal.organization_id, input.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(RepoError::NotFound) => return Err(ApiError::unknown_reference("opportunity_id")),
        Err(other) => return Err(other.into()),
    };
    // Quoting commits the deal's owner: the caller must be allowed to change the opportunity.
    may_change(&principal, Resource::SalesRecord, Some(opportunity.owner_id))?;
    let Some(currency) = input.currency.or(opportunity.amount.map(|m| m.currency)) else {
        return Err(ApiError::from(ValidationErrors::from(FieldError::new(
            "currency",
            "required",
            "the opportunity has no amount to take a currency from",
        ))));
    };
    let lines = price(&state, principal.organization_id, currency, &input.lines).await?;
    let draft = QuoteDraft {
        opportunity_id: opportunity.id,
        valid_until: input.valid_until,
        notes: input.notes,
        custom_fields: input.custom_fields,
        owner_id: input.owner_id,
    };
    // The store gives the quote its number; the placeholder is never written.
    let placeholder = DocumentNumber::new(DocumentKind::Quote, 0);
    let quote = Quote::create(Uuid::now_v7(), placeholder, principal.user_id, draft, &opportunity, lines, now())?;
    let quote = state.store.insert_quote(&quote, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&quote, state.clock.now()))
}

/// Get a quote
#[utoipa::path(
    tag = "quotes",
    params(("id" = Uuid, Path, description = "The quote's id")),
    responses(
        (status = 200, description = "The quote", body = QuoteResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/quotes/{id}")]
pub async fn get_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Quote>(&req, &state, &caller, id.into_inner()).await
}

/// List quotes
#[utoipa::path(
    tag = "quotes",
    params(QuoteListQuery),
    responses((status = 200, description = "One page of quotes", body = QuoteList)),
    security(("bearer" = []))
)]
#[get("/quotes")]
pub async fn list_quotes(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<QuoteListQuery>,
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
    let quote_query = QuoteQuery {
        statuses: parse_any_of("status", query.status.as_deref(), QuoteStatus::parse)?,
        opportunity_id: parse_uuid_param("opportunity_id", query.opportunity_id.as_deref())?,
        account_id: parse_uuid_param("account_id", query.account_id.as_deref())?,
        owner_id: parse_uuid_param("owner_id", query.owner_id.as_deref())?,
        today,
        archived: archived_filter(query.archived.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_quotes(caller.0.organization_id, &quote_query).await?;
    let next_cursor = next_cursor(&page, quote_query.sort);
    Ok(Page::respond(page.items.iter().map(|q| QuoteResponse::new(q, today)).collect(), next_cursor))
}

/// Update a draft quote
///
/// `line_items` replaces every line; a new `currency` reprices them. Quotes that were sent
/// refuse changes (409 `quote_not_draft`).
#[utoipa::path(
    tag = "quotes",
    params(("id" = Uuid, Path, description = "The quote's id")),
    request_body = UpdateQuoteRequest,
    responses(
        (status = 200, description = "The updated quote", body = QuoteResponse, headers(("ETag" = String))),
        (status = 409, description = "Not a draft, or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/quotes/{id}")]
pub async fn update_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateQuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Quote>::begin(&req, &state, &caller, id.into_inner())?;
    let input = body.0.try_into_domain()?;
    let organization_id = edit.principal().organization_id;
    let quote = edit
        .apply(AuditAction::Update, input.patch.owner_id, async |current: &Quote| {
            let mut patch = input.patch.clone();
            patch.lines =
                reprice(&state, organization_id, &current.lines, input.currency, input.lines.as_deref()).await?;
            Ok(current.apply(&patch, now())?)
        })
        .await?;
    Ok(resource::ok(&quote, state.clock.now()))
}

/// Send a draft quote to the customer
///
/// Needs at least one line (409 `quote_empty`) and a `valid_until` not yet passed (409
/// `quote_expired`). A sent quote can no longer be edited.
#[utoipa::path(
    tag = "quotes",
    params(("id" = Uuid, Path, description = "The quote's id")),
    responses(
        (status = 200, description = "The sent quote", body = QuoteResponse, headers(("ETag" = String))),
        (status = 409, description = "Not a draft, empty, expired or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/quotes/{id}/send")]
pub async fn send_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Quote>::begin(&req, &state, &caller, id.into_inner())?;
    let quote = edit.apply(AuditAction::Update, None, async |q: &Quote| Ok(q.send(today(), now())?)).await?;
    Ok(resource::ok(&quote, state.clock.now()))
}

/// Record that the customer rejected a sent quote
#[utoipa::path(
    tag = "quotes",
    params(("id" = Uuid, Path, description = "The quote's id")),
    request_body(content = Option<ReasonRequest>, description = "Optional: why"),
    responses(
        (status = 200, description = "The rejected quote", body = QuoteResponse, headers(("ETag" = String))),
        (status = 409, description = "The quote was not sent, or is archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/quotes/{id}/reject")]
pub async fn reject_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let reason = parse_reason(&req, &body)?;
    let edit = Edit::<Quote>::begin(&req, &state, &caller, id.into_inner())?;
    let quote = edit.apply(AuditAction::Update, None, async |q: &Quote| Ok(q.reject(reason.clone(), now())?)).await?;
    Ok(resource::ok(&quote, state.clock.now()))
}

/// Accept a sent quote
///
/// In one transaction: the quote becomes `accepted`, an order (`SO-…`) is created from its lines
/// and buyers (shipped to the account's shipping address), and the opportunity closes won with
/// the quote's total as its amount. An expired quote answers 409 `quote_expired`; a closed or
/// archived opportunity 409 `opportunity_not_open`.
#[utoipa::path(
    tag = "quotes",
    params(("id" = Uuid, Path, description = "The quote's id")),
    responses(
        (status = 200, description = "The accepted quote and the order it created", body = AcceptedQuote, headers(("ETag" = String, description = "The quote's version"))),
        (status = 409, description = "Not sent, expired, archived, or the opportunity is not open", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/quotes/{id}/accept")]
pub async fn accept_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Quote>::begin(&req, &state, &caller, id.into_inner())?;
    let principal = edit.principal();
    let (quote, order) = edit
        .run(None, async |current: Quote| {
            let opportunity = state.store.get::<Opportunity>(principal.organization_id, current.opportunity_id).await?;
            may_change(principal, Resource::SalesRecord, Some(opportunity.owner_id))?;
            let order_id = Uuid::now_v7();
            let at = now();
            let acceptance = current.accept(&opportunity, order_id, principal.user_id, today(), at)?;
            let shipping_address = match opportunity.account_id {
                Some(account_id) => match state.store.get::<Account>(principal.organization_id, account_id).await {
                    Ok(account) => account.shipping_address,
                    Err(RepoError::NotFound) => None,
                    Err(other) => return Err(other.into()),
                },
                None => None,
            };
            let placeholder = DocumentNumber::new(DocumentKind::Order, 0);
            let order =
                Order::from_quote(order_id, placeholder, &acceptance.quote, shipping_address, principal.user_id, at);
            let order = state
                .store
                .accept_quote(&acceptance, current.version, opportunity.version, &order, edit.audit())
                .await?;
            Ok((acceptance.quote, order))
        })
        .await?;
    let body = AcceptedQuote { quote: QuoteResponse::new(&quote, today()), order: OrderResponse::from(&order) };
    let tag = body.quote.tag();
    Ok(with_etag(StatusCode::OK, &body, tag))
}

/// Archive a quote
#[utoipa::path(
    tag = "quotes",
    params(("id" = Uuid, Path, description = "The quote's id")),
    responses(
        (status = 200, description = "The archived quote", body = QuoteResponse, headers(("ETag" = String))),
        (status = 409, description = "Already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/quotes/{id}")]
pub async fn archive_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Quote>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived quote
#[utoipa::path(
    tag = "quotes",
    params(("id" = Uuid, Path, description = "The quote's id")),
    responses(
        (status = 200, description = "The restored quote", body = QuoteResponse, headers(("ETag" = String))),
        (status = 409, description = "Not archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/quotes/{id}/restore")]
pub async fn restore_quote(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Quote>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}
