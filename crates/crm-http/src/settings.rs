use std::path::PathBuf;

/// How the server runs. The binary fills it from flags and environment variables; tests build it
/// directly.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: String,
    /// `sqlite:<path>` or `postgres://...`.
    pub database_url: String,
    /// The HS256 signing secret. When `None`, a SQLite server keeps a generated one in `data_dir`;
    /// a PostgreSQL server refuses to start.
    pub jwt_secret: Option<String>,
    pub allow_signup: bool,
    /// Browser origins allowed by CORS; empty allows none.
    pub cors_origins: Vec<String>,
    pub data_dir: PathBuf,
    /// HTTP worker threads; `None` uses one per core.
    pub workers: Option<usize>,
    pub max_db_connections: u32,
    /// Seconds to let in-flight requests finish after a shutdown signal.
    pub shutdown_timeout_seconds: u64,
    /// How long a caller's role and active state may be reused before they are read again
    /// (see [`crate::auth::PrincipalCache`]); zero reads them on every request.
    pub principal_cache: std::time::Duration,
    /// Time between passes of upkeep of the lead search index
    /// ([`crm_domain::ports::LeadRepository::tidy_lead_search`]); zero turns it off.
    pub search_upkeep: std::time::Duration,
    /// Threads that hash and check passwords: at most this many hashes run at once
    /// (see [`crate::password::PasswordHashing`]).
    pub password_threads: usize,
    /// How long a request waits for a free hashing thread before it is answered 503.
    pub password_wait: std::time::Duration,
    /// How long a request may take before it is answered 503 (reports: `report_timeout`).
    pub request_timeout: std::time::Duration,
    /// How long a report may take; also PostgreSQL's `statement_timeout`.
    pub report_timeout: std::time::Duration,
    /// How long a statement waits for a lock held by another transaction before the request
    /// is answered 503.
    pub lock_timeout: std::time::Duration,
    /// The clock of the rules that depend on the date: the system clock, except in tests, which
    /// start a server on a [`crate::clock::Clock::fixed`] (no flag or variable sets it).
    pub clock: crate::clock::Clock,
}

impl Settings {
    /// The defaults of a laptop run: 127.0.0.1:8080, SQLite under ./data/.
    pub fn local_defaults() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite:data/crm.db".to_owned(),
            jwt_secret: None,
            allow_signup: true,
            cors_origins: Vec::new(),
            data_dir: PathBuf::from("data"),
            workers: None,
            max_db_connections: 16,
            shutdown_timeout_seconds: 30,
            principal_cache: std::time::Duration::from_secs(1),
            search_upkeep: std::time::Duration::from_secs(10),
            password_threads: crate::password::PasswordHashing::default_threads(),
            password_wait: std::time::Duration::from_secs(1),
            request_timeout: std::time::Duration::from_secs(10),
            report_timeout: std::time::Duration::from_secs(30),
            lock_timeout: std::time::Duration::from_secs(2),
            clock: crate::clock::Clock::system(),
        }
    }
}
