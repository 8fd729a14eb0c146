//! The competitors of a deal: `PUT`, `GET` and `DELETE
//! /api/v1/opportunities/{id}/competitors/{competitor_id}`, and the list. Each change is an audit
//! event of the opportunity.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use crm_domain::RepoError;
use crm_domain::competitor::{Competitor, DealCompetitor, ThreatLevel};
use crm_domain::opportunity::Opportunity;
use crm_domain::permissions::{Resource, may_change};
use crm_domain::value::LongText;
use crm_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{now, timestamp};
use crate::extract::{JsonBody, opt};
use crate::problem::{ApiError, Problem};
use crate::resource;
use crate::respond::audit_context;
use crate::schema::{fields, one_of};
use crate::state::AppState;

pub(crate) fn threat_schema() -> utoipa::openapi::schema::Object {
    one_of(ThreatLevel::NAMES, false)
}

/// A competitor's place in a deal. `notes` is replaced as a whole (absent or `null` clears it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"threat_level": "high", "notes": "They offered 15% off"}))]
pub struct DealCompetitorRequest {
    #[schema(schema_with = threat_schema)]
    pub threat_level: String,
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DealCompetitorResponse {
    pub competitor_id: Uuid,
    #[schema(schema_with = threat_schema)]
    pub threat_level: &'static str,
    pub notes: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&DealCompetitor> for DealCompetitorResponse {
    fn from(d: &DealCompetitor) -> Self {
        Self {
            competitor_id: d.competitor_id,
            threat_level: d.threat_level.as_str(),
            notes: d.notes.as_ref().map(|v| v.as_str().to_owned()),
            created_at: timestamp(d.created_at),
            updated_at: timestamp(d.updated_at),
        }
    }
}

/// The competitors of a deal, the highest threat first, then by when they were added.
#[derive(Debug, Serialize, ToSchema)]
pub struct DealCompetitorList {
    pub data: Vec<DealCompetitorResponse>,
}

fn not_in_deal() -> ApiError {
    ApiError::NotFound { detail: "this competitor is not in this opportunity".to_owned() }
}

/// The competitors of a deal
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    responses((status = 200, description = "The deal's competitors, the highest threat first", body = DealCompetitorList)),
    security(("bearer" = []))
)]
#[get("/opportunities/{id}/competitors")]
pub async fn list_deal_competitors(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let deal = resource::load::<Opportunity>(&state, &caller, id.into_inner()).await?;
    let links = state.store.deal_competitors(caller.0.organization_id, deal.id).await?;
    Ok(HttpResponse::Ok().json(DealCompetitorList { data: links.iter().map(DealCompetitorResponse::from).collect() }))
}

/// Add a competitor to a deal or change its threat level
///
/// Answers 201 when the competitor joins the deal and 200 when its threat level or notes change
/// (or stay as they are, which writes nothing).
/// Whoever may update the opportunity may do this, also on a closed deal.
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id"), ("competitor_id" = Uuid, Path, description = "The competitor's id")),
    request_body = DealCompetitorRequest,
    responses(
        (status = 200, description = "The competitor's place in the deal changed", body = DealCompetitorResponse),
        (status = 201, description = "The competitor joined the deal", body = DealCompetitorResponse),
        (status = 409, description = "The opportunity or the competitor is archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/opportunities/{id}/competitors/{competitor_id}")]
pub async fn put_deal_competitor(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<DealCompetitorRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (id, competitor_id) = path.into_inner();
    let body = body.0;
    let mut errors = ValidationErrors::new();
    let threat_level = errors.collect(ThreatLevel::parse("threat_level", &body.threat_level));
    let notes = opt(&mut errors, body.notes.as_deref(), |v| LongText::parse("notes", v));
    errors.into_result()?;
    let Some(threat_level) = threat_level else { return Err(ApiError::internal("validated fields missing")) };
    let deal = resource::load::<Opportunity>(&state, &caller, id).await?;
    may_change(&principal, Resource::SalesRecord, Some(deal.owner_id))?;
    let competitor = resource::load::<Competitor>(&state, &caller, competitor_id).await?;
    let existing = state.store.deal_competitors(principal.organization_id, deal.id).await?;
    let previous = existing.iter().find(|l| l.competitor_id == competitor_id);
    let (link, change) = DealCompetitor::set(&deal, &competitor, previous, threat_level, notes, now())?;
    if let Some(previous) = previous.filter(|p| link.same_place_as(p)) {
        return Ok(HttpResponse::Ok().json(DealCompetitorResponse::from(previous)));
    }
    state
        .store
        .put_deal_competitor(principal.organization_id, &link, &change, &audit_context(&req, &principal))
        .await
        .map_err(|e| match e {
            RepoError::MissingReference { .. } => ApiError::not_found("competitor"),
            other => other.into(),
        })?;
    let body = DealCompetitorResponse::from(&link);
    Ok(match previous {
        Some(_) => HttpResponse::Ok().json(body),
        None => HttpResponse::Created().json(body),
    })
}

/// Remove a competitor from a deal
///
/// A deal closed lost to this competitor keeps it (409 `lost_to_competitor`) until it is reopened.
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id"), ("competitor_id" = Uuid, Path, description = "The competitor's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The opportunity is archived, or was lost to this competitor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/opportunities/{id}/competitors/{competitor_id}")]
pub async fn delete_deal_competitor(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (id, competitor_id) = path.into_inner();
    let deal = resource::load::<Opportunity>(&state, &caller, id).await?;
    may_change(&principal, Resource::SalesRecord, Some(deal.owner_id))?;
    let existing = state.store.deal_competitors(principal.organization_id, deal.id).await?;
    let previous = existing.iter().find(|l| l.competitor_id == competitor_id).ok_or_else(not_in_deal)?;
    let change = DealCompetitor::remove(&deal, previous)?;
    state
        .store
        .delete_deal_competitor(
            principal.organization_id,
            deal.id,
            competitor_id,
            &change,
            &audit_context(&req, &principal),
        )
        .await
        .map_err(|e| match e {
            RepoError::NotFound => not_in_deal(),
            other => other.into(),
        })?;
    Ok(HttpResponse::NoContent().finish())
}

/// 422 `unknown_competitor` on `lost_to_competitor_id`.
pub fn unknown_competitor() -> ApiError {
    FieldError::new(
        "lost_to_competitor_id",
        "unknown_competitor",
        "must name an active competitor of your organization",
    )
    .into()
}

/// Checks the competitor a deal is being closed lost to: an active competitor of the organisation.
///
/// # Errors
/// 422 `unknown_competitor` otherwise.
pub async fn check_lost_to(state: &AppState, organization_id: Uuid, competitor_id: Uuid) -> Result<(), ApiError> {
    match state.store.get::<Competitor>(organization_id, competitor_id).await {
        Ok(competitor) if competitor.archived_at.is_none() => Ok(()),
        Ok(_) | Err(RepoError::NotFound) => Err(unknown_competitor()),
        Err(other) => Err(other.into()),
    }
}
