//! The ticket DTOs and their conversion to domain types.

use chrono::{DateTime, Utc};
use crm_domain::ValidationErrors;
use crm_domain::ticket::{
    SlaStatus, Ticket, TicketCategory, TicketChannel, TicketDraft, TicketPatch, TicketPriority, TicketSortField,
    TicketStatus, allowed_actions,
};
use crm_domain::value::{CustomFields, LongText, Name};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{Tag, optional_timestamp, timestamp};
use crate::extract::{custom_fields, custom_fields_value, double_option, nullable, opt, required};
use crate::routes::accounts::{Tag as TagDto, parse_tags};
use crate::schema::{any_of_list, fields, one_of, sort_param};

pub(crate) fn category_schema() -> Object {
    one_of(TicketCategory::NAMES, false)
}
pub(crate) fn priority_schema() -> Object {
    one_of(TicketPriority::NAMES, false)
}
pub(crate) fn status_schema() -> Object {
    one_of(TicketStatus::NAMES, false)
}
pub(crate) fn channel_schema() -> Object {
    one_of(TicketChannel::NAMES, false)
}
pub(crate) fn sla_status_schema() -> Object {
    one_of(SlaStatus::NAMES, false)
}
fn actions_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::Array::new(one_of(crm_domain::ticket::TicketAction::NAMES, false))
}
pub(crate) fn sort_schema() -> Object {
    sort_param(TicketSortField::NAMES)
}

/// A new ticket. It starts `new`, numbered from the organisation's ticket sequence (`T-000001`),
/// with its deadlines computed from the organisation's SLA policy as it stands now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject": "Invoices export fails", "description": "The CSV export stops at 1,000 rows.",
    "contact_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "category": "incident", "priority": "high",
    "channel": "email"
}))]
pub struct CreateTicketRequest {
    #[schema(schema_with = fields::name)]
    pub subject: String,
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<String>,
    /// Who asked: a contact, an account, or both. A contact's account is filled in when
    /// `account_id` is absent; an `account_id` that contradicts it is a 422 `account_mismatch`.
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    /// What the request is about, each optional.
    pub opportunity_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    /// Default `question`. A complaint is a ticket of category `complaint`.
    #[schema(schema_with = category_schema)]
    pub category: Option<String>,
    /// Default `normal`; picks the SLA targets.
    #[schema(schema_with = priority_schema)]
    pub priority: Option<String>,
    /// Default `web`.
    #[schema(schema_with = channel_schema)]
    pub channel: Option<String>,
    /// The agent; absent leaves the ticket unassigned. Anyone but the caller needs the
    /// reassign right.
    pub owner_id: Option<Uuid>,
    #[schema(max_items = 50, inline)]
    pub tags: Option<Vec<TagDto>>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CreateTicketRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<TicketDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let subject = errors.collect(Name::parse("subject", &self.subject));
        let draft = TicketDraft {
            subject: subject.unwrap_or_else(|| Name::from_trusted(String::new())),
            description: opt(&mut errors, self.description.as_deref(), |v| LongText::parse("description", v)),
            contact_id: self.contact_id,
            account_id: self.account_id,
            opportunity_id: self.opportunity_id,
            order_id: self.order_id,
            product_id: self.product_id,
            category: opt(&mut errors, self.category.as_deref(), |v| TicketCategory::parse("category", v))
                .unwrap_or(TicketCategory::Question),
            priority: opt(&mut errors, self.priority.as_deref(), |v| TicketPriority::parse("priority", v))
                .unwrap_or(TicketPriority::Normal),
            channel: opt(&mut errors, self.channel.as_deref(), |v| TicketChannel::parse("channel", v))
                .unwrap_or(TicketChannel::Web),
            owner_id: self.owner_id,
            tags: parse_tags(&mut errors, self.tags).unwrap_or_default(),
            custom_fields: self
                .custom_fields
                .and_then(|m| custom_fields(&mut errors, m))
                .unwrap_or_else(CustomFields::empty),
        };
        errors.into_result().map(|()| draft)
    }
}

/// Changes to a ticket: absent fields stay, `null` clears a field that may be empty. A new
/// `priority` recomputes the deadlines with the policy's current targets; the status moves only
/// by the actions. A closed ticket takes no change (409 `ticket_closed`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"priority": "urgent", "owner_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f82"}))]
pub struct UpdateTicketRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub subject: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub account_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub opportunity_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub order_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub product_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = category_schema)]
    pub category: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = priority_schema)]
    pub priority: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = channel_schema)]
    pub channel: Option<Option<String>>,
    /// `null` leaves the ticket unassigned. Giving it to someone other than oneself needs the
    /// reassign right (managers and admins).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<TagDto>, max_items = 50)]
    pub tags: Option<Option<Vec<TagDto>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl UpdateTicketRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<TicketPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = TicketPatch {
            subject: required(&mut errors, "subject", self.subject, |v, e| e.collect(Name::parse("subject", &v))),
            description: nullable(&mut errors, self.description, |v| LongText::parse("description", v)),
            contact_id: self.contact_id,
            account_id: self.account_id,
            opportunity_id: self.opportunity_id,
            order_id: self.order_id,
            product_id: self.product_id,
            category: required(&mut errors, "category", self.category, |v, e| {
                e.collect(TicketCategory::parse("category", &v))
            }),
            priority: required(&mut errors, "priority", self.priority, |v, e| {
                e.collect(TicketPriority::parse("priority", &v))
            }),
            channel: required(&mut errors, "channel", self.channel, |v, e| {
                e.collect(TicketChannel::parse("channel", &v))
            }),
            owner_id: self.owner_id,
            tags: required(&mut errors, "tags", self.tags, |v, e| parse_tags(e, Some(v))),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
        };
        errors.into_result().map(|()| patch)
    }
}

/// The optional note of a step: why the ticket waits on the customer (`wait`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Asked for the export file"}))]
pub struct WaitRequest {
    #[schema(schema_with = fields::optional_long_text)]
    pub reason: Option<String>,
}

/// The optional note of a solve: how the request was solved.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"resolution": "Raised the export limit; the customer confirmed"}))]
pub struct SolveRequest {
    #[schema(schema_with = fields::optional_long_text)]
    pub resolution: Option<String>,
}

/// A support ticket as it stands at the time of the answer: a solved ticket whose reopen window
/// has passed reads `closed`, and `sla_status` follows the clock. Both are in the ETag
/// (`"4-atrisk"`, `"7-closed"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketResponse {
    pub id: Uuid,
    /// `T-` and the organisation's ticket sequence, never reused.
    #[schema(example = "T-000042")]
    pub number: String,
    pub subject: String,
    pub description: Option<String>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    #[schema(schema_with = category_schema)]
    pub category: &'static str,
    #[schema(schema_with = priority_schema)]
    pub priority: &'static str,
    #[schema(schema_with = status_schema)]
    pub status: &'static str,
    /// The steps the ticket may take now (`POST /api/v1/tickets/{id}/{action}`).
    #[schema(schema_with = actions_schema)]
    pub allowed_actions: Vec<&'static str>,
    #[schema(schema_with = channel_schema)]
    pub channel: &'static str,
    /// The agent; `null` while unassigned.
    pub owner_id: Option<Uuid>,
    pub tags: Vec<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    /// Why the ticket waits on the customer, while it is `pending`.
    pub pending_reason: Option<String>,
    /// Since when it waits on the customer (its resolution clock stands still).
    #[schema(format = DateTime)]
    pub pending_since: Option<String>,
    pub resolution: Option<String>,
    /// `on_track`, `at_risk` (80 % of an open target's time spent), `breached` (a deadline
    /// passed before its event; for good), or `met`.
    #[schema(schema_with = sla_status_schema)]
    pub sla_status: &'static str,
    /// When the first response is due: the first public comment of staff, or the solve.
    #[schema(format = DateTime)]
    pub first_response_due_at: String,
    #[schema(format = DateTime)]
    pub first_response_at_risk_at: String,
    #[schema(format = DateTime)]
    pub first_responded_at: Option<String>,
    /// Whether the first response came after its deadline.
    pub first_response_missed: bool,
    /// When the resolution is due; moved by the time spent waiting on the customer, restarted
    /// by a reopening.
    #[schema(format = DateTime)]
    pub resolution_due_at: String,
    #[schema(format = DateTime)]
    pub resolution_at_risk_at: String,
    /// Whether the ticket was solved after its resolution deadline (since its last reopening).
    pub resolution_missed: bool,
    #[schema(format = DateTime)]
    pub solved_at: Option<String>,
    /// When a solved ticket closes by itself: the end of its reopen window.
    #[schema(format = DateTime)]
    pub closes_at: Option<String>,
    /// When it was closed, by `close` or by the end of its reopen window.
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    pub reopened_count: i64,
    /// The deals support handed to sales from this ticket, oldest first.
    pub opportunity_ids: Vec<Uuid>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    pub version: i64,
    #[schema(format = DateTime)]
    pub archived_at: Option<String>,
}

impl TicketResponse {
    /// The ticket as it stands at `now`, and its entity tag.
    pub fn of(t: &Ticket, now: DateTime<Utc>) -> (Self, Tag) {
        let status = t.status_on(now);
        let closed_at = match (t.closed_at, status) {
            (Some(at), _) => Some(at),
            (None, TicketStatus::Closed) => t.closes_at,
            (None, _) => None,
        };
        let body = Self {
            id: t.id,
            number: t.number.number.clone(),
            subject: t.subject.as_str().to_owned(),
            description: t.description.as_ref().map(|v| v.as_str().to_owned()),
            contact_id: t.contact_id,
            account_id: t.account_id,
            opportunity_id: t.opportunity_id,
            order_id: t.order_id,
            product_id: t.product_id,
            category: t.category.as_str(),
            priority: t.priority.as_str(),
            status: status.as_str(),
            allowed_actions: allowed_actions(status).into_iter().map(|a| a.as_str()).collect(),
            channel: t.channel.as_str(),
            owner_id: t.owner_id,
            tags: t.tags.as_slice().to_vec(),
            custom_fields: custom_fields_value(&t.custom_fields),
            pending_reason: t.pending_reason.as_ref().map(|v| v.as_str().to_owned()),
            pending_since: optional_timestamp(t.sla.paused_at),
            resolution: t.resolution.as_ref().map(|v| v.as_str().to_owned()),
            sla_status: t.sla_status_on(now).as_str(),
            first_response_due_at: timestamp(t.sla.first_response_due_at),
            first_response_at_risk_at: timestamp(t.sla.first_response_at_risk_at),
            first_responded_at: optional_timestamp(t.first_responded_at),
            first_response_missed: t.sla.first_response_missed,
            resolution_due_at: timestamp(t.sla.resolution_due_at),
            resolution_at_risk_at: timestamp(t.sla.resolution_at_risk_at),
            resolution_missed: t.sla.resolution_missed,
            solved_at: optional_timestamp(t.solved_at),
            closes_at: optional_timestamp(t.closes_at),
            closed_at: optional_timestamp(closed_at),
            reopened_count: t.reopened_count,
            opportunity_ids: t.opportunity_ids.clone(),
            created_at: timestamp(t.created_at),
            updated_at: timestamp(t.updated_at),
            created_by: t.created_by,
            version: t.version,
            archived_at: optional_timestamp(t.archived_at),
        };
        (body, Tag::dated(t.version, t.dated_state(now)))
    }
}

/// A page of tickets.
pub type TicketList = crate::resource::Page<TicketResponse>;

fn status_filter_schema() -> Object {
    any_of_list(TicketStatus::NAMES)
}
fn priority_filter_schema() -> Object {
    any_of_list(TicketPriority::NAMES)
}
fn category_filter_schema() -> Object {
    any_of_list(TicketCategory::NAMES)
}
fn sla_status_filter_schema() -> Object {
    any_of_list(SlaStatus::NAMES)
}

/// The query parameters of `GET /api/v1/tickets`. Any other parameter is refused with a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `-created_at`. The queue an agent works is
    /// `status=new,open&sort=resolution_due_at`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Comma-separated statuses, as they stand now (a solved ticket past its reopen window is
    /// `closed`).
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    /// Comma-separated priorities.
    #[param(schema_with = priority_filter_schema)]
    pub priority: Option<String>,
    /// Comma-separated categories (`complaint` for the complaints).
    #[param(schema_with = category_filter_schema)]
    pub category: Option<String>,
    /// Comma-separated SLA statuses, as they stand now: `at_risk,breached` is what needs
    /// attention.
    #[param(schema_with = sla_status_filter_schema)]
    pub sla_status: Option<String>,
    /// A user's tickets; `none` for the unassigned ones.
    #[param(value_type = Option<String>)]
    pub owner_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub contact_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub product_id: Option<String>,
    /// Active tickets (new, open, pending, on hold) still without a first response, due
    /// strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub first_response_due_before: Option<String>,
    /// Active tickets whose resolution is due strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub resolution_due_before: Option<String>,
    #[param(schema_with = crate::routes::leads::archived_schema)]
    pub archived: Option<String>,
}
