//! Authentication: HS256 access tokens, opaque rotating refresh
//! tokens, and the [`Caller`] extractor that turns a bearer token into a fresh [`Principal`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use crm_domain::user::Principal;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::problem::ApiError;
use crate::state::AppState;

pub const ISSUER: &str = "crm";
pub const AUDIENCE: &str = "crm-api";
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
pub const REFRESH_TOKEN_DAYS: i64 = 30;

/// The claims of an access token. All of them are required and validated.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub org: String,
    pub role: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
}

/// Issues and verifies access tokens with one pinned algorithm and no leeway.
///
/// A token whose signature and claims held is remembered, as the exact string, until it expires
/// or the memory fills: checking it again cost a fifth of the instructions of a read (BENCHMARKS.md,
/// finding 9). A remembered token is answered only while it has not expired; at its last second
/// it is checked in full again, so expiry follows jsonwebtoken's rule to the second.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    verified: std::sync::Mutex<std::collections::HashMap<Box<str>, Verified>>,
}

/// What a verified token says, and the second it expires at.
#[derive(Debug, Clone, Copy)]
struct Verified {
    organization_id: Uuid,
    user_id: Uuid,
    expires: i64,
}

/// Why a bearer token was refused; each answers 401 with its own detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Missing,
    Expired,
    Invalid,
}

impl TokenService {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.validate_nbf = false;
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: std::sync::Mutex::default(),
        }
    }

    /// The number of remembered tokens past which expired ones are swept (and, if none expired,
    /// all): about 4 MB at most.
    const VERIFIED_CAPACITY: usize = 10_000;

    fn verified(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<Box<str>, Verified>> {
        self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A 15-minute access token for `principal`.
    ///
    /// # Errors
    /// Internal when signing fails.
    pub fn issue(&self, principal: &Principal, now: DateTime<Utc>) -> Result<String, ApiError> {
        let claims = Claims {
            sub: principal.user_id.to_string(),
            org: principal.organization_id.to_string(),
            role: principal.role.as_str().to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TOKEN_SECONDS,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// The (organisation, user) a token speaks for, when its signature and claims hold.
    pub fn verify(&self, token: &str) -> Result<(Uuid, Uuid), TokenRejection> {
        let now = Utc::now().timestamp();
        if let Some(known) = self.verified().get(token).copied()
            && now < known.expires
        {
            return Ok((known.organization_id, known.user_id));
        }
        let known = self.check(token, now)?;
        let mut verified = self.verified();
        if verified.len() >= Self::VERIFIED_CAPACITY {
            verified.retain(|_, v| now < v.expires);
            if verified.len() >= Self::VERIFIED_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(token.into(), known);
        Ok((known.organization_id, known.user_id))
    }

    /// Checks a token's signature and claims in full.
    fn check(&self, token: &str, now: i64) -> Result<Verified, TokenRejection> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Invalid,
            })?;
        let claims = data.claims;
        if claims.iat > now + 5 {
            return Err(TokenRejection::Invalid);
        }
        let organization_id = Uuid::parse_str(&claims.org).map_err(|_| TokenRejection::Invalid)?;
        let user_id = Uuid::parse_str(&claims.sub).map_err(|_| TokenRejection::Invalid)?;
        Ok(Verified { organization_id, user_id, expires: claims.exp })
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn rejection(rejection: TokenRejection) -> ApiError {
    ApiError::Unauthorized {
        detail: match rejection {
            TokenRejection::Missing => "send an access token as Authorization: Bearer <token>".to_owned(),
            TokenRejection::Expired => {
                "the access token has expired; get a new one from /api/v1/auth/refresh".to_owned()
            }
            TokenRejection::Invalid => "the access token is not valid".to_owned(),
        },
    }
}

/// The principals read in the last moment, so that most requests cost one query less (the
/// benchmark found the role lookup to be most of the gap between a read and the floor; see
/// BENCHMARKS.md, finding 5). An entry lives `ttl` (one second by default, zero turns the cache
/// off). A user's change in this process drops their entry at once, and a lookup that raced with
/// such a change is not kept; another process sees a role change or a deactivation within `ttl`.
/// Only active users are kept: an unknown or deactivated user is read from the database each time.
pub struct PrincipalCache {
    ttl: std::time::Duration,
    entries: std::sync::Mutex<std::collections::HashMap<(Uuid, Uuid), (Principal, std::time::Instant)>>,
    /// Bumped by every `forget`: a lookup keeps its result only when no change happened meanwhile.
    generation: std::sync::atomic::AtomicU64,
}

impl PrincipalCache {
    /// The number of entries past which expired ones are swept (and, if none expired, all).
    const CAPACITY: usize = 10_000;

    pub fn new(ttl: std::time::Duration) -> Self {
        Self { ttl, entries: std::sync::Mutex::default(), generation: std::sync::atomic::AtomicU64::new(0) }
    }

    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(Uuid, Uuid), (Principal, std::time::Instant)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The active user `user_id` of `organization_id`, from the cache or the database.
    ///
    /// # Errors
    /// The store's error when it has to be read and cannot be.
    pub async fn principal(
        &self,
        store: &dyn crm_domain::ports::Store,
        organization_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Principal>, crm_domain::RepoError> {
        if self.ttl.is_zero() {
            return store.find_principal(organization_id, user_id).await;
        }
        let key = (organization_id, user_id);
        if let Some((principal, read_at)) = self.entries().get(&key)
            && read_at.elapsed() < self.ttl
        {
            return Ok(Some(*principal));
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let found = store.find_principal(organization_id, user_id).await?;
        let mut entries = self.entries();
        if let Some(principal) = found
            && self.generation.load(std::sync::atomic::Ordering::Acquire) == generation
        {
            if entries.len() >= Self::CAPACITY {
                let ttl = self.ttl;
                entries.retain(|_, (_, read_at)| read_at.elapsed() < ttl);
                if entries.len() >= Self::CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key, (principal, std::time::Instant::now()));
        } else {
            entries.remove(&key);
        }
        Ok(found)
    }

    /// Drops what is known of a user whose role or active state may have changed.
    pub fn forget(&self, organization_id: Uuid, user_id: Uuid) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        entries.remove(&(organization_id, user_id));
    }
}

/// The authenticated caller: who the token speaks for, with the role and active state read from
/// the database (through [`PrincipalCache`]), so that deactivation and role changes apply on the
/// next request in this process and within the cache's lifetime in the others.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // Read once per request: the idempotency middleware may already have looked it up.
        if let Some(caller) = actix_web::HttpMessage::extensions(req).get::<Caller>().copied() {
            return Box::pin(async move { Ok(caller) });
        }
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or(rejection(TokenRejection::Missing))?;
            let (organization_id, user_id) = state.tokens.verify(&token).map_err(rejection)?;
            let principal = state.principals.principal(&*state.store, organization_id, user_id).await?;
            principal.map(Caller).ok_or_else(|| ApiError::Unauthorized {
                detail: "the user of this token is deactivated or no longer exists".to_owned(),
            })
        })
    }
}

/// A new refresh token: `<organisation id>.<32 random bytes, base64url>`. The organisation
/// prefix lets the token be found by a key that leads with the organisation.
pub fn new_refresh_token(organization_id: Uuid) -> Result<String, ApiError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(format!("{}.{}", organization_id.simple(), URL_SAFE_NO_PAD.encode(secret)))
}

/// The organisation named by a refresh token, if it is shaped like one.
pub fn refresh_token_organization(token: &str) -> Option<Uuid> {
    let (org, secret) = token.split_once('.')?;
    if secret.len() < 40 {
        return None;
    }
    Uuid::try_parse(org).ok()
}

pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

pub fn refresh_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(REFRESH_TOKEN_DAYS)
}

/// Loads the JWT secret kept in the data folder, creating it (owner-only) on first start.
///
/// # Errors
/// When the file cannot be read or written.
pub fn load_or_create_secret(data_dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let trimmed = existing.trim();
        if trimmed.len() >= 32 {
            return Ok(trimmed.as_bytes().to_vec());
        }
    }
    // The data folder is the owner's alone, like the secret and the database in it.
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder.create(data_dir)?;
    let mut secret = [0u8; 48];
    getrandom::fill(&mut secret).map_err(|e| std::io::Error::other(e.to_string()))?;
    let text = URL_SAFE_NO_PAD.encode(secret);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(&path)?;
    file.write_all(text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    tracing::warn!(path = %path.display(), "CRM_JWT_SECRET is not set: generated a signing secret and kept it in the data folder");
    Ok(text.into_bytes())
}

pub type SharedTokens = Arc<TokenService>;
