use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::ports::HealthCheck;

use crate::backend::{PgStore, SqliteStore};

macro_rules! impl_health {
    ($Store:ident) => {
        #[async_trait]
        impl HealthCheck for $Store {
            async fn ping(&self) -> Result<(), RepoError> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(crate::error::plain)?;
                Ok(())
            }
        }
    };
}

impl_health!(SqliteStore);
impl_health!(PgStore);
