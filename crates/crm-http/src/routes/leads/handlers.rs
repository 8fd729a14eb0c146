use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::audit::{AuditAction, FieldChange};
use crm_domain::lead::{Lead, LeadQuery, LeadRating, LeadRuleError, LeadSortField, LeadSource, LeadStatus};
use crm_domain::permissions::{Action, Resource, authorize, may_assign};
use uuid::Uuid;

use super::dto::{CreateLeadRequest, LeadList, LeadListQuery, LeadResponse, UpdateLeadRequest};
use crate::auth::Caller;
use crate::conventions::{
    Tag, list_params, next_cursor, now, parse_any_of, parse_email_filter, parse_search, parse_timestamp_param,
    parse_uuid,
};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

impl From<LeadRuleError> for ApiError {
    fn from(error: LeadRuleError) -> Self {
        let detail = match &error {
            LeadRuleError::IllegalStatusChange { allowed, .. } if allowed.is_empty() => error.to_string(),
            LeadRuleError::IllegalStatusChange { allowed, .. } => {
                format!("{error}; allowed next statuses: {}", allowed.join(", "))
            }
            _ => error.to_string(),
        };
        ApiError::Conflict { code: ProblemCode::from(&error), detail }
    }
}

impl ApiRecord for Lead {
    const NOUN: &'static str = "lead";
    const COLLECTION: &'static str = "/api/v1/leads";
    const MATRIX: Resource = Resource::SalesRecord;
    const OWNED: bool = true;
    type Response = LeadResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (LeadResponse, Tag) {
        (LeadResponse::from(self), self.version.into())
    }
}

impl Archivable for Lead {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) = (ProblemCode::LeadArchived, ProblemCode::LeadNotArchived);

    /// A lead's own rule: a converted lead is archived and restored like any other, with the
    /// lead's problem codes.
    fn archive_or_restore(
        &self,
        action: AuditAction,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Self, Vec<FieldChange>), ApiError> {
        Ok(match action {
            AuditAction::Archive => self.archive(at)?,
            _ => self.restore(at)?,
        })
    }
}

/// Create a lead
///
/// The owner defaults to the caller. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "leads",
    request_body = CreateLeadRequest,
    responses(
        (status = 201, description = "The lead was created", body = LeadResponse,
            headers(("ETag" = String, description = "The lead's version"), ("Location" = String, description = "The lead's URL"))),
    ),
    security(("bearer" = []))
)]
#[post("/leads")]
pub async fn create_lead(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateLeadRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::SalesRecord, Action::Create, true)?;
    let draft = body.0.try_into_domain()?;
    may_assign(&principal, Resource::SalesRecord, principal.user_id, draft.owner_id)?;
    let lead = Lead::create(Uuid::now_v7(), principal.organization_id, principal.user_id, draft, now())?;
    state.store.insert_lead(&lead, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&lead, state.clock.now()))
}

/// Get a lead
///
/// Archived leads are returned too (with `archived_at` set). Answers 304 when `If-None-Match`
/// names the current version.
#[utoipa::path(
    tag = "leads",
    params(("id" = Uuid, Path, description = "The lead's id")),
    responses(
        (status = 200, description = "The lead", body = LeadResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/leads/{id}")]
pub async fn get_lead(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Lead>(&req, &state, &caller, id.into_inner()).await
}

/// Update a lead
///
/// An absent field stays as it is; `null` clears it. Status changes follow the status machine
/// (409 `illegal_status_change` otherwise). With `If-Match`, a stale version answers 412.
#[utoipa::path(
    tag = "leads",
    params(("id" = Uuid, Path, description = "The lead's id")),
    request_body = UpdateLeadRequest,
    responses(
        (status = 200, description = "The updated lead", body = LeadResponse, headers(("ETag" = String))),
        (status = 409, description = "The lead is converted or archived, or the status change is not allowed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/leads/{id}")]
pub async fn update_lead(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateLeadRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Lead>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    let lead = edit
        .apply(AuditAction::Update, patch.owner_id, async |current: &Lead| Ok(current.apply(&patch, now())?))
        .await?;
    Ok(resource::ok(&lead, state.clock.now()))
}

/// Archive a lead
///
/// Archived leads leave lists (unless `archived=true`) and refuse edits until restored. Answers
/// the archived lead.
#[utoipa::path(
    tag = "leads",
    params(("id" = Uuid, Path, description = "The lead's id")),
    responses(
        (status = 200, description = "The archived lead", body = LeadResponse, headers(("ETag" = String))),
        (status = 409, description = "The lead is already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/leads/{id}")]
pub async fn archive_lead(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Lead>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived lead
#[utoipa::path(
    tag = "leads",
    params(("id" = Uuid, Path, description = "The lead's id")),
    responses(
        (status = 200, description = "The restored lead", body = LeadResponse, headers(("ETag" = String))),
        (status = 409, description = "The lead is not archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leads/{id}/restore")]
pub async fn restore_lead(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Lead>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}

/// List leads
///
/// Keyset-paginated: follow `next_cursor` until it is `null`. Records created while you page
/// never make a record appear twice or go missing. Unknown parameters are refused.
#[utoipa::path(
    tag = "leads",
    params(LeadListQuery),
    responses((status = 200, description = "One page of leads", body = LeadList)),
    security(("bearer" = []))
)]
#[get("/leads")]
pub async fn list_leads(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LeadListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<LeadSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "-created_at",
    )?;
    let archived = crate::conventions::archived_filter(query.archived.as_deref())?;
    let lead_query = LeadQuery {
        statuses: parse_any_of("status", query.status.as_deref(), LeadStatus::parse)?,
        sources: parse_any_of("source", query.source.as_deref(), LeadSource::parse)?,
        ratings: parse_any_of("rating", query.rating.as_deref(), LeadRating::parse)?,
        owner_ids: parse_any_of("owner_id", query.owner_id.as_deref(), parse_uuid)?,
        created_after: parse_timestamp_param("created_after", query.created_after.as_deref())?,
        created_before: parse_timestamp_param("created_before", query.created_before.as_deref())?,
        emails: parse_email_filter(query.email.as_deref())?,
        search: parse_search(query.q.as_deref())?,
        archived,
        interactions: crate::routes::activities::interaction_filter(
            query.last_interaction_before.as_deref(),
            query.last_interaction_after.as_deref(),
            query.no_interaction.as_deref(),
            query.next_activity.as_deref(),
        )?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_leads(caller.0.organization_id, &lead_query).await?;
    let next_cursor = next_cursor(&page, lead_query.sort);
    Ok(Page::respond(page.items.iter().map(LeadResponse::from).collect(), next_cursor))
}
