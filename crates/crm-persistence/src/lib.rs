//! The sqlx adapters behind the domain's repository ports, for SQLite and PostgreSQL.
//!
//! Each query is written once in portable SQL (`$N` placeholders, `RETURNING`, `ON CONFLICT`,
//! row-value comparisons). Every repository module defines its implementation inside one
//! `macro_rules!` and instantiates it for [`SqliteStore`] and [`PgStore`]; the few dialect
//! differences (how a write transaction starts, pool settings, column types in the migrations)
//! live in `backend.rs` and in the two migration folders. This is the only crate that contains SQL.

mod accounts;
mod activities;
mod activity_report;
mod attention;
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
mod invoices;
mod leads;
mod list;
pub mod migrations;
mod opportunities;
mod orders;
mod organizations;
mod products;
mod quotes;
mod refresh_tokens;
mod reports;
mod rows;
mod sla;
mod table;
mod ticket_report;
mod tickets;
mod timeline;
mod users;

use std::sync::Arc;
use std::time::Duration;

use crm_domain::ports::Store;

pub use backend::{PgStore, SqliteStore};
pub use leads::merge_lead_search;
pub use migrations::MigrationOutcome;

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

/// A database URL fit for a log line: the password of its user-info and any `password` query
/// parameter are left out (`postgres://crm:secret@db/crm` → `postgres://crm@db/crm`).
pub fn url_without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (before_query, query) = rest.split_once('?').map_or((rest, None), |(b, q)| (b, Some(q)));
    let (authority, path) = before_query.split_once('/').map_or((before_query, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let mut text = format!("{scheme}://{authority}");
    if let Some(path) = path {
        text.push('/');
        text.push_str(path);
    }
    if let Some(query) = query {
        let kept: Vec<&str> =
            query.split('&').filter(|pair| !pair.to_ascii_lowercase().starts_with("password=")).collect();
        if !kept.is_empty() {
            text.push('?');
            text.push_str(&kept.join("&"));
        }
    }
    text
}

/// Pool settings; the defaults suit one process on a small machine.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// How long a statement waits for a lock another transaction holds (PostgreSQL's
    /// `lock_timeout`, SQLite's busy timeout) before it fails as unavailable (503).
    pub lock_timeout: Duration,
    /// The longest a PostgreSQL statement may run (`statement_timeout`): the longest request
    /// deadline, that of reports; the others end sooner by their own deadline.
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            lock_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL: use sqlite:<path> or postgres://...")]
    UnsupportedUrl,
    #[error("could not create the database file or its folder {path}")]
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
    /// What opening it migrated; `None` when it was opened without migrating.
    pub migrations: Option<migrations::MigrationOutcome>,
    /// Where it is, for a person: a SQLite file's path, or a PostgreSQL URL without its password.
    pub location: String,
    closer: Closer,
}

enum Closer {
    /// The read pool and the writes' connection.
    Sqlite(sqlx::SqlitePool, sqlx::SqlitePool),
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
                let (store, path) = SqliteStore::connect(url, settings).await?;
                let migrations = if migrate { Some(migrations::run_sqlite(&store.pool).await?) } else { None };
                let closer = Closer::Sqlite(store.pool.clone(), store.writer.clone());
                let location = std::fs::canonicalize(&path).unwrap_or(path).display().to_string();
                Ok(Self { kind: BackendKind::Sqlite, store: Arc::new(store), migrations, location, closer })
            }
            BackendKind::Postgres => {
                let store = PgStore::connect(url, settings).await?;
                let migrations = if migrate { Some(migrations::run_postgres(&store.pool).await?) } else { None };
                let closer = Closer::Postgres(store.pool.clone());
                let location = url_without_password(url);
                Ok(Self { kind: BackendKind::Postgres, store: Arc::new(store), migrations, location, closer })
            }
        }
    }

    /// The backend's name for people: `SQLite` or `PostgreSQL`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            BackendKind::Sqlite => "SQLite",
            BackendKind::Postgres => "PostgreSQL",
        }
    }

    /// Closes the pool, waiting for checked-out connections to come back.
    pub async fn close(&self) {
        match &self.closer {
            Closer::Sqlite(pool, writer) => {
                writer.close().await;
                pool.close().await;
            }
            Closer::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::url_without_password;

    #[test]
    fn a_logged_database_url_carries_no_password() {
        assert_eq!(
            url_without_password("postgres://crm:s3cr%40t@db.internal:5432/crm"),
            "postgres://crm@db.internal:5432/crm"
        );
        assert_eq!(
            url_without_password("postgresql://crm@db/crm?sslmode=require&password=x"),
            "postgresql://crm@db/crm?sslmode=require"
        );
        assert_eq!(url_without_password("postgres://db/crm?password=x"), "postgres://db/crm");
        assert_eq!(url_without_password("postgres://127.0.0.1:5432"), "postgres://127.0.0.1:5432");
    }
}
