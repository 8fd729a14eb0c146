use std::sync::Arc;

use crm_domain::ports::Store;

use crate::auth::{PrincipalCache, TokenService};
use crate::rate_limit::AuthLimits;

/// What every handler can reach.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: TokenService,
    pub allow_signup: bool,
    /// Attempts on the authentication endpoints, per client.
    pub auth_limits: AuthLimits,
    /// Callers' roles and active state, read at most once a `CRM_PRINCIPAL_CACHE_MS`.
    pub principals: PrincipalCache,
    /// The bounded password hashing threads.
    pub passwords: crate::password::PasswordHashing,
    /// How long a request, and a report, may take before it is answered 503.
    pub deadlines: crate::middleware::Deadlines,
    /// This server process, as its idempotency claims and heartbeat name it.
    pub instance_id: uuid::Uuid,
    /// Idempotency claims this process failed to free, freed with its heartbeat.
    pub unreleased: std::sync::Arc<crate::idempotency::UnreleasedClaims>,
    /// The clock of the rules that depend on the date (the system clock outside the tests).
    pub clock: crate::clock::Clock,
}
