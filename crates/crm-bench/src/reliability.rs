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

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
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
struct Outcome {
    figures: Vec<String>,
    broken: Vec<String>,
}

impl Outcome {
    fn figure(&mut self, text: impl Into<String>) {
        self.figures.push(text.into());
    }

    /// Records `promise`, broken unless `kept`.
    fn promise(&mut self, kept: bool, promise: impl Into<String>) {
        if !kept {
            self.broken.push(promise.into());
        }
    }
}

/// The names of the checks, in the order they run.
pub const CHECKS: [&str; 3] = ["login-flood", "signals", "table-lock"];

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
            "login-flood" => login_flood(&config, &dir).await,
            "signals" => signals(&config, &dir).await,
            "table-lock" => table_lock(&config, &dir).await,
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

/// A server on a fresh SQLite database in `dir`.
async fn sqlite_server(config: &ReliabilityConfig, dir: &Path, env: &[(&str, &str)]) -> Result<Served> {
    let database_url = format!("sqlite:{}", dir.join("crm.db").display());
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    process::start_server(&config.crm, &database_url, dir, &dir.join("server.log"), &env, &reqwest::Client::new()).await
}

/// Signs up an organisation and answers its admin's access token.
async fn admin_token(client: &reqwest::Client, base_url: &str, email: &str) -> Result<String> {
    crate::api::signup(client, base_url, email).await?;
    crate::api::login(client, base_url, email).await
}

async fn create_lead(client: &reqwest::Client, base_url: &str, token: &str, name: &str) -> Result<String> {
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

const MIB: f64 = 1024.0 * 1024.0;

fn mib(bytes: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let bytes = bytes as f64;
    bytes / MIB
}

/// How the login flood's answers came out.
#[derive(Default)]
struct Answers {
    unauthorized: AtomicU64,
    rate_limited: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
    transport: AtomicU64,
}

/// Item 1 of the hardening issue: 64 clients flooding login with random emails (30 s in full,
/// 10 s bounded) leave the server under 150 MiB of RSS, answer every login (401, 429 or 503,
/// never a 500 or a dropped connection), and `GET /leads/{id}` beside them keeps a p99 under
/// 100 ms (a promise of the full run, on a release build; reported in the bounded one).
async fn login_flood(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let server = sqlite_server(config, dir, &[]).await?;
    let base = server.base_url.clone();
    let client = reqwest::Client::new();
    let token = admin_token(&client, &base, "flood-admin@reliability.example").await?;
    let lead = create_lead(&client, &base, &token, "Target").await?;
    let before = server.rss_bytes().unwrap_or_default();
    let seconds = if config.full { 30 } else { 10 };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let answers = Arc::new(Answers::default());
    let mut attackers = Vec::new();
    for n in 0..64_u8 {
        // 127.0.0.2 to 127.0.0.65: every client is a different address to the server.
        let address = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n));
        let attacker = reqwest::Client::builder().local_address(address).build()?;
        let answers = answers.clone();
        let url = format!("{base}/api/v1/auth/login");
        attackers.push(tokio::spawn(async move {
            let mut attempt = 0_u64;
            while Instant::now() < deadline {
                attempt += 1;
                let email = format!("nobody-{n}-{attempt}@flood.example");
                let sent = attacker.post(&url).json(&json!({"email": email, "password": "not the password"})).send();
                let counter = match sent.await.map(|r| r.status().as_u16()) {
                    Ok(401) => &answers.unauthorized,
                    Ok(429) => &answers.rate_limited,
                    Ok(503) => &answers.busy,
                    Ok(_) => &answers.other,
                    Err(_) => &answers.transport,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut reads = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut read_failures = 0_u64;
    let mut peak = before;
    let read_url = format!("{base}/api/v1/leads/{lead}");
    while Instant::now() < deadline {
        let started = Instant::now();
        match client.get(&read_url).bearer_auth(&token).send().await {
            Ok(response) if response.status().is_success() => {
                let _ = response.bytes().await;
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                reads.saturating_record(micros.max(1));
            }
            _ => read_failures += 1,
        }
        peak = peak.max(server.rss_bytes().unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for attacker in attackers {
        let _ = attacker.await;
    }
    peak = peak.max(server.rss_bytes().unwrap_or_default());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = server.rss_bytes().unwrap_or_default();
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let total = load(&answers.unauthorized)
        + load(&answers.rate_limited)
        + load(&answers.busy)
        + load(&answers.other)
        + load(&answers.transport);
    outcome.figure(format!(
        "logins in {seconds}s from 64 addresses: {total} (401: {}, 429: {}, 503: {}, other: {}, no answer: {})",
        load(&answers.unauthorized),
        load(&answers.rate_limited),
        load(&answers.busy),
        load(&answers.other),
        load(&answers.transport)
    ));
    outcome.figure(format!(
        "server RSS: {:.1} MiB before, {:.1} MiB at most during the flood, {:.1} MiB 5s after",
        mib(before),
        mib(peak),
        mib(after)
    ));
    let p99_ms = reads.value_at_quantile(0.99) as f64 / 1000.0;
    outcome.figure(format!(
        "GET /leads/{{id}} beside the flood: {} reads, p50 {:.1} ms, p99 {p99_ms:.1} ms, {read_failures} failed",
        reads.len(),
        reads.value_at_quantile(0.5) as f64 / 1000.0,
    ));
    outcome.promise(peak < 150 * 1024 * 1024, format!("RSS stays under 150 MiB (peak {:.1} MiB)", mib(peak)));
    outcome
        .promise(load(&answers.other) == 0 && load(&answers.transport) == 0, "every login is answered 401, 429 or 503");
    outcome.promise(read_failures == 0, "every read beside the flood is answered 200");
    if config.full {
        outcome.promise(p99_ms < 100.0, format!("the reads' p99 stays under 100 ms ({p99_ms:.1} ms)"));
    }
    server.stop()?;
    Ok(outcome)
}

/// Item 5: under write load from 16 clients, SIGINT and then SIGTERM (each on a fresh server):
/// every request sent before the signal is answered, the server exits 0 on its own, and every
/// acknowledged write reads back after a restart on the same database.
async fn signals(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    for signal in ["INT", "TERM"] {
        let dir = dir.join(signal);
        std::fs::create_dir_all(&dir)?;
        let mut server = sqlite_server(config, &dir, &[]).await?;
        let base = server.base_url.clone();
        let client = reqwest::Client::new();
        let token = admin_token(&client, &base, "signals-admin@reliability.example").await?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for n in 0..16 {
            let client = client.clone();
            let (base, token, stop) = (base.clone(), token.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                // (created ids, requests sent before the stop that got no answer)
                let mut created = Vec::new();
                let mut dropped = 0_u64;
                let mut attempt = 0;
                while !stop.load(Ordering::Acquire) {
                    attempt += 1;
                    let sent = client
                        .post(format!("{base}/api/v1/leads"))
                        .bearer_auth(&token)
                        .json(&json!({"last_name": format!("Writer {n}-{attempt}")}))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status().as_u16() == 201 => {
                            if let Ok(body) = response.json::<Value>().await
                                && let Some(id) = body["id"].as_str()
                            {
                                created.push(id.to_owned());
                            }
                        }
                        Ok(_) => {}
                        Err(_) => dropped += 1,
                    }
                }
                (created, dropped)
            }));
        }
        tokio::time::sleep(Duration::from_secs(if config.full { 5 } else { 2 })).await;
        // No request starts after this; each writer has at most one in flight when the signal lands.
        stop.store(true, Ordering::Release);
        let sent =
            std::process::Command::new("kill").arg(format!("-{signal}")).arg(server.pid().to_string()).status()?;
        if !sent.success() {
            return Err(failure(format!("kill -{signal} failed")));
        }
        let mut created = Vec::new();
        let mut dropped = 0;
        for writer in writers {
            let (ids, lost) = writer.await?;
            created.extend(ids);
            dropped += lost;
        }
        let exit = server.wait_exit(Duration::from_secs(40))?;
        outcome.figure(format!(
            "SIG{signal}: {} leads acknowledged, requests in flight left unanswered: {dropped}, exit status: {}",
            created.len(),
            exit.map_or_else(|| "still running after 40s".to_owned(), |s| s.to_string())
        ));
        outcome.promise(dropped == 0, format!("SIG{signal} lets every in-flight request finish"));
        outcome.promise(exit.is_some_and(|s| s.success()), format!("the server exits 0 on SIG{signal}"));
        drop(server);
        // Restart on the same database: every acknowledged write is there.
        let server = sqlite_server(config, &dir, &[]).await?;
        let token = crate::api::login(&client, &server.base_url, "signals-admin@reliability.example").await?;
        let mut lost = 0;
        for id in &created {
            let response =
                client.get(format!("{}/api/v1/leads/{id}", server.base_url)).bearer_auth(&token).send().await?;
            if !response.status().is_success() {
                lost += 1;
            }
        }
        outcome.figure(format!("SIG{signal}: acknowledged writes lost: {lost} of {}", created.len()));
        outcome.promise(lost == 0, format!("no acknowledged write is lost across SIG{signal}"));
        server.stop()?;
    }
    Ok(outcome)
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

/// Item 4: `LOCK TABLE leads IN ACCESS EXCLUSIVE MODE` held for 20 s (5 s bounded) on
/// PostgreSQL. With the server's defaults, `GET /leads/{id}` and `POST /leads` are answered 503
/// with `Retry-After` while the lock is held (the original probe waited 19.8 s for a 200), and
/// both work again once it is released.
async fn table_lock(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    use sqlx::Connection;
    let mut outcome = Outcome::default();
    let (database_url, name) = create_postgres(config, "lock").await?;
    let env = vec![("CRM_JWT_SECRET".to_owned(), process::JWT_SECRET.to_owned())];
    let client = reqwest::Client::new();
    let server = process::start_server(&config.crm, &database_url, dir, &dir.join("server.log"), &env, &client).await?;
    let base = server.base_url.clone();
    let token = admin_token(&client, &base, "lock-admin@reliability.example").await?;
    let lead = create_lead(&client, &base, &token, "Locked").await?;
    let held = Duration::from_secs(if config.full { 20 } else { 5 });
    let mut lock = sqlx::PgConnection::connect(&database_url).await?;
    sqlx::raw_sql("BEGIN; LOCK TABLE leads IN ACCESS EXCLUSIVE MODE").execute(&mut lock).await?;
    let locked_at = Instant::now();
    let mut answered = Vec::new();
    for (what, request) in [
        ("GET /leads/{id}", client.get(format!("{base}/api/v1/leads/{lead}")).bearer_auth(&token)),
        (
            "POST /leads",
            client.post(format!("{base}/api/v1/leads")).bearer_auth(&token).json(&json!({"last_name": "Blocked"})),
        ),
    ] {
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let seconds = started.elapsed().as_secs_f64();
        outcome.figure(format!(
            "{what} with the table locked: {status} after {seconds:.2} s (Retry-After: {})",
            retry_after.as_deref().unwrap_or("none")
        ));
        answered.push((what, status, retry_after.is_some(), locked_at.elapsed() < held));
    }
    for (what, status, retry_after, while_locked) in answered {
        outcome.promise(
            status == 503 && retry_after && while_locked,
            format!("{what} is answered 503 with Retry-After while the lock is held"),
        );
    }
    let remaining = held.saturating_sub(locked_at.elapsed());
    tokio::time::sleep(remaining).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut lock).await?;
    lock.close().await?;
    let after = client.get(format!("{base}/api/v1/leads/{lead}")).bearer_auth(&token).send().await?.status().as_u16();
    outcome.figure(format!("GET /leads/{{id}} after the lock was released ({} s): {after}", held.as_secs()));
    outcome.promise(after == 200, "reads work again once the lock is released");
    server.stop()?;
    drop_postgres(config, &name).await?;
    Ok(outcome)
}
