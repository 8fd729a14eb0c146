//! The organisation's SLA policy for support tickets (`/settings/sla`): the first-response and
//! resolution targets of each priority, the business calendar they count on, and the reopen
//! window.

use actix_web::{HttpRequest, HttpResponse, get, patch, web};
use chrono::{NaiveDate, Weekday};
use crm_domain::ValidationErrors;
use crm_domain::permissions::{Action, Resource, authorize};
use crm_domain::sla::{BusinessHours, SlaPolicy, SlaPriority, SlaTarget, SlaTargets};
use crm_domain::sla_settings::{
    MAX_HOLIDAYS, MAX_INTERVALS_PER_DAY, SlaClockName, SlaPatch, SlaSettings, SlaStep, WEEKDAYS, clock_name,
    clock_time_text, parse_clock_time, parse_minutes, parse_reopen_window, parse_time_zone,
};
use crm_domain::{FieldError, sla_settings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::conventions::{IfMatch, if_match, now, timestamp};
use crate::extract::{JsonBody, object_only};
use crate::problem::ApiError;
use crate::respond::{self, audit_context, update_with_retry};
use crate::state::AppState;

fn clock_schema() -> utoipa::openapi::schema::Object {
    crate::schema::one_of(SlaClockName::NAMES, false)
}

/// How long a step may take, and on which clock: `calendar` counts every minute, nights and
/// weekends included; `business` counts only the calendar's business hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaTargetDto {
    #[schema(minimum = 1, maximum = 525_600, example = 480)]
    pub minutes: u32,
    #[schema(schema_with = clock_schema)]
    pub clock: &'static str,
}

impl From<SlaTarget> for SlaTargetDto {
    fn from(t: SlaTarget) -> Self {
        Self { minutes: t.minutes, clock: clock_name(t.clock) }
    }
}

/// The targets of one priority.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorityTargetsDto {
    /// From the ticket's opening to the first public answer of staff.
    pub first_response: SlaTargetDto,
    /// From the ticket's opening (or its last reopening) to its solving; the time spent waiting
    /// on the customer (`pending`) does not count.
    pub resolution: SlaTargetDto,
}

impl From<SlaTargets> for PriorityTargetsDto {
    fn from(t: SlaTargets) -> Self {
        Self { first_response: t.first_response.into(), resolution: t.resolution.into() }
    }
}

/// The targets of each priority.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetsDto {
    pub urgent: PriorityTargetsDto,
    pub high: PriorityTargetsDto,
    pub normal: PriorityTargetsDto,
    pub low: PriorityTargetsDto,
}

/// A local interval of business hours, `[start, end)`; an end of `24:00` is midnight.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct IntervalDto {
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub start: String,
    #[schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", example = "17:30")]
    pub end: String,
}
object_only!(IntervalDto, serialize);

/// The business hours of each day of the week, in local time; an empty list: closed.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeekHoursDto {
    pub monday: Vec<IntervalDto>,
    pub tuesday: Vec<IntervalDto>,
    pub wednesday: Vec<IntervalDto>,
    pub thursday: Vec<IntervalDto>,
    pub friday: Vec<IntervalDto>,
    pub saturday: Vec<IntervalDto>,
    pub sunday: Vec<IntervalDto>,
}

/// When business time counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDto {
    /// An IANA time zone; daylight-saving changes follow it.
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
    pub hours: WeekHoursDto,
    /// Local dates without business time, in order.
    #[schema(value_type = Vec<String>, example = json!(["2026-12-25"]))]
    pub holidays: Vec<String>,
}

/// The SLA policy: what each new ticket's deadlines are computed from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaPolicyResponse {
    pub targets: TargetsDto,
    pub calendar: CalendarDto,
    /// How many days after it is solved a ticket may be reopened; after them it is closed.
    #[schema(minimum = 0, maximum = 365, example = 7)]
    pub reopen_window_days: u32,
    pub version: i64,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

fn intervals(hours: &[BusinessHours]) -> Vec<IntervalDto> {
    hours
        .iter()
        .map(|h| IntervalDto { start: clock_time_text(h.start, false), end: clock_time_text(h.end, true) })
        .collect()
}

impl From<&SlaSettings> for SlaPolicyResponse {
    fn from(s: &SlaSettings) -> Self {
        let p: &SlaPolicy = &s.policy;
        let c = &p.calendar;
        Self {
            targets: TargetsDto {
                urgent: p.urgent.into(),
                high: p.high.into(),
                normal: p.normal.into(),
                low: p.low.into(),
            },
            calendar: CalendarDto {
                time_zone: c.time_zone().name().to_owned(),
                hours: WeekHoursDto {
                    monday: intervals(c.hours(Weekday::Mon)),
                    tuesday: intervals(c.hours(Weekday::Tue)),
                    wednesday: intervals(c.hours(Weekday::Wed)),
                    thursday: intervals(c.hours(Weekday::Thu)),
                    friday: intervals(c.hours(Weekday::Fri)),
                    saturday: intervals(c.hours(Weekday::Sat)),
                    sunday: intervals(c.hours(Weekday::Sun)),
                },
                holidays: c.holidays().iter().map(NaiveDate::to_string).collect(),
            },
            reopen_window_days: p.reopen_window_days,
            version: s.version,
            updated_at: timestamp(s.updated_at),
        }
    }
}

/// A target, given whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct SlaTargetInput {
    #[schema(minimum = 1, maximum = 525_600, example = 240)]
    pub minutes: i64,
    #[schema(schema_with = clock_schema)]
    pub clock: String,
}
object_only!(SlaTargetInput);

/// The targets of one priority to replace; an absent one keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct PriorityTargetsPatch {
    pub first_response: Option<SlaTargetInput>,
    pub resolution: Option<SlaTargetInput>,
}
object_only!(PriorityTargetsPatch);

/// The priorities whose targets change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct TargetsPatch {
    pub urgent: Option<PriorityTargetsPatch>,
    pub high: Option<PriorityTargetsPatch>,
    pub normal: Option<PriorityTargetsPatch>,
    pub low: Option<PriorityTargetsPatch>,
}
object_only!(TargetsPatch);

/// The days whose business hours are replaced, each with its whole list (at most 4 intervals,
/// in order, not overlapping; an empty list: closed that day).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct WeekHoursPatch {
    pub monday: Option<Vec<IntervalDto>>,
    pub tuesday: Option<Vec<IntervalDto>>,
    pub wednesday: Option<Vec<IntervalDto>>,
    pub thursday: Option<Vec<IntervalDto>>,
    pub friday: Option<Vec<IntervalDto>>,
    pub saturday: Option<Vec<IntervalDto>>,
    pub sunday: Option<Vec<IntervalDto>>,
}
object_only!(WeekHoursPatch);

/// A change to the calendar; what is absent keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct CalendarPatch {
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    pub hours: Option<WeekHoursPatch>,
    /// The whole list of holidays (at most 400 dates), replacing the current one.
    #[schema(value_type = Option<Vec<String>>, example = json!(["2026-12-25", "2027-01-01"]))]
    pub holidays: Option<Vec<String>>,
}
object_only!(CalendarPatch);

/// A change to the SLA policy; what is absent keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "targets": {"urgent": {"first_response": {"minutes": 30, "clock": "calendar"}}},
    "calendar": {"time_zone": "Europe/Paris", "holidays": ["2026-12-25"]}
}))]
pub struct SlaPatchRequest {
    pub targets: Option<TargetsPatch>,
    pub calendar: Option<CalendarPatch>,
    #[schema(minimum = 0, maximum = 365)]
    pub reopen_window_days: Option<i64>,
}

fn target(errors: &mut ValidationErrors, field: &str, input: SlaTargetInput) -> Option<SlaTarget> {
    let minutes = errors.collect(parse_minutes(&format!("{field}.minutes"), input.minutes));
    let clock = errors.collect(SlaClockName::parse(&format!("{field}.clock"), &input.clock));
    Some(SlaTarget { minutes: minutes?, clock: clock?.into() })
}

fn day_hours(errors: &mut ValidationErrors, field: &str, list: Vec<IntervalDto>) -> Option<Vec<BusinessHours>> {
    if list.len() > MAX_INTERVALS_PER_DAY {
        errors.push(FieldError::new(field, "too_many", format!("at most {MAX_INTERVALS_PER_DAY} intervals a day")));
        return None;
    }
    let mut hours = Vec::with_capacity(list.len());
    for (i, interval) in list.into_iter().enumerate() {
        let start = errors.collect(parse_clock_time(&format!("{field}[{i}].start"), &interval.start, false));
        let end = errors.collect(parse_clock_time(&format!("{field}[{i}].end"), &interval.end, true));
        hours.push(BusinessHours::new(start?, end?));
    }
    Some(hours)
}

impl SlaPatchRequest {
    fn try_into_domain(self) -> Result<SlaPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut patch = SlaPatch::default();
        let targets = self.targets.unwrap_or_default();
        for (priority, given) in [
            (SlaPriority::Urgent, targets.urgent),
            (SlaPriority::High, targets.high),
            (SlaPriority::Normal, targets.normal),
            (SlaPriority::Low, targets.low),
        ] {
            let given = given.unwrap_or_default();
            for (step, input) in
                [(SlaStep::FirstResponse, given.first_response), (SlaStep::Resolution, given.resolution)]
            {
                let field = format!("targets.{}.{}", priority.as_str(), step.as_str());
                if let Some(t) = input.and_then(|input| target(&mut errors, &field, input)) {
                    patch.targets.push((priority, step, t));
                }
            }
        }
        let calendar = self.calendar.unwrap_or_default();
        patch.time_zone = calendar.time_zone.and_then(|tz| errors.collect(parse_time_zone("calendar.time_zone", &tz)));
        let hours = calendar.hours.unwrap_or_default();
        let days =
            [hours.monday, hours.tuesday, hours.wednesday, hours.thursday, hours.friday, hours.saturday, hours.sunday];
        for ((weekday, name), list) in WEEKDAYS.into_iter().zip(days) {
            if let Some(h) = list.and_then(|list| day_hours(&mut errors, &format!("calendar.hours.{name}"), list)) {
                patch.hours.push((weekday, h));
            }
        }
        if let Some(list) = calendar.holidays {
            if list.len() > MAX_HOLIDAYS {
                errors.push(FieldError::new("calendar.holidays", "too_many", format!("at most {MAX_HOLIDAYS} dates")));
            } else {
                let mut dates = Vec::with_capacity(list.len());
                for (i, raw) in list.iter().enumerate() {
                    match raw.parse::<NaiveDate>() {
                        Ok(d) if raw.len() == 10 => dates.push(d),
                        _ => errors.push(FieldError::new(
                            format!("calendar.holidays[{i}]"),
                            "invalid_date",
                            "must be a date YYYY-MM-DD",
                        )),
                    }
                }
                patch.holidays = Some(dates);
            }
        }
        patch.reopen_window_days =
            self.reopen_window_days.and_then(|d| errors.collect(parse_reopen_window("reopen_window_days", d)));
        errors.into_result()?;
        Ok(patch)
    }
}

/// The SLA policy
///
/// What each new support ticket's deadlines are computed from: for each priority a
/// first-response and a resolution target, each counted on the `calendar` clock (every minute)
/// or the `business` clock (the calendar's business hours only, in its time zone, holidays
/// excluded), and the reopen window. Defaults: urgent 60 / 240 calendar minutes; high 240
/// calendar minutes / 510 business minutes (one business day of 8 h 30 min); normal 480 / 1,530
/// business minutes; low 1,020 / 2,550 business minutes; Monday to Friday 09:00 to 17:30 in UTC,
/// no holidays; reopen window 7 days. Every role reads it.
#[utoipa::path(
    tag = "settings",
    responses((status = 200, body = SlaPolicyResponse, headers(("ETag" = String))), (status = 304, description = "Not modified")),
    security(("bearer" = []))
)]
#[get("/settings/sla")]
pub async fn get_sla_policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::Settings, Action::Read, true)?;
    let settings = state.store.sla_settings(caller.0.organization_id).await?;
    respond::read(&req, &SlaPolicyResponse::from(&settings), settings.version)
}

/// Change the SLA policy (admins and managers)
///
/// Replaces the targets, days of business hours, holidays, time zone and reopen window named in
/// the body. The change applies to tickets created after it: existing tickets keep the deadlines
/// they were given. An audit event (`sla_policy`) records what changed; a body that changes
/// nothing leaves the version as it is. With `If-Match`, a stale version answers 412.
#[utoipa::path(
    tag = "settings",
    request_body = SlaPatchRequest,
    responses((status = 200, body = SlaPolicyResponse, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/settings/sla")]
pub async fn update_sla_policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<SlaPatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::Settings, Action::Update, true)?;
    let patch = body.0.try_into_domain()?;
    let condition: IfMatch = if_match(&req)?;
    let audit = audit_context(&req, &principal);
    let organization_id = principal.organization_id;
    let settings = update_with_retry(
        &condition,
        async || Ok(state.store.sla_settings(organization_id).await?),
        |s: &SlaSettings| s.version,
        async |current: SlaSettings| {
            let (next, changes) = current.apply(&patch, now()).map_err(|e| {
                let mut errors = ValidationErrors::new();
                errors.push(sla_settings::calendar_error_field(e));
                ApiError::from(errors)
            })?;
            if !changes.is_empty() {
                state.store.save_sla_settings(&next, current.version, &changes, &audit).await?;
            }
            Ok(next)
        },
    )
    .await?;
    Ok(respond::with_etag(actix_web::http::StatusCode::OK, &SlaPolicyResponse::from(&settings), settings.version))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(get_sla_policy).service(update_sla_policy);
}
