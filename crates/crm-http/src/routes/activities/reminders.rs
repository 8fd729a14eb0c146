//! `GET /api/v1/me/reminders`: what the caller should be reminded of now, the overdue first.

use actix_web::{HttpResponse, get, web};
use crm_domain::activity::{MAX_REMINDERS, Reminder, ReminderQuery};
use crm_domain::permissions::{Action, Resource, authorize};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::ActivityResponse;
use crate::auth::Caller;
use crate::conventions::{now, parse_timestamp_param, timestamp};
use crate::problem::ApiError;
use crate::state::AppState;

/// A record an activity is about, with the name a person reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct AboutResponse {
    /// `lead`, `contact`, `account` or `opportunity`.
    #[schema(schema_with = about_type_schema)]
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: Uuid,
    /// A person's first and last name, or an account's or a deal's name.
    pub name: String,
}

fn about_type_schema() -> utoipa::openapi::schema::Object {
    crate::schema::one_of(&["lead", "contact", "account", "opportunity"], false)
}

/// A planned activity to be reminded of, and what it is about, so that a frontend shows
/// "Call Ada Lovelace (Babbage & Co)" without another request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderResponse {
    pub activity: ActivityResponse,
    pub about: Vec<AboutResponse>,
}

/// The caller's reminders.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderList {
    /// The instant the reminders are due by.
    #[schema(format = DateTime)]
    pub until: String,
    /// The overdue first (the longest overdue first), then by reminder time; at most `limit`.
    pub data: Vec<ReminderResponse>,
}

/// The query parameters of `GET /api/v1/me/reminders`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReminderParams {
    /// Reminders due at or before this instant (RFC 3339); default now.
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
    /// At most this many (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

fn parse_limit(raw: Option<&str>) -> Result<u32, ApiError> {
    match raw {
        None => Ok(50),
        Some(raw) => raw.parse::<u32>().ok().filter(|n| (1..=MAX_REMINDERS).contains(n)).ok_or_else(|| {
            ApiError::bad_param("limit", "invalid_value", format!("must be an integer from 1 to {MAX_REMINDERS}"))
        }),
    }
}

/// The caller's reminders
///
/// The caller's planned activities whose reminder (or, without one, due date) is at or before
/// `until`: the overdue ones first, the longest overdue first, then by reminder time. Each comes
/// with the records it is about and their names. A snoozed activity waits for its new reminder.
/// This is what a frontend polls; it reads two ranges of indexes of the caller's reminders (the
/// overdue ones by due date, then the others by reminder time), each no further than the page.
#[utoipa::path(
    tag = "activities",
    params(ReminderParams),
    responses((status = 200, description = "The caller's due reminders", body = ReminderList)),
    security(("bearer" = []))
)]
#[get("/me/reminders")]
pub async fn my_reminders(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReminderParams>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::Activity, Action::Read, true)?;
    let at = now();
    let until = parse_timestamp_param("until", query.until.as_deref())?.unwrap_or(at);
    let reminder_query =
        ReminderQuery { owner_id: caller.0.user_id, until, now: at, limit: parse_limit(query.limit.as_deref())? };
    let reminders = state.store.reminders(caller.0.organization_id, &reminder_query).await?;
    let data = reminders
        .iter()
        .map(|Reminder { activity, about }| ReminderResponse {
            activity: ActivityResponse::of(activity, at).0,
            about: about
                .iter()
                .map(|a| AboutResponse { kind: a.kind.as_str(), id: a.id, name: a.name.clone() })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ReminderList { until: timestamp(until), data }))
}
