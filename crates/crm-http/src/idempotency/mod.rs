//! Idempotent POSTs: a request sent with `Idempotency-Key` runs at most once, and its retries get
//! its answer, also after the server running it was killed.
//!
//! A request claims its key as one attempt, by one server process (which keeps a heartbeat). The
//! attempt's id rides on the write's audit events, and migration 0018's trigger marks the claim
//! committed in the write's own transaction (and refuses the write when a retry took the claim
//! over). The response is kept once it is known. A retry then finds one of:
//! - the kept response: replayed with `Idempotent-Replayed: true`;
//! - a committed claim without a response (the process died between the commit and keeping the
//!   response): the answer is rebuilt by reading what the attempt wrote (`replay`);
//! - an unfinished claim whose process is alive: 409 `idempotency_in_progress`;
//! - an unfinished claim whose process has been silent for `SILENCE` (killed), or older than
//!   five minutes: the retry takes it over and runs the request.

mod replay;

use replay::answer_committed;
pub use replay::{Replay, replay_plan};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::Duration;
use crm_domain::ports::{ClaimTimes, IdempotencyAttempt, IdempotencyClaim, IdempotencyScope, StoredResponse};
use uuid::Uuid;

use crate::auth::{bearer_token, sha256_hex};
use crate::conventions::now;
use crate::extract::BODY_LIMIT;
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

pub const IDEMPOTENCY_KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How often a server process records that it is alive.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a process may stay silent before its unfinished claims are taken over.
pub const SILENCE: Duration = Duration::seconds(5);

/// The attempt a keyed request runs as; `respond::audit_context` puts it on the audit events.
#[derive(Clone, Copy)]
pub struct KeyedAttempt(pub Uuid);

/// 1 to 255 visible ASCII characters, with spaces only inside (the spec's pattern).
fn valid_idempotency_key(raw: &[u8]) -> bool {
    let visible = |b: &u8| b.is_ascii_graphic();
    !raw.is_empty()
        && raw.len() <= 255
        && raw.first().is_some_and(visible)
        && raw.last().is_some_and(visible)
        && raw.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
}

/// Responses that depend on who asks or on load rather than on the request are not kept.
fn worth_keeping(status: StatusCode) -> bool {
    !(status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || status == StatusCode::TOO_MANY_REQUESTS)
}

const KEPT_HEADERS: &[&str] = &["content-type", "location", "etag"];

/// Makes every authenticated `POST` that carries `Idempotency-Key` safe to retry: the first
/// response is kept for 24 hours per organisation, user and key and replayed with
/// `Idempotent-Replayed: true`; the same key with another body is a 422; a duplicate that arrives
/// while the first is still running is a 409.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Signup, login and refresh answer fresh credentials; keeping those for replay would store
    // secrets, so the authentication endpoints ignore the header.
    if req.method() != Method::POST
        || !req.headers().contains_key(IDEMPOTENCY_KEY_HEADER)
        || req.path().starts_with("/api/v1/auth/")
    {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    // Only an authenticated caller has a scope to keep keys in; without a valid token the
    // request goes on and is refused by its handler.
    let Some((organization_id, user_id)) = bearer_token(req.request()).and_then(|t| state.tokens.verify(t).ok()) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    // A deactivated user's token must not replay anything either.
    match state.principals.principal(&*state.store, organization_id, user_id).await {
        // The handler's `Caller` extractor takes this principal instead of reading it again.
        Ok(Some(principal)) => {
            req.extensions_mut().insert(crate::auth::Caller(principal));
        }
        Ok(None) => return next.call(req).await.map(ServiceResponse::map_into_boxed_body),
        Err(error) => return Ok(req.error_response(ApiError::from(error)).map_into_boxed_body()),
    }
    let key = match req.headers().get(IDEMPOTENCY_KEY_HEADER).map(|v| v.as_bytes()) {
        Some(raw) if valid_idempotency_key(raw) => String::from_utf8_lossy(raw).into_owned(),
        _ => {
            let error =
                ApiError::bad_param("Idempotency-Key", "invalid_header", "must be 1 to 255 visible ASCII characters");
            return Ok(req.error_response(error).map_into_boxed_body());
        }
    };
    let body = match req.extract::<web::Bytes>().await {
        Ok(body) => body,
        Err(_) => {
            return Ok(req.error_response(ApiError::PayloadTooLarge { limit: BODY_LIMIT }).map_into_boxed_body());
        }
    };
    let mut fingerprint = Vec::with_capacity(body.len() + 64);
    fingerprint.extend_from_slice(req.method().as_str().as_bytes());
    fingerprint.push(b' ');
    fingerprint.extend_from_slice(req.uri().path().as_bytes());
    fingerprint.push(b'?');
    fingerprint.extend_from_slice(req.uri().query().unwrap_or("").as_bytes());
    fingerprint.push(b'\n');
    fingerprint.extend_from_slice(&body);
    let request_hash = sha256_hex(&fingerprint);
    req.set_payload(Payload::from(body));

    let scope = IdempotencyScope { organization_id, user_id, key };
    let attempt = IdempotencyAttempt { attempt_id: Uuid::now_v7(), instance_id: state.instance_id };
    let at = now();
    let times = ClaimTimes {
        now: at,
        expired_before: at - Duration::hours(24),
        abandoned_before: at - Duration::minutes(5),
        silent_since: at - SILENCE,
    };
    let claim = match state.store.claim_idempotency_key(&scope, &request_hash, &attempt, &times).await {
        Ok(claim) => claim,
        Err(error) => {
            // The claim may have committed although its answer was lost (the database went away
            // during the commit). This process is alive, so nothing else would free such a claim
            // for five minutes and every retry would be told 409: free it like a failed request's.
            state.unreleased.remember(scope, attempt.attempt_id);
            return Ok(req.error_response(ApiError::from(error)).map_into_boxed_body());
        }
    };
    match claim {
        IdempotencyClaim::Existing { request_hash: stored_hash, .. } if stored_hash != request_hash => {
            let error = ApiError::Unprocessable {
                code: ProblemCode::IdempotencyKeyReused,
                detail: "this Idempotency-Key was already used with a different request; use a new key".to_owned(),
            };
            Ok(req.error_response(error).map_into_boxed_body())
        }
        IdempotencyClaim::Existing { response: Some(stored), .. } => {
            let mut builder = HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
            for (name, value) in &stored.headers {
                builder.insert_header((name.as_str(), value.as_str()));
            }
            builder.insert_header((IDEMPOTENT_REPLAYED_HEADER, "true"));
            let response = builder.body(stored.body);
            Ok(req.into_response(response))
        }
        IdempotencyClaim::Existing { committed: true, attempt_id: Some(committed), .. } => {
            answer_committed(req, next, &state, &scope, committed).await
        }
        IdempotencyClaim::Existing { .. } => {
            let error = ApiError::Conflict {
                code: ProblemCode::IdempotencyInProgress,
                detail: "a request with this Idempotency-Key is still being processed; retry shortly".to_owned(),
            };
            let mut response = req.error_response(error);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Ok(response.map_into_boxed_body())
        }
        IdempotencyClaim::Acquired => run_and_keep(req, next, &state, &scope, attempt.attempt_id).await,
    }
}

/// Runs the request as `attempt_id` and keeps its response (or frees the key after a server error).
async fn run_and_keep(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    state: &AppState,
    scope: &IdempotencyScope,
    attempt_id: Uuid,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    req.extensions_mut().insert(KeyedAttempt(attempt_id));
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            release(state, scope, attempt_id).await;
            return Err(error);
        }
    };
    if !worth_keeping(response.status()) {
        release(state, scope, attempt_id).await;
        return Ok(response.map_into_boxed_body());
    }
    keep(state, scope, attempt_id, response.map_into_boxed_body()).await
}

/// Frees the key, unless the attempt's write committed (a response lost after the commit is
/// rebuilt by the next retry instead). When the database cannot be reached (the very failure the
/// request may have met), the claim is remembered and freed by the heartbeat once it can: this
/// process is alive, so nothing else would free it before the claim expires.
async fn release(state: &AppState, scope: &IdempotencyScope, attempt_id: Uuid) {
    if let Err(error) = state.store.release_idempotency_key(scope, attempt_id).await {
        tracing::warn!(error = %error, "could not release an idempotency key; retrying with the heartbeat");
        state.unreleased.remember(scope.clone(), attempt_id);
    }
}

/// Claims this process could not free when their request failed, freed again with each
/// heartbeat. Bounded: past `MAX` the oldest are forgotten, and expire on their own.
#[derive(Default)]
pub struct UnreleasedClaims(std::sync::Mutex<std::collections::VecDeque<(IdempotencyScope, Uuid)>>);

impl UnreleasedClaims {
    const MAX: usize = 10_000;

    fn claims(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(IdempotencyScope, Uuid)>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, scope: IdempotencyScope, attempt_id: Uuid) {
        let mut claims = self.claims();
        if claims.len() >= Self::MAX {
            claims.pop_front();
        }
        claims.push_back((scope, attempt_id));
    }

    /// How many claims wait to be freed.
    pub fn len(&self) -> usize {
        self.claims().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tries to free every remembered claim; those that still fail stay for the next time.
    pub async fn retry(&self, store: &dyn crm_domain::ports::Store) {
        let pending: Vec<(IdempotencyScope, Uuid)> = self.claims().drain(..).collect();
        for (index, (scope, attempt_id)) in pending.iter().enumerate() {
            if store.release_idempotency_key(scope, *attempt_id).await.is_err() {
                // Still unreachable: keep this one and the rest, in order, for the next beat.
                let mut claims = self.claims();
                for claim in pending[index..].iter().rev() {
                    claims.push_front(claim.clone());
                }
                return;
            }
        }
    }
}

/// Buffers the response, keeps it for the key's replays, and answers it.
async fn keep(
    state: &AppState,
    scope: &IdempotencyScope,
    attempt_id: Uuid,
    response: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let status = response.status();
    let (request, response) = response.into_parts();
    let headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            response.headers().get(*name).and_then(|v| v.to_str().ok()).map(|v| ((*name).to_owned(), v.to_owned()))
        })
        .collect();
    let mut head = HttpResponse::build(status);
    for (name, value) in response.headers() {
        head.append_header((name.clone(), value.clone()));
    }
    let body = match actix_web::body::to_bytes(response.into_body()).await {
        Ok(body) => body,
        Err(_) => {
            release(state, scope, attempt_id).await;
            let error = ApiError::internal("could not buffer a response body");
            return Ok(ServiceResponse::new(request, actix_web::ResponseError::error_response(&error)));
        }
    };
    let stored = StoredResponse { status: status.as_u16(), headers, body: body.to_vec() };
    if let Err(error) = state.store.complete_idempotency_key(scope, attempt_id, &stored).await {
        tracing::warn!(error = %error, "could not keep an idempotent response");
    }
    Ok(ServiceResponse::new(request, head.body(body)))
}
