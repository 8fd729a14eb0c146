//! The activity DTOs and their conversion to domain types.

use chrono::{DateTime, Utc};
use crm_domain::activity::{
    Activity, ActivityDraft, ActivityKind, ActivityOutcome, ActivityPatch, ActivitySortField, ActivityStatus,
    Direction, Links, MAX_DURATION_MINUTES, Priority,
};
use crm_domain::value::{CustomFields, LongText, Name};
use crm_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{Tag, optional_timestamp, parse_instant, timestamp};
use crate::extract::{custom_fields, custom_fields_value, double_option, nullable, opt, required};
use crate::schema::{any_of_list, fields, one_of, sort_param};

pub(crate) fn kind_schema() -> Object {
    one_of(ActivityKind::NAMES, false)
}
pub(crate) fn direction_schema() -> Object {
    one_of(Direction::NAMES, true)
}
pub(crate) fn status_schema() -> Object {
    one_of(ActivityStatus::NAMES, false)
}
pub(crate) fn new_status_schema() -> Object {
    one_of(&["planned", "done"], false)
}
pub(crate) fn outcome_schema() -> Object {
    one_of(ActivityOutcome::NAMES, true)
}
pub(crate) fn priority_schema() -> Object {
    one_of(Priority::NAMES, false)
}
fn minutes(field: &str, raw: i64) -> Result<u32, FieldError> {
    u32::try_from(raw)
        .ok()
        .filter(|m| *m <= MAX_DURATION_MINUTES)
        .ok_or_else(|| FieldError::new(field, "out_of_range", format!("must be between 0 and {MAX_DURATION_MINUTES}")))
}

/// Logs an interaction or plans one. Without `status`, an activity with a `due_at` is planned and
/// one without is done (at `occurred_at`, default now): logging a call is
/// `{"kind": "call", "contact_id": …, "subject": …, "outcome": "no_answer"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "call", "direction": "outbound", "subject": "Renewal call", "outcome": "no_answer",
    "contact_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "duration_minutes": 2
}))]
pub struct CreateActivityRequest {
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// Not for notes and tasks.
    #[schema(schema_with = direction_schema)]
    pub direction: Option<String>,
    #[schema(schema_with = fields::name)]
    pub subject: String,
    #[schema(schema_with = fields::optional_long_text)]
    pub body: Option<String>,
    /// `planned` or `done`; see above for the default.
    #[schema(schema_with = new_status_schema)]
    pub status: Option<String>,
    /// When a planned activity is due. RFC 3339.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<String>,
    /// When to remind the owner of a planned activity: at or before `due_at`. RFC 3339.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub remind_at: Option<String>,
    /// When a done activity happened; default now. RFC 3339.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<String>,
    #[schema(minimum = 0, maximum = 10080)]
    pub duration_minutes: Option<i64>,
    /// How it went (not for a planned activity). `no_answer`, `busy`, `left_voicemail`,
    /// `wrong_number` and `bounced` are failed attempts.
    #[schema(schema_with = outcome_schema)]
    pub outcome: Option<String>,
    /// Default `normal`.
    #[schema(schema_with = priority_schema)]
    pub priority: Option<String>,
    /// Who does it; default the caller. Another owner needs the reassign right.
    pub owner_id: Option<Uuid>,
    /// What it is about: at least one of the four, each an active record of the organisation.
    pub lead_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// Filled from the contact's or the deal's account when absent; one that contradicts them
    /// is a 422 `account_mismatch`.
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    /// The support ticket it is logged against (a call about the ticket): an unarchived ticket
    /// of the organisation, whose contact and account are filled in when absent.
    pub ticket_id: Option<Uuid>,
    /// The other people who took part, contacts of the organisation (at most 50).
    pub participant_contact_ids: Option<Vec<Uuid>>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

fn instant(errors: &mut ValidationErrors, field: &str, raw: Option<&str>) -> Option<DateTime<Utc>> {
    opt(errors, raw, |v| parse_instant(field, v))
}

fn nullable_instant(
    errors: &mut ValidationErrors,
    field: &str,
    raw: Option<Option<String>>,
) -> Option<Option<DateTime<Utc>>> {
    nullable(errors, raw, |v| parse_instant(field, v))
}

impl CreateActivityRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<ActivityDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let kind = errors.collect(ActivityKind::parse("kind", &self.kind));
        let subject = errors.collect(Name::parse("subject", &self.subject));
        let draft = ActivityDraft {
            kind: kind.unwrap_or(ActivityKind::Note),
            direction: opt(&mut errors, self.direction.as_deref(), |v| Direction::parse("direction", v)),
            subject: subject.clone().unwrap_or_else(|| Name::from_trusted(String::new())),
            body: opt(&mut errors, self.body.as_deref(), |v| LongText::parse("body", v)),
            status: opt(&mut errors, self.status.as_deref(), |v| ActivityStatus::parse("status", v)),
            due_at: instant(&mut errors, "due_at", self.due_at.as_deref()),
            remind_at: instant(&mut errors, "remind_at", self.remind_at.as_deref()),
            occurred_at: instant(&mut errors, "occurred_at", self.occurred_at.as_deref()),
            duration_minutes: self.duration_minutes.and_then(|m| errors.collect(minutes("duration_minutes", m))),
            outcome: opt(&mut errors, self.outcome.as_deref(), |v| ActivityOutcome::parse("outcome", v)),
            priority: opt(&mut errors, self.priority.as_deref(), |v| Priority::parse("priority", v)),
            owner_id: self.owner_id,
            links: Links {
                lead_id: self.lead_id,
                contact_id: self.contact_id,
                account_id: self.account_id,
                opportunity_id: self.opportunity_id,
            },
            ticket_id: self.ticket_id,
            participant_contact_ids: self.participant_contact_ids.unwrap_or_default(),
            custom_fields: self.custom_fields.and_then(|m| custom_fields(&mut errors, m)),
        };
        errors.into_result()?;
        match (kind, subject) {
            (Some(_), Some(_)) => Ok(draft),
            _ => Err(ValidationErrors::new()),
        }
    }
}

/// A partial update: an absent field stays, `null` clears it. `kind`, `due_at` and `remind_at`
/// change only while the activity is planned (409 `activity_not_planned`), `occurred_at` only once
/// it is done; text, outcome, links and participants may be corrected at any time.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "Renewal call (left a message)", "outcome": "left_voicemail"}))]
pub struct UpdateActivityRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = kind_schema)]
    pub kind: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = direction_schema)]
    pub direction: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub subject: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub body: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub remind_at: Option<Option<String>>,
    /// Only once it is done; cannot be null.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 10080)]
    pub duration_minutes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = outcome_schema)]
    pub outcome: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = priority_schema)]
    pub priority: Option<Option<String>>,
    /// Another owner needs the reassign right; cannot be null.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Uuid)]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub lead_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub contact_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub account_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub opportunity_id: Option<Option<Uuid>>,
    /// An unarchived ticket of the organisation; `null` unlinks it.
    #[serde(default, deserialize_with = "double_option")]
    pub ticket_id: Option<Option<Uuid>>,
    /// Replaces the list; `null` empties it.
    #[serde(default, deserialize_with = "double_option")]
    pub participant_contact_ids: Option<Option<Vec<Uuid>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl UpdateActivityRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<ActivityPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = ActivityPatch {
            kind: required(&mut errors, "kind", self.kind, |v: String, e| e.collect(ActivityKind::parse("kind", &v))),
            direction: nullable(&mut errors, self.direction, |v| Direction::parse("direction", v)),
            subject: required(&mut errors, "subject", self.subject, |v: String, e| {
                e.collect(Name::parse("subject", &v))
            }),
            body: nullable(&mut errors, self.body, |v| LongText::parse("body", v)),
            due_at: nullable_instant(&mut errors, "due_at", self.due_at),
            remind_at: nullable_instant(&mut errors, "remind_at", self.remind_at),
            occurred_at: required(&mut errors, "occurred_at", self.occurred_at, |v: String, e| {
                e.collect(parse_instant("occurred_at", &v))
            }),
            duration_minutes: match self.duration_minutes {
                None => None,
                Some(None) => Some(None),
                Some(Some(m)) => errors.collect(minutes("duration_minutes", m)).map(Some),
            },
            outcome: nullable(&mut errors, self.outcome, |v| ActivityOutcome::parse("outcome", v)),
            priority: required(&mut errors, "priority", self.priority, |v: String, e| {
                e.collect(Priority::parse("priority", &v))
            }),
            owner_id: required(&mut errors, "owner_id", self.owner_id, |v, _| Some(v)),
            lead_id: self.lead_id,
            contact_id: self.contact_id,
            account_id: self.account_id,
            opportunity_id: self.opportunity_id,
            ticket_id: self.ticket_id,
            participant_contact_ids: self.participant_contact_ids.map(Option::unwrap_or_default),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
        };
        errors.into_result().map(|()| patch)
    }
}

/// Completes a planned activity: how it went, when (default now) and optionally what was said.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "completed", "body": "Agreed on a demo next week"}))]
pub struct CompleteActivityRequest {
    #[schema(schema_with = outcome_schema)]
    pub outcome: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<String>,
    #[schema(schema_with = fields::optional_long_text)]
    pub body: Option<String>,
}

/// A completion, parsed: the outcome, when it happened, what was said.
pub type Completion = (Option<ActivityOutcome>, Option<DateTime<Utc>>, Option<LongText>);

impl CompleteActivityRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn parse(&self) -> Result<Completion, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let outcome = opt(&mut errors, self.outcome.as_deref(), |v| ActivityOutcome::parse("outcome", v));
        let occurred_at = instant(&mut errors, "occurred_at", self.occurred_at.as_deref());
        let body = opt(&mut errors, self.body.as_deref(), |v| LongText::parse("body", v));
        errors.into_result().map(|()| (outcome, occurred_at, body))
    }
}

/// Moves a planned activity: a new due date and a new reminder (none when absent).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"due_at": "2027-01-15T09:00:00Z", "remind_at": "2027-01-15T08:45:00Z"}))]
pub struct RescheduleActivityRequest {
    #[schema(value_type = String, format = DateTime)]
    pub due_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub remind_at: Option<String>,
}

impl RescheduleActivityRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn parse(&self) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let due_at = errors.collect(parse_instant("due_at", &self.due_at));
        let remind_at = instant(&mut errors, "remind_at", self.remind_at.as_deref());
        errors.into_result()?;
        due_at.map(|due| (due, remind_at)).ok_or_else(ValidationErrors::new)
    }
}

/// Moves the reminder of a planned activity, possibly past its due date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"remind_at": "2027-01-16T09:00:00Z"}))]
pub struct SnoozeActivityRequest {
    #[schema(value_type = String, format = DateTime)]
    pub remind_at: String,
}

/// An activity as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityResponse {
    pub id: Uuid,
    #[schema(schema_with = kind_schema)]
    pub kind: &'static str,
    #[schema(schema_with = direction_schema)]
    pub direction: Option<&'static str>,
    pub subject: String,
    pub body: Option<String>,
    #[schema(schema_with = status_schema)]
    pub status: &'static str,
    /// Planned and past its due date; a state the date gives it, which the ETag carries
    /// (`"3-overdue"`).
    pub overdue: bool,
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    #[schema(format = DateTime)]
    pub remind_at: Option<String>,
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
    pub duration_minutes: Option<u32>,
    #[schema(schema_with = outcome_schema)]
    pub outcome: Option<&'static str>,
    /// Whether the outcome is a failed attempt (no answer, busy, voicemail, wrong number,
    /// bounced).
    pub failed_attempt: bool,
    #[schema(schema_with = priority_schema)]
    pub priority: &'static str,
    pub owner_id: Uuid,
    pub lead_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    /// The support ticket it was logged against.
    pub ticket_id: Option<Uuid>,
    pub participant_contact_ids: Vec<Uuid>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    pub version: i64,
    #[schema(format = DateTime)]
    pub archived_at: Option<String>,
}

impl ActivityResponse {
    /// The body and its entity tag, both from the same `now`.
    pub fn of(a: &Activity, now: DateTime<Utc>) -> (Self, Tag) {
        let overdue = a.is_overdue(now);
        let body = Self {
            id: a.id,
            kind: a.kind.as_str(),
            direction: a.direction.map(Direction::as_str),
            subject: a.subject.as_str().to_owned(),
            body: a.body.as_ref().map(|v| v.as_str().to_owned()),
            status: a.status.as_str(),
            overdue,
            due_at: optional_timestamp(a.due_at),
            remind_at: optional_timestamp(a.remind_at),
            occurred_at: optional_timestamp(a.occurred_at),
            duration_minutes: a.duration_minutes,
            outcome: a.outcome.map(ActivityOutcome::as_str),
            failed_attempt: a.outcome.is_some_and(ActivityOutcome::is_failed_attempt),
            priority: a.priority.as_str(),
            owner_id: a.owner_id,
            lead_id: a.links.lead_id,
            contact_id: a.links.contact_id,
            account_id: a.links.account_id,
            opportunity_id: a.links.opportunity_id,
            ticket_id: a.ticket_id,
            participant_contact_ids: a.participant_contact_ids.clone(),
            custom_fields: custom_fields_value(&a.custom_fields),
            created_at: timestamp(a.created_at),
            updated_at: timestamp(a.updated_at),
            created_by: a.created_by,
            version: a.version,
            archived_at: optional_timestamp(a.archived_at),
        };
        (body, Tag::dated(a.version, overdue.then_some("overdue")))
    }
}

/// The values of a list's `next_activity` parameter.
pub fn next_activity_schema() -> Object {
    one_of(&["none", "any"], false)
}

/// The kind of an activity, or `null`.
pub fn nullable_kind_schema() -> Object {
    one_of(ActivityKind::NAMES, true)
}

/// A page of activities.
pub type ActivityList = crate::resource::Page<ActivityResponse>;

pub(crate) fn sort_schema() -> Object {
    sort_param(ActivitySortField::NAMES)
}
pub(crate) fn kind_filter_schema() -> Object {
    any_of_list(ActivityKind::NAMES)
}
pub(crate) fn status_filter_schema() -> Object {
    any_of_list(ActivityStatus::NAMES)
}
pub(crate) fn outcome_filter_schema() -> Object {
    any_of_list(ActivityOutcome::NAMES)
}

/// The query parameters of `GET /api/v1/activities`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `-created_at`. `due_at` orders by when an activity is or was due (a done one
    /// without a due date by when it happened); `occurred_at` by when it happened (a planned one
    /// by when it is due).
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Comma-separated kinds.
    #[param(schema_with = kind_filter_schema)]
    pub kind: Option<String>,
    /// Comma-separated statuses.
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    /// Comma-separated outcomes.
    #[param(schema_with = outcome_filter_schema)]
    pub outcome: Option<String>,
    /// Comma-separated user ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub lead_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub contact_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub opportunity_id: Option<String>,
    /// The activities logged against this ticket.
    #[param(value_type = Option<Uuid>)]
    pub ticket_id: Option<String>,
    /// The activities this contact took part in: one of their `participant_contact_ids`.
    #[param(value_type = Option<Uuid>)]
    pub participant_contact_id: Option<String>,
    /// Due strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub due_after: Option<String>,
    /// Due strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub due_before: Option<String>,
    /// Happened strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub occurred_after: Option<String>,
    /// Happened strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub occurred_before: Option<String>,
    /// `true`: only planned activities whose due date has passed.
    #[param(value_type = Option<bool>)]
    pub overdue: Option<String>,
    /// Case-insensitive search in the subject and the body.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    #[param(schema_with = crate::routes::leads::archived_schema)]
    pub archived: Option<String>,
}
