//! The audit trail, for admins and managers.

use actix_web::{HttpResponse, get, web};
use crm_domain::audit::{AuditEvent, AuditFilter, AuditValue};
use crm_domain::permissions::{Action, Resource, authorize};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{encode_cursor, field_to_bad_request, fixed_order_window, parse_uuid, timestamp};
use crate::problem::ApiError;
use crate::state::AppState;

const AUDIT_SORT: &str = "-occurred_at";

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldChangeResponse {
    #[schema(example = "status")]
    pub field: String,
    /// The value before (`null` for a creation).
    #[schema(example = "new")]
    pub old: serde_json::Value,
    #[schema(example = "contacted")]
    pub new: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    pub id: Uuid,
    /// The user who acted.
    pub actor_id: Option<Uuid>,
    #[schema(example = "update")]
    pub action: &'static str,
    #[schema(example = "lead")]
    pub entity_type: String,
    pub entity_id: Uuid,
    pub changes: Vec<FieldChangeResponse>,
    /// The `X-Request-Id` of the request that made the change.
    pub request_id: Option<String>,
    #[schema(format = DateTime)]
    pub occurred_at: String,
}

/// An audit value as the API shows it: text, numbers, booleans and `null` as themselves, a JSON
/// document (custom fields) as that document, lists as arrays and named parts (an address, an
/// amount of money) as an object in their order.
pub(crate) fn json_value(value: &AuditValue) -> serde_json::Value {
    match value {
        AuditValue::Null => serde_json::Value::Null,
        AuditValue::Text(text) => serde_json::Value::String(text.clone()),
        AuditValue::Integer(n) => serde_json::Value::from(*n),
        AuditValue::Bool(b) => serde_json::Value::Bool(*b),
        AuditValue::Json(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.clone()))
        }
        AuditValue::List(items) => serde_json::Value::Array(items.iter().map(json_value).collect()),
        AuditValue::Object(parts) => {
            serde_json::Value::Object(parts.iter().map(|(k, v)| (k.clone(), json_value(v))).collect())
        }
    }
}

impl From<&AuditEvent> for AuditEventResponse {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id,
            actor_id: event.actor_id,
            action: event.action.as_str(),
            entity_type: event.entity_type.clone(),
            entity_id: event.entity_id,
            changes: event
                .changes
                .iter()
                .map(|c| FieldChangeResponse {
                    field: c.field.clone(),
                    old: json_value(&c.old),
                    new: json_value(&c.new),
                })
                .collect(),
            request_id: event.request_id.clone().filter(|r| !r.is_empty()),
            occurred_at: timestamp(event.occurred_at),
        }
    }
}

/// A page of audit events.
pub type AuditEventList = crate::resource::Page<AuditEventResponse>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Such as `lead` or `user`.
    #[param(max_length = 50, pattern = "^[a-z_]+$")]
    pub entity_type: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub entity_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub actor_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// An entity type as the spec allows it: 1 to 50 lower-case letters and underscores.
fn parse_entity_type(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        None => Ok(None),
        Some(t) if !t.is_empty() && t.len() <= 50 && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => {
            Ok(Some(t))
        }
        Some(_) => Err(ApiError::bad_param(
            "entity_type",
            "invalid_value",
            "must be 1 to 50 lower-case letters or underscores, such as lead",
        )),
    }
}

/// Read the audit trail, newest first (admins and managers)
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, body = AuditEventList)), security(("bearer" = [])))]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::AuditEvent, Action::Read, true)?;
    let query = query.into_inner();
    let parse_id = |field: &str, raw: Option<&str>| {
        raw.map(|r| parse_uuid(field, r.trim()).map_err(field_to_bad_request)).transpose()
    };
    let filter = AuditFilter {
        entity_type: parse_entity_type(query.entity_type)?,
        entity_id: parse_id("entity_id", query.entity_id.as_deref())?,
        actor_id: parse_id("actor_id", query.actor_id.as_deref())?,
    };
    let window = fixed_order_window(query.limit.as_deref(), query.cursor.as_deref(), AUDIT_SORT)?;
    let page = state.store.list_audit_events(caller.0.organization_id, &filter, &window).await?;
    let next_cursor = page.next.as_ref().map(|p| encode_cursor(AUDIT_SORT, p));
    Ok(AuditEventList::respond(page.items.iter().map(AuditEventResponse::from).collect(), next_cursor))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(list_audit_events);
}
