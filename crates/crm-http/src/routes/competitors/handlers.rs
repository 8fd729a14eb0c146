//! `/api/v1/competitors`: create, read, update, archive, restore and list.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::audit::AuditAction;
use crm_domain::competitor::{Competitor, CompetitorQuery, CompetitorRuleError, CompetitorSortField};
use crm_domain::permissions::{Action, Resource, authorize};
use uuid::Uuid;

use super::dto::{
    CompetitorList, CompetitorListQuery, CompetitorResponse, CreateCompetitorRequest, UpdateCompetitorRequest,
};
use crate::auth::Caller;
use crate::conventions::{Tag, archived_filter, list_params, next_cursor, now, parse_search};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

impl From<CompetitorRuleError> for ApiError {
    fn from(error: CompetitorRuleError) -> Self {
        ApiError::Conflict { code: ProblemCode::from(&error), detail: error.to_string() }
    }
}

/// Every role reads competitors; managers and admins change them (nobody owns a competitor, so a
/// role without that right is refused before the competitor is read).
impl ApiRecord for Competitor {
    const NOUN: &'static str = "competitor";
    const COLLECTION: &'static str = "/api/v1/competitors";
    const MATRIX: Resource = Resource::Competitor;
    const OWNED: bool = false;
    type Response = CompetitorResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        None
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (CompetitorResponse, Tag) {
        (CompetitorResponse::from(self), self.version.into())
    }
}

impl Archivable for Competitor {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) =
        (ProblemCode::CompetitorArchived, ProblemCode::CompetitorNotArchived);
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
    Ok(resource::created(&competitor, state.clock.now()))
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
    resource::get::<Competitor>(&req, &state, &caller, id.into_inner()).await
}

/// Update a competitor (managers and admins)
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id")),
    request_body = UpdateCompetitorRequest,
    responses(
        (status = 200, description = "The updated competitor", body = CompetitorResponse, headers(("ETag" = String))),
        (status = 409, description = "The competitor is archived", body = Problem, content_type = "application/problem+json"),
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
    let edit = Edit::<Competitor>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    let competitor =
        edit.apply(AuditAction::Update, None, async |current: &Competitor| Ok(current.apply(&patch, now())?)).await?;
    Ok(resource::ok(&competitor, state.clock.now()))
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
    Edit::<Competitor>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived competitor (managers and admins)
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id")),
    responses(
        (status = 200, description = "The restored competitor", body = CompetitorResponse, headers(("ETag" = String))),
        (status = 409, description = "Not archived", body = Problem, content_type = "application/problem+json"),
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
    Edit::<Competitor>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
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
    Ok(Page::respond(page.items.iter().map(CompetitorResponse::from).collect(), next_cursor))
}
