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
        stop.store(true, Ordering::Relaxed);
        let mut logs = Vec::new();
        for writer in writers {
            logs.push(writer.await.map_err(|e| failure(e.to_string()))?);
        }
        let mut leads: HashMap<String, usize> = HashMap::new();
        for lead in list_all(&http, &base, "/api/v1/leads", &token).await? {
            *leads.entry(lead["last_name"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        }
        let acknowledged: Vec<&String> = logs.iter().flat_map(|l| &l.acknowledged).collect();
        let lost = acknowledged.iter().filter(|key| !leads.contains_key(key.as_str())).count();
        let duplicated: usize = leads.values().map(|n| n - 1).sum();
        let unacknowledged = leads.keys().filter(|name| !acknowledged.contains(name)).count();
        let retried: Vec<(Instant, Instant)> = logs.iter().flat_map(|l| l.retried.iter().copied()).collect();
        let slowest = retried
            .iter()
            .map(|(failed, answered)| {
                let restart = restarts.iter().copied().find(|r| r >= failed).unwrap_or(*failed);
                answered.saturating_duration_since(restart)
            })
            .max()
            .unwrap_or_default();
        let replayed: usize = logs.iter().map(|l| l.replayed).sum();
        let unexpected: Vec<&String> = logs.iter().flat_map(|l| &l.unexpected).collect();
        let name = backend.name();
        outcome.figure(format!(
            "{name}, kill -9 x{kills} under {CLIENTS} keyed writers: {} acknowledged, {} retried ({replayed} answered as replays), slowest retry answered {} ms after its restart",
            acknowledged.len(),
            retried.len(),
            slowest.as_millis()
        ));
        outcome.figure(format!(
            "{name}: acknowledged writes lost: {lost} of {}; keys that made two leads: {duplicated}; leads of no key: {unacknowledged}; unexpected answers: {}",
            acknowledged.len(),
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
