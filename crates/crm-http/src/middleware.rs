//! Middleware shared by every route: request ids and request logs, and deadlines (idempotent
//! POSTs are in `idempotency`).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use crate::problem::{ApiError, REQUEST_ID};
use crate::state::AppState;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

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
