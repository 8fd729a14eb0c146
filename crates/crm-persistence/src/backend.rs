//! The two backends and the dialect differences between them: connection settings and how a
//! write transaction begins.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crm_domain::RepoError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::{ConnectError, PoolSettings};

/// The embedded backend: one file in WAL mode. Readers run concurrently on a pool; writers queue
/// on an in-process lock, take the one connection kept for writes and start with `BEGIN
/// IMMEDIATE`, so a write never meets "database is locked".
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// The one connection the writes under `write_lock` use.
    pub(crate) writer: SqlitePool,
    write_lock: Arc<Mutex<()>>,
    pub(crate) heavy: HeavyQueries,
}

/// The production backend.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    pub(crate) heavy: HeavyQueries,
}

/// Lets at most half of the pool's connections run the queries whose cost grows with the data
/// (lead search, reports aggregated over the deals themselves), so that reads and writes of
/// single records keep a connection while those queue (BENCHMARKS.md, finding 4). A query that
/// waits longer than the pool's acquire timeout is answered as unavailable (503), like a
/// request that finds no connection.
#[derive(Clone)]
pub(crate) struct HeavyQueries {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl HeavyQueries {
    fn new(max_connections: u32, wait: Duration) -> Self {
        let permits = usize::try_from(max_connections / 2).unwrap_or(1).max(1);
        Self { permits: Arc::new(Semaphore::new(permits)), wait }
    }

    /// Waits for a turn; the permit is held until the query's result is read.
    pub(crate) async fn enter(&self) -> Result<OwnedSemaphorePermit, RepoError> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(RepoError::Unavailable("too many searches and reports are running".into())),
        }
    }
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

/// Creates a missing database file, and the folders above it, readable by the owner alone
/// (folders 0700, the file 0600): the file holds password hashes and tokens. SQLite gives its
/// `-wal` and `-shm` files the mode of the database file. An existing file or folder keeps the
/// mode it has. The in-memory database (`sqlite::memory:`) has no file.
fn create_private_file(path: &std::path::Path) -> Result<(), ConnectError> {
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || path.exists() {
        return Ok(());
    }
    let folder_error =
        |folder: &std::path::Path, source| ConnectError::Folder { path: folder.display().to_string(), source };
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(|source| folder_error(parent, source))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process created it in the meantime.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(folder_error(path, source)),
    }
}

impl SqliteStore {
    /// Opens the pool, creating the database file and its folder if needed; answers the file's path.
    pub(crate) async fn connect(url: &str, settings: &PoolSettings) -> Result<(Self, PathBuf), ConnectError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(ConnectError::Connect)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(settings.lock_timeout);
        let path = options.get_filename().to_path_buf();
        create_private_file(&path)?;
        let max_connections = settings.max_connections.clamp(2, 8);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options.clone())
            .await
            .map_err(ConnectError::Connect)?;
        // The process's writes are one at a time (`write_lock`), so they share one connection of
        // their own, whose statement journals (the pages a statement of a transaction changed,
        // to undo it alone) stay in memory: on the default, a file once past 64 KiB, each
        // activity insert, whose triggers change more pages than that, created, wrote and
        // deleted a temporary file (BENCHMARKS.md, finding 15). Reads keep the default, so that
        // a report's sorts spill to disk rather than grow the process.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options.pragma("temp_store", "memory"))
            .await
            .map_err(ConnectError::Connect)?;
        let store = Self {
            pool,
            writer,
            write_lock: Arc::new(Mutex::new(())),
            heavy: HeavyQueries::new(max_connections, settings.acquire_timeout),
        };
        Ok((store, path))
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Sqlite>, RepoError> {
        let guard = self.write_lock.clone().lock_owned().await;
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(crate::error::plain)?;
        Ok(WriteTx { tx, _guard: Some(guard) })
    }

    /// Runs a query text that is a whole write transaction (`BEGIN IMMEDIATE; …; COMMIT`) in one
    /// call to the connection's worker thread, under the process's write lock: the lock is held
    /// for one hop instead of one per statement. When a statement fails, the transaction is rolled
    /// back before the connection goes back to the pool; when that fails too, or when the caller
    /// stops waiting halfway, the connection is closed instead, which rolls back whatever it began.
    pub(crate) async fn write_in_one_call(
        &self,
        query: sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<(), sqlx::Error> {
        let _guard = self.write_lock.lock().await;
        let mut connection = CloseUnlessSettled { connection: self.writer.acquire().await?, settled: false };
        match query.execute(&mut *connection.connection).await {
            Ok(_) => {
                connection.settled = true;
                Ok(())
            }
            Err(error) => {
                connection.settled = sqlx::query("ROLLBACK").execute(&mut *connection.connection).await.is_ok();
                Err(error)
            }
        }
    }
}

/// A pooled SQLite connection that is closed, not reused, unless its write ended cleanly.
struct CloseUnlessSettled {
    connection: sqlx::pool::PoolConnection<Sqlite>,
    settled: bool,
}

impl Drop for CloseUnlessSettled {
    fn drop(&mut self) {
        if !self.settled {
            self.connection.close_on_drop();
        }
    }
}

impl PgStore {
    pub(crate) async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, ConnectError> {
        let millis = |d: Duration| format!("{}ms", d.as_millis().max(1));
        let options = PgConnectOptions::from_str(url).map_err(ConnectError::Connect)?.options([
            ("lock_timeout", millis(settings.lock_timeout)),
            ("statement_timeout", millis(settings.statement_timeout)),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        Ok(Self { pool, heavy: HeavyQueries::new(settings.max_connections, settings.acquire_timeout) })
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Postgres>, RepoError> {
        let tx = self.pool.begin().await.map_err(crate::error::plain)?;
        Ok(WriteTx { tx, _guard: None })
    }
}
