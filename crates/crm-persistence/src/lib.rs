//! The sqlx adapters behind the domain's repository ports, for SQLite and PostgreSQL.
//!
//! Each query is written once in portable SQL (`$N` placeholders, `RETURNING`, `ON CONFLICT`,
//! row-value comparisons). Every repository module defines its implementation inside one
//! `macro_rules!` and instantiates it for [`SqliteStore`] and [`PgStore`]; the few dialect
//! differences (how a write transaction starts, pool settings, column types in the migrations)
//! live in `backend.rs` and in the two migration folders. This is the only crate that contains SQL.

mod accounts;
mod audit;
mod backend;
mod competitors;
mod contacts;
mod conversion;
mod deal_competitors;
mod documents;
mod error;
mod health;
mod idempotency;
mod leads;
mod list;
pub mod migrations;
mod opportunities;
mod organizations;
mod products;
mod refresh_tokens;
mod reports;
mod rows;
mod users;

use std::sync::Arc;
use std::time::Duration;

use crm_domain::ports::Store;

pub use backend::{PgStore, SqliteStore};
pub use leads::merge_lead_search;
pub use rows::audit_value_to_json as audit_value_json;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    /// Chooses the backend from the URL's scheme.
    ///
    /// # Errors
    /// [`ConnectError::UnsupportedUrl`] for any other scheme.
    pub fn from_url(url: &str) -> Result<Self, ConnectError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(ConnectError::UnsupportedUrl)
        }
    }
}

/// Pool settings; the defaults suit one process on a small machine.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(3) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL: use sqlite:<path> or postgres://...")]
    UnsupportedUrl,
    #[error("could not create the database folder {path}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("could not run the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// An opened, migrated database.
pub struct Database {
    pub kind: BackendKind,
    pub store: Arc<dyn Store>,
    closer: Closer,
}

enum Closer {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Database {
    /// Opens the database named by `url` (creating a SQLite file and its folder if needed) and
    /// runs the embedded migrations when `migrate` is set.
    ///
    /// # Errors
    /// [`ConnectError`] when the URL is not understood, the database cannot be reached, or a
    /// migration fails.
    pub async fn open(url: &str, settings: &PoolSettings, migrate: bool) -> Result<Self, ConnectError> {
        match BackendKind::from_url(url)? {
            BackendKind::Sqlite => {
                let store = SqliteStore::connect(url, settings).await?;
                if migrate {
                    migrations::run_sqlite(&store.pool).await?;
                }
                let closer = Closer::Sqlite(store.pool.clone());
                Ok(Self { kind: BackendKind::Sqlite, store: Arc::new(store), closer })
            }
            BackendKind::Postgres => {
                let store = PgStore::connect(url, settings).await?;
                if migrate {
                    migrations::run_postgres(&store.pool).await?;
                }
                let closer = Closer::Postgres(store.pool.clone());
                Ok(Self { kind: BackendKind::Postgres, store: Arc::new(store), closer })
            }
        }
    }

    /// Closes the pool, waiting for checked-out connections to come back.
    pub async fn close(&self) {
        match &self.closer {
            Closer::Sqlite(pool) => pool.close().await,
            Closer::Postgres(pool) => pool.close().await,
        }
    }
}
