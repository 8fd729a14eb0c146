use std::sync::Arc;

use crm_domain::ports::Store;

use crate::auth::TokenService;

/// What every handler can reach.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: TokenService,
    pub allow_signup: bool,
}
