use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use crm_domain::audit::AuditAction;
use crm_domain::permissions::{Action, Resource, authorize, may_assign};
use crm_domain::ports::TicketLinks;
use crm_domain::sla::SlaPolicy;
use crm_domain::ticket::{
    SlaStatus, Ticket, TicketAction, TicketCategory, TicketPriority, TicketQuery, TicketRuleError, TicketSortField,
    TicketStatus,
};
use crm_domain::value::LongText;
use crm_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use super::dto::{
    CreateTicketRequest, SolveRequest, TicketList, TicketListQuery, TicketResponse, UpdateTicketRequest, WaitRequest,
};
use crate::auth::Caller;
use crate::conventions::{
    Tag, archived_filter, list_params, next_cursor, parse_any_of, parse_timestamp_param, parse_uuid_param,
};
use crate::extract::{JsonBody, parse_optional_json};
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

impl From<TicketRuleError> for ApiError {
    fn from(error: TicketRuleError) -> Self {
        let conflict = |code: ProblemCode, detail: String| ApiError::Conflict { code, detail };
        match &error {
            TicketRuleError::InvalidTransition { status, allowed } => {
                let allowed: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
                let next = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
                conflict(
                    ProblemCode::InvalidTransition,
                    format!("a {} ticket cannot take this step; the steps it may take: {next}", status.as_str()),
                )
            }
            TicketRuleError::ReopenWindowPassed => conflict(ProblemCode::ReopenWindowPassed, error.to_string()),
            TicketRuleError::Closed => conflict(ProblemCode::TicketClosed, error.to_string()),
            TicketRuleError::CommentRedacted => conflict(ProblemCode::CommentRedacted, error.to_string()),
            TicketRuleError::TooManyOpportunities => conflict(ProblemCode::TooManyOpportunities, error.to_string()),
            TicketRuleError::Sla(_) => conflict(ProblemCode::SlaNotComputable, error.to_string()),
            TicketRuleError::RequesterRequired => {
                ApiError::from(ValidationErrors::from(FieldError::new("contact_id", error.code(), error.to_string())))
            }
            TicketRuleError::CustomerCommentInternal => {
                ApiError::from(ValidationErrors::from(FieldError::new("visibility", error.code(), error.to_string())))
            }
        }
    }
}

impl ApiRecord for Ticket {
    const NOUN: &'static str = "ticket";
    const COLLECTION: &'static str = "/api/v1/tickets";
    const MATRIX: Resource = Resource::Ticket;
    const OWNED: bool = true;
    type Response = TicketResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        self.owner_id
    }

    /// The ticket as it stands at `now`: closed once its reopen window passed, its SLA status by
    /// the clock; both in the tag.
    fn response(&self, now: DateTime<Utc>) -> (TicketResponse, Tag) {
        TicketResponse::of(self, now)
    }
}

impl Archivable for Ticket {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) = (ProblemCode::TicketArchived, ProblemCode::TicketNotArchived);
}

/// The organisation's SLA policy as it stands.
pub(super) async fn policy(state: &AppState, organization_id: Uuid) -> Result<SlaPolicy, ApiError> {
    Ok(state.store.sla_settings(organization_id).await?.policy)
}

/// Checks that each record named exists, in one read with the organisation's SLA policy: the
/// records of `named`, and the account as the create or the change names it (`None`: not named,
/// `Some(None)`: cleared). Answers the account a named contact gives the ticket when no account
/// is named (`Some(account)` to fill in), and the policy.
///
/// # Errors
/// 422 `unknown_reference` on each missing record; `account_mismatch` on `account_id` when the
/// named account is not the contact's.
async fn check_links(
    state: &AppState,
    organization_id: Uuid,
    mut named: TicketLinks,
    account: Option<Option<Uuid>>,
) -> Result<(Option<Uuid>, SlaPolicy), ApiError> {
    named.account_id = account.flatten();
    let (found, settings) = state.store.ticket_targets(organization_id, &named).await?;
    let mut errors = ValidationErrors::new();
    for (field, asked, exists) in [
        ("contact_id", named.contact_id.is_some(), found.contact.is_some()),
        ("account_id", named.account_id.is_some(), found.account),
        ("opportunity_id", named.opportunity_id.is_some(), found.opportunity),
        ("order_id", named.order_id.is_some(), found.order),
        ("product_id", named.product_id.is_some(), found.product),
    ] {
        if asked && !exists {
            errors.push(FieldError::new(field, "unknown_reference", "no such record exists in your organization"));
        }
    }
    let mut fill = None;
    match (found.contact.flatten(), account) {
        (Some(theirs), Some(Some(named))) if theirs != named => errors.push(FieldError::new(
            "account_id",
            "account_mismatch",
            "the contact belongs to another account; leave account_id out to take the contact's",
        )),
        (Some(theirs), None) => fill = Some(theirs),
        _ => {}
    }
    errors.into_result().map_err(ApiError::from)?;
    Ok((fill, settings.policy))
}

/// Open a ticket
///
/// The ticket starts `new` with the next number of the organisation's ticket sequence
/// (`T-000001`) and its deadlines from the SLA policy as it stands now: a later change of the
/// policy applies to tickets created after it, never to this one's stored deadlines (except
/// through a change of its priority). Support agents, managers and admins open tickets; giving
/// one to someone other than oneself needs the reassign right. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "tickets",
    request_body = CreateTicketRequest,
    responses((status = 201, description = "The new ticket", body = TicketResponse, headers(("ETag" = String), ("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/tickets")]
pub async fn create_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateTicketRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::Ticket, Action::Create, true)?;
    let mut draft = body.0.try_into_domain()?;
    may_assign(&principal, Resource::Ticket, principal.user_id, draft.owner_id)?;
    let links = TicketLinks {
        contact_id: draft.contact_id,
        opportunity_id: draft.opportunity_id,
        order_id: draft.order_id,
        product_id: draft.product_id,
        ..TicketLinks::default()
    };
    let (fill, policy) = check_links(&state, principal.organization_id, links, draft.account_id.map(Some)).await?;
    if let Some(account_id) = fill {
        draft.account_id = Some(account_id);
    }
    let now = state.clock.now();
    // The store gives the ticket its number; the placeholder is never written.
    let placeholder = crm_domain::quote::DocumentNumber::new(crm_domain::quote::DocumentKind::Ticket, 0);
    let ticket =
        Ticket::create(Uuid::now_v7(), principal.organization_id, placeholder, principal.user_id, draft, &policy, now)?;
    let ticket = state.store.insert_ticket(&ticket, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&ticket, now))
}

/// Get a ticket
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "The ticket as it stands now", body = TicketResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/tickets/{id}")]
pub async fn get_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Ticket>(&req, &state, &caller, id.into_inner()).await
}

/// List tickets
///
/// Every filter is a range of an index on stored instants: the statuses and SLA statuses are
/// judged now from the instants each ticket stores (its deadlines, at-risk instants and reopen
/// window), never by business-hours arithmetic at read time.
#[utoipa::path(
    tag = "tickets",
    params(TicketListQuery),
    responses((status = 200, description = "One page of tickets", body = TicketList)),
    security(("bearer" = []))
)]
#[get("/tickets")]
pub async fn list_tickets(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<TicketListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::Ticket, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<TicketSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "-created_at",
    )?;
    let unassigned = query.owner_id.as_deref() == Some("none");
    let owner_id = if unassigned { None } else { parse_uuid_param("owner_id", query.owner_id.as_deref())? };
    let now = state.clock.now();
    let ticket_query = TicketQuery {
        statuses: parse_any_of("status", query.status.as_deref(), TicketStatus::parse)?,
        priorities: parse_any_of("priority", query.priority.as_deref(), TicketPriority::parse)?,
        categories: parse_any_of("category", query.category.as_deref(), TicketCategory::parse)?,
        sla_statuses: parse_any_of("sla_status", query.sla_status.as_deref(), SlaStatus::parse)?,
        owner_id,
        unassigned,
        contact_id: parse_uuid_param("contact_id", query.contact_id.as_deref())?,
        account_id: parse_uuid_param("account_id", query.account_id.as_deref())?,
        product_id: parse_uuid_param("product_id", query.product_id.as_deref())?,
        first_response_due_before: parse_timestamp_param(
            "first_response_due_before",
            query.first_response_due_before.as_deref(),
        )?,
        resolution_due_before: parse_timestamp_param("resolution_due_before", query.resolution_due_before.as_deref())?,
        now,
        archived: archived_filter(query.archived.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_tickets(caller.0.organization_id, &ticket_query).await?;
    let next_cursor = next_cursor(&page, ticket_query.sort);
    Ok(Page::respond(page.items.iter().map(|t| TicketResponse::of(t, now).0).collect(), next_cursor))
}

/// Refuses any change of an archived ticket.
pub(super) fn ensure_active(ticket: &Ticket) -> Result<(), ApiError> {
    if ticket.archived_at.is_some() {
        return Err(ApiError::Conflict {
            code: ProblemCode::TicketArchived,
            detail: "the ticket is archived: restore it first".to_owned(),
        });
    }
    Ok(())
}

/// Change a ticket's fields
///
/// A new `priority` recomputes both deadlines with the policy's current targets, from the same
/// starting instants and with the time already spent waiting on the customer. The status moves
/// only by the actions. A closed ticket takes no change.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = UpdateTicketRequest,
    responses(
        (status = 200, description = "The changed ticket", body = TicketResponse, headers(("ETag" = String))),
        (status = 409, description = "The ticket is closed (`ticket_closed`) or archived (`ticket_archived`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/tickets/{id}")]
pub async fn update_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateTicketRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Ticket>::begin(&req, &state, &caller, id.into_inner())?;
    let mut patch = body.0.try_into_domain()?;
    let links = TicketLinks {
        contact_id: patch.contact_id.flatten(),
        opportunity_id: patch.opportunity_id.flatten(),
        order_id: patch.order_id.flatten(),
        product_id: patch.product_id.flatten(),
        ..TicketLinks::default()
    };
    let (fill, policy) = check_links(&state, caller.0.organization_id, links, patch.account_id).await?;
    if let Some(account_id) = fill {
        patch.account_id = Some(Some(account_id));
    }
    let now = state.clock.now();
    let ticket = edit
        .apply(AuditAction::Update, patch.owner_id.flatten(), async |current: &Ticket| {
            ensure_active(current)?;
            Ok(current.apply(&patch, &policy, now)?)
        })
        .await?;
    Ok(resource::ok(&ticket, now))
}

async fn transition(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: TicketAction,
    note: Option<LongText>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Ticket>::begin(req, state, caller, id)?;
    let policy = policy(state, caller.0.organization_id).await?;
    let now = state.clock.now();
    let ticket = edit
        .apply(AuditAction::Update, None, async |current: &Ticket| {
            ensure_active(current)?;
            Ok(current.transition(action, note.clone(), &policy, now)?)
        })
        .await?;
    Ok(resource::ok(&ticket, now))
}

/// A step without a body: `POST /tickets/{id}/<action>`, documented by `$doc` (its summary
/// first) with the 200 answer `$done` and the 409 `$refused`.
macro_rules! ticket_step {
    ($name:ident, $path:literal, $action:expr, $done:literal, $refused:literal, $($doc:literal),+ $(,)?) => {
        $(#[doc = $doc])+
        #[utoipa::path(
            tag = "tickets",
            params(("id" = Uuid, Path, description = "The ticket's id")),
            responses(
                (status = 200, description = $done, body = TicketResponse, headers(("ETag" = String))),
                (status = 409, description = $refused, body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            caller: Caller,
            id: web::Path<Uuid>,
        ) -> Result<HttpResponse, ApiError> {
            transition(&req, &state, &caller, id.into_inner(), $action, None).await
        }
    };
}

ticket_step!(
    start_ticket,
    "/tickets/{id}/start",
    TicketAction::Start,
    "The open ticket",
    "The ticket is not new (`invalid_transition`, with the steps it may take), closed or archived",
    "Start working on a new ticket (new → open)",
);
ticket_step!(
    hold_ticket,
    "/tickets/{id}/hold",
    TicketAction::Hold,
    "The ticket on hold",
    "The ticket is not open (`invalid_transition`), closed or archived",
    "Put a ticket on hold: waiting on a third party (open → on_hold)",
    "",
    "The resolution clock keeps running.",
);
ticket_step!(
    resume_ticket,
    "/tickets/{id}/resume",
    TicketAction::Resume,
    "The open ticket",
    "The ticket is neither pending nor on hold (`invalid_transition`), closed or archived",
    "Resume a pending or on-hold ticket (→ open)",
);
ticket_step!(
    reopen_ticket,
    "/tickets/{id}/reopen",
    TicketAction::Reopen,
    "The reopened ticket",
    "The ticket is not solved (`invalid_transition`), its window has passed (`reopen_window_passed`), or it is archived",
    "Reopen a solved ticket (solved → open)",
    "",
    "Only within the organisation's reopen window (`closes_at`); after it the ticket is closed and",
    "the answer is 409 `reopen_window_passed`. The resolution clock restarts from the reopening.",
);
ticket_step!(
    close_ticket,
    "/tickets/{id}/close",
    TicketAction::Close,
    "The closed ticket",
    "The ticket is not solved (`invalid_transition`) or archived",
    "Close a solved ticket before its reopen window ends (solved → closed)",
    "",
    "Closed is final.",
);

/// Wait on the customer (open → pending)
///
/// The resolution clock stands still while the ticket is pending; when it starts again (resume,
/// a customer's reply, solve) the resolution deadline moves by the time spent waiting, counted
/// on the target's clock. The first-response clock never stops.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body(content = Option<WaitRequest>, description = "Optional: what the customer is asked for"),
    responses(
        (status = 200, description = "The pending ticket", body = TicketResponse, headers(("ETag" = String))),
        (status = 409, description = "The ticket is not open (`invalid_transition`), closed or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tickets/{id}/wait")]
pub async fn wait_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: WaitRequest = parse_optional_json(&req, &body)?;
    let reason = note("reason", request.reason.as_deref())?;
    transition(&req, &state, &caller, id.into_inner(), TicketAction::Wait, reason).await
}

/// Solve a ticket (new, open, pending or on hold → solved)
///
/// Solving answers the customer: it is the first response when none was given. The ticket
/// closes by itself at `closes_at`, the end of the organisation's reopen window.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body(content = Option<SolveRequest>, description = "Optional: how it was solved"),
    responses(
        (status = 200, description = "The solved ticket", body = TicketResponse, headers(("ETag" = String))),
        (status = 409, description = "The ticket is already solved or closed (`invalid_transition`, `ticket_closed`) or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tickets/{id}/solve")]
pub async fn solve_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: SolveRequest = parse_optional_json(&req, &body)?;
    let resolution = note("resolution", request.resolution.as_deref())?;
    transition(&req, &state, &caller, id.into_inner(), TicketAction::Solve, resolution).await
}

/// Archive a ticket
///
/// Archiving hides a ticket from lists (see `archived`); it keeps its number, deadlines and
/// history. A closed ticket may be archived too.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "The archived ticket", body = TicketResponse, headers(("ETag" = String))),
        (status = 409, description = "The ticket is already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/tickets/{id}")]
pub async fn archive_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Ticket>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived ticket
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "The restored ticket", body = TicketResponse, headers(("ETag" = String))),
        (status = 409, description = "The ticket is not archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tickets/{id}/restore")]
pub async fn restore_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Ticket>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}

/// An optional text of a step's body.
fn note(field: &str, raw: Option<&str>) -> Result<Option<LongText>, ApiError> {
    raw.map(|v| LongText::parse(field, v)).transpose().map_err(|e| ApiError::from(ValidationErrors::from(e)))
}
