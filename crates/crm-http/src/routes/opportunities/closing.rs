//! Closing a deal as won or lost, and reopening it: each a stage change recorded in the history
//! with the record, and a lost deal's competitor linked in the same transaction.

use actix_web::{HttpRequest, HttpResponse, post, web};
use crm_domain::RepoError;
use crm_domain::audit::AuditAction;
use crm_domain::competitor::DealCompetitor;
use crm_domain::opportunity::{Opportunity, OpportunityRuleError, OpportunityStage, Outcome};
use crm_domain::value::LongText;
use crm_domain::{FieldError, ValidationErrors};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::{OpportunityResponse, open_stage_schema, outcome_schema};
use crate::auth::Caller;
use crate::conventions::{now, parse_instant};
use crate::extract::{JsonBody, parse_optional_json};
use crate::problem::{ApiError, Problem};
use crate::resource::{self, Edit};
use crate::schema::fields;
use crate::state::AppState;

/// Closes a deal. A won deal needs an amount.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "lost", "reason": "Price: 20% above the competitor", "lost_to_competitor_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"}))]
pub struct CloseOpportunityRequest {
    #[schema(schema_with = outcome_schema)]
    pub outcome: String,
    /// Why the deal was lost (kept only for lost deals).
    #[schema(schema_with = fields::optional_long_text)]
    pub reason: Option<String>,
    /// Only with `outcome: lost`: the active competitor the deal was lost to. It joins the deal's
    /// competitors as a `high` threat unless it is already one of them.
    pub lost_to_competitor_id: Option<Uuid>,
    /// When it closed; defaults to now. RFC 3339.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<String>,
}

/// Takes a closed deal back to an open stage; by default the stage it closed from.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenOpportunityRequest {
    #[schema(schema_with = open_stage_schema)]
    pub stage: Option<String>,
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
        Some(raw) => errors.collect(parse_instant("closed_at", raw)),
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
                    super::competitors::check_lost_to(&state, principal.organization_id, competitor_id).await?;
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
                            RepoError::MissingReference { .. } => super::competitors::unknown_competitor(),
                            other => other.into(),
                        })?;
                }
            }
            Ok(next)
        })
        .await?;
    Ok(resource::ok(&opportunity, state.clock.now()))
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
    Ok(resource::ok(&opportunity, state.clock.now()))
}
