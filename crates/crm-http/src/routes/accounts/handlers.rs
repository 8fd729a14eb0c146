use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::RepoError;
use crm_domain::account::{Account, AccountQuery, AccountRuleError, AccountSortField, AccountTier, LifecycleStage};
use crm_domain::audit::AuditAction;
use crm_domain::permissions::{Action, Resource, authorize, may_assign};
use uuid::Uuid;

use super::dto::{AccountList, AccountListQuery, AccountResponse, CreateAccountRequest, UpdateAccountRequest};
use crate::auth::Caller;
use crate::conventions::{
    Tag, archived_filter, list_params, next_cursor, now, parse_any_of, parse_search, parse_timestamp_param, parse_uuid,
};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

impl From<AccountRuleError> for ApiError {
    fn from(error: AccountRuleError) -> Self {
        match error {
            AccountRuleError::Archived => {
                ApiError::Conflict { code: ProblemCode::from(&error), detail: error.to_string() }
            }
            AccountRuleError::ParentCycle => ApiError::Validation {
                detail: None,
                errors: crm_domain::FieldError::new("parent_account_id", "parent_cycle", error.to_string()).into(),
            },
        }
    }
}

impl ApiRecord for Account {
    const NOUN: &'static str = "account";
    const COLLECTION: &'static str = "/api/v1/accounts";
    const MATRIX: Resource = Resource::SalesRecord;
    const OWNED: bool = true;
    type Response = AccountResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        Some(self.owner_id)
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (AccountResponse, Tag) {
        (AccountResponse::from(self), self.version.into())
    }
}

impl Archivable for Account {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) = (ProblemCode::AccountArchived, ProblemCode::AccountNotArchived);
}

/// The lineage of a would-be parent: 422 when it is not an account of the organisation.
async fn parent_lineage(state: &AppState, organization_id: Uuid, parent: Option<Uuid>) -> Result<Vec<Uuid>, ApiError> {
    let Some(parent) = parent else { return Ok(Vec::new()) };
    state.store.account_lineage(organization_id, parent).await.map_err(|e| match e {
        RepoError::NotFound => ApiError::Validation {
            detail: None,
            errors: crm_domain::FieldError::new(
                "parent_account_id",
                "unknown_reference",
                "no such account exists in your organization",
            )
            .into(),
        },
        other => other.into(),
    })
}

/// Create an account
#[utoipa::path(
    tag = "accounts",
    request_body = CreateAccountRequest,
    responses((status = 201, description = "The account was created", body = AccountResponse,
        headers(("ETag" = String), ("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/accounts")]
pub async fn create_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::SalesRecord, Action::Create, true)?;
    let draft = body.0.try_into_domain()?;
    may_assign(&principal, Resource::SalesRecord, principal.user_id, draft.owner_id)?;
    parent_lineage(&state, principal.organization_id, draft.parent_account_id).await?;
    let account = Account::create(Uuid::now_v7(), principal.organization_id, principal.user_id, draft, now())?;
    state.store.insert_account(&account, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&account, state.clock.now()))
}

/// Get an account
#[utoipa::path(
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account", body = AccountResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/accounts/{id}")]
pub async fn get_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Account>(&req, &state, &caller, id.into_inner()).await
}

/// Update an account
///
/// An absent field stays as it is; `null` clears it. Setting `parent_account_id` to the account
/// itself or to one of its subsidiaries is refused (422 `parent_cycle`).
#[utoipa::path(
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    request_body = UpdateAccountRequest,
    responses(
        (status = 200, description = "The updated account", body = AccountResponse, headers(("ETag" = String))),
        (status = 409, description = "The account is archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/accounts/{id}")]
pub async fn update_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Account>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    let lineage = parent_lineage(&state, caller.0.organization_id, patch.parent_account_id.flatten()).await?;
    let account = edit
        .apply(AuditAction::Update, patch.owner_id, async |current: &Account| {
            Ok(current.apply(&patch, &lineage, now())?)
        })
        .await?;
    Ok(resource::ok(&account, state.clock.now()))
}

/// Archive an account
#[utoipa::path(
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The archived account", body = AccountResponse, headers(("ETag" = String))),
        (status = 409, description = "The account is already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/accounts/{id}")]
pub async fn archive_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Account>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived account
#[utoipa::path(
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The restored account", body = AccountResponse, headers(("ETag" = String))),
        (status = 409, description = "The account is not archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/accounts/{id}/restore")]
pub async fn restore_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Account>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}

/// List accounts
#[utoipa::path(
    tag = "accounts",
    params(AccountListQuery),
    responses((status = 200, description = "One page of accounts", body = AccountList)),
    security(("bearer" = []))
)]
#[get("/accounts")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AccountListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let query = query.into_inner();
    let (attention_overdue_at, default_sort) =
        crate::routes::attention::attention_filter(query.attention.as_deref(), "name")?;
    let params = list_params::<AccountSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        default_sort,
    )?;
    let parent_account_id = parse_any_of("parent_account_id", query.parent_account_id.as_deref(), parse_uuid)?;
    if parent_account_id.len() > 1 {
        return Err(ApiError::bad_param("parent_account_id", "invalid_uuid", "must be one account id"));
    }
    let account_query = AccountQuery {
        tiers: parse_any_of("tier", query.tier.as_deref(), AccountTier::parse)?,
        lifecycle_stages: parse_any_of("lifecycle_stage", query.lifecycle_stage.as_deref(), LifecycleStage::parse)?,
        owner_ids: parse_any_of("owner_id", query.owner_id.as_deref(), parse_uuid)?,
        parent_account_id: parent_account_id.first().copied(),
        created_after: parse_timestamp_param("created_after", query.created_after.as_deref())?,
        created_before: parse_timestamp_param("created_before", query.created_before.as_deref())?,
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
    let page = state.store.list_accounts(caller.0.organization_id, &account_query).await?;
    let next_cursor = next_cursor(&page, account_query.sort);
    Ok(Page::respond(page.items.iter().map(AccountResponse::from).collect(), next_cursor))
}
