//! Middleware shared by every route: request ids and request logs, deadlines, and idempotent POSTs.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::Duration;
use crm_domain::ports::{IdempotencyClaim, IdempotencyScope, StoredResponse};
use tracing::Instrument;

use crate::auth::{bearer_token, sha256_hex};
use crate::conventions::now;
use crate::extract::BODY_LIMIT;
use crate::problem::{ApiError, ProblemCode, REQUEST_ID};
use crate::state::AppState;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
pub const IDEMPOTENCY_KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The request id of a request: the incoming `X-Request-Id` when it is a sane token, else a new
/// UUIDv7.
#[derive(Clone)]
pub struct RequestId(pub String);

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?.trim();
    let sane = !value.is_empty() && value.len() <= 200 && value.bytes().all(|b| b.is_ascii_graphic());
    sane.then(|| value.to_owned())
}

/// Gives every request an id (kept from `X-Request-Id` or generated), a tracing span, a log line
/// when it ends, and the id back in the response.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    // Inner middleware and handlers turn their errors into responses themselves, inside this
    // scope, so that problem bodies carry the request id.
    // An inner middleware that has no request left to answer with (the deadline) answers an
    // error; it is rendered here, in the scope, and completed like any response.
    let outcome = REQUEST_ID
        .scope(id.clone(), async {
            match next.call(req).instrument(span.clone()).await {
                Ok(response) => Ok(response.map_into_boxed_body()),
                Err(error) => Err((error.error_response(), error)),
            }
        })
        .await;
    let log = |status: StatusCode| {
        let elapsed_ms = rounded_milliseconds(started.elapsed());
        span.in_scope(|| {
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), elapsed_ms, "request finished");
            } else {
                tracing::info!(status = status.as_u16(), elapsed_ms, "request finished");
            }
        });
    };
    let with_id = |headers: &mut actix_web::http::header::HeaderMap| {
        if let Ok(value) = HeaderValue::from_str(&id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
    };
    match outcome {
        Ok(mut response) => {
            log(response.status());
            with_id(response.headers_mut());
            Ok(response)
        }
        Err((mut response, error)) => {
            log(response.status());
            with_id(response.headers_mut());
            Err(actix_web::error::InternalError::from_response(error.to_string(), response).into())
        }
    }
}

/// A duration in milliseconds to the microsecond, so that the log says `0.543`, not
/// `0.5425869999999999` (Rust prints the shortest text that reads back as the same float).
pub fn rounded_milliseconds(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

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
/// How long a request may take: reports, which aggregate over the data, have a longer deadline
/// than the rest.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub request: std::time::Duration,
    pub report: std::time::Duration,
}

/// Answers 503 with `Retry-After` when the handler has not finished by the request's deadline;
/// the handler is dropped, which rolls back the transaction it had open. It runs inside the
/// idempotency middleware, which then releases the key as for any 5xx.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(deadlines) = req.app_data::<web::Data<AppState>>().map(|state| state.deadlines) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let limit = if req.path().starts_with("/api/v1/reports/") { deadlines.report } else { deadlines.request };
    // The request cannot be kept aside to answer with (a clone of it would stop the router from
    // filling in its path parameters), so the answer is an error, which `request_id` completes.
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(response) => response.map(ServiceResponse::map_into_boxed_body),
        Err(_) => Err(ApiError::Busy {
                detail: format!(
                    "the request did not finish within its deadline of {} ms (the database may be busy or locked); a write may or may not have taken effect, so read before you retry it",
                    limit.as_millis()
                ),
            retry_after_seconds: 2,
        }
        .into()),
    }
}

pub async fn idempotency(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    idempotent(req, next).await
}

async fn idempotent(
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
    req.set_payload(actix_web::dev::Payload::from(body));

    let scope = IdempotencyScope { organization_id, user_id, key };
    let at = now();
    let claim = match state
        .store
        .claim_idempotency_key(&scope, &request_hash, at, at - Duration::hours(24), at - Duration::minutes(5))
        .await
    {
        Ok(claim) => claim,
        Err(error) => {
            return Ok(req.error_response(ApiError::from(error)).map_into_boxed_body());
        }
    };
    match claim {
        IdempotencyClaim::Existing { request_hash: stored_hash, response } => {
            if stored_hash != request_hash {
                let error = ApiError::Unprocessable {
                    code: ProblemCode::IdempotencyKeyReused,
                    detail: "this Idempotency-Key was already used with a different request; use a new key".to_owned(),
                };
                return Ok(req.error_response(error).map_into_boxed_body());
            }
            let Some(stored) = response else {
                let error = ApiError::Conflict {
                    code: ProblemCode::IdempotencyInProgress,
                    detail: "a request with this Idempotency-Key is still being processed; retry shortly".to_owned(),
                };
                return Ok(req.error_response(error).map_into_boxed_body());
            };
            let mut builder = HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
            for (name, value) in &stored.headers {
                builder.insert_header((name.as_str(), value.as_str()));
            }
            builder.insert_header((IDEMPOTENT_REPLAYED_HEADER, "true"));
            let response = builder.body(stored.body);
            Ok(req.into_response(response))
        }
        IdempotencyClaim::Acquired => {
            let outcome = next.call(req).await;
            let response = match outcome {
                Ok(response) => response,
                Err(error) => {
                    let _ = state.store.release_idempotency_key(&scope).await;
                    return Err(error);
                }
            };
            let status = response.status();
            if !worth_keeping(status) {
                if let Err(error) = state.store.release_idempotency_key(&scope).await {
                    tracing::warn!(error = %error, "could not release an idempotency key");
                }
                return Ok(response.map_into_boxed_body());
            }
            let (request, response) = response.into_parts();
            let headers: Vec<(String, String)> = KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    response
                        .headers()
                        .get(*name)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| ((*name).to_owned(), v.to_owned()))
                })
                .collect();
            let mut head = HttpResponse::build(status);
            for (name, value) in response.headers() {
                head.append_header((name.clone(), value.clone()));
            }
            let body = match actix_web::body::to_bytes(response.into_body()).await {
                Ok(body) => body,
                Err(_) => {
                    let _ = state.store.release_idempotency_key(&scope).await;
                    let error = ApiError::internal("could not buffer a response body");
                    return Ok(ServiceResponse::new(request, actix_web::ResponseError::error_response(&error)));
                }
            };
            let stored = StoredResponse { status: status.as_u16(), headers, body: body.to_vec() };
            if let Err(error) = state.store.complete_idempotency_key(&scope, &stored).await {
                tracing::warn!(error = %error, "could not keep an idempotent response");
            }
            Ok(ServiceResponse::new(request, head.body(body)))
        }
    }
}
