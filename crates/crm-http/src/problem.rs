//! Problem responses (RFC 9457): the one error type every handler, extractor and middleware
//! returns. Server errors are logged with their whole cause chain and the request id, and answer
//! an opaque body; no SQL or internal text ever reaches a client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use crm_domain::{FieldError, RepoError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::problem_codes::ProblemCode;

tokio::task_local! {
    /// The id of the request being served, set by the request-id middleware so that a problem
    /// body built anywhere below it can carry the id.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// One rejected field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field, as a JSON path into the body or the name of a query or path parameter.
    #[schema(example = "email")]
    pub field: String,
    /// A stable machine code such as `invalid_email`, `too_long`, `required`.
    #[schema(example = "invalid_email")]
    pub code: String,
    #[schema(example = "must be an email address such as ada@example.com")]
    pub message: String,
}

/// An RFC 9457 problem document; served as `application/problem+json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:crm:problem:<code>`.
    #[schema(example = "urn:crm:problem:validation_failed")]
    #[serde(rename = "type")]
    pub problem_type: String,
    #[schema(example = "The request body has invalid fields")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "email: must be an email address such as ada@example.com")]
    pub detail: String,
    /// A stable machine code; clients branch on it, never on `title` or `detail`.
    #[schema(schema_with = crate::problem_codes::code_schema)]
    pub code: &'static str,
    /// The request's `X-Request-Id`, to quote when reporting a problem.
    #[schema(example = "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80")]
    pub request_id: String,
    /// Every rejected field, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemField>>,
    /// For a duplicate: the id of the record that already holds the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<uuid::Uuid>,
}

/// Everything a request can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request itself is malformed (bad JSON, unknown query parameter, bad cursor).
    BadRequest {
        code: ProblemCode,
        detail: String,
        errors: Option<Vec<ProblemField>>,
    },
    /// 401, with `WWW-Authenticate: Bearer`.
    Unauthorized {
        detail: String,
    },
    Forbidden {
        detail: String,
    },
    NotFound {
        detail: String,
    },
    MethodNotAllowed {
        allow: Vec<String>,
    },
    /// 409: a conflict or an illegal state change.
    Conflict {
        code: ProblemCode,
        detail: String,
    },
    /// 409 `duplicate` (or a more specific code such as `already_invoiced`): another record
    /// already holds a unique value; `existing_id` names it.
    DuplicateOf {
        code: ProblemCode,
        field: &'static str,
        existing_id: uuid::Uuid,
    },
    /// 412: `If-Match` no longer matches.
    PreconditionFailed {
        current_version: Option<i64>,
    },
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    /// 415: the body is sent with a `Content-Encoding` the server does not decode.
    UnsupportedEncoding {
        encoding: String,
    },
    /// 422: the body is well-formed but fields are invalid.
    Validation {
        detail: Option<String>,
        errors: ValidationErrors,
    },
    /// 422 with a specific code (for example an idempotency key reused with another body).
    Unprocessable {
        code: ProblemCode,
        detail: String,
    },
    TooManyRequests {
        retry_after_seconds: u64,
    },
    /// 503 for a reason a client may be told (every password hashing thread busy, a request
    /// past its deadline), with the seconds to wait.
    Busy {
        detail: String,
        retry_after_seconds: u64,
    },
    /// 503: the database is unreachable or has no free connection.
    Unavailable {
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// 500: a bug. The cause is logged, never shown.
    Internal {
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ApiError {
    /// 422 `unknown_reference` on `field`: the request names a record the organisation does not hold.
    pub fn unknown_reference(field: &str) -> Self {
        Self::Validation {
            detail: None,
            errors: FieldError::new(field, "unknown_reference", "no such record exists in your organization").into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound { detail: format!("no {what} with this id exists in your organization") }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal { cause: cause.into() }
    }

    pub fn bad_param(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            code: ProblemCode::InvalidParameter,
            detail: format!("{field}: {message}"),
            errors: Some(vec![ProblemField { field: field.to_owned(), code: code.to_owned(), message }]),
        }
    }

    fn parts(&self) -> (ProblemCode, &'static str, String) {
        match self {
            Self::BadRequest { code, detail, .. } => (*code, "The request is malformed", detail.clone()),
            Self::Unauthorized { detail } => (ProblemCode::Unauthorized, "Authentication is required", detail.clone()),
            Self::Forbidden { detail } => (ProblemCode::Forbidden, "You may not do this", detail.clone()),
            Self::NotFound { detail } => (ProblemCode::NotFound, "Not found", detail.clone()),
            Self::MethodNotAllowed { allow } => {
                (ProblemCode::MethodNotAllowed, "Method not allowed", format!("this path allows: {}", allow.join(", ")))
            }
            Self::Conflict { code, detail } => (*code, "Conflict", detail.clone()),
            Self::DuplicateOf { code, field, existing_id } => {
                (*code, "Conflict", format!("{field}: the record {existing_id} already has this value"))
            }
            Self::PreconditionFailed { current_version } => (
                ProblemCode::PreconditionFailed,
                "The record changed since you read it",
                match current_version {
                    Some(v) => format!(
                        "If-Match does not match the current version (now {v}); read the record again and retry"
                    ),
                    None => "If-Match does not match the current version; read the record again and retry".to_owned(),
                },
            ),
            Self::PayloadTooLarge { limit } => (
                ProblemCode::PayloadTooLarge,
                "The request body is too large",
                format!("request bodies are limited to {limit} bytes"),
            ),
            Self::UnsupportedMediaType => (
                ProblemCode::UnsupportedMediaType,
                "Unsupported media type",
                "send the body as JSON with Content-Type: application/json".to_owned(),
            ),
            Self::UnsupportedEncoding { encoding } => (
                ProblemCode::UnsupportedMediaType,
                "Unsupported media type",
                format!("Content-Encoding {encoding:?} is not supported: send the body as is, or with gzip"),
            ),
            Self::Validation { detail, errors } => (
                ProblemCode::ValidationFailed,
                "The request has invalid fields",
                detail.clone().unwrap_or_else(|| {
                    errors.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
                }),
            ),
            Self::Unprocessable { code, detail } => (*code, "The request cannot be processed", detail.clone()),
            Self::TooManyRequests { retry_after_seconds } => {
                (ProblemCode::RateLimited, "Too many requests", format!("retry in {retry_after_seconds} seconds"))
            }
            Self::Busy { detail, .. } => {
                (ProblemCode::ServiceUnavailable, "The service is temporarily unavailable", detail.clone())
            }
            Self::Unavailable { .. } => (
                ProblemCode::ServiceUnavailable,
                "The service is temporarily unavailable",
                "the database is busy or unreachable; retry shortly".to_owned(),
            ),
            Self::Internal { .. } => (
                ProblemCode::InternalError,
                "Internal server error",
                "an unexpected error occurred; quote the request_id when reporting it".to_owned(),
            ),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (code, title, detail) = self.parts();
        let errors = match self {
            Self::BadRequest { errors, .. } => errors.clone(),
            Self::Validation { errors, .. } => Some(
                errors
                    .0
                    .iter()
                    .map(|e| ProblemField {
                        field: e.field.clone(),
                        code: e.code.to_owned(),
                        message: e.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        Problem {
            problem_type: format!("urn:crm:problem:{code}"),
            title: title.to_owned(),
            status: code.status(),
            detail,
            code: code.as_str(),
            request_id: current_request_id(),
            errors,
            existing_id: match self {
                Self::DuplicateOf { existing_id, .. } => Some(*existing_id),
                _ => None,
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (code, _, detail) = self.parts();
        write!(f, "{} {code}: {detail}", code.status())
    }
}

/// Writes an error and every `source()` beneath it on one line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.parts().0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal { cause } => {
                tracing::error!(request_id = %current_request_id(), error = %error_chain(cause.as_ref()), "request failed");
            }
            Self::Unavailable { cause } => {
                tracing::warn!(request_id = %current_request_id(), error = %error_chain(cause.as_ref()), "unavailable");
            }
            _ => {}
        }
        let problem = self.to_problem();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        match self {
            Self::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"crm\"")));
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Self::TooManyRequests { retry_after_seconds } | Self::Busy { retry_after_seconds, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            Self::Unavailable { .. } => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("2")));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        response.body(body)
    }
}

impl From<RepoError> for ApiError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::NotFound => {
                Self::NotFound { detail: "no record with this id exists in your organization".to_owned() }
            }
            RepoError::Duplicate { field } => Self::Conflict {
                code: ProblemCode::Duplicate,
                detail: format!("{field}: another record already uses this value"),
            },
            RepoError::VersionMismatch { current } => Self::PreconditionFailed { current_version: Some(current) },
            RepoError::MissingReference { field } => Self::unknown_reference(field),
            RepoError::Unavailable(cause) => Self::Unavailable { cause },
            RepoError::Internal(cause) => Self::Internal { cause },
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation { detail: None, errors }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::Validation { detail: None, errors: error.into() }
    }
}

impl From<crm_domain::permissions::Forbidden> for ApiError {
    fn from(error: crm_domain::permissions::Forbidden) -> Self {
        Self::Forbidden { detail: error.to_string() }
    }
}
