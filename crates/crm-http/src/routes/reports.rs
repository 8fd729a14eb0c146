//! Reports: the pipeline (now or as it stood at the end of a day) and the forecast.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use crm_domain::money::Currency;
use crm_domain::permissions::{Action, Resource, authorize};
use crm_domain::reports::{AmountOverflow, Interval, PipelineLine, PipelineQuery, forecast, months, pipeline};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::conventions::{field_to_bad_request, parse_any_of, parse_uuid};
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::routes::opportunities::parse_date;
use crate::schema::one_of;
use crate::state::AppState;

impl From<AmountOverflow> for ApiError {
    fn from(error: AmountOverflow) -> Self {
        ApiError::Unprocessable { code: ProblemCode::AmountOverflow, detail: error.to_string() }
    }
}

/// One stage of the pipeline in one currency (`null` for deals without an amount).
#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineStageLine {
    #[schema(schema_with = crate::routes::opportunities::open_stage_schema)]
    pub stage: &'static str,
    /// `null` for deals without an amount.
    #[schema(schema_with = crate::schema::codes::optional_currency)]
    pub currency: Option<&'static str>,
    pub count: i64,
    /// Σ amount, in the currency's minor unit.
    pub total_amount: i64,
    /// Σ amount × probability / 100, rounded half up once per line.
    pub weighted_amount: i64,
}

/// The pipeline's totals in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineTotal {
    /// `null` for deals without an amount.
    #[schema(schema_with = crate::schema::codes::optional_currency)]
    pub currency: Option<&'static str>,
    pub count: i64,
    pub total_amount: i64,
    pub weighted_amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineReport {
    /// The day the pipeline was rebuilt for, or `null` for now.
    #[schema(format = Date)]
    pub as_of: Option<String>,
    /// Open stages in pipeline order; stages without deals are left out.
    pub stages: Vec<PipelineStageLine>,
    pub totals: Vec<PipelineTotal>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PipelineParams {
    /// Comma-separated owner ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
    /// Deals expected to close on or after this date.
    #[param(schema_with = crate::routes::opportunities::date_param_schema)]
    pub expected_close_after: Option<String>,
    #[param(schema_with = crate::routes::opportunities::date_param_schema)]
    pub expected_close_before: Option<String>,
    /// Rebuild the pipeline as it stood at the end of this day (UTC) from the stage history.
    /// Owner, account and close-date filters apply to the deals' current values.
    #[param(schema_with = crate::routes::opportunities::date_param_schema)]
    pub as_of: Option<String>,
}

fn date_param(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    raw.map(|r| parse_date(field, r).map_err(field_to_bad_request)).transpose()
}

fn totals(lines: &[PipelineLine]) -> Result<Vec<PipelineTotal>, AmountOverflow> {
    let mut currencies: Vec<Option<Currency>> = lines.iter().map(|l| l.currency).collect();
    currencies.sort_by_key(|c| c.map(Currency::code));
    currencies.dedup();
    currencies
        .into_iter()
        .map(|currency| {
            let mine = lines.iter().filter(|l| l.currency == currency);
            let (mut count, mut total, mut weighted) = (0_i128, 0_i128, 0_i128);
            for line in mine {
                count += i128::from(line.count);
                total += i128::from(line.total_amount);
                weighted += i128::from(line.weighted_amount);
            }
            let fit = |v: i128| i64::try_from(v).map_err(|_| AmountOverflow);
            Ok(PipelineTotal {
                currency: currency.map(Currency::code),
                count: fit(count)?,
                total_amount: fit(total)?,
                weighted_amount: fit(weighted)?,
            })
        })
        .collect()
}

/// The pipeline: open opportunities by stage and currency
///
/// Count, total amount and weighted amount (amount × probability) of the open deals, computed by
/// the database. `as_of` rebuilds the pipeline as it stood at the end of that day.
#[utoipa::path(tag = "reports", params(PipelineParams), responses((status = 200, body = PipelineReport), (status = 422, description = "A total does not fit in a 64-bit amount (`amount_overflow`)", body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
#[get("/reports/pipeline")]
pub async fn pipeline_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<PipelineParams>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let params = params.into_inner();
    let query = PipelineQuery {
        owner_ids: parse_any_of("owner_id", params.owner_id.as_deref(), parse_uuid)?,
        account_id: params
            .account_id
            .as_deref()
            .map(|r| parse_uuid("account_id", r).map_err(field_to_bad_request))
            .transpose()?,
        expected_close_after: date_param("expected_close_after", params.expected_close_after.as_deref())?,
        expected_close_before: date_param("expected_close_before", params.expected_close_before.as_deref())?,
        as_of: date_param("as_of", params.as_of.as_deref())?,
    };
    let groups = state.store.pipeline_groups(caller.0.organization_id, &query).await?;
    let lines = pipeline(&groups)?;
    let totals = totals(&lines)?;
    Ok(HttpResponse::Ok().json(PipelineReport {
        as_of: query.as_of.map(|d| d.to_string()),
        stages: lines
            .iter()
            .map(|l| PipelineStageLine {
                stage: l.stage.as_str(),
                currency: l.currency.map(Currency::code),
                count: l.count,
                total_amount: l.total_amount,
                weighted_amount: l.weighted_amount,
            })
            .collect(),
        totals,
    }))
}

/// A report's `from` and `to` days (`YYYY-MM-DD`, both included), `to` not before `from`. Each
/// report bounds the length itself. (Their parameters repeat `crate::schema::DATE_PATTERN` as a
/// literal: utoipa's `pattern` takes nothing else, and `schema_with` would drop `required`.)
///
/// # Errors
/// 400 naming the parameter.
pub(crate) fn date_range(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from = parse_date("from", from).map_err(field_to_bad_request)?;
    let to = parse_date("to", to).map_err(field_to_bad_request)?;
    if to < from {
        return Err(ApiError::bad_param("to", "out_of_range", "must not be before from"));
    }
    Ok((from, to))
}

pub(crate) fn interval_schema() -> Object {
    one_of(&["month", "quarter", "year"], false)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ForecastParams {
    /// The first day of the forecast.
    #[param(value_type = String, format = Date, pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2026-03-01")]
    pub from: String,
    /// The last day; at most ten years after `from`.
    #[param(value_type = String, format = Date, pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2026-03-01")]
    pub to: String,
    /// Default `month`.
    #[param(schema_with = interval_schema)]
    pub interval: Option<String>,
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
}

/// One period of the forecast in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastPeriod {
    /// `2026-11`, `2026-Q4` or `2026`.
    pub period: String,
    #[schema(schema_with = crate::schema::codes::currency)]
    pub currency: &'static str,
    /// Open deals expected to close in the period.
    pub open_count: i64,
    pub expected_amount: i64,
    /// Σ amount × probability / 100, rounded half up once per line.
    pub weighted_amount: i64,
    /// Deals closed won in the period.
    pub won_count: i64,
    pub won_amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastReport {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    #[schema(schema_with = interval_schema)]
    pub interval: &'static str,
    /// Every period of the range for each currency that has deals in it.
    pub periods: Vec<ForecastPeriod>,
}

/// The forecast: what is expected to close, weighted, and what closed won, per period
#[utoipa::path(tag = "reports", params(ForecastParams), responses((status = 200, body = ForecastReport), (status = 422, description = "A total does not fit in a 64-bit amount (`amount_overflow`)", body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
#[get("/reports/forecast")]
pub async fn forecast_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<ForecastParams>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let params = params.into_inner();
    let (from, to) = date_range(&params.from, &params.to)?;
    if months(from, to).len() > 120 {
        return Err(ApiError::bad_param("to", "out_of_range", "must be at most ten years after from"));
    }
    let (interval, interval_name) = match params.interval.as_deref() {
        None => (Interval::Month, "month"),
        Some(raw) => (
            Interval::parse("interval", raw).map_err(field_to_bad_request)?,
            match raw {
                "quarter" => "quarter",
                "year" => "year",
                _ => "month",
            },
        ),
    };
    let owner_ids = parse_any_of("owner_id", params.owner_id.as_deref(), parse_uuid)?;
    let (open, won) = state.store.forecast_groups(caller.0.organization_id, from, to, &owner_ids).await?;
    let lines = forecast(from, to, interval, &open, &won)?;
    Ok(HttpResponse::Ok().json(ForecastReport {
        from: from.to_string(),
        to: to.to_string(),
        interval: interval_name,
        periods: lines
            .into_iter()
            .map(|l| ForecastPeriod {
                period: l.period,
                currency: l.currency.code(),
                open_count: l.open_count,
                expected_amount: l.expected_amount,
                weighted_amount: l.weighted_amount,
                won_count: l.won_count,
                won_amount: l.won_amount,
            })
            .collect(),
    }))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(pipeline_report).service(forecast_report);
}
