//! `/api/v1/activities`: log, plan, read, correct, complete, cancel, reschedule, snooze,
//! archive, restore and list.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::activity::{
    Activity, ActivityEditError, ActivityKind, ActivityOutcome, ActivityPatch, ActivityQuery, ActivityRuleError,
    ActivitySortField, ActivityStatus, Links,
};
use crm_domain::audit::AuditAction;
use crm_domain::contact::Contact;
use crm_domain::permissions::{Action, Resource, authorize, may_assign};
use crm_domain::ticket::Ticket;
use crm_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use super::dto::{
    ActivityList, ActivityListQuery, ActivityResponse, CompleteActivityRequest, CreateActivityRequest,
    RescheduleActivityRequest, SnoozeActivityRequest, UpdateActivityRequest,
};
use crate::auth::Caller;
use crate::conventions::{
    Tag, archived_filter, list_params, next_cursor, now, parse_any_of, parse_bool_param, parse_instant, parse_search,
    parse_timestamp_param, parse_uuid, parse_uuid_param,
};
use crate::extract::{JsonBody, parse_optional_json};
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

impl From<ActivityRuleError> for ApiError {
    fn from(error: ActivityRuleError) -> Self {
        ApiError::Conflict { code: ProblemCode::from(&error), detail: error.to_string() }
    }
}

impl From<ActivityEditError> for ApiError {
    fn from(error: ActivityEditError) -> Self {
        match error {
            ActivityEditError::Rule(rule) => rule.into(),
            ActivityEditError::Invalid(errors) => errors.into(),
        }
    }
}

/// Every role reads and logs activities; a sales rep or a support agent changes its own,
/// managers and admins every one.
impl ApiRecord for Activity {
    const NOUN: &'static str = "activity";
    const COLLECTION: &'static str = "/api/v1/activities";
    const MATRIX: Resource = Resource::Activity;
    const OWNED: bool = true;
    type Response = ActivityResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (ActivityResponse, Tag) {
        ActivityResponse::of(self, now())
    }
}

impl Archivable for Activity {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) = (ProblemCode::ActivityArchived, ProblemCode::ActivityNotArchived);
}

/// Checks what an activity is about (each link an active record of the organisation, each
/// participant a contact of it) and fills in the account from the contact's and the deal's.
async fn resolve_links(
    state: &AppState,
    organization_id: Uuid,
    links: Links,
    participants: Option<&[Uuid]>,
) -> Result<Links, ApiError> {
    let mut errors = ValidationErrors::new();
    let unknown =
        |field: &str| FieldError::new(field, "unknown_reference", "no active record with this id in your organization");
    let found = state.store.link_targets(organization_id, &links).await?;
    if links.lead_id.is_some() && !found.lead {
        errors.push(unknown("lead_id"));
    }
    if links.contact_id.is_some() && found.contact.is_none() {
        errors.push(unknown("contact_id"));
    }
    if links.account_id.is_some() && !found.account {
        errors.push(unknown("account_id"));
    }
    if links.opportunity_id.is_some() && found.opportunity.is_none() {
        errors.push(unknown("opportunity_id"));
    }
    let contact_account = found.contact.flatten();
    let opportunity_account = found.opportunity.flatten();
    let participants = participants.unwrap_or_default();
    if !participants.is_empty() {
        let found = state.store.get_many::<Contact>(organization_id, participants).await?;
        let active: std::collections::HashSet<Uuid> =
            found.iter().filter(|c| c.archived_at.is_none()).map(|c| c.id).collect();
        if let Some(missing) = participants.iter().find(|id| !active.contains(id)) {
            errors.push(FieldError::new(
                "participant_contact_ids",
                "unknown_reference",
                format!("no active contact {missing} in your organization"),
            ));
        }
    }
    errors.into_result()?;
    Ok(links.with_account(contact_account, opportunity_account)?)
}

/// The unarchived ticket an activity names.
///
/// # Errors
/// 422 `unknown_reference` on `ticket_id` when the organisation has no such ticket or it is
/// archived.
async fn ticket_of(
    state: &AppState,
    organization_id: Uuid,
    ticket_id: Option<Uuid>,
) -> Result<Option<Ticket>, ApiError> {
    let Some(ticket_id) = ticket_id else { return Ok(None) };
    match state.store.get::<Ticket>(organization_id, ticket_id).await {
        Ok(ticket) if ticket.archived_at.is_none() => Ok(Some(ticket)),
        Ok(_) | Err(crm_domain::RepoError::NotFound) => Err(ApiError::Validation {
            detail: None,
            errors: FieldError::new(
                "ticket_id",
                "unknown_reference",
                "no unarchived ticket with this id exists in your organization",
            )
            .into(),
        }),
        Err(other) => Err(other.into()),
    }
}

/// Log an interaction or plan one
///
/// Logging a call that nobody answered is one small POST:
/// `{"kind": "call", "contact_id": …, "subject": "Renewal", "outcome": "no_answer"}` (done now).
/// An activity is about at least one lead, contact, account or deal, each an active record of
/// the organisation (422 `unknown_reference` naming the field); a contact's or a deal's account
/// is filled in, and a named account that contradicts it is a 422 `account_mismatch`.
#[utoipa::path(
    tag = "activities",
    request_body = CreateActivityRequest,
    responses(
        (status = 201, description = "The activity", body = ActivityResponse, headers(("ETag" = String), ("Location" = String))),
    ),
    security(("bearer" = []))
)]
#[post("/activities")]
pub async fn create_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateActivityRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::Activity, Action::Create, true)?;
    let mut draft = body.0.try_into_domain()?;
    may_assign(&principal, Resource::Activity, principal.user_id, draft.owner_id)?;
    if let Some(ticket) = ticket_of(&state, principal.organization_id, draft.ticket_id).await? {
        // A call about a ticket is about its customer.
        if draft.links.contact_id.is_none() && draft.links.account_id.is_none() {
            draft.links.contact_id = ticket.contact_id;
        }
        if draft.links.account_id.is_none() {
            draft.links.account_id = ticket.account_id;
        }
    }
    draft.links =
        resolve_links(&state, principal.organization_id, draft.links, Some(&draft.participant_contact_ids)).await?;
    let activity = Activity::create(Uuid::now_v7(), principal.organization_id, principal.user_id, draft, now())?;
    state.store.insert_activity(&activity, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&activity, state.clock.now()))
}

/// Get an activity
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    responses(
        (status = 200, description = "The activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/activities/{id}")]
pub async fn get_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Activity>(&req, &state, &caller, id.into_inner()).await
}

/// Correct an activity
///
/// Text, outcome, links, participants, owner and priority change at any time; `kind`, `due_at`
/// and `remind_at` only while it is planned (409 `activity_not_planned`), `occurred_at` only once
/// it is done.
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    request_body = UpdateActivityRequest,
    responses(
        (status = 200, description = "The activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 409, description = "Archived, or a planning field of an activity that is not planned", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/activities/{id}")]
pub async fn update_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateActivityRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Activity>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    let organization_id = caller.0.organization_id;
    let activity = edit
        .apply(AuditAction::Update, patch.owner_id, async |current: &Activity| {
            let relinked = patch.lead_id.is_some()
                || patch.contact_id.is_some()
                || patch.account_id.is_some()
                || patch.opportunity_id.is_some();
            let mut patch: ActivityPatch = patch.clone();
            if let Some(ticket_id) = patch.ticket_id {
                current.ensure_active()?;
                ticket_of(&state, organization_id, ticket_id).await?;
            }
            if relinked || patch.participant_contact_ids.is_some() {
                current.ensure_active()?;
                let links = resolve_links(
                    &state,
                    organization_id,
                    patch.links(current.links),
                    patch.participant_contact_ids.as_deref(),
                )
                .await?;
                if relinked {
                    patch.account_id = Some(links.account_id);
                }
            }
            Ok(current.apply(&patch, now())?)
        })
        .await?;
    Ok(resource::ok(&activity, state.clock.now()))
}

/// Complete a planned activity
///
/// It becomes done: when it happened (`occurred_at`, default now), how it went (`outcome`) and
/// optionally what was said (`body`). Its reminder goes.
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    request_body(content = Option<CompleteActivityRequest>, description = "Optional: outcome, time, notes"),
    responses(
        (status = 200, description = "The done activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 409, description = "Not planned, or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/activities/{id}/complete")]
pub async fn complete_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: CompleteActivityRequest = parse_optional_json(&req, &body)?;
    let (outcome, occurred_at, notes) = request.parse()?;
    let edit = Edit::<Activity>::begin(&req, &state, &caller, id.into_inner())?;
    let activity = edit
        .apply(AuditAction::Update, None, async |a: &Activity| {
            Ok(a.complete(outcome, occurred_at, notes.clone(), now())?)
        })
        .await?;
    Ok(resource::ok(&activity, state.clock.now()))
}

/// Cancel a planned activity
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    responses(
        (status = 200, description = "The cancelled activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 409, description = "Not planned, or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/activities/{id}/cancel")]
pub async fn cancel_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Activity>::begin(&req, &state, &caller, id.into_inner())?;
    let activity = edit.apply(AuditAction::Update, None, async |a: &Activity| Ok(a.cancel(now())?)).await?;
    Ok(resource::ok(&activity, state.clock.now()))
}

/// Reschedule a planned activity
///
/// A new due date, and a new reminder at or before it (none when `remind_at` is absent).
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    request_body = RescheduleActivityRequest,
    responses(
        (status = 200, description = "The rescheduled activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 409, description = "Not planned, or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/activities/{id}/reschedule")]
pub async fn reschedule_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<RescheduleActivityRequest>,
) -> Result<HttpResponse, ApiError> {
    let (due_at, remind_at) = body.0.parse()?;
    let edit = Edit::<Activity>::begin(&req, &state, &caller, id.into_inner())?;
    let activity =
        edit.apply(AuditAction::Update, None, async |a: &Activity| Ok(a.reschedule(due_at, remind_at, now())?)).await?;
    Ok(resource::ok(&activity, state.clock.now()))
}

/// Snooze the reminder of a planned activity
///
/// Moves `remind_at`, also past the due date (an overdue task snoozed until tomorrow).
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    request_body = SnoozeActivityRequest,
    responses(
        (status = 200, description = "The activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 409, description = "Not planned, or archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/activities/{id}/snooze")]
pub async fn snooze_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<SnoozeActivityRequest>,
) -> Result<HttpResponse, ApiError> {
    let remind_at = parse_instant("remind_at", &body.0.remind_at).map_err(ApiError::from)?;
    let edit = Edit::<Activity>::begin(&req, &state, &caller, id.into_inner())?;
    let activity = edit.apply(AuditAction::Update, None, async |a: &Activity| Ok(a.snooze(remind_at, now())?)).await?;
    Ok(resource::ok(&activity, state.clock.now()))
}

/// Archive an activity
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    responses(
        (status = 200, description = "The archived activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 409, description = "Already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/activities/{id}")]
pub async fn archive_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Activity>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived activity
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The activity's id")),
    responses(
        (status = 200, description = "The restored activity", body = ActivityResponse, headers(("ETag" = String))),
        (status = 409, description = "Not archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/activities/{id}/restore")]
pub async fn restore_activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Activity>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}

/// List activities
///
/// Every filter combines with the others. `overdue=true` lists the planned activities whose due
/// date has passed.
#[utoipa::path(
    tag = "activities",
    params(ActivityListQuery),
    responses((status = 200, description = "One page of activities", body = ActivityList)),
    security(("bearer" = []))
)]
#[get("/activities")]
pub async fn list_activities(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ActivityListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::Activity, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<ActivitySortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "-created_at",
    )?;
    let at = now();
    let activity_query = ActivityQuery {
        kinds: parse_any_of("kind", query.kind.as_deref(), ActivityKind::parse)?,
        statuses: parse_any_of("status", query.status.as_deref(), ActivityStatus::parse)?,
        outcomes: parse_any_of("outcome", query.outcome.as_deref(), ActivityOutcome::parse)?,
        owner_ids: parse_any_of("owner_id", query.owner_id.as_deref(), parse_uuid)?,
        lead_id: parse_uuid_param("lead_id", query.lead_id.as_deref())?,
        contact_id: parse_uuid_param("contact_id", query.contact_id.as_deref())?,
        participant_contact_id: parse_uuid_param("participant_contact_id", query.participant_contact_id.as_deref())?,
        account_id: parse_uuid_param("account_id", query.account_id.as_deref())?,
        opportunity_id: parse_uuid_param("opportunity_id", query.opportunity_id.as_deref())?,
        ticket_id: parse_uuid_param("ticket_id", query.ticket_id.as_deref())?,
        due_after: parse_timestamp_param("due_after", query.due_after.as_deref())?,
        due_before: parse_timestamp_param("due_before", query.due_before.as_deref())?,
        occurred_after: parse_timestamp_param("occurred_after", query.occurred_after.as_deref())?,
        occurred_before: parse_timestamp_param("occurred_before", query.occurred_before.as_deref())?,
        overdue_at: parse_bool_param("overdue", query.overdue.as_deref())?.filter(|o| *o).map(|_| at),
        search: parse_search(query.q.as_deref())?,
        archived: archived_filter(query.archived.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_activities(caller.0.organization_id, &activity_query).await?;
    let next_cursor = next_cursor(&page, activity_query.sort);
    Ok(Page::respond(page.items.iter().map(|a| ActivityResponse::of(a, at).0).collect(), next_cursor))
}
