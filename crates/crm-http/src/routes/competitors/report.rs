//! `GET /api/v1/reports/competitors`: per active competitor, the deals it is in, won and lost
//! against it, the amount lost to it, and the price gap of its products to ours.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use crm_domain::competitor_report::{CompetitorReportQuery, competitor_report};
use crm_domain::permissions::{Action, Resource, authorize};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{field_to_bad_request, parse_any_of, parse_uuid};
use crate::problem::{ApiError, Problem};
use crate::routes::opportunities::{date_param_schema, parse_date};
use crate::routes::values::MoneyDto;
use crate::state::AppState;

/// How a competitor's products are priced against ours.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceGapResponse {
    /// Its products compared with a product of ours in the same currency (our price above zero).
    pub compared: i64,
    /// The mean of (their price − our price) / our price × 100 over those products, rounded to
    /// two decimals; negative when they are cheaper, `null` when nothing is compared.
    #[schema(example = -4.17)]
    pub average_percent: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitorReportLineResponse {
    pub competitor_id: Uuid,
    pub name: String,
    /// The active deals the competitor is in.
    pub opportunities: i64,
    /// Those closed won (in the closing window, if one is given).
    pub won: i64,
    /// The active deals closed lost to this competitor (in the closing window, if one is given).
    pub lost: i64,
    /// The amounts of those lost deals, per currency.
    pub lost_amount: Vec<MoneyDto>,
    /// The deals it is in that are still open.
    pub open: i64,
    pub price_gap: PriceGapResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitorReport {
    /// Active competitors by name, those in no deal included.
    pub competitors: Vec<CompetitorReportLineResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompetitorReportParams {
    /// Only deals owned by these users (comma-separated ids).
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    /// `won`, `lost` and `lost_amount` count only deals closed on or after this day (UTC).
    #[param(schema_with = date_param_schema)]
    pub closed_after: Option<String>,
    /// `won`, `lost` and `lost_amount` count only deals closed on or before this day (UTC).
    #[param(schema_with = date_param_schema)]
    pub closed_before: Option<String>,
}

fn date_param(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    raw.map(|r| parse_date(field, r).map_err(field_to_bad_request)).transpose()
}

/// Competitors: deals in, won, lost to them, amount lost, and price gap
///
/// Computed by the database. `opportunities` counts the active deals a competitor is in, `won`
/// those closed won, `open` those still open; `lost` counts the active deals closed lost with
/// `lost_to_competitor_id` naming it, and `lost_amount` sums their amounts per currency. The
/// price gap compares its products with the products of ours they name, in the same currency.
#[utoipa::path(
    tag = "reports",
    operation_id = "competitor_report",
    params(CompetitorReportParams),
    responses((status = 200, body = CompetitorReport), (status = 422, description = "A total does not fit in a 64-bit amount (`amount_overflow`)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/reports/competitors")]
pub async fn competitor_report_of_deals(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<CompetitorReportParams>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    authorize(caller.0.role, Resource::Competitor, Action::Read, true)?;
    let params = params.into_inner();
    let query = CompetitorReportQuery {
        owner_ids: parse_any_of("owner_id", params.owner_id.as_deref(), parse_uuid)?,
        closed_after: date_param("closed_after", params.closed_after.as_deref())?,
        closed_before: date_param("closed_before", params.closed_before.as_deref())?,
    };
    let (deals, losses, gaps) = state.store.competitor_report_groups(caller.0.organization_id, &query).await?;
    let lines = competitor_report(&deals, &losses, &gaps)?;
    Ok(HttpResponse::Ok().json(CompetitorReport {
        competitors: lines
            .iter()
            .map(|l| CompetitorReportLineResponse {
                competitor_id: l.competitor_id,
                name: l.name.as_str().to_owned(),
                opportunities: l.opportunities,
                won: l.won,
                lost: l.lost,
                lost_amount: l.lost_amount.iter().map(MoneyDto::from_domain).collect(),
                open: l.open,
                price_gap: PriceGapResponse {
                    compared: l.price_gap.compared,
                    average_percent: l.price_gap.average_percent,
                },
            })
            .collect(),
    }))
}
