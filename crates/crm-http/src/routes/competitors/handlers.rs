//! `/api/v1/competitors`: create, read, update, archive, restore and list.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::RepoError;
use crm_domain::audit::AuditAction;
use crm_domain::competitor::{Competitor, CompetitorQuery, CompetitorRuleError, CompetitorSortField};
use crm_domain::permissions::{Action, Resource, authorize};
use crm_domain::user::Principal;
use uuid::Uuid;

use super::dto::{
    CompetitorList, CompetitorListQuery, CompetitorResponse, CreateCompetitorRequest, UpdateCompetitorRequest,
};
use crate::auth::Caller;
use crate::conventions::{archived_filter, if_match, list_params, next_cursor, now, parse_search};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::respond::{audit_context, created, read, update_with_retry, with_etag};
use crate::state::AppState;

impl From<CompetitorRuleError> for ApiError {
    fn from(error: CompetitorRuleError) -> Self {
        ApiError::Conflict { code: ProblemCode::from(&error), detail: error.to_string() }
    }
}

/// Every role reads competitors; managers and admins change them.
pub(crate) fn may_edit(principal: &Principal) -> Result<(), ApiError> {
    Ok(authorize(principal.role, Resource::Competitor, Action::Update, false)?)
}

/// The competitor named by a path, or 404.
pub(crate) async fn load(state: &AppState, caller: &Caller, id: Uuid) -> Result<Competitor, ApiError> {
    authorize(caller.0.role, Resource::Competitor, Action::Read, true)?;
    state.store.get_competitor(caller.0.organization_id, id).await.map_err(|e| match e {
        RepoError::NotFound => ApiError::not_found("competitor"),
        other => other.into(),
    })
}

fn respond(competitor: &Competitor) -> HttpResponse {
    with_etag(StatusCode::OK, &CompetitorResponse::from(competitor), competitor.version)
}

/// Add a competitor (managers and admins)
#[utoipa::path(
    tag = "competitors",
    request_body = CreateCompetitorRequest,
    responses(
        (status = 201, description = "The competitor", body = CompetitorResponse, headers(("ETag" = String), ("Location" = String))),
    ),
    security(("bearer" = []))
)]
#[post("/competitors")]
pub async fn create_competitor(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateCompetitorRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::Competitor, Action::Create, true)?;
    let draft = body.0.try_into_domain()?;
    let competitor = Competitor::create(Uuid::now_v7(), principal.organization_id, principal.user_id, draft, now());
    state.store.insert_competitor(&competitor, &audit_context(&req, &principal)).await?;
    Ok(created(
        format!("/api/v1/competitors/{}", competitor.id),
        &CompetitorResponse::from(&competitor),
        competitor.version,
    ))
}

/// Get a competitor
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id")),
    responses(
        (status = 200, description = "The competitor", body = CompetitorResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/competitors/{id}")]
pub async fn get_competitor(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let competitor = load(&state, &caller, id.into_inner()).await?;
    read(&req, &CompetitorResponse::from(&competitor), competitor.version)
}

/// Update a competitor (managers and admins)
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id")),
    request_body = UpdateCompetitorRequest,
    responses(
        (status = 200, description = "The updated competitor", body = CompetitorResponse, headers(("ETag" = String))),
        (status = 409, description = "The competitor is archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not name the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/competitors/{id}")]
pub async fn update_competitor(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateCompetitorRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = id.into_inner();
    may_edit(&principal)?;
    let expected = if_match(&req)?;
    let patch = body.0.try_into_domain()?;
    let audit = audit_context(&req, &principal);
    let competitor = update_with_retry(
        &expected,
        async || load(&state, &caller, id).await,
        |c: &Competitor| c.version,
        async |current: Competitor| {
            let (next, changes) = current.apply(&patch, now())?;
            if changes.is_empty() {
                return Ok(current);
            }
            state.store.update_competitor(&next, current.version, AuditAction::Update, &changes, &audit).await?;
            Ok(next)
        },
    )
    .await?;
    Ok(respond(&competitor))
}

async fn archive_or_restore(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    action: AuditAction,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    may_edit(&principal)?;
    let expected = if_match(&req)?;
    let audit = audit_context(&req, &principal);
    let competitor = update_with_retry(
        &expected,
        async || load(&state, &caller, id).await,
        |c: &Competitor| c.version,
        async |current: Competitor| {
            let (next, changes) = crate::respond::archive_or_restore(
                &current,
                action,
                "competitor",
                (ProblemCode::CompetitorArchived, ProblemCode::CompetitorNotArchived),
            )?;
            state.store.update_competitor(&next, current.version, action, &changes, &audit).await?;
            Ok(next)
        },
    )
    .await?;
    Ok(respond(&competitor))
}

/// Archive a competitor (managers and admins)
///
/// An archived competitor keeps its products and its place in deals, takes no new ones, and
/// leaves the competitor report.
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id")),
    responses(
        (status = 200, description = "The archived competitor", body = CompetitorResponse, headers(("ETag" = String))),
        (status = 409, description = "Already archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not name the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/competitors/{id}")]
pub async fn archive_competitor(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    archive_or_restore(req, state, caller, id.into_inner(), AuditAction::Archive).await
}

/// Restore an archived competitor (managers and admins)
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id")),
    responses(
        (status = 200, description = "The restored competitor", body = CompetitorResponse, headers(("ETag" = String))),
        (status = 409, description = "Not archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not name the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/competitors/{id}/restore")]
pub async fn restore_competitor(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    archive_or_restore(req, state, caller, id.into_inner(), AuditAction::Restore).await
}

/// List competitors
#[utoipa::path(
    tag = "competitors",
    params(CompetitorListQuery),
    responses((status = 200, description = "One page of competitors", body = CompetitorList)),
    security(("bearer" = []))
)]
#[get("/competitors")]
pub async fn list_competitors(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<CompetitorListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::Competitor, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<CompetitorSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "name",
    )?;
    let competitor_query = CompetitorQuery {
        search: parse_search(query.q.as_deref())?,
        archived: archived_filter(query.archived.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_competitors(caller.0.organization_id, &competitor_query).await?;
    let next_cursor = next_cursor(&page, competitor_query.sort);
    Ok(HttpResponse::Ok()
        .json(CompetitorList { data: page.items.iter().map(CompetitorResponse::from).collect(), next_cursor }))
}
