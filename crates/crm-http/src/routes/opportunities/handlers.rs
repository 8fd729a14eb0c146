use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::RepoError;
use crm_domain::account::Account;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::competitor::DealCompetitor;
use crm_domain::opportunity::{
    Opportunity, OpportunityQuery, OpportunityRuleError, OpportunitySortField, OpportunityStage, Outcome,
};
use crm_domain::permissions::{Action, Resource, authorize, may_assign};
use crm_domain::ports::Store;
use crm_domain::value::LongText;
use crm_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use super::dto::{
    AccountOpportunityListQuery, CloseOpportunityRequest, CreateOpportunityRequest, OpportunityList,
    OpportunityListQuery, OpportunityResponse, ReopenOpportunityRequest, StageChangeResponse, StageHistory,
    UpdateOpportunityRequest, parse_date,
};
use crate::auth::Caller;
use crate::conventions::{
    PageQuery, Tag, archived_filter, encode_cursor, field_to_bad_request, fixed_order_window, list_params, next_cursor,
    now, parse_any_of, parse_search, parse_uuid, parse_uuid_param,
};
use crate::extract::{JsonBody, parse_optional_json};
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

    fn response(&self) -> (OpportunityResponse, Tag) {
        (OpportunityResponse::from(self), self.version.into())
    }

    async fn fetch(store: &dyn Store, organization_id: Uuid, id: Uuid) -> Result<Self, RepoError> {
        store.get_opportunity(organization_id, id).await
    }

    /// A save that changes no stage; a stage change, a closing and a reopening save through the
    /// store with their entry of the stage history.
    async fn save(
        store: &dyn Store,
        next: &Self,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError> {
        store.update_opportunity(next, expected_version, action, changes, None, audit).await
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
        match state.store.get_account(organization_id, account_id).await {
            Ok(_) => {}
            Err(RepoError::NotFound) => errors.push(unknown("account_id")),
            Err(other) => return Err(other.into()),
        }
    }
    if let Some(contact_id) = contact_id {
        match state.store.get_contact(organization_id, contact_id).await {
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
    Ok(resource::created(&opportunity))
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
    Ok(resource::ok(&opportunity))
}

/// Close an opportunity as won or lost
///
/// A won deal needs an amount (409 `amount_required`). The closing is recorded in the stage
/// history. A lost deal may name the competitor it was lost to (`lost_to_competitor_id`, an
/// active competitor of the organisation, else 422 `unknown_competitor`); the competitor then
/// joins the deal's competitors as a `high` threat unless it is already one of them, in the same
/// transaction. Reopening clears it.
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    request_body = CloseOpportunityRequest,
    responses(
        (status = 200, description = "The closed opportunity", body = OpportunityResponse, headers(("ETag" = String))),
        (status = 409, description = "Already closed, archived, or won without an amount", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/opportunities/{id}/close")]
pub async fn close_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CloseOpportunityRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let edit = Edit::<Opportunity>::begin(&req, &state, &caller, id.into_inner())?;
    let body = body.0;
    let mut errors = ValidationErrors::new();
    let outcome = match body.outcome.as_str() {
        "won" => Some(Outcome::Won),
        "lost" => Some(Outcome::Lost),
        _ => {
            errors.push(FieldError::new("outcome", "invalid_value", "must be one of: won, lost"));
            None
        }
    };
    let reason = body.reason.as_deref().and_then(|r| errors.collect(LongText::parse("reason", r)));
    let lost_to = body.lost_to_competitor_id;
    if lost_to.is_some() && outcome == Some(Outcome::Won) {
        let rule = OpportunityRuleError::LostToNeedsLost;
        errors.push(FieldError::new("lost_to_competitor_id", rule.code(), rule.to_string()));
    }
    let closed_at = match body.closed_at.as_deref() {
        None => Some(now()),
        Some(raw) => chrono::DateTime::parse_from_rfc3339(raw)
            .map(|t| chrono::SubsecRound::trunc_subsecs(t.with_timezone(&chrono::Utc), 6))
            .map_err(|_| {
                errors.push(FieldError::new("closed_at", "invalid_timestamp", "must be an RFC 3339 timestamp"))
            })
            .ok(),
    };
    errors.into_result()?;
    let (Some(outcome), Some(closed_at)) = (outcome, closed_at) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let opportunity = edit
        .run(None, async |current: Opportunity| {
            let (next, changes, stage) =
                current.close(outcome, reason.clone(), lost_to, closed_at, principal.user_id, now())?;
            match lost_to {
                None => {
                    state
                        .store
                        .update_opportunity(
                            &next,
                            current.version,
                            AuditAction::Update,
                            &changes,
                            Some(&stage),
                            edit.audit(),
                        )
                        .await?;
                }
                Some(competitor_id) => {
                    crate::routes::competitors::check_lost_to(&state, principal.organization_id, competitor_id).await?;
                    let (link, link_change) = DealCompetitor::lost_to(next.id, competitor_id, now());
                    state
                        .store
                        .close_lost_to_competitor(
                            &next,
                            current.version,
                            &changes,
                            &stage,
                            &link,
                            &link_change,
                            edit.audit(),
                        )
                        .await
                        .map_err(|e| match e {
                            RepoError::MissingReference { .. } => crate::routes::competitors::unknown_competitor(),
                            other => other.into(),
                        })?;
                }
            }
            Ok(next)
        })
        .await?;
    Ok(resource::ok(&opportunity))
}

/// Reopen a closed opportunity
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    request_body(content = Option<ReopenOpportunityRequest>, description = "Optional: the open stage to go back to"),
    responses(
        (status = 200, description = "The reopened opportunity", body = OpportunityResponse, headers(("ETag" = String))),
        (status = 409, description = "The opportunity is not closed, or is archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/opportunities/{id}/reopen")]
pub async fn reopen_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let edit = Edit::<Opportunity>::begin(&req, &state, &caller, id.into_inner())?;
    let request: ReopenOpportunityRequest = parse_optional_json(&req, &body)?;
    let stage = match request.stage.as_deref() {
        None => None,
        Some(raw) => Some(OpportunityStage::parse_open("stage", raw)?),
    };
    let opportunity = edit
        .run(None, async |current: Opportunity| {
            let (next, changes, change) = current.reopen(stage, principal.user_id, now())?;
            state
                .store
                .update_opportunity(&next, current.version, AuditAction::Update, &changes, Some(&change), edit.audit())
                .await?;
            Ok(next)
        })
        .await?;
    Ok(resource::ok(&opportunity))
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

/// The order of a stage history, which its cursors carry.
const STAGE_HISTORY_ORDER: &str = "changed_at";

/// The stage history of an opportunity, oldest first
///
/// Every stage change, the first one included, with the amount and probability of the moment;
/// paged like every list.
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id"), PageQuery),
    responses((status = 200, description = "One page of stage changes, oldest first", body = StageHistory)),
    security(("bearer" = []))
)]
#[get("/opportunities/{id}/stage-history")]
pub async fn opportunity_stage_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let window = fixed_order_window(query.limit.as_deref(), query.cursor.as_deref(), STAGE_HISTORY_ORDER)?;
    let opportunity = resource::load::<Opportunity>(&state, &caller, id.into_inner()).await?;
    let page = state.store.stage_history(caller.0.organization_id, opportunity.id, &window).await?;
    Ok(HttpResponse::Ok().json(StageHistory {
        data: page.items.iter().map(StageChangeResponse::from).collect(),
        next_cursor: page.next.as_ref().map(|p| encode_cursor(STAGE_HISTORY_ORDER, p)),
    }))
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
