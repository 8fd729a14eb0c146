use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::RepoError;
use crm_domain::account::{Account, LifecycleStage};
use crm_domain::audit::AuditAction;
use crm_domain::contact::{AccountFilter, Contact, ContactQuery, ContactRuleError, ContactSortField};
use crm_domain::permissions::{Action, Resource, authorize, may_assign};
use uuid::Uuid;

use super::dto::{
    AccountContactListQuery, ContactList, ContactListQuery, ContactResponse, CreateContactRequest, UpdateContactRequest,
};
use crate::auth::Caller;
use crate::conventions::{
    Tag, archived_filter, list_params, next_cursor, now, parse_any_of, parse_bool_param, parse_email_filter,
    parse_search, parse_timestamp_param, parse_uuid,
};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

impl ApiRecord for Contact {
    const NOUN: &'static str = "contact";
    const COLLECTION: &'static str = "/api/v1/contacts";
    const MATRIX: Resource = Resource::SalesRecord;
    const OWNED: bool = true;
    type Response = ContactResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (ContactResponse, Tag) {
        (ContactResponse::from(self), self.version.into())
    }

    /// A duplicate email (an edit, or a restore while an active contact took the email) answers
    /// 409 naming the active contact that has it.
    async fn refused(state: &AppState, organization_id: Uuid, next: &Self, error: RepoError) -> ApiError {
        duplicate_email(state, organization_id, next, error).await
    }
}

impl Archivable for Contact {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) = (ProblemCode::ContactArchived, ProblemCode::ContactNotArchived);
}

/// 422 unless `account_id` names an account of the organisation.
async fn check_account(state: &AppState, organization_id: Uuid, account_id: Option<Uuid>) -> Result<(), ApiError> {
    let Some(account_id) = account_id else { return Ok(()) };
    match state.store.get::<Account>(organization_id, account_id).await {
        Ok(_) => Ok(()),
        Err(RepoError::NotFound) => Err(ApiError::Validation {
            detail: None,
            errors: crm_domain::FieldError::new(
                "account_id",
                "unknown_reference",
                "no such account exists in your organization",
            )
            .into(),
        }),
        Err(other) => Err(other.into()),
    }
}

/// A duplicate email answers 409 naming the active contact that has it.
async fn duplicate_email(state: &AppState, organization_id: Uuid, contact: &Contact, error: RepoError) -> ApiError {
    let RepoError::Duplicate { .. } = error else { return error.into() };
    let existing = match &contact.email {
        Some(email) => state.store.find_active_contact_by_email(organization_id, email).await,
        None => Ok(None),
    };
    match existing {
        Ok(Some(existing)) => {
            ApiError::DuplicateOf { code: ProblemCode::Duplicate, field: "email", existing_id: existing.id }
        }
        Ok(None) => ApiError::Conflict {
            code: ProblemCode::Duplicate,
            detail: "email: another active contact has this email".to_owned(),
        },
        Err(other) => other.into(),
    }
}

/// Create a contact
///
/// An email is unique among the organisation's active contacts: a duplicate answers 409 with
/// `existing_id` naming the contact that has it. Every role creates contacts (a support agent
/// when a new customer calls support); the contact is the creator's unless `owner_id` names
/// someone else, which needs the reassign right.
#[utoipa::path(
    tag = "contacts",
    request_body = CreateContactRequest,
    responses(
        (status = 201, description = "The contact was created", body = ContactResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "An active contact has this email; `existing_id` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/contacts")]
pub async fn create_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateContactRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    // Support agents create contacts too: a new customer calls support.
    authorize(principal.role, Resource::NewContact, Action::Create, true)?;
    let draft = body.0.try_into_domain()?;
    may_assign(&principal, Resource::SalesRecord, principal.user_id, draft.owner_id)?;
    check_account(&state, principal.organization_id, draft.account_id).await?;
    let contact = Contact::create(Uuid::now_v7(), principal.organization_id, principal.user_id, draft, now());
    if let Err(error) = state.store.insert_contact(&contact, &audit_context(&req, &principal)).await {
        return Err(duplicate_email(&state, principal.organization_id, &contact, error).await);
    }
    Ok(resource::created(&contact, state.clock.now()))
}

/// Get a contact
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The contact", body = ContactResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/contacts/{id}")]
pub async fn get_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Contact>(&req, &state, &caller, id.into_inner()).await
}

/// Update a contact
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id")),
    request_body = UpdateContactRequest,
    responses(
        (status = 200, description = "The updated contact", body = ContactResponse, headers(("ETag" = String))),
        (status = 409, description = "The contact is archived, or another active contact has the email", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/contacts/{id}")]
pub async fn update_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateContactRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Contact>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    check_account(&state, caller.0.organization_id, patch.account_id.flatten()).await?;
    let contact = edit
        .apply(AuditAction::Update, patch.owner_id, async |current: &Contact| {
            current.apply(&patch, now()).map_err(|e| match e {
                ContactRuleError::Archived => ApiError::Conflict { code: ProblemCode::from(&e), detail: e.to_string() },
            })
        })
        .await?;
    Ok(resource::ok(&contact, state.clock.now()))
}

/// Archive a contact
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The archived contact", body = ContactResponse, headers(("ETag" = String))),
        (status = 409, description = "The contact is already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/contacts/{id}")]
pub async fn archive_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Contact>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived contact
///
/// Refused with 409 `duplicate` when an active contact took its email meanwhile.
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The restored contact", body = ContactResponse, headers(("ETag" = String))),
        (status = 409, description = "The contact is not archived, or an active contact has its email", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/contacts/{id}/restore")]
pub async fn restore_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Contact>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}

async fn list(
    state: &AppState,
    caller: &Caller,
    query: ContactListQuery,
    account: AccountFilter,
) -> Result<HttpResponse, ApiError> {
    let (attention_overdue_at, default_sort) =
        crate::routes::attention::attention_filter(query.attention.as_deref(), "last_name")?;
    let params = list_params::<ContactSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        default_sort,
    )?;
    let account = match query.account_id.as_deref() {
        None => account,
        Some("none") => AccountFilter::NoAccount,
        Some(raw) => {
            AccountFilter::Of(parse_uuid("account_id", raw).map_err(crate::conventions::field_to_bad_request)?)
        }
    };
    let contact_query = ContactQuery {
        account,
        lifecycle_stages: parse_any_of("lifecycle_stage", query.lifecycle_stage.as_deref(), LifecycleStage::parse)?,
        owner_ids: parse_any_of("owner_id", query.owner_id.as_deref(), parse_uuid)?,
        do_not_contact: parse_bool_param("do_not_contact", query.do_not_contact.as_deref())?,
        created_after: parse_timestamp_param("created_after", query.created_after.as_deref())?,
        created_before: parse_timestamp_param("created_before", query.created_before.as_deref())?,
        emails: parse_email_filter(query.email.as_deref())?,
        search: parse_search(query.q.as_deref())?,
        archived: archived_filter(query.archived.as_deref())?,
        interactions: crate::routes::activities::interaction_filter(
            query.last_interaction_before.as_deref(),
            query.last_interaction_after.as_deref(),
            query.no_interaction.as_deref(),
            query.next_activity.as_deref(),
        )?,
        attention_overdue_at,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_contacts(caller.0.organization_id, &contact_query).await?;
    let next_cursor = next_cursor(&page, contact_query.sort);
    Ok(Page::respond(page.items.iter().map(ContactResponse::from).collect(), next_cursor))
}

/// List contacts
///
/// `account_id=none` lists the people buying for themselves.
#[utoipa::path(
    tag = "contacts",
    params(ContactListQuery),
    responses((status = 200, description = "One page of contacts", body = ContactList)),
    security(("bearer" = []))
)]
#[get("/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ContactListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    list(&state, &caller, query.into_inner(), AccountFilter::Any).await
}

/// List an account's contacts
#[utoipa::path(
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id"), AccountContactListQuery),
    responses((status = 200, description = "One page of the account's contacts", body = ContactList)),
    security(("bearer" = []))
)]
#[get("/accounts/{id}/contacts")]
pub async fn list_account_contacts(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<AccountContactListQuery>,
) -> Result<HttpResponse, ApiError> {
    let account_id = id.into_inner();
    resource::load::<Account>(&state, &caller, account_id).await?;
    list(&state, &caller, query.into_inner().into(), AccountFilter::Of(account_id)).await
}
