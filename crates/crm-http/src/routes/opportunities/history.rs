//! `/opportunities/{id}/stage-history`: every stage change of a deal, oldest first.

use actix_web::{HttpResponse, get, web};
use crm_domain::opportunity::{Opportunity, OpportunityStage, StageHistoryEntry};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;
use uuid::Uuid;

use super::dto::stage_schema;
use crate::auth::Caller;
use crate::conventions::{PageQuery, encode_cursor, fixed_order_window, timestamp};
use crate::problem::ApiError;
use crate::resource;
use crate::routes::values::MoneyDto;
use crate::schema::one_of;
use crate::state::AppState;

/// One stage change: from (`null` at creation) to, with the amount and probability then.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageChangeResponse {
    pub id: Uuid,
    #[schema(schema_with = nullable_stage_schema)]
    pub from_stage: Option<&'static str>,
    #[schema(schema_with = stage_schema)]
    pub to_stage: &'static str,
    pub amount: Option<MoneyDto>,
    pub probability: u8,
    pub changed_by: Uuid,
    #[schema(format = DateTime)]
    pub changed_at: String,
}

pub(crate) fn nullable_stage_schema() -> Object {
    one_of(OpportunityStage::NAMES, true)
}

impl From<&StageHistoryEntry> for StageChangeResponse {
    fn from(entry: &StageHistoryEntry) -> Self {
        let c = &entry.change;
        Self {
            id: entry.id,
            from_stage: c.from_stage.map(OpportunityStage::as_str),
            to_stage: c.to_stage.as_str(),
            amount: c.amount.as_ref().map(MoneyDto::from_domain),
            probability: c.probability,
            changed_by: c.changed_by,
            changed_at: timestamp(c.changed_at),
        }
    }
}

/// A page of stage changes.
pub type StageChangeList = crate::resource::Page<StageChangeResponse>;

/// The order of a stage history, which its cursors carry.
const STAGE_HISTORY_ORDER: &str = "changed_at";

/// The stage history of an opportunity, oldest first
///
/// Every stage change, the first one included, with the amount and probability of the moment;
/// paged like every list.
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id"), PageQuery),
    responses((status = 200, description = "One page of stage changes, oldest first", body = StageChangeList)),
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
    Ok(StageChangeList::respond(
        page.items.iter().map(StageChangeResponse::from).collect(),
        page.next.as_ref().map(|p| encode_cursor(STAGE_HISTORY_ORDER, p)),
    ))
}
