//! Comments on a ticket: `/tickets/{id}/comments`. Written once, listed oldest first; an admin's
//! redaction empties the body and keeps a tombstone. A comment can move its ticket (the first
//! public comment of staff is the first response; a customer's reply opens a pending ticket),
//! so it is written with the ticket's change in one transaction, under the ticket's version.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use crm_domain::contact::Contact;
use crm_domain::permissions::{Action, Resource, authorize};
use crm_domain::ticket::{CommentAuthor, CommentVisibility, Ticket, TicketComment, TicketRuleError};
use crm_domain::timeline::Concerns;
use crm_domain::value::LongText;
use crm_domain::{RepoError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::TicketResponse;
use super::handlers::{ensure_active, policy};
use crate::auth::Caller;
use crate::conventions::{encode_cursor, fixed_order_window, if_match, optional_timestamp, parse_any_of, timestamp};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::resource::{self, ApiRecord, Page};
use crate::respond::{audit_context, update_with_retry};
use crate::schema::one_of;
use crate::state::AppState;

fn visibility_schema() -> Object {
    one_of(CommentVisibility::NAMES, false)
}

/// A comment. Staff comments are `internal` unless marked `public` (seen by the customer). A
/// customer's reply, brought in by an integration, names the contact who wrote it and is
/// public.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "We have raised the export limit; please try again.", "visibility": "public"}))]
pub struct CreateCommentRequest {
    #[schema(schema_with = long_text)]
    pub body: String,
    /// Default `internal` for staff, `public` for a customer's reply.
    #[schema(schema_with = visibility_schema)]
    pub visibility: Option<String>,
    /// The contact who wrote this reply (a customer's message brought in by an integration).
    pub author_contact_id: Option<Uuid>,
}

fn long_text() -> Object {
    crate::schema::text(LongText::MAX_CHARS, false)
}

/// A comment as stored; a redacted one keeps everything but its body.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentResponse {
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// `null` once redacted.
    pub body: Option<String>,
    #[schema(schema_with = visibility_schema)]
    pub visibility: &'static str,
    /// The member of staff who wrote it; `null` for a customer's reply.
    pub author_user_id: Option<Uuid>,
    /// The customer who wrote it; `null` for a staff comment.
    pub author_contact_id: Option<Uuid>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The user whose request wrote it (for a customer's reply, the integration's user).
    pub created_by: Uuid,
    #[schema(format = DateTime)]
    pub redacted_at: Option<String>,
    pub redacted_by: Option<Uuid>,
}

impl From<&TicketComment> for CommentResponse {
    fn from(c: &TicketComment) -> Self {
        let (author_user_id, author_contact_id) = match c.author {
            CommentAuthor::User(id) => (Some(id), None),
            CommentAuthor::Contact(id) => (None, Some(id)),
        };
        Self {
            id: c.id,
            ticket_id: c.ticket_id,
            body: c.body.as_ref().map(|v| v.as_str().to_owned()),
            visibility: c.visibility.as_str(),
            author_user_id,
            author_contact_id,
            created_at: timestamp(c.created_at),
            created_by: c.created_by,
            redacted_at: optional_timestamp(c.redacted_at),
            redacted_by: c.redacted_by,
        }
    }
}

/// The new comment and its ticket as it now stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentReceipt {
    pub comment: CommentResponse,
    pub ticket: TicketResponse,
}

/// A page of a ticket's comments, oldest first.
pub type CommentList = Page<CommentResponse>;

fn visibility_filter_schema() -> Object {
    crate::schema::any_of_list(CommentVisibility::NAMES)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentListQuery {
    /// Page size from 1 to 200; 50 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Comma-separated visibilities (`public` for what the customer saw).
    #[param(schema_with = visibility_filter_schema)]
    pub visibility: Option<String>,
}

/// Comment on a ticket
///
/// Every role comments; a public comment or a customer's reply needs the right to work tickets
/// (sales roles add internal comments). The first public comment of staff is the ticket's first
/// response; a customer's reply to a pending ticket opens it again (its resolution clock runs
/// again). A closed ticket takes internal comments only (409 `ticket_closed`). `If-Match` names
/// the ticket's version. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = CreateCommentRequest,
    responses(
        (status = 201, description = "The comment, and the ticket as it now stands", body = CommentReceipt, headers(("ETag" = String, description = "The ticket's version"), ("Location" = String))),
        (status = 409, description = "The ticket is closed (`ticket_closed`) or archived (`ticket_archived`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tickets/{id}/comments")]
pub async fn create_ticket_comment(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CreateCommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::TicketComment, Action::Create, true)?;
    let input = body.0;
    let mut errors = ValidationErrors::new();
    let text = errors.collect(LongText::parse("body", &input.body));
    let visibility =
        input.visibility.as_deref().and_then(|v| errors.collect(CommentVisibility::parse("visibility", v)));
    errors.into_result()?;
    let Some(text) = text else { return Err(ValidationErrors::new().into()) };
    let author = input.author_contact_id.map_or(CommentAuthor::User(principal.user_id), CommentAuthor::Contact);
    let visibility = visibility.unwrap_or(match author {
        CommentAuthor::User(_) => CommentVisibility::Internal,
        CommentAuthor::Contact(_) => CommentVisibility::Public,
    });
    if visibility == CommentVisibility::Public || matches!(author, CommentAuthor::Contact(_)) {
        authorize(principal.role, Resource::Ticket, Action::Update, true)?;
    }
    if let Some(contact_id) = input.author_contact_id {
        match state.store.get::<Contact>(principal.organization_id, contact_id).await {
            Ok(_) => {}
            Err(RepoError::NotFound) => return Err(ApiError::unknown_reference("author_contact_id")),
            Err(other) => return Err(other.into()),
        }
    }
    let expected = if_match(&req)?;
    let audit = audit_context(&req, &principal);
    let policy = policy(&state, principal.organization_id).await?;
    let now = state.clock.now();
    let ticket_id = id.into_inner();
    let (ticket, comment) = update_with_retry(
        &expected,
        async || resource::load::<Ticket>(&state, &caller, ticket_id).await,
        |t: &Ticket| t.version,
        async |current: Ticket| {
            ensure_active(&current)?;
            let (next, changes) = current.comment(author, visibility, &policy, now)?;
            let comment = TicketComment {
                id: Uuid::now_v7(),
                organization_id: principal.organization_id,
                ticket_id: current.id,
                body: Some(text.clone()),
                visibility,
                author,
                created_at: now,
                created_by: principal.user_id,
                redacted_at: None,
                redacted_by: None,
            };
            let change = (!changes.is_empty()).then_some((&next, current.version, changes.as_slice()));
            state.store.add_ticket_comment(&comment, change, current.about(), &audit).await?;
            Ok((if changes.is_empty() { current } else { next }, comment))
        },
    )
    .await?;
    let (ticket, tag) = ticket.response(now);
    let location = format!("{}/{}/comments", Ticket::COLLECTION, ticket.id);
    Ok(crate::respond::created(location, &CommentReceipt { comment: CommentResponse::from(&comment), ticket }, tag))
}

/// The order of a ticket's comments, which its cursors carry.
const COMMENT_ORDER: &str = "created_at";

/// List a ticket's comments, oldest first
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id"), CommentListQuery),
    responses((status = 200, description = "One page of comments, oldest first", body = CommentList)),
    security(("bearer" = []))
)]
#[get("/tickets/{id}/comments")]
pub async fn list_ticket_comments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<CommentListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::TicketComment, Action::Read, true)?;
    let query = query.into_inner();
    let window = fixed_order_window(query.limit.as_deref(), query.cursor.as_deref(), COMMENT_ORDER)?;
    let visibilities = parse_any_of("visibility", query.visibility.as_deref(), CommentVisibility::parse)?;
    // Both kinds asked for is no filter.
    let visibility = match visibilities.as_slice() {
        [one] => Some(*one),
        [first, rest @ ..] if rest.iter().all(|v| v == first) => Some(*first),
        _ => None,
    };
    let ticket = resource::load::<Ticket>(&state, &caller, id.into_inner()).await?;
    let page = state.store.list_ticket_comments(caller.0.organization_id, ticket.id, visibility, &window).await?;
    Ok(Page::respond(
        page.items.iter().map(CommentResponse::from).collect(),
        page.next.as_ref().map(|p| encode_cursor(COMMENT_ORDER, p)),
    ))
}

/// Redact a comment (admins)
///
/// The body goes for good (the audit trail never held it); who wrote the comment, when, and who
/// redacted it stay. A closed ticket's comments may be redacted too.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id"), ("comment_id" = Uuid, Path, description = "The comment's id")),
    responses(
        (status = 200, description = "The redacted comment", body = CommentResponse),
        (status = 409, description = "The comment is already redacted (`comment_redacted`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tickets/{id}/comments/{comment_id}/redact")]
pub async fn redact_ticket_comment(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::TicketComment, Action::Update, true)?;
    let (ticket_id, comment_id) = path.into_inner();
    let ticket = resource::load::<Ticket>(&state, &caller, ticket_id).await?;
    let comment = match state.store.ticket_comment(principal.organization_id, ticket.id, comment_id).await {
        Ok(comment) => comment,
        Err(RepoError::NotFound) => return Err(ApiError::not_found("comment on this ticket")),
        Err(other) => return Err(other.into()),
    };
    let (redacted, changes) = comment.redact(principal.user_id, state.clock.now())?;
    match state.store.redact_ticket_comment(&redacted, &changes, ticket.about(), &audit_context(&req, &principal)).await
    {
        Ok(()) => {}
        // Another redaction got there first.
        Err(RepoError::VersionMismatch { .. }) => return Err(TicketRuleError::CommentRedacted.into()),
        Err(other) => return Err(other.into()),
    }
    Ok(HttpResponse::Ok().json(CommentResponse::from(&redacted)))
}
