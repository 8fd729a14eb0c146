//! Crashes: the server killed with SIGKILL under keyed writes, and PostgreSQL stopped and
//! restarted under load.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{Result, failure};
use crate::process;

use super::{Backend, Database, Outcome, ReliabilityConfig, admin_token, list_all};

/// One client's keyed creations: the keys acknowledged, and for each request that had to be
/// retried, when its first try failed and when its answer came.
#[derive(Default)]
struct KeyedLog {
    acknowledged: Vec<String>,
    retried: Vec<(Instant, Instant)>,
    replayed: usize,
    /// Answers that are neither 201 nor a "come back later" (409 in progress, 503).
    unexpected: Vec<String>,
}

/// Creates leads named after their `Idempotency-Key`, retrying each failed request with its key
/// (for at most a minute) until it is answered 201.
async fn keyed_writer(base: String, token: String, client_number: usize, stop: Arc<AtomicBool>) -> KeyedLog {
    let mut log = KeyedLog::default();
    let Ok(http) = reqwest::Client::builder().timeout(Duration::from_secs(30)).build() else {
        log.unexpected.push("no HTTP client".to_owned());
        return log;
    };
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("k{client_number}-{n}");
        n += 1;
        let mut failed_at: Option<Instant> = None;
        loop {
            if failed_at.is_some_and(|at| at.elapsed() > Duration::from_secs(60)) {
                log.unexpected.push(format!("{key}: no answer after retrying for a minute"));
                break;
            }
            let sent = http
                .post(format!("{base}/api/v1/leads"))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .json(&json!({"last_name": key}))
                .send()
                .await;
            match sent {
                Ok(response) if response.status().as_u16() == 201 => {
                    let replayed = response.headers().contains_key("idempotent-replayed");
                    let body: Value = response.json().await.unwrap_or_default();
                    if body["last_name"] != key.as_str() {
                        log.unexpected.push(format!("{key}: answered with another record: {body}"));
                    }
                    log.acknowledged.push(key);
                    if let Some(failed_at) = failed_at {
                        log.retried.push((failed_at, Instant::now()));
                        log.replayed += usize::from(replayed);
                    }
                    break;
                }
                Ok(response) if matches!(response.status().as_u16(), 409 | 503) => {
                    failed_at.get_or_insert_with(Instant::now);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Ok(response) => {
                    let status = response.status();
                    log.unexpected.push(format!("{key}: {status} {}", response.text().await.unwrap_or_default()));
                    break;
                }
                Err(_) => {
                    failed_at.get_or_insert_with(Instant::now);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    log
}

/// What keyed writers left behind, once stopped: their logs merged and the leads counted by
/// key (the name each lead was created with).
struct KeyedTally {
    acknowledged: usize,
    /// Acknowledged keys with no lead.
    lost: usize,
    /// Leads beyond the first of a key.
    duplicated: usize,
    /// Leads of no acknowledged key.
    unacknowledged: usize,
    retried: Vec<(Instant, Instant)>,
    replayed: usize,
    unexpected: Vec<String>,
}

/// Stops the writers, waits for them and reads every lead back.
async fn tally(
    stop: &AtomicBool,
    writers: Vec<tokio::task::JoinHandle<KeyedLog>>,
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<KeyedTally> {
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for writer in writers {
        logs.push(writer.await.map_err(|e| failure(e.to_string()))?);
    }
    let mut leads: HashMap<String, usize> = HashMap::new();
    for lead in list_all(http, base, "/api/v1/leads", token).await? {
        *leads.entry(lead["last_name"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    let acknowledged: std::collections::HashSet<&String> = logs.iter().flat_map(|l| &l.acknowledged).collect();
    Ok(KeyedTally {
        acknowledged: acknowledged.len(),
        lost: acknowledged.iter().filter(|key| !leads.contains_key(key.as_str())).count(),
        duplicated: leads.values().map(|n| n - 1).sum(),
        unacknowledged: leads.keys().filter(|name| !acknowledged.contains(name)).count(),
        retried: logs.iter().flat_map(|l| l.retried.iter().copied()).collect(),
        replayed: logs.iter().map(|l| l.replayed).sum(),
        unexpected: logs.into_iter().flat_map(|l| l.unexpected).collect(),
    })
}

/// Item 3: 16 clients create leads with `Idempotency-Key` while the server is killed with
/// SIGKILL mid-load (10 times in full, 4 bounded) and restarted on the same port; every failed
/// request is retried with its key. Promises, on each backend: no acknowledged write lost, no
/// key that made two leads, every retry answered within 10 s of the restart that followed it.
pub(super) async fn kill9_idempotency(config: &ReliabilityConfig, dir: &std::path::Path) -> Result<Outcome> {
    const CLIENTS: usize = 16;
    let kills = if config.full { 10 } else { 4 };
    let mut outcome = Outcome::default();
    for backend in Backend::BOTH {
        let database = Database::create(config, &dir.join(backend.name()), backend, "kill9").await?;
        let port = process::free_port()?;
        let mut server = database.serve(config, Some(port)).await?;
        let base = server.base_url.clone();
        let http = reqwest::Client::new();
        let token = admin_token(&http, &base, "kill9-admin@reliability.example").await?;
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> =
            (0..CLIENTS).map(|c| tokio::spawn(keyed_writer(base.clone(), token.clone(), c, stop.clone()))).collect();
        let mut restarts = Vec::new();
        for kill in 0..kills {
            // Under load for a while, varied so that the kills land at different points of a write.
            tokio::time::sleep(Duration::from_millis(400 + 71 * (kill % 5))).await;
            server.crash()?;
            server = database.serve(config, Some(port)).await?;
            restarts.push(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let KeyedTally { acknowledged, lost, duplicated, unacknowledged, retried, replayed, unexpected } =
            tally(&stop, writers, &http, &base, &token).await?;
        let slowest = retried
            .iter()
            .map(|(failed, answered)| {
                let restart = restarts.iter().copied().find(|r| r >= failed).unwrap_or(*failed);
                answered.saturating_duration_since(restart)
            })
            .max()
            .unwrap_or_default();
        let name = backend.name();
        outcome.figure(format!(
            "{name}, kill -9 x{kills} under {CLIENTS} keyed writers: {acknowledged} acknowledged, {} retried ({replayed} answered as replays), slowest retry answered {} ms after its restart",
            retried.len(),
            slowest.as_millis()
        ));
        outcome.figure(format!(
            "{name}: acknowledged writes lost: {lost} of {acknowledged}; keys that made two leads: {duplicated}; leads of no key: {unacknowledged}; unexpected answers: {}",
            unexpected.len()
        ));
        outcome.promise(lost == 0, format!("{name}: no acknowledged write is lost across kill -9"));
        outcome.promise(duplicated == 0, format!("{name}: a keyed create retried after kill -9 runs once"));
        outcome.promise(unacknowledged == 0, format!("{name}: every lead is an acknowledged key"));
        outcome.promise(
            unexpected.is_empty(),
            format!("{name}: every answer is 201, 409 in progress or 503 ({:?})", unexpected.first()),
        );
        outcome.promise(
            slowest <= Duration::from_secs(10),
            format!("{name}: every retry is answered within 10 s of the restart ({} ms)", slowest.as_millis()),
        );
        server.stop()?;
        database.drop_now(config).await?;
    }
    Ok(outcome)
}

/// A PostgreSQL cluster of the check's own, on its own port, run by `initdb` and `pg_ctl` (as
/// the `postgres` user when the suite runs as root, which PostgreSQL refuses to run as).
struct Cluster {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    log: std::path::PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn command(&self, program: &str) -> std::process::Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = std::process::Command::new("runuser");
            command.arg("-u").arg("postgres").arg("--").arg(path);
            command
        } else {
            std::process::Command::new(path)
        }
    }

    fn run(&self, mut command: std::process::Command, what: &str) -> Result<()> {
        let output = command.stdin(std::process::Stdio::null()).output()?;
        if !output.status.success() {
            return Err(failure(format!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    /// A new cluster in a fresh directory under the system's temporary directory (which the
    /// `postgres` user can reach, unlike a work directory under root's home).
    fn create() -> Result<Self> {
        let bin = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .ok_or_else(|| failure("pg_config --bindir failed: is the PostgreSQL server installed?"))?;
        let root = std::env::temp_dir().join(format!("crm-reliability-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root)?;
        let as_postgres = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            let status = std::process::Command::new("chown").arg("postgres").arg(&root).status()?;
            if !status.success() {
                return Err(failure("chown postgres of the cluster's directory failed"));
            }
        }
        let cluster = Cluster {
            bin,
            data: root.join("data"),
            log: root.join("postgres.log"),
            port: process::free_port()?,
            as_postgres,
        };
        let mut initdb = cluster.command("initdb");
        initdb.arg("-D").arg(&cluster.data).arg("-U").arg("postgres").arg("--auth=trust").arg("-E").arg("UTF8");
        cluster.run(initdb, "initdb")?;
        cluster.start()?;
        Ok(cluster)
    }

    fn start(&self) -> Result<()> {
        let mut start = self.command("pg_ctl");
        let socket_dir = self.data.parent().map(std::path::Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
        start.arg("-D").arg(&self.data).arg("-l").arg(&self.log).arg("-w").arg("-o").arg(format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=on",
            self.port,
            socket_dir.display()
        ));
        start.arg("start");
        self.run(start, "pg_ctl start")
    }

    /// Stops the cluster the way a crash does: `immediate` skips the checkpoint, so the restart
    /// recovers from the write-ahead log.
    fn crash(&self) -> Result<()> {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D").arg(&self.data).arg("-m").arg("immediate").arg("-w").arg("stop");
        self.run(stop, "pg_ctl stop")
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D").arg(&self.data).arg("-m").arg("immediate").arg("stop");
        let _ = stop.stdin(std::process::Stdio::null()).output();
        if let Some(root) = self.data.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

/// PostgreSQL stopped and restarted under load, on a throwaway cluster the check starts itself
/// on another port: 16 clients create leads with keys; the cluster is crashed (`pg_ctl stop -m
/// immediate`) and left down for 10 s (4 s bounded), then started again; a prober reads a lead
/// and `/ready` throughout. Promises: while the database is down, every answer is 503 with
/// `Retry-After` and `/ready` is 503; once it is back, the server serves again by itself within
/// 10 s; no acknowledged write is lost and no key makes two leads.
pub(super) async fn postgres_restart(config: &ReliabilityConfig, dir: &std::path::Path) -> Result<Outcome> {
    use sqlx::Connection;
    const CLIENTS: usize = 16;
    let mut outcome = Outcome::default();
    let down_for = Duration::from_secs(if config.full { 10 } else { 4 });
    let cluster = tokio::task::spawn_blocking(Cluster::create).await.map_err(|e| failure(e.to_string()))??;
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres")).await?;
    sqlx::raw_sql("CREATE DATABASE crm").execute(&mut admin).await?;
    admin.close().await?;
    std::fs::create_dir_all(dir)?;
    let log = dir.join("server.log");
    let http = reqwest::Client::new();
    let server = process::start_server(&config.crm, &cluster.url("crm"), dir, &log, &[], &http).await?;
    let base = server.base_url.clone();
    let token = admin_token(&http, &base, "restart-admin@reliability.example").await?;
    let probe_lead = super::create_lead(&http, &base, &token, "Probe").await?;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> =
        (0..CLIENTS).map(|c| tokio::spawn(keyed_writer(base.clone(), token.clone(), c, stop.clone()))).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let crashed_at = Instant::now();
    tokio::task::block_in_place(|| cluster.crash())?;
    // While it is down: what a reader and a load balancer's health check are told.
    let (mut down_answers, mut down_broken, mut ready_down, mut slowest_down) =
        (0, Vec::new(), Vec::new(), Duration::ZERO);
    while crashed_at.elapsed() < down_for {
        let started = Instant::now();
        match http.get(format!("{base}/api/v1/leads/{probe_lead}")).bearer_auth(&token).send().await {
            Ok(r) => {
                down_answers += 1;
                let status = r.status().as_u16();
                if status != 503 || !r.headers().contains_key("retry-after") {
                    down_broken.push(status);
                }
            }
            Err(_) => down_broken.push(0),
        }
        slowest_down = slowest_down.max(started.elapsed());
        ready_down.push(http.get(format!("{base}/ready")).send().await.map_or(0, |r| r.status().as_u16()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::task::block_in_place(|| cluster.start())?;
    let back_at = Instant::now();
    let mut recovered = None;
    while back_at.elapsed() < Duration::from_secs(30) {
        let answer = http.get(format!("{base}/api/v1/leads/{probe_lead}")).bearer_auth(&token).send().await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            recovered = Some(back_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready_after = http.get(format!("{base}/ready")).send().await.map_or(0, |r| r.status().as_u16());
    // A little load after the restart, then stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The probe lead is the one lead of no key.
    let KeyedTally { acknowledged, lost, duplicated, retried, unexpected, .. } =
        tally(&stop, writers, &http, &base, &token).await?;
    outcome.figure(format!(
        "PostgreSQL down {}s under {CLIENTS} keyed writers: {down_answers} reads while down, {} not 503 with Retry-After, slowest {:.1}s; /ready while down: {}; back in service {} after the restart; /ready after: {ready_after}",
        down_for.as_secs(),
        down_broken.len(),
        slowest_down.as_secs_f64(),
        if ready_down.iter().all(|s| *s == 503) { "503 throughout".to_owned() } else { format!("{ready_down:?}") },
        recovered.map_or_else(|| "never (30 s)".to_owned(), |d| format!("{} ms", d.as_millis()))
    ));
    outcome.figure(format!(
        "acknowledged writes lost: {lost} of {acknowledged}; retried {}; keys that made two leads: {duplicated}; unexpected answers: {}",
        retried.len(),
        unexpected.len()
    ));
    outcome.promise(
        down_broken.is_empty(),
        format!("while PostgreSQL is down, reads answer 503 with Retry-After ({down_broken:?})"),
    );
    outcome.promise(ready_down.iter().all(|s| *s == 503), "while PostgreSQL is down, /ready answers 503");
    outcome.promise(
        recovered.is_some_and(|d| d <= Duration::from_secs(10)),
        "the server serves again within 10 s of the restart",
    );
    outcome.promise(ready_after == 200, "/ready answers 200 once PostgreSQL is back");
    outcome.promise(lost == 0, "no acknowledged write is lost across the database crash");
    outcome.promise(duplicated == 0, "no key makes two leads");
    outcome
        .promise(unexpected.is_empty(), format!("every write is answered 201, 409 or 503 ({:?})", unexpected.first()));
    server.stop()?;
    drop(cluster);
    Ok(outcome)
}
