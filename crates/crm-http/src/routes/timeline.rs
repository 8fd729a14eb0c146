//! `GET /{leads|contacts|accounts|opportunities}/{id}/timeline`: one customer's whole story,
//! newest first, from the activities and the audit trail (see `crm_domain::timeline`).

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use crm_domain::account::Account;
use crm_domain::contact::Contact;
use crm_domain::lead::Lead;
use crm_domain::opportunity::Opportunity;
use crm_domain::permissions::{Action, Reach, Resource, reach};
use crm_domain::timeline::{Detail, TimelineFilter, TimelineItem, TimelineKind, TimelineSubject};
use crm_domain::user::User;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{encode_cursor, fixed_order_window, now, parse_any_of, parse_timestamp_param, timestamp};
use crate::problem::ApiError;
use crate::resource::{self, ApiRecord};
use crate::routes::activities::ActivityResponse;
use crate::routes::audit::json_value;
use crate::routes::values::MoneyDto;
use crate::schema::{any_of_list, one_of};
use crate::state::AppState;

/// The order of a timeline, which its cursors carry.
const TIMELINE_ORDER: &str = "-occurred_at";

fn kind_schema() -> Object {
    one_of(TimelineKind::NAMES, false)
}

fn kind_filter_schema() -> Object {
    any_of_list(TimelineKind::NAMES)
}

/// The query parameters of a timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Page size from 1 to 200; 50 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Comma-separated item kinds.
    #[param(schema_with = kind_filter_schema)]
    pub kind: Option<String>,
    /// Items strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub after: Option<String>,
    /// Items strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<String>,
}

/// Who acted: the activity's owner, or the user whose request wrote the event.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineActor {
    pub id: Uuid,
    /// `null` when the user no longer exists.
    pub name: Option<String>,
}

/// The record an item is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineRecord {
    /// `activity`, `lead`, `contact`, `account`, `opportunity`, `quote`, `order`, `invoice`,
    /// `ticket` or `ticket_comment`.
    #[serde(rename = "type")]
    #[schema(example = "quote")]
    pub record_type: String,
    pub id: Uuid,
}

/// One item of a timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItemResponse {
    /// The activity's id, or the audit event's.
    pub id: Uuid,
    /// `activity`: a call, email, meeting, visit, message, note or task, done, planned or
    /// cancelled (failed attempts included). `created`, `archived`, `restored`: of the record.
    /// `status_changed`: a lead's status. `converted`: a lead's conversion. `stage_changed`: a
    /// deal's stage. `quote_sent`, `quote_accepted`, `quote_rejected`. `order_status_changed`: an
    /// order's step. `invoice_issued`, `invoice_paid`, `invoice_voided`, `payment_recorded`.
    /// `ticket_status_changed`, `ticket_solved`: a support ticket's step (its opening is
    /// `created`). `ticket_commented`: a public comment on a ticket; `ticket_note`: an internal
    /// one, only in the ticket's own timeline (where a comment's `data` is the comment).
    #[schema(schema_with = kind_schema)]
    pub kind: &'static str,
    /// When it happened; a planned activity's due date.
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub actor: Option<TimelineActor>,
    /// One line to show, for example "Call (outbound), no answer: Intro call" or "Stage changed
    /// to proposal".
    #[schema(example = "Call (outbound), no answer: Intro call")]
    pub summary: String,
    pub record: TimelineRecord,
    /// For `activity`: the activity as `GET /activities/{id}` answers it (its participants
    /// included). For the other kinds: `action` (create, update, archive, restore); `status`
    /// for `status_changed`, `converted` and `order_status_changed`; `stage`, `amount` and
    /// `probability` (the deal's, from the stage history) for a deal's `created` and
    /// `stage_changed`; and, only for the roles that read the audit trail (admins and
    /// managers), `changes` with each field's old and new value.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of a timeline.
pub type TimelineList = crate::resource::Page<TimelineItemResponse>;

fn event_data(item: &TimelineItem, audit_reader: bool) -> serde_json::Value {
    let mut data = serde_json::Map::new();
    if let Detail::Event { action, changes, stage } = &item.detail {
        data.insert("action".into(), action.as_str().into());
        if let Some(status) = item.status() {
            data.insert("status".into(), status.into());
        }
        if let Some(stage) = stage {
            data.insert("stage".into(), stage.stage.as_str().into());
            data.insert(
                "amount".into(),
                stage.amount.as_ref().map_or(serde_json::Value::Null, |m| {
                    serde_json::to_value(MoneyDto::from_domain(m)).unwrap_or_default()
                }),
            );
            data.insert("probability".into(), stage.probability.into());
        }
        if audit_reader {
            let changes: Vec<serde_json::Value> = changes
                .iter()
                .map(|c| serde_json::json!({"field": c.field, "old": json_value(&c.old), "new": json_value(&c.new)}))
                .collect();
            data.insert("changes".into(), changes.into());
        }
    }
    serde_json::Value::Object(data)
}

/// Reads one page of `subject`'s timeline, once the caller has loaded the record.
async fn page(
    state: &AppState,
    caller: &Caller,
    subject: TimelineSubject,
    query: TimelineQuery,
) -> Result<HttpResponse, ApiError> {
    let window = fixed_order_window(query.limit.as_deref(), query.cursor.as_deref(), TIMELINE_ORDER)?;
    let filter = TimelineFilter {
        kinds: parse_any_of("kind", query.kind.as_deref(), TimelineKind::parse)?,
        after: parse_timestamp_param("after", query.after.as_deref())?,
        before: parse_timestamp_param("before", query.before.as_deref())?,
    };
    let organization_id = caller.0.organization_id;
    let page = state.store.timeline(organization_id, subject, &filter, &window).await?;
    let mut actor_ids: Vec<Uuid> = page.items.iter().filter_map(|i| i.actor_id).collect();
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let names: HashMap<Uuid, String> = if actor_ids.is_empty() {
        HashMap::new()
    } else {
        let users = state.store.get_many::<User>(organization_id, &actor_ids).await?;
        users.into_iter().map(|u| (u.id, u.name.as_str().to_owned())).collect()
    };
    let audit_reader = reach(caller.0.role, Resource::AuditEvent, Action::Read) != Reach::Nothing;
    let at = now();
    let items = page
        .items
        .iter()
        .map(|item| TimelineItemResponse {
            id: item.id,
            kind: item.kind.as_str(),
            occurred_at: timestamp(item.occurred_at),
            actor: item.actor_id.map(|id| TimelineActor { id, name: names.get(&id).cloned() }),
            summary: item.summary(),
            record: TimelineRecord { record_type: item.record_type.clone(), id: item.record_id },
            data: match &item.detail {
                Detail::Activity(activity) => {
                    serde_json::to_value(ActivityResponse::of(activity, at).0).unwrap_or_default()
                }
                Detail::Event { .. } => event_data(item, audit_reader),
                Detail::Comment(comment) => {
                    serde_json::to_value(crate::routes::tickets::CommentResponse::from(comment.as_ref()))
                        .unwrap_or_default()
                }
            },
        })
        .collect();
    Ok(TimelineList::respond(items, page.next.as_ref().map(|p| encode_cursor(TIMELINE_ORDER, p))))
}

/// Loads the record (404 when it is not in the caller's organisation) and reads its timeline.
async fn timeline_of<R: ApiRecord>(
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    query: TimelineQuery,
    subject: fn(Uuid) -> TimelineSubject,
) -> Result<HttpResponse, ApiError> {
    let record = resource::load::<R>(&state, &caller, id).await?;
    page(&state, &caller, subject(record.id()), query).await
}

macro_rules! timeline_route {
    ($name:ident, $record:ty, $path:literal, $tag:literal, $subject:path, $doc:literal) => {
        #[doc = $doc]
        ///
        /// Newest first (a planned activity at its due date), paged with `limit` and `cursor`:
        /// the activities (done, planned and cancelled, failed attempts included, with their
        /// participants) and the record's story from the audit trail and the stage history.
        /// Every role that reads the record reads its timeline; the old and new values of
        /// fields are only in `data.changes`, for the roles that read the audit trail. A page
        /// is a merge of index ranges, each read no further than the page: it costs the same
        /// for a customer with fifty items and one with a hundred thousand.
        #[utoipa::path(
            tag = $tag,
            params(("id" = Uuid, Path, description = "The record's id"), TimelineQuery),
            responses((status = 200, description = "One page of the timeline, newest first", body = TimelineList)),
            security(("bearer" = []))
        )]
        #[get($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            caller: Caller,
            id: web::Path<Uuid>,
            query: web::Query<TimelineQuery>,
        ) -> Result<HttpResponse, ApiError> {
            timeline_of::<$record>(state, caller, id.into_inner(), query.into_inner(), $subject).await
        }
    };
}

timeline_route!(
    lead_timeline,
    Lead,
    "/leads/{id}/timeline",
    "leads",
    TimelineSubject::Lead,
    "A lead's timeline: its activities, status changes and conversion"
);
timeline_route!(
    contact_timeline,
    Contact,
    "/contacts/{id}/timeline",
    "contacts",
    TimelineSubject::Contact,
    "A contact's timeline: its activities (those it took part in too), its deals and documents, and the history of the lead it came from"
);
timeline_route!(
    account_timeline,
    Account,
    "/accounts/{id}/timeline",
    "accounts",
    TimelineSubject::Account,
    "An account's timeline: its own items and those of its contacts, deals, quotes, orders and invoices"
);
timeline_route!(
    opportunity_timeline,
    Opportunity,
    "/opportunities/{id}/timeline",
    "opportunities",
    TimelineSubject::Opportunity,
    "A deal's timeline: its activities, stage changes (with amount and probability), quotes, orders and invoices"
);

timeline_route!(
    ticket_timeline,
    crm_domain::ticket::Ticket,
    "/tickets/{id}/timeline",
    "tickets",
    TimelineSubject::Ticket,
    "A support ticket's own story: its opening and steps, its comments (`ticket_commented` when public, `ticket_note` when internal, with the comment in `data`) and the activities logged against it"
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(lead_timeline)
        .service(contact_timeline)
        .service(account_timeline)
        .service(opportunity_timeline)
        .service(ticket_timeline);
}
