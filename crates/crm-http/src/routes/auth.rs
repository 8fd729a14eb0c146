//! Signup, login, token refresh and logout, and `GET /me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use crm_domain::permissions::Role;
use crm_domain::ports::{NewRefreshToken, RefreshRotation};
use crm_domain::user::{Organization, Principal, User};
use crm_domain::value::{Email, Name, Password};
use crm_domain::{RepoError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{
    ACCESS_TOKEN_SECONDS, Caller, new_refresh_token, refresh_expiry, refresh_token_organization, sha256_hex,
};
use crate::conventions::{now, timestamp};
use crate::extract::JsonBody;
use crate::middleware::RequestId;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::routes::users::UserResponse;
use crate::schema::fields;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    pub id: Uuid,
    #[schema(example = "Analytical Engines Ltd")]
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Organization> for OrganizationResponse {
    fn from(org: &Organization) -> Self {
        Self { id: org.id, name: org.name.as_str().to_owned(), created_at: timestamp(org.created_at) }
    }
}

/// Tokens for a session: send `access_token` as `Authorization: Bearer …`; trade
/// `refresh_token` at `/api/v1/auth/refresh` for a new pair before or after the access token
/// expires.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Single use: each refresh answers a new one. Reusing a spent one revokes the session.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    pub user: UserResponse,
    pub organization: OrganizationResponse,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization_name": "Analytical Engines Ltd", "name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse battery"}))]
pub struct SignupRequest {
    #[schema(schema_with = fields::name)]
    pub organization_name: String,
    #[schema(schema_with = fields::name)]
    pub name: String,
    #[schema(schema_with = fields::email)]
    pub email: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 200)]
    pub refresh_token: String,
}

/// Ends the session of `refresh_token`; without it, every session of the caller.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[schema(max_length = 200)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserResponse,
    pub organization: OrganizationResponse,
}

async fn issue_tokens(
    state: &AppState,
    user: &User,
    organization: &Organization,
    family_id: Option<Uuid>,
) -> Result<TokenResponse, ApiError> {
    let at = now();
    let principal = Principal { user_id: user.id, organization_id: user.organization_id, role: user.role };
    let access_token = state.tokens.issue(&principal, at)?;
    let refresh_token = new_refresh_token(user.organization_id)?;
    state
        .store
        .insert_refresh_token(&NewRefreshToken {
            id: Uuid::now_v7(),
            organization_id: user.organization_id,
            user_id: user.id,
            family_id: family_id.unwrap_or_else(Uuid::now_v7),
            token_hash: sha256_hex(refresh_token.as_bytes()),
            created_at: at,
            expires_at: refresh_expiry(at),
        })
        .await?;
    Ok(token_response(access_token, refresh_token, user, organization))
}

fn token_response(
    access_token: String,
    refresh_token: String,
    user: &User,
    organization: &Organization,
) -> TokenResponse {
    TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
        user: UserResponse::from(user),
        organization: OrganizationResponse::from(organization),
    }
}

/// Refuses a field longer than the spec allows, before it is looked at.
fn at_most(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(crm_domain::FieldError::new(field, "too_long", format!("must be at most {max} characters")).into());
    }
    Ok(())
}

/// The client's address as the connection shows it. Behind a proxy this is the proxy's address;
/// forwarded headers are not trusted, since any client can set them.
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized { detail: "the email or password is wrong".to_owned() }
}

/// Create an organisation and its first admin
///
/// Answers the same tokens as login. Disabled when the server runs with `CRM_ALLOW_SIGNUP=false`.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The organisation, its admin and a session", body = TokenResponse),
        (status = 403, description = "Signup is disabled on this server", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A user with this email exists", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/signup")]
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    state.auth_limits.per_address.check(&format!("signup {}", client_address(&req)))?;
    if !state.allow_signup {
        return Err(ApiError::Forbidden {
            detail: "signup is disabled on this server; ask an admin to add you".to_owned(),
        });
    }
    let body = body.0;
    let mut errors = ValidationErrors::new();
    let organization_name = errors.collect(Name::parse("organization_name", &body.organization_name));
    let name = errors.collect(Name::parse("name", &body.name));
    let email = errors.collect(Email::parse("email", &body.email));
    let password = errors.collect(Password::parse("password", &body.password));
    errors.into_result()?;
    let (Some(organization_name), Some(name), Some(email), Some(password)) = (organization_name, name, email, password)
    else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let at = now();
    let organization = Organization { id: Uuid::now_v7(), name: organization_name, created_at: at };
    let admin = User {
        id: Uuid::now_v7(),
        organization_id: organization.id,
        name,
        email,
        role: Role::Admin,
        active: true,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let hash = state.passwords.hash(password.expose().to_owned()).await?;
    let request_id = req.extensions_ref_request_id();
    state.store.create_organization(&organization, &admin, &hash, &request_id).await.map_err(|e| match e {
        RepoError::Duplicate { .. } => ApiError::Conflict {
            code: ProblemCode::EmailTaken,
            detail: "email: a user with this email already exists".to_owned(),
        },
        other => other.into(),
    })?;
    let tokens = issue_tokens(&state, &admin, &organization, None).await?;
    Ok(HttpResponse::Created().json(tokens))
}

trait RequestIdExt {
    fn extensions_ref_request_id(&self) -> String;
}

impl RequestIdExt for HttpRequest {
    fn extensions_ref_request_id(&self) -> String {
        use actix_web::HttpMessage;
        self.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default()
    }
}

/// Log in with email and password
///
/// A wrong password and an unknown email answer the same 401.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session", body = TokenResponse),
        (status = 401, description = "The email or password is wrong, or the user is deactivated", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    at_most("email", &body.email, 254)?;
    at_most("password", &body.password, Password::MAX_CHARS)?;
    let address = client_address(&req);
    state.auth_limits.login.check(&format!("{address} {}", body.email.to_lowercase()))?;
    state.auth_limits.failed_logins_per_address.check(&address)?;
    let credentials = match Email::parse("email", &body.email) {
        Ok(email) => state.store.find_credentials(&email).await?,
        Err(_) => None,
    };
    let (hash, user) = match credentials {
        Some(c) => (Some(c.password_hash), Some(c.user)),
        None => (None, None),
    };
    let matches = state.passwords.verify(body.password, hash).await?;
    let user = match user {
        Some(user) if matches && user.active => user,
        _ => return Err(bad_credentials()),
    };
    state.auth_limits.failed_logins_per_address.forgive(&address);
    let organization = state.store.get_organization(user.organization_id).await?;
    Ok(HttpResponse::Ok().json(issue_tokens(&state, &user, &organization, None).await?))
}

/// Trade a refresh token for a new token pair
///
/// Refresh tokens rotate: each is good once. Presenting a spent one revokes every token of its
/// session, since it means the token leaked.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "The refresh token is unknown, expired, spent or revoked", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/refresh")]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let invalid = || ApiError::Unauthorized { detail: "the refresh token is not valid; log in again".to_owned() };
    let presented = body.0.refresh_token;
    at_most("refresh_token", &presented, 200)?;
    state.auth_limits.per_address.check(&format!("refresh {}", client_address(&req)))?;
    let organization_id = refresh_token_organization(&presented).ok_or_else(invalid)?;
    let at = now();
    let next_token = new_refresh_token(organization_id)?;
    let rotation = state
        .store
        .rotate_refresh_token(
            organization_id,
            &sha256_hex(presented.as_bytes()),
            Uuid::now_v7(),
            &sha256_hex(next_token.as_bytes()),
            at,
            refresh_expiry(at),
        )
        .await?;
    let RefreshRotation::Rotated { organization_id, user_id } = rotation else {
        if rotation == RefreshRotation::Reused {
            tracing::warn!(organization_id = %organization_id, "a rotated refresh token was reused: its session is revoked");
        }
        return Err(invalid());
    };
    let user = match state.store.get::<User>(organization_id, user_id).await {
        Ok(user) if user.active => user,
        Ok(_) | Err(RepoError::NotFound) => return Err(invalid()),
        Err(other) => return Err(other.into()),
    };
    let organization = state.store.get_organization(organization_id).await?;
    let principal = Principal { user_id, organization_id, role: user.role };
    let access_token = state.tokens.issue(&principal, at)?;
    Ok(HttpResponse::Ok().json(token_response(access_token, next_token, &user, &organization)))
}

/// Log out
///
/// Revokes the session of the given refresh token, or every session of the caller when the body
/// is empty. The access token stays valid until it expires (at most 15 minutes).
#[utoipa::path(
    tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "Optional"),
    responses((status = 204, description = "Logged out")),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let request: LogoutRequest = crate::extract::parse_optional_json(&req, &body)?;
    let at = now();
    if let Some(token) = &request.refresh_token {
        at_most("refresh_token", token, 200)?;
    }
    match request.refresh_token {
        // Like OAuth token revocation (RFC 7009), an unknown or foreign token is not an error:
        // either way, the caller holds no live session for it afterwards.
        Some(token) => {
            let found = state
                .store
                .revoke_refresh_family(principal.organization_id, principal.user_id, &sha256_hex(token.as_bytes()), at)
                .await?;
            if !found {
                tracing::debug!("logout named a refresh token the caller does not hold");
            }
        }
        None => state.store.revoke_user_refresh_tokens(principal.organization_id, principal.user_id, at).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I
#[utoipa::path(tag = "auth", responses((status = 200, body = MeResponse)), security(("bearer" = [])))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let user = state.store.get::<User>(principal.organization_id, principal.user_id).await?;
    let organization = state.store.get_organization(principal.organization_id).await?;
    Ok(HttpResponse::Ok()
        .json(MeResponse { user: UserResponse::from(&user), organization: OrganizationResponse::from(&organization) }))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(signup).service(login).service(refresh).service(logout).service(me);
}
