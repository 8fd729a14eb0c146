//! The answer to a retry of an attempt whose write committed but whose response was lost (the
//! process died between the commit and keeping the response): rebuilt by reading what the
//! attempt wrote.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode, Uri};
use actix_web::middleware::Next;
use crm_domain::audit::AuditAction;
use crm_domain::ports::{AttemptWrite, IdempotencyScope};
use uuid::Uuid;

use super::{IDEMPOTENT_REPLAYED_HEADER, keep};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// Answers a retry of an attempt whose write committed but whose response was lost: reads what it
/// wrote, through the route that reads it, as its original answer would have shown it.
pub(super) async fn answer_committed(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    state: &AppState,
    scope: &IdempotencyScope,
    attempt_id: Uuid,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writes = match state.store.attempt_outcome(scope.organization_id, attempt_id).await {
        Ok(writes) => writes,
        Err(error) => return Ok(req.error_response(ApiError::from(error)).map_into_boxed_body()),
    };
    match replay_plan(req.path(), &writes) {
        Replay::Read { path, created } => {
            let Ok(uri) = path.parse::<Uri>() else {
                return Ok(req
                    .error_response(ApiError::internal("a replay path that is not a URI"))
                    .map_into_boxed_body());
            };
            // The router has not run yet: the request becomes the GET of what was written.
            req.head_mut().method = Method::GET;
            req.head_mut().uri = uri.clone();
            req.match_info_mut().get_mut().update(&uri);
            for name in [header::IF_MATCH, header::IF_NONE_MATCH, header::CONTENT_TYPE, header::CONTENT_LENGTH] {
                req.headers_mut().remove(name);
            }
            req.set_payload(Payload::None);
            let mut response = next.call(req).await?.map_into_boxed_body();
            if response.status() != StatusCode::OK {
                return Ok(response);
            }
            if created {
                *response.response_mut().status_mut() = StatusCode::CREATED;
                if let Ok(location) = HeaderValue::from_str(&path) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
            }
            response.headers_mut().insert(IDEMPOTENT_REPLAYED_HEADER, HeaderValue::from_static("true"));
            keep(state, scope, attempt_id, response).await
        }
        Replay::Applied { location } => {
            let error = ApiError::Conflict {
                code: ProblemCode::IdempotentRequestApplied,
                detail: format!(
                    "the request with this Idempotency-Key took effect, but its response was lost when the server stopped and cannot be rebuilt for this route; read {location} instead of retrying"
                ),
            };
            let mut response = req.error_response(error);
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response.headers_mut().insert(IDEMPOTENT_REPLAYED_HEADER, HeaderValue::from_static("true"));
            Ok(response.map_into_boxed_body())
        }
    }
}

/// How the answer of a committed attempt is rebuilt.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    /// Read `path` (a GET of the route that reads what was written); a creation answers 201 with
    /// `Location: path`.
    Read { path: String, created: bool },
    /// The answer combined several records and is not rebuilt: 409 `idempotent_request_applied`
    /// pointing at `location`.
    Applied { location: String },
}

/// The record type a collection's POST creates, as the audit trail names it.
fn created_type(collection: &str) -> Option<&'static str> {
    Some(match collection {
        "leads" => "lead",
        "accounts" => "account",
        "contacts" => "contact",
        "opportunities" => "opportunity",
        "products" => "product",
        "competitors" => "competitor",
        "activities" => "activity",
        "quotes" => "quote",
        "orders" => "order",
        "invoices" => "invoice",
        "users" => "user",
        _ => return None,
    })
}

fn created(writes: &[AttemptWrite], entity_type: &str) -> Option<Uuid> {
    writes.iter().find(|w| w.action == AuditAction::Create && w.entity_type == entity_type).map(|w| w.entity_id)
}

/// How to answer a retry of `POST path` whose attempt committed `writes`.
pub fn replay_plan(path: &str, writes: &[AttemptWrite]) -> Replay {
    const BASE: &str = "/api/v1";
    let segments: Vec<&str> = path.trim_start_matches(BASE).trim_matches('/').split('/').collect();
    let read = |path: String, created: bool| Replay::Read { path, created };
    match segments.as_slice() {
        [collection] => match created_type(collection).and_then(|t| created(writes, t)) {
            Some(id) => read(format!("{BASE}/{collection}/{id}"), true),
            None => Replay::Applied { location: format!("{BASE}/{collection}") },
        },
        ["competitors", competitor, "products"] => match created(writes, "competitor_product") {
            Some(id) => read(format!("{BASE}/competitors/{competitor}/products/{id}"), true),
            None => Replay::Applied { location: format!("{BASE}/competitors/{competitor}/products") },
        },
        ["orders", order, "invoice"] => match created(writes, "invoice") {
            Some(id) => read(format!("{BASE}/invoices/{id}"), true),
            None => Replay::Applied { location: format!("{BASE}/orders/{order}") },
        },
        // Answers that hold several records: the conversion's four, the accepted quote and its
        // order, the payment and its invoice.
        ["leads", lead, "convert"] => Replay::Applied { location: format!("{BASE}/leads/{lead}") },
        ["quotes", quote, "accept"] => match created(writes, "order") {
            Some(order) => Replay::Applied { location: format!("{BASE}/orders/{order}") },
            None => Replay::Applied { location: format!("{BASE}/quotes/{quote}") },
        },
        ["invoices", invoice, "payments"] => Replay::Applied { location: format!("{BASE}/invoices/{invoice}") },
        // An action answers the record it acted on.
        [collection, id, _action] => read(format!("{BASE}/{collection}/{id}"), false),
        _ => Replay::Applied { location: path.to_owned() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(action: AuditAction, entity_type: &str, id: u128) -> AttemptWrite {
        AttemptWrite { action, entity_type: entity_type.to_owned(), entity_id: Uuid::from_u128(id) }
    }

    #[test]
    fn a_creation_is_answered_by_reading_what_it_created() {
        let id = Uuid::from_u128(7);
        assert_eq!(
            replay_plan("/api/v1/leads", &[write(AuditAction::Create, "lead", 7)]),
            Replay::Read { path: format!("/api/v1/leads/{id}"), created: true }
        );
        // The order made by accepting a quote is not what a POST /orders creates.
        assert_eq!(
            replay_plan(
                "/api/v1/invoices",
                &[write(AuditAction::Update, "order", 1), write(AuditAction::Create, "invoice", 7)]
            ),
            Replay::Read { path: format!("/api/v1/invoices/{id}"), created: true }
        );
        assert_eq!(
            replay_plan("/api/v1/orders/o1/invoice", &[write(AuditAction::Create, "invoice", 7)]),
            Replay::Read { path: format!("/api/v1/invoices/{id}"), created: true }
        );
    }

    #[test]
    fn an_action_is_answered_by_reading_its_record() {
        assert_eq!(
            replay_plan("/api/v1/opportunities/abc/close", &[write(AuditAction::Update, "opportunity", 1)]),
            Replay::Read { path: "/api/v1/opportunities/abc".to_owned(), created: false }
        );
        assert_eq!(
            replay_plan("/api/v1/leads/abc/convert", &[write(AuditAction::Update, "lead", 1)]),
            Replay::Applied { location: "/api/v1/leads/abc".to_owned() }
        );
    }
}
