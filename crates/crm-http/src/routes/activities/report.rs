//! `GET /reports/activities`: what was done, how often it reached the customer, whether planned
//! work was done on time, and how fast new leads were first reached.

use actix_web::{HttpResponse, get, web};
use chrono::{Days, NaiveDate, NaiveTime};
use crm_domain::activity::ActivityKind;
use crm_domain::activity_report::{
    ActivityCounts, ActivityGrouping, ActivityReportQuery, LeadResponse, check_grouping, percent, totals,
};
use crm_domain::permissions::{Action, Resource, authorize};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{field_to_bad_request, parse_any_of, parse_uuid};
use crate::problem::ApiError;
use crate::schema::any_of_list;
use crate::state::AppState;

/// The longest range a report covers: ten years of days.
const MAX_DAYS: u64 = 3_660;

fn grouping_schema() -> utoipa::openapi::schema::Object {
    any_of_list(ActivityGrouping::NAMES)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityReportParams {
    /// The first day (UTC) of the activities counted, by when they happened.
    #[param(value_type = String, format = Date, pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2026-03-01")]
    pub from: String,
    /// The last day (UTC), included; at most ten years after `from`.
    #[param(value_type = String, format = Date, pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2026-03-01")]
    pub to: String,
    /// One or two of `owner`, `kind`, `outcome`, `day`, `week` (from Monday), `month`,
    /// comma-separated, at most one of the periods; without it, one line for everything.
    #[param(schema_with = grouping_schema)]
    pub group_by: Option<String>,
    /// Comma-separated owner ids: the activities they own (and, for the lead figures, the leads).
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    /// Comma-separated kinds.
    #[param(schema_with = super::dto::kind_filter_schema)]
    pub kind: Option<String>,
    /// The activities about this account.
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
}

/// One group of done activities.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityReportLine {
    /// The owner, when grouped by `owner`; else `null`.
    pub owner_id: Option<Uuid>,
    /// The kind, when grouped by `kind`; else `null`.
    #[schema(schema_with = super::dto::nullable_kind_schema)]
    pub kind: Option<String>,
    /// The outcome, when grouped by `outcome` (`null` for activities logged without one).
    #[schema(schema_with = super::dto::outcome_schema)]
    pub outcome: Option<String>,
    /// The period, when grouped by one: `2026-05-01` (day), `2026-04-27` (the Monday of the
    /// week), `2026-05` (month); else `null`.
    pub period: Option<String>,
    /// Done activities (failed attempts included).
    pub done: i64,
    /// Of them, attempts that did not reach the customer (`no_answer`, `busy`,
    /// `left_voicemail`, `wrong_number`, `bounced`).
    pub failed_attempts: i64,
    /// `done − failed_attempts`.
    pub succeeded: i64,
    /// `succeeded / done` as a percentage, rounded half up to two decimals; `null` without any.
    #[schema(example = 66.67)]
    pub success_rate: Option<f64>,
    /// Of the done activities that had a due date, those done by it.
    pub completed_on_time: i64,
    /// And those done after it.
    pub completed_late: i64,
}

impl From<&ActivityCounts> for ActivityReportLine {
    fn from(c: &ActivityCounts) -> Self {
        let succeeded = c.done - c.failed;
        Self {
            owner_id: c.owner_id,
            kind: c.kind.clone(),
            outcome: c.outcome.clone(),
            period: c.period.clone(),
            done: c.done,
            failed_attempts: c.failed,
            succeeded,
            success_rate: percent(succeeded, c.done),
            completed_on_time: c.on_time,
            completed_late: c.late,
        }
    }
}

/// How fast the leads created in the range were first reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadResponseDto {
    /// Active leads created in the range (of the `owner_id`s, when given).
    pub leads_created: i64,
    /// Of them, those with a done activity (failed attempts included).
    pub leads_reached: i64,
    /// The median time from a lead's creation to its first interaction, in seconds (an
    /// interaction logged before the lead existed counts as zero; for an even count, the mean
    /// of the middle two, rounded down); `null` when no lead was reached.
    pub median_seconds_to_first_interaction: Option<i64>,
}

impl From<LeadResponse> for LeadResponseDto {
    fn from(r: LeadResponse) -> Self {
        Self {
            leads_created: r.leads_created,
            leads_reached: r.leads_reached,
            median_seconds_to_first_interaction: r.median_seconds,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityReport {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub group_by: Vec<&'static str>,
    /// The groups with at least one done activity, in the order of the groupings.
    pub lines: Vec<ActivityReportLine>,
    /// Every line added up (the grouping keys `null`).
    pub totals: ActivityReportLine,
    pub leads: LeadResponseDto,
}

/// Activity report
///
/// The done activities (failed attempts included) that happened between `from` and `to` (UTC
/// days, inclusive), counted by `GROUP BY` in the database: how many, how many failed to reach
/// the customer and the success rate, and of those that had been planned with a due date, how
/// many were done on time or late; grouped by one or two of owner, kind, outcome and a period.
/// `leads` tells how fast the leads created in the range were first reached. Filters:
/// `owner_id`, `kind`, `account_id` (the lead figures take `owner_id` only).
#[utoipa::path(
    tag = "reports",
    params(ActivityReportParams),
    responses((status = 200, body = ActivityReport)),
    security(("bearer" = []))
)]
#[get("/reports/activities")]
pub async fn activity_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<ActivityReportParams>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let params = params.into_inner();
    let (from, to) = crate::routes::reports::date_range(&params.from, &params.to)?;
    if from.checked_add_days(Days::new(MAX_DAYS)).is_some_and(|limit| to > limit) {
        return Err(ApiError::bad_param("to", "out_of_range", "must be at most ten years after from"));
    }
    let group_by = parse_any_of("group_by", params.group_by.as_deref(), ActivityGrouping::parse)?;
    check_grouping(&group_by).map_err(field_to_bad_request)?;
    let account_id = params.account_id.as_deref().map(|raw| parse_uuid("account_id", raw)).transpose();
    let start = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let query = ActivityReportQuery {
        from: start(from),
        to: start(to.checked_add_days(Days::new(1)).unwrap_or(to)),
        group_by: group_by.clone(),
        owner_ids: parse_any_of("owner_id", params.owner_id.as_deref(), parse_uuid)?,
        kinds: parse_any_of("kind", params.kind.as_deref(), ActivityKind::parse)?,
        account_id: account_id.map_err(field_to_bad_request)?,
    };
    let organization_id = caller.0.organization_id;
    let counts = state.store.activity_counts(organization_id, &query).await?;
    let leads = state.store.lead_response(organization_id, &query).await?;
    Ok(HttpResponse::Ok().json(ActivityReport {
        from: from.to_string(),
        to: to.to_string(),
        group_by: group_by.iter().map(|g| g.as_str()).collect(),
        lines: counts.iter().map(ActivityReportLine::from).collect(),
        totals: ActivityReportLine::from(&totals(&counts)),
        leads: leads.into(),
    }))
}
