//! Organisations (the tenants) and their users.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::permissions::Role;
use crate::value::{Email, Name};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: Name,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: Name,
    pub email: Email,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A user together with the hash to check a password against; only login reads it.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// What an authenticated request acts as, read fresh from storage on every request so that a
/// deactivation or a role change takes effect at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub role: Role,
}

/// A change an admin makes to a user; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<Name>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Refused changes to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRuleError {
    /// An admin cannot demote or deactivate themselves: the organisation could be left without one.
    #[error("you cannot remove your own admin role or deactivate yourself")]
    SelfLockout,
}

impl User {
    /// Applies `patch` made by `actor_id`, returning the changed user (version and time bumped) and
    /// the fields that changed.
    ///
    /// # Errors
    /// [`UserRuleError::SelfLockout`] when an admin demotes or deactivates themselves.
    pub fn apply(
        &self,
        patch: &UserPatch,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(User, Vec<crate::audit::FieldChange>), UserRuleError> {
        use crate::audit::{AuditValue, FieldChange};
        if self.id == actor_id && (patch.role.is_some_and(|r| r != Role::Admin) || patch.active == Some(false)) {
            return Err(UserRuleError::SelfLockout);
        }
        let mut next = self.clone();
        let mut changes = Vec::new();
        if let Some(name) = &patch.name
            && *name != self.name
        {
            changes.push(FieldChange::new("name", AuditValue::text(&self.name), AuditValue::text(name)));
            next.name = name.clone();
        }
        if let Some(role) = patch.role
            && role != self.role
        {
            changes.push(FieldChange::new("role", AuditValue::text(self.role), AuditValue::text(role)));
            next.role = role;
        }
        if let Some(active) = patch.active
            && active != self.active
        {
            changes.push(FieldChange::new("active", AuditValue::Bool(self.active), AuditValue::Bool(active)));
            next.active = active;
        }
        if !changes.is_empty() {
            next.version += 1;
            next.updated_at = now;
        }
        Ok((next, changes))
    }
}

/// The audit entry of a user's creation.
pub fn user_creation_changes(user: &User) -> Vec<crate::audit::FieldChange> {
    use crate::audit::{AuditValue, FieldChange};
    vec![
        FieldChange::new("name", AuditValue::Null, AuditValue::text(&user.name)),
        FieldChange::new("email", AuditValue::Null, AuditValue::text(user.email.as_str())),
        FieldChange::new("role", AuditValue::Null, AuditValue::text(user.role)),
        FieldChange::new("active", AuditValue::Null, AuditValue::Bool(user.active)),
    ]
}
