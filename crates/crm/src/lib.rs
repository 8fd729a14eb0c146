//! The composition root: the one place that knows both the HTTP application and the storage.
//! It opens the database the settings name (SQLite or PostgreSQL, from the URL's scheme), runs
//! the migrations, and hands the store to [`crm_http::Application`]. The binary and the
//! black-box tests start the server through [`Server::build`], so both take the same path.

use std::time::Duration;

use crm_http::{Application, Backend, Settings, StartupError};
use crm_persistence::{BackendKind, ConnectError, Database, PoolSettings};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error(transparent)]
    Application(#[from] StartupError),
}

/// The application over its open database, listening, not yet running.
pub struct Server {
    application: Application,
    database: Database,
}

impl Server {
    /// Opens and migrates the database, then builds the application over it.
    ///
    /// # Errors
    /// [`StartError`] when the database, the secret or the address is unusable.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let pool = PoolSettings {
            max_connections: settings.max_db_connections,
            acquire_timeout: Duration::from_secs(3),
            lock_timeout: settings.lock_timeout,
            statement_timeout: settings.report_timeout.max(settings.request_timeout),
        };
        let database = Database::open(&settings.database_url, &pool, true).await?;
        let migrations = database.migrations.map_or_else(|| "not migrated".to_owned(), |m| m.to_string());
        tracing::info!(
            "crm {}: {} database {} ({migrations})",
            crm_http::VERSION,
            database.kind_name(),
            database.location
        );
        let backend =
            Backend { store: database.store.clone(), shared_by_processes: database.kind == BackendKind::Postgres };
        let application = match Application::build(settings, backend).await {
            Ok(application) => application,
            Err(error) => {
                database.close().await;
                return Err(error.into());
            }
        };
        Ok(Self { application, database })
    }

    pub fn port(&self) -> u16 {
        self.application.port()
    }

    /// Serves until SIGTERM or SIGINT, lets in-flight requests finish (the application logs
    /// `stopped`), then closes the pool.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.application.run_until_stopped().await;
        self.database.close().await;
        result
    }
}

/// Runs the migrations of the database at `url`, closes it, and says what was done.
///
/// # Errors
/// When the database cannot be reached or a migration fails.
pub async fn migrate(url: &str) -> Result<String, StartError> {
    let database = Database::open(url, &PoolSettings::default(), true).await?;
    database.close().await;
    let outcome = database.migrations.map_or_else(|| "not migrated".to_owned(), |m| m.to_string());
    Ok(format!("{} database {}: {outcome}", database.kind_name(), database.location))
}
