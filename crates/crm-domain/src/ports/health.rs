//! The readiness probe.

use async_trait::async_trait;

use crate::error::RepoError;

#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Answers once the database has run a trivial query.
    async fn ping(&self) -> Result<(), RepoError>;
}
