//! `GET /reports/tickets`: how support is doing, counted by the database.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::{Days, NaiveDate, NaiveTime};
use crm_domain::activity_report::percent;
use crm_domain::permissions::{Action, Resource, authorize};
use crm_domain::ticket::TicketPriority;
use crm_domain::ticket_report::{DurationStats, TargetCount, TicketPeriod, TicketReportQuery, compliance_by, flow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::{priority_schema, status_schema};
use crate::auth::Caller;
use crate::problem::ApiError;
use crate::schema::one_of;
use crate::state::AppState;

/// The longest range a report covers: ten years of days.
const MAX_DAYS: u64 = 3_660;

fn period_schema() -> utoipa::openapi::schema::Object {
    one_of(TicketPeriod::NAMES, false)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketReportParams {
    /// The first day (UTC) of the events counted.
    #[param(value_type = String, format = Date, pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2026-04-01")]
    pub from: String,
    /// The last day (UTC), included; at most ten years after `from`.
    #[param(value_type = String, format = Date, pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2026-04-30")]
    pub to: String,
    /// The period of `flow`: `day` (default), `week` (from Monday) or `month`.
    #[param(schema_with = period_schema)]
    pub period: Option<String>,
}

/// Active tickets of one status and priority.
#[derive(Debug, Serialize, ToSchema)]
pub struct BacklogLine {
    #[schema(schema_with = status_schema)]
    pub status: &'static str,
    #[schema(schema_with = priority_schema)]
    pub priority: &'static str,
    pub count: i64,
}

/// Tickets created and solved in one period.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowLine {
    /// `2026-05-01` (day), `2026-04-27` (the Monday of the week), `2026-05` (month).
    pub period: String,
    pub created: i64,
    pub solved: i64,
}

/// How one group met its deadlines.
#[derive(Debug, Serialize, ToSchema)]
pub struct Compliance {
    /// First responses given in the range.
    pub first_responses: i64,
    /// Of them, those given by their deadline.
    pub first_responses_met: i64,
    /// `first_responses_met / first_responses` in percent, rounded half up to two decimals;
    /// `null` without any.
    pub first_response_compliance: Option<f64>,
    /// Tickets solved in the range.
    pub resolutions: i64,
    /// Of them, those solved by their deadline.
    pub resolutions_met: i64,
    pub resolution_compliance: Option<f64>,
}

impl Compliance {
    fn new(first: (i64, i64), resolution: (i64, i64)) -> Self {
        Self {
            first_responses: first.0,
            first_responses_met: first.1,
            first_response_compliance: percent(first.1, first.0),
            resolutions: resolution.0,
            resolutions_met: resolution.1,
            resolution_compliance: percent(resolution.1, resolution.0),
        }
    }
}

/// The compliance of one priority.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorityCompliance {
    #[schema(schema_with = priority_schema)]
    pub priority: &'static str,
    #[serde(flatten)]
    pub compliance: Compliance,
}

/// The compliance of one agent (`null`: unassigned tickets).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentCompliance {
    pub owner_id: Option<Uuid>,
    #[serde(flatten)]
    pub compliance: Compliance,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlaCompliance {
    pub overall: Compliance,
    /// Most urgent first; priorities without events are left out.
    pub by_priority: Vec<PriorityCompliance>,
    pub by_agent: Vec<AgentCompliance>,
}

/// A duration in business seconds, on the SLA policy's calendar of the day of the event.
#[derive(Debug, Serialize, ToSchema)]
pub struct DurationSummary {
    pub count: i64,
    /// For an even count, the mean of the middle two, rounded down; `null` without any.
    pub median_business_seconds: Option<i64>,
    /// By nearest rank (the value at rank ⌈0.9 × count⌉).
    pub p90_business_seconds: Option<i64>,
}

impl From<DurationStats> for DurationSummary {
    fn from(d: DurationStats) -> Self {
        Self { count: d.count, median_business_seconds: d.median, p90_business_seconds: d.p90 }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reopens {
    /// Tickets created in the range that were ever solved.
    pub solved: i64,
    /// Of them, those reopened at least once.
    pub reopened: i64,
    /// `reopened / solved` in percent, rounded half up to two decimals.
    pub reopen_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountComplaints {
    pub account_id: Uuid,
    pub complaints: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductComplaints {
    pub product_id: Uuid,
    pub complaints: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Complaints {
    /// Complaints created in the range.
    pub total: i64,
    /// The 50 accounts with the most, most first (ties by id).
    pub by_account: Vec<AccountComplaints>,
    /// The 50 products with the most, most first (ties by id).
    pub by_product: Vec<ProductComplaints>,
}

/// Deals support handed to sales in the range, in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupportSalesLine {
    /// `null` for deals without an amount.
    pub currency: Option<String>,
    pub opportunities: i64,
    pub won: i64,
    /// The amount of the won ones, in minor units.
    pub won_amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketReport {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    #[schema(schema_with = period_schema)]
    pub period: &'static str,
    /// The active tickets as they stand now (new, open, pending, on hold) by status and
    /// priority, whatever the range.
    pub backlog: Vec<BacklogLine>,
    pub backlog_total: i64,
    /// Tickets created and tickets solved per period of the range (periods without either are
    /// left out).
    pub flow: Vec<FlowLine>,
    pub sla: SlaCompliance,
    /// From the opening to the first response, for the first responses given in the range.
    pub first_response_time: DurationSummary,
    /// The time the resolution clock ran (from the opening or the last reopening to the solve,
    /// less the time waiting on the customer), for the tickets solved in the range.
    pub resolution_time: DurationSummary,
    pub reopens: Reopens,
    pub complaints: Complaints,
    /// Deals handed to sales from tickets (`POST /tickets/{id}/opportunity`) created in the
    /// range, by currency.
    pub opportunities_from_support: Vec<SupportSalesLine>,
}

/// The compliance of each key of either list, in order of key.
fn merged<K: Ord + Copy>(first: Vec<(K, i64, i64)>, solved: Vec<(K, i64, i64)>) -> Vec<(K, Compliance)> {
    // (total, met) of first responses, and of resolutions.
    type Pair = (i64, i64);
    let mut keys: BTreeMap<K, (Pair, Pair)> = BTreeMap::new();
    for (k, total, met) in first {
        keys.entry(k).or_default().0 = (total, met);
    }
    for (k, total, met) in solved {
        keys.entry(k).or_default().1 = (total, met);
    }
    keys.into_iter().map(|(k, (f, r))| (k, Compliance::new(f, r))).collect()
}

fn priority_rank(p: TicketPriority) -> usize {
    TicketPriority::ALL.iter().position(|x| *x == p).unwrap_or(0)
}

/// Tickets report
///
/// Counted by the database over the unarchived tickets: the backlog as it stands; then, for the
/// events between `from` and `to` (UTC days, inclusive), the tickets created and solved per
/// period, SLA compliance (the share of first responses and of solves that met their deadline)
/// overall, per priority and per agent, the median and 90th percentile of the business time to
/// the first response and to the resolution, the reopen rate of the tickets created in the
/// range, the complaints created in the range per account and per product, and the deals handed
/// to sales with their won amount per currency.
#[utoipa::path(
    tag = "reports",
    params(TicketReportParams),
    responses((status = 200, body = TicketReport)),
    security(("bearer" = []))
)]
#[get("/reports/tickets")]
pub async fn ticket_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<TicketReportParams>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::Ticket, Action::Read, true)?;
    let params = params.into_inner();
    let (from, to) = crate::routes::reports::date_range(&params.from, &params.to)?;
    if from.checked_add_days(Days::new(MAX_DAYS)).is_some_and(|limit| to > limit) {
        return Err(ApiError::bad_param("to", "out_of_range", "must be at most ten years after from"));
    }
    let period = match params.period.as_deref() {
        None => TicketPeriod::Day,
        Some(raw) => TicketPeriod::parse("period", raw).map_err(crate::conventions::field_to_bad_request)?,
    };
    let start = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let query =
        TicketReportQuery { from: start(from), to: start(to.checked_add_days(Days::new(1)).unwrap_or(to)), period };
    let data = state.store.ticket_report(caller.0.organization_id, &query).await?;

    let overall = merged(compliance_by(&data.first_responses, |_| ()), compliance_by(&data.resolutions, |_| ()))
        .pop()
        .map_or_else(|| Compliance::new((0, 0), (0, 0)), |(_, c)| c);
    // Most urgent first.
    let urgency = |c: &TargetCount| Reverse(priority_rank(c.priority));
    let by_priority = merged(compliance_by(&data.first_responses, urgency), compliance_by(&data.resolutions, urgency))
        .into_iter()
        .map(|(Reverse(rank), compliance)| PriorityCompliance {
            priority: TicketPriority::ALL.get(rank).map_or("normal", |p| p.as_str()),
            compliance,
        })
        .collect();
    let owner = |c: &TargetCount| c.owner_id;
    let by_agent = merged(compliance_by(&data.first_responses, owner), compliance_by(&data.resolutions, owner))
        .into_iter()
        .map(|(owner_id, compliance)| AgentCompliance { owner_id, compliance })
        .collect();

    Ok(HttpResponse::Ok().json(TicketReport {
        from: from.to_string(),
        to: to.to_string(),
        period: period.as_str(),
        backlog_total: data.backlog.iter().map(|b| b.count).sum(),
        backlog: data
            .backlog
            .iter()
            .map(|b| BacklogLine { status: b.status.as_str(), priority: b.priority.as_str(), count: b.count })
            .collect(),
        flow: flow(&data.created, &data.solved)
            .into_iter()
            .map(|f| FlowLine { period: f.period, created: f.created, solved: f.solved })
            .collect(),
        sla: SlaCompliance { overall, by_priority, by_agent },
        first_response_time: data.first_response_time.into(),
        resolution_time: data.resolution_time.into(),
        reopens: Reopens {
            solved: data.ever_solved,
            reopened: data.reopened,
            reopen_rate: percent(data.reopened, data.ever_solved),
        },
        complaints: Complaints {
            total: data.complaints,
            by_account: data
                .complaints_by_account
                .iter()
                .map(|(account_id, complaints)| AccountComplaints { account_id: *account_id, complaints: *complaints })
                .collect(),
            by_product: data
                .complaints_by_product
                .iter()
                .map(|(product_id, complaints)| ProductComplaints { product_id: *product_id, complaints: *complaints })
                .collect(),
        },
        opportunities_from_support: data
            .support_sales
            .into_iter()
            .map(|s| SupportSalesLine {
                currency: s.currency,
                opportunities: s.created,
                won: s.won,
                won_amount: s.won_amount,
            })
            .collect(),
    }))
}
