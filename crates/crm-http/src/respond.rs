//! Shared response and update machinery: JSON bodies with ETag and Location, and the
//! read–check–apply–save loop every PATCH, archive and restore goes through.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use crm_domain::audit::AuditContext;
use crm_domain::user::Principal;
use serde::Serialize;

use crate::conventions::{IfMatch, Tag, etag, if_none_match_hits};
use crate::middleware::RequestId;
use crate::problem::ApiError;

/// A JSON body with the record's ETag.
pub fn with_etag(status: StatusCode, body: &impl Serialize, tag: impl Into<Tag>) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::ETAG, etag(tag))).json(body)
}

/// 201 with `Location` and `ETag`.
pub fn created(location: String, body: &impl Serialize, tag: impl Into<Tag>) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(tag)))
        .json(body)
}

/// 200 with the record, or 304 when `If-None-Match` already names its version.
///
/// # Errors
/// 400 when `If-None-Match` is malformed.
pub fn read(req: &HttpRequest, body: &impl Serialize, tag: impl Into<Tag>) -> Result<HttpResponse, ApiError> {
    let tag = tag.into();
    if if_none_match_hits(req, tag)? {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag(tag))).finish());
    }
    Ok(with_etag(StatusCode::OK, body, tag))
}

/// The audit context of a request made by `principal`.
pub fn audit_context(req: &HttpRequest, principal: &Principal) -> AuditContext {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let idempotency_attempt = req.extensions().get::<crate::idempotency::KeyedAttempt>().map(|a| a.0);
    AuditContext {
        organization_id: principal.organization_id,
        actor_id: principal.user_id,
        request_id,
        idempotency_attempt,
    }
}

/// How many times a change is re-applied when another writer got in first and the client did
/// not pin a version with `If-Match`.
const ATTEMPTS: usize = 3;

/// Reads a record, checks `If-Match`, applies and saves a change. When the save loses a race
/// (another writer bumped the version), a request without `If-Match` is re-applied to the fresh
/// record; one with `If-Match` gets 412.
pub async fn update_with_retry<T, R>(
    if_match: &IfMatch,
    load: impl AsyncFn() -> Result<T, ApiError>,
    version_of: impl Fn(&T) -> i64,
    apply_and_save: impl AsyncFn(T) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = load().await?;
        if_match.check(version_of(&current))?;
        match apply_and_save(current).await {
            Err(ApiError::PreconditionFailed { .. }) if !if_match.is_present() && attempt < ATTEMPTS => {
                continue;
            }
            outcome => return outcome,
        }
    }
}
