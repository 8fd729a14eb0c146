//! The organisation's users: admins add them, change their role, deactivate them.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use crm_domain::audit::AuditAction;
use crm_domain::permissions::{Action, Resource, Role, authorize};
use crm_domain::ports::{UserQuery, UserSortField};
use crm_domain::user::{User, UserPatch, UserRuleError};
use crm_domain::value::{Email, Name, Password};
use crm_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{Tag, list_params, next_cursor, now, parse_any_of, parse_bool_param, parse_search, timestamp};
use crate::extract::{JsonBody, double_option};
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Edit};
use crate::respond::audit_context;
use crate::schema::{any_of_list, fields, one_of, sort_param};
use crate::state::AppState;

pub(crate) fn role_schema() -> Object {
    one_of(Role::NAMES, false)
}

/// A user as the API returns it. Password hashes never leave the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(schema_with = role_schema)]
    pub role: &'static str,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            organization_id: user.organization_id,
            name: user.name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            role: user.role.as_str(),
            active: user.active,
            created_at: timestamp(user.created_at),
            updated_at: timestamp(user.updated_at),
            version: user.version,
        }
    }
}

/// A page of users.
pub type UserList = crate::resource::Page<UserResponse>;

/// A user an admin adds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Grace Hopper", "email": "grace@example.com", "password": "correct horse battery", "role": "sales_rep"}))]
pub struct CreateUserRequest {
    #[schema(schema_with = fields::name)]
    pub name: String,
    #[schema(schema_with = fields::email)]
    pub email: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(schema_with = role_schema)]
    pub role: String,
}

/// A change to a user; absent fields stay. `active: false` deactivates the user: its tokens stop
/// working at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "manager"}))]
pub struct UpdateUserRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = role_schema)]
    pub role: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = bool)]
    pub active: Option<Option<bool>>,
}

pub(crate) fn role_filter_schema() -> Object {
    any_of_list(Role::NAMES)
}
pub(crate) fn user_sort_schema() -> Object {
    sort_param(UserSortField::NAMES)
}
pub(crate) fn bool_schema() -> Object {
    one_of(&["true", "false"], false)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `created_at`.
    #[param(schema_with = user_sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = role_filter_schema)]
    pub role: Option<String>,
    #[param(schema_with = bool_schema)]
    pub active: Option<String>,
    /// Case-insensitive search in name and email.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
}

impl ApiRecord for User {
    const NOUN: &'static str = "user";
    const COLLECTION: &'static str = "/api/v1/users";
    const MATRIX: Resource = Resource::User;
    const OWNED: bool = false;
    type Response = UserResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        None
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (UserResponse, Tag) {
        (UserResponse::from(self), self.version.into())
    }
}

/// List the organisation's users
#[utoipa::path(tag = "users", params(UserListQuery), responses((status = 200, body = UserList)), security(("bearer" = [])))]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<UserListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::User, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<UserSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "created_at",
    )?;
    let user_query = UserQuery {
        roles: parse_any_of("role", query.role.as_deref(), Role::parse)?,
        active: parse_bool_param("active", query.active.as_deref())?,
        search: parse_search(query.q.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_users(caller.0.organization_id, &user_query).await?;
    let next_cursor = next_cursor(&page, user_query.sort);
    Ok(UserList::respond(page.items.iter().map(UserResponse::from).collect(), next_cursor))
}

/// Add a user (admins)
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "A user with this email exists", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::User, Action::Create, false)?;
    let body = body.0;
    let mut errors = ValidationErrors::new();
    let name = errors.collect(Name::parse("name", &body.name));
    let email = errors.collect(Email::parse("email", &body.email));
    let password = errors.collect(Password::parse("password", &body.password));
    let role = errors.collect(Role::parse("role", &body.role));
    errors.into_result()?;
    let (Some(name), Some(email), Some(password), Some(role)) = (name, email, password, role) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let at = now();
    let user = User {
        id: Uuid::now_v7(),
        organization_id: principal.organization_id,
        name,
        email,
        role,
        active: true,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let hash = state.passwords.hash(password.expose().to_owned()).await?;
    state.store.insert_user(&user, &hash, &audit_context(&req, &principal)).await?;
    Ok(resource::created(&user, state.clock.now()))
}

/// Get a user
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = UserResponse, headers(("ETag" = String))), (status = 304, description = "Not modified")),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<User>(&req, &state, &caller, id.into_inner()).await
}

/// Change a user's name or role, or (de)activate it (admins)
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserResponse, headers(("ETag" = String))),
        (status = 409, description = "An admin cannot demote or deactivate themselves", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = id.into_inner();
    let edit = Edit::<User>::begin(&req, &state, &caller, id)?;
    let body = body.0;
    let mut errors = ValidationErrors::new();
    let required =
        |errors: &mut ValidationErrors, field: &str| errors.push(FieldError::new(field, "required", "cannot be null"));
    let patch = UserPatch {
        name: match body.name {
            None => None,
            Some(None) => {
                required(&mut errors, "name");
                None
            }
            Some(Some(raw)) => errors.collect(Name::parse("name", &raw)),
        },
        role: match body.role {
            None => None,
            Some(None) => {
                required(&mut errors, "role");
                None
            }
            Some(Some(raw)) => errors.collect(Role::parse("role", &raw)),
        },
        active: match body.active {
            None => None,
            Some(None) => {
                required(&mut errors, "active");
                None
            }
            Some(Some(active)) => Some(active),
        },
    };
    errors.into_result()?;
    let user = edit
        .run(None, async |current: User| {
            let (next, changes) = current.apply(&patch, principal.user_id, now()).map_err(|e| match e {
                UserRuleError::SelfLockout => ApiError::Conflict { code: ProblemCode::from(&e), detail: e.to_string() },
            })?;
            if changes.is_empty() {
                return Ok(current);
            }
            // A changed role or active state applies to this process's next request at once.
            let saved = edit.save(&next, current.version, AuditAction::Update, &changes).await;
            state.principals.forget(principal.organization_id, id);
            saved?;
            Ok(next)
        })
        .await?;
    Ok(resource::ok(&user, state.clock.now()))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(list_users).service(create_user).service(get_user).service(update_user);
}
