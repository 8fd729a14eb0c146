//! Audit events: who changed what, when, through which request.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::string_enum;

string_enum!(
    AuditAction {
        Create => "create",
        Update => "update",
        Archive => "archive",
        Restore => "restore",
        Delete => "delete",
    }
);

/// A field's value as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditValue {
    Null,
    Text(String),
    Integer(i64),
    Bool(bool),
    /// A JSON document, as its serialised text.
    Json(String),
    List(Vec<AuditValue>),
    /// Named parts, in order (an address, an amount of money).
    Object(Vec<(String, AuditValue)>),
}

impl AuditValue {
    pub fn text(value: impl std::fmt::Display) -> Self {
        Self::Text(value.to_string())
    }

    pub fn optional<T: std::fmt::Display>(value: Option<&T>) -> Self {
        value.map_or(Self::Null, |v| Self::Text(v.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub old: AuditValue,
    pub new: AuditValue,
}

impl FieldChange {
    pub fn new(field: &str, old: AuditValue, new: AuditValue) -> Self {
        Self { field: field.to_owned(), old, new }
    }
}

/// Who is acting and through which request; every write carries it into its audit event.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub organization_id: Uuid,
    pub actor_id: Uuid,
    pub request_id: String,
    /// The attempt of a request sent with `Idempotency-Key`: its audit events carry it, which
    /// marks the key's claim as committed in the same transaction as the write.
    pub idempotency_attempt: Option<Uuid>,
}

/// One event to write, in the same transaction as the change it describes.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub action: AuditAction,
    pub entity_type: &'static str,
    pub entity_id: Uuid,
    pub changes: Vec<FieldChange>,
    pub occurred_at: DateTime<Utc>,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: AuditAction,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub changes: Vec<FieldChange>,
    pub request_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// Filters for reading the trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
}
