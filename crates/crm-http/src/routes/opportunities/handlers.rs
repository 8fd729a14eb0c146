use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::RepoError;
use crm_domain::account::Account;
use crm_domain::audit::AuditAction;
use crm_domain::contact::Contact;
use crm_domain::opportunity::{
    Opportunity, OpportunityQuery, OpportunityRuleError, OpportunitySortField, OpportunityStage,
};
use crm_domain::permissions::{Action, Resource, authorize, may_assign};
use crm_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use super::dto::{
    AccountOpportunityListQuery, CreateOpportunityRequest, OpportunityList, OpportunityListQuery, OpportunityResponse,
    UpdateOpportunityRequest, parse_date,
};
use crate::auth::Caller;
use crate::conventions::{
    Tag, archived_filter, field_to_bad_request, list_params, next_cursor, now, parse_any_of, parse_search, parse_uuid,
    parse_uuid_param,
};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

impl From<OpportunityRuleError> for ApiError {
    fn from(error: OpportunityRuleError) -> Self {
        match error {
            OpportunityRuleError::NoBuyer => ApiError::Validation {
                detail: None,
                errors: FieldError::new("account_id", "buyer_required", error.to_string()).into(),
            },
            OpportunityRuleError::LostToNeedsLost => ApiError::Validation {
                detail: None,
                errors: FieldError::new("lost_to_competitor_id", error.code(), error.to_string()).into(),
            },
            _ => ApiError::Conflict { code: ProblemCode::from(&error), detail: error.to_string() },
        }
    }
}

impl ApiRecord for Opportunity {
    const NOUN: &'static str = "opportunity";
    const COLLECTION: &'static str = "/api/v1/opportunities";
    const MATRIX: Resource = Resource::SalesRecord;
    const OWNED: bool = true;
    type Response = OpportunityResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (OpportunityResponse, Tag) {
        (OpportunityResponse::from(self), self.version.into())
    }
}

impl Archivable for Opportunity {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) =
        (ProblemCode::OpportunityArchived, ProblemCode::OpportunityNotArchived);
}

/// 422 unless the referenced account and contact are records of the organisation.
pub(crate) async fn check_buyers(
    state: &AppState,
    organization_id: Uuid,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::new();
    let unknown =
        |field: &str| FieldError::new(field, "unknown_reference", "no such record exists in your organization");
    if let Some(account_id) = account_id {
        match state.store.get::<Account>(organization_id, account_id).await {
            Ok(_) => {}
            Err(RepoError::NotFound) => errors.push(unknown("account_id")),
            Err(other) => return Err(other.into()),
        }
    }
    if let Some(contact_id) = contact_id {
        match state.store.get::<Contact>(organization_id, contact_id).await {
            Ok(_) => {}
            Err(RepoError::NotFound) => errors.push(unknown("contact_id")),
            Err(other) => return Err(other.into()),
        }
    }
    errors.into_result().map_err(ApiError::from)
}

/// Create an opportunity
///
/// Starts in an open stage (default `prospecting`) with the stage's probability unless one is
/// given; the first stage is recorded in the stage history.
#[utoipa::path(
    tag = "opportunities",
    request_body = CreateOpportunityRequest,
    responses((status = 201, description = "The opportunity was created", body = OpportunityResponse, headers(("ETag" = String), ("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/opportunities")]
pub async fn create_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateOpportunityRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::SalesRecord, Action::Create, true)?;
    let draft = body.0.try_into_domain()?;
    may_assign(&principal, Resource::SalesRecord, principal.user_id, draft.owner_id)?;
    check_buyers(&state, principal.organization_id, draft.account_id, draft.contact_id).await?;
    let (opportunity, stage) =
        Opportunity::create(Uuid::now_v7(), principal.organization_id, principal.user_id, draft, now())?;
    state.store.insert_opportunity(&opportunity, &stage, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&opportunity, state.clock.now()))
}

/// Get an opportunity
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    responses(
        (status = 200, description = "The opportunity", body = OpportunityResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/opportunities/{id}")]
pub async fn get_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Opportunity>(&req, &state, &caller, id.into_inner()).await
}

/// Update an open opportunity
///
/// A stage change is recorded in the stage history. Closed deals refuse edits (409
/// `opportunity_closed`); reopen them first.
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    request_body = UpdateOpportunityRequest,
    responses(
        (status = 200, description = "The updated opportunity", body = OpportunityResponse, headers(("ETag" = String))),
        (status = 409, description = "The opportunity is closed or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/opportunities/{id}")]
pub async fn update_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateOpportunityRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let edit = Edit::<Opportunity>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    check_buyers(&state, principal.organization_id, patch.account_id.flatten(), patch.contact_id.flatten()).await?;
    let opportunity = edit
        .run(patch.owner_id, async |current: Opportunity| {
            let (next, changes, stage) = current.apply(&patch, principal.user_id, now())?;
            if changes.is_empty() {
                return Ok(current);
            }
            state
                .store
                .update_opportunity(&next, current.version, AuditAction::Update, &changes, stage.as_ref(), edit.audit())
                .await?;
            Ok(next)
        })
        .await?;
    Ok(resource::ok(&opportunity, state.clock.now()))
}

/// Archive an opportunity
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    responses(
        (status = 200, description = "The archived opportunity", body = OpportunityResponse, headers(("ETag" = String))),
        (status = 409, description = "Already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/opportunities/{id}")]
pub async fn archive_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Opportunity>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived opportunity
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    responses(
        (status = 200, description = "The restored opportunity", body = OpportunityResponse, headers(("ETag" = String))),
        (status = 409, description = "Not archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/opportunities/{id}/restore")]
pub async fn restore_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Opportunity>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}

fn parse_date_param(field: &str, raw: Option<&str>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    raw.map(|r| parse_date(field, r).map_err(field_to_bad_request)).transpose()
}

async fn list(
    state: &AppState,
    caller: &Caller,
    query: OpportunityListQuery,
    account_id: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let params = list_params::<OpportunitySortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "-created_at",
    )?;
    let opportunity_query = OpportunityQuery {
        stages: parse_any_of("stage", query.stage.as_deref(), OpportunityStage::parse)?,
        account_id: match account_id {
            Some(id) => Some(id),
            None => parse_uuid_param("account_id", query.account_id.as_deref())?,
        },
        contact_id: parse_uuid_param("contact_id", query.contact_id.as_deref())?,
        owner_ids: parse_any_of("owner_id", query.owner_id.as_deref(), parse_uuid)?,
        competitor_ids: parse_any_of("competitor_id", query.competitor_id.as_deref(), parse_uuid)?,
        expected_close_after: parse_date_param("expected_close_after", query.expected_close_after.as_deref())?,
        expected_close_before: parse_date_param("expected_close_before", query.expected_close_before.as_deref())?,
        search: parse_search(query.q.as_deref())?,
        archived: archived_filter(query.archived.as_deref())?,
        interactions: crate::routes::activities::interaction_filter(
            query.last_interaction_before.as_deref(),
            query.last_interaction_after.as_deref(),
            query.no_interaction.as_deref(),
            query.next_activity.as_deref(),
        )?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_opportunities(caller.0.organization_id, &opportunity_query).await?;
    let next_cursor = next_cursor(&page, opportunity_query.sort);
    Ok(Page::respond(page.items.iter().map(OpportunityResponse::from).collect(), next_cursor))
}

/// List opportunities
#[utoipa::path(
    tag = "opportunities",
    params(OpportunityListQuery),
    responses((status = 200, description = "One page of opportunities", body = OpportunityList)),
    security(("bearer" = []))
)]
#[get("/opportunities")]
pub async fn list_opportunities(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<OpportunityListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    list(&state, &caller, query.into_inner(), None).await
}

/// List an account's opportunities
#[utoipa::path(
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id"), AccountOpportunityListQuery),
    responses((status = 200, description = "One page of the account's opportunities", body = OpportunityList)),
    security(("bearer" = []))
)]
#[get("/accounts/{id}/opportunities")]
pub async fn list_account_opportunities(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<AccountOpportunityListQuery>,
) -> Result<HttpResponse, ApiError> {
    let account_id = id.into_inner();
    resource::load::<Account>(&state, &caller, account_id).await?;
    list(&state, &caller, query.into_inner().into(), Some(account_id)).await
}
