//! `crm-bench reliability`: probes of the server under attack, crashes and signals, each of which
//! prints what it measured and fails on a broken promise, never on a duration that is not itself
//! the promise. `--full` runs them at the sizes of the original probes; without it, bounded
//! versions that fit in CI.
//!
//! Checks so far:
//! - `login-flood`: 64 clients, each from its own loopback address (so the per-address limit does
//!   not shield the server), log in with random emails; the server's memory stays bounded and a
//!   read beside them stays fast.
//! - `signals`: under write load, SIGINT and SIGTERM each let every in-flight request finish, the
//!   server exits 0, and every acknowledged write reads back after a restart.
//! - `table-lock`: with `LOCK TABLE leads` held on PostgreSQL, reads and writes of leads are
//!   answered 503 with `Retry-After` while the lock lasts, and served again once it is gone.
//! - `kill9-idempotency`: keyed creates under SIGKILL of the server, on both backends: nothing
//!   lost, nothing run twice, every retry answered within seconds of the restart.
//! - `hostile`: bodies and heads of every bad size, depth and encoding, and connections that
//!   never finish their head: each answered as documented, nothing stored, memory bounded.
//! - `custom-fields`: random JSON values accepted exactly by the documented rules, and read
//!   back unchanged, on both backends.
//! - `cross-org`: every route of the served description, called by one organisation with
//!   another's ids: 404, nothing shown, nothing changed, on both backends.
//! - `roles`: the permission matrix of the domain against every route, for every role but the
//!   admin, on records of others and the caller's own, on both backends.
//! - `if-match-race`: two server processes on one database, clients racing on `If-Match`: no
//!   update lost, on both backends.
//! - `pool-exhaustion`: a small pool held by requests waiting on a lock: every answer 200 or 503
//!   within the deadline, and service once the lock is gone.
//! - `postgres-restart`: a throwaway cluster crashed and restarted under keyed writes: 503s
//!   while it is down, service again by itself, nothing lost or doubled.
//! - `report-bounds`: report totals at the money bounds, exact below 2^63 and the documented 422
//!   past it, on both backends.

mod access;
mod bounds;
mod crash;
mod input;
mod load;
mod locks;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use crate::error::{Result, failure};
use crate::process::{self, Served};

/// What `reliability` is asked to do.
pub struct ReliabilityConfig {
    pub crm: PathBuf,
    pub work_dir: PathBuf,
    pub full: bool,
    /// Check names; empty runs all.
    pub checks: Vec<String>,
    /// A PostgreSQL server URL (any database); checks on PostgreSQL create and drop their own.
    pub postgres_url: String,
}

/// The outcome of one check: the figures it measured, and the promises it found broken.
#[derive(Default)]
pub(crate) struct Outcome {
    figures: Vec<String>,
    broken: Vec<String>,
}

impl Outcome {
    pub(crate) fn figure(&mut self, text: impl Into<String>) {
        self.figures.push(text.into());
    }

    /// Records `promise`, broken unless `kept`.
    pub(crate) fn promise(&mut self, kept: bool, promise: impl Into<String>) {
        if !kept {
            self.broken.push(promise.into());
        }
    }
}

/// The names of the checks, in the order they run.
pub const CHECKS: [&str; 12] = [
    "login-flood",
    "signals",
    "table-lock",
    "kill9-idempotency",
    "hostile",
    "custom-fields",
    "report-bounds",
    "cross-org",
    "roles",
    "if-match-race",
    "pool-exhaustion",
    "postgres-restart",
];

/// Runs the chosen checks, printing each one's figures; fails when any promise was broken.
pub async fn run(config: ReliabilityConfig) -> Result<()> {
    for name in &config.checks {
        if !CHECKS.contains(&name.as_str()) {
            return Err(failure(format!("unknown check {name}; one of: {}", CHECKS.join(", "))));
        }
    }
    std::fs::create_dir_all(&config.work_dir)?;
    let mode = if config.full { "full" } else { "bounded" };
    println!("reliability suite ({mode}), server {}", config.crm.display());
    let mut failed = Vec::new();
    for name in CHECKS {
        if !config.checks.is_empty() && !config.checks.iter().any(|c| c == name) {
            continue;
        }
        let dir = config.work_dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let started = Instant::now();
        let outcome = match name {
            "login-flood" => load::login_flood(&config, &dir).await,
            "signals" => load::signals(&config, &dir).await,
            "table-lock" => locks::table_lock(&config, &dir).await,
            "kill9-idempotency" => crash::kill9_idempotency(&config, &dir).await,
            "hostile" => input::hostile(&config, &dir).await,
            "custom-fields" => bounds::custom_fields(&config, &dir).await,
            "report-bounds" => bounds::report_bounds(&config, &dir).await,
            "cross-org" => access::cross_org(&config, &dir).await,
            "roles" => access::roles(&config, &dir).await,
            "if-match-race" => locks::if_match_race(&config, &dir).await,
            "pool-exhaustion" => locks::pool_exhaustion(&config, &dir).await,
            "postgres-restart" => crash::postgres_restart(&config, &dir).await,
            _ => Err(failure(format!("no check {name}"))),
        };
        let outcome = outcome.unwrap_or_else(|error| Outcome {
            figures: Vec::new(),
            broken: vec![format!("the check could not run: {error}")],
        });
        let verdict = if outcome.broken.is_empty() { "ok" } else { "FAILED" };
        println!("check {name}: {verdict} ({:.1}s)", started.elapsed().as_secs_f64());
        for figure in &outcome.figures {
            println!("    {figure}");
        }
        for broken in &outcome.broken {
            println!("    broken: {broken}");
        }
        if !outcome.broken.is_empty() {
            failed.push(name);
        }
    }
    if failed.is_empty() {
        println!("reliability suite: every promise kept");
        Ok(())
    } else {
        Err(failure(format!("reliability suite: broken promises in {}", failed.join(", "))))
    }
}

/// Signs up an organisation and answers its admin's access token.
pub(crate) async fn admin_token(client: &reqwest::Client, base_url: &str, email: &str) -> Result<String> {
    crate::api::signup(client, base_url, email).await?;
    crate::api::login(client, base_url, email).await
}

pub(crate) async fn create_lead(client: &reqwest::Client, base_url: &str, token: &str, name: &str) -> Result<String> {
    let response = client
        .post(format!("{base_url}/api/v1/leads"))
        .bearer_auth(token)
        .json(&json!({"last_name": name}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if status.as_u16() != 201 {
        return Err(failure(format!("POST /leads answered {status}: {body}")));
    }
    body["id"].as_str().map(str::to_owned).ok_or_else(|| failure("a created lead has no id"))
}
/// A database of its own on the PostgreSQL server, dropped by [`drop_postgres`].
async fn create_postgres(config: &ReliabilityConfig, label: &str) -> Result<(String, String)> {
    use sqlx::Connection;
    let name = format!("crm_reliability_{}_{label}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&config.postgres_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
    admin.close().await?;
    Ok((crate::run::server_url(&config.postgres_url, &name)?, name))
}

async fn drop_postgres(config: &ReliabilityConfig, name: &str) -> Result<()> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&config.postgres_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

/// The two storage backends a check may run on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) const BOTH: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A fresh database for one check: a file in its directory, or a database of its own on the
/// PostgreSQL server, dropped by [`Database::drop_now`].
pub(crate) struct Database {
    pub url: String,
    pub dir: PathBuf,
    postgres_name: Option<String>,
}

impl Database {
    pub(crate) async fn create(config: &ReliabilityConfig, dir: &Path, backend: Backend, label: &str) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        match backend {
            Backend::Sqlite => Ok(Database {
                url: format!("sqlite:{}", dir.join("crm.db").display()),
                dir: dir.to_path_buf(),
                postgres_name: None,
            }),
            Backend::Postgres => {
                let (url, name) = create_postgres(config, label).await?;
                Ok(Database { url, dir: dir.to_path_buf(), postgres_name: Some(name) })
            }
        }
    }

    /// Starts a server on this database, on `port` when given (a restart where clients already
    /// point), on a free one otherwise.
    pub(crate) async fn serve(&self, config: &ReliabilityConfig, port: Option<u16>) -> Result<Served> {
        self.serve_with(config, port, &[]).await
    }

    /// [`Database::serve`] with settings of its own (`CRM_…` variables). The log is
    /// `server-<port>.log`: two servers of one database log apart, and a restart on the same port
    /// appends to the same file.
    pub(crate) async fn serve_with(
        &self,
        config: &ReliabilityConfig,
        port: Option<u16>,
        env: &[(&str, &str)],
    ) -> Result<Served> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let client = reqwest::Client::new();
        let port = match port {
            Some(port) => port,
            None => process::free_port()?,
        };
        let log = self.dir.join(format!("server-{port}.log"));
        process::start_server_at(port, &config.crm, &self.url, &self.dir, &log, &env, &client).await
    }

    pub(crate) async fn drop_now(self, config: &ReliabilityConfig) -> Result<()> {
        if let Some(name) = &self.postgres_name {
            drop_postgres(config, name).await?;
        }
        Ok(())
    }
}

/// Every record of a list, page after page.
pub(crate) async fn list_all(client: &reqwest::Client, base_url: &str, path: &str, token: &str) -> Result<Vec<Value>> {
    let mut records = Vec::new();
    let mut cursor = String::new();
    loop {
        let response = client
            .get(format!("{base_url}{path}"))
            .query(&[("limit", "200"), ("cursor", cursor.as_str())])
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status();
        let page: Value = response.json().await?;
        if !status.is_success() {
            return Err(failure(format!("GET {path} answered {status}: {page}")));
        }
        records.extend(page["data"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return Ok(records),
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

pub(crate) fn mib(bytes: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let bytes = bytes as f64;
    bytes / MIB
}
