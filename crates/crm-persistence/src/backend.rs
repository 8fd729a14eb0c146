//! The two backends and the dialect differences between them: connection settings and how a
//! write transaction begins.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crm_domain::RepoError;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{ConnectError, PoolSettings};

/// The embedded backend: one file in WAL mode. Readers run concurrently; writers queue on an
/// in-process lock and start with `BEGIN IMMEDIATE`, so a write never meets "database is locked".
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    write_lock: Arc<Mutex<()>>,
}

/// The production backend.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

/// A write transaction; on SQLite it also holds the process's write lock until it ends.
pub(crate) struct WriteTx<DB: Database> {
    pub(crate) tx: Transaction<'static, DB>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> WriteTx<DB> {
    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }

    pub(crate) async fn commit(self) -> Result<(), RepoError> {
        self.tx.commit().await.map_err(crate::error::plain)
    }
}

impl SqliteStore {
    pub(crate) async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, ConnectError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(ConnectError::Connect)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|source| ConnectError::Folder { path: parent.display().to_string(), source })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections.clamp(2, 8))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        Ok(Self { pool, write_lock: Arc::new(Mutex::new(())) })
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Sqlite>, RepoError> {
        let guard = self.write_lock.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(crate::error::plain)?;
        Ok(WriteTx { tx, _guard: Some(guard) })
    }
}

impl PgStore {
    pub(crate) async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, ConnectError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect(url)
            .await
            .map_err(ConnectError::Connect)?;
        Ok(Self { pool })
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Postgres>, RepoError> {
        let tx = self.pool.begin().await.map_err(crate::error::plain)?;
        Ok(WriteTx { tx, _guard: None })
    }
}
