//! Locks and connections: a held table lock, an exhausted pool, two processes racing on
//! `If-Match`.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{Result, failure};

use super::{Backend, Database, Outcome, ReliabilityConfig, admin_token, create_lead};

/// Item 4: `LOCK TABLE leads IN ACCESS EXCLUSIVE MODE` held for 20 s (5 s bounded) on
/// PostgreSQL. With the server's defaults, `GET /leads/{id}` and `POST /leads` are answered 503
/// with `Retry-After` while the lock is held (the original probe waited 19.8 s for a 200), and
/// both work again once it is released.
pub(super) async fn table_lock(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    use sqlx::Connection;
    let mut outcome = Outcome::default();
    let database = Database::create(config, dir, Backend::Postgres, "lock").await?;
    let client = reqwest::Client::new();
    let server = database.serve(config, None).await?;
    let base = server.base_url.clone();
    let token = admin_token(&client, &base, "lock-admin@reliability.example").await?;
    let lead = create_lead(&client, &base, &token, "Locked").await?;
    let held = Duration::from_secs(if config.full { 20 } else { 5 });
    let mut lock = sqlx::PgConnection::connect(&database.url).await?;
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
    database.drop_now(config).await?;
    Ok(outcome)
}

/// What the If-Match racers saw.
#[derive(Default)]
struct RaceLog {
    applied: u64,
    refused: u64,
    unexpected: Vec<String>,
}

/// Two server processes on one database, 8 clients (4 on each) racing to increment one lead's
/// counter with `GET` then `PATCH` under `If-Match` (for 20 s in full, 4 s bounded). Promises,
/// on both backends: every `PATCH` is applied (200) or refused (412), and the counter and the
/// version both went up by exactly the number applied: no update lost between the processes.
pub(super) async fn if_match_race(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let seconds = if config.full { 20 } else { 4 };
    for backend in Backend::BOTH {
        let name = backend.name();
        let database = Database::create(config, &dir.join(name), backend, "race").await?;
        let first = database.serve(config, None).await?;
        let second = database.serve(config, None).await?;
        let http = reqwest::Client::new();
        let token = admin_token(&http, &first.base_url, "race-admin@reliability.example").await?;
        let created: Value = http
            .post(format!("{}/api/v1/leads", first.base_url))
            .bearer_auth(&token)
            .json(&json!({"last_name": "Contended", "custom_fields": {"n": 0}}))
            .send()
            .await?
            .json()
            .await?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        let start_version = created["version"].as_u64().unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut racers = Vec::new();
        for n in 0..8 {
            let base = if n % 2 == 0 { first.base_url.clone() } else { second.base_url.clone() };
            let (http, token, id) = (http.clone(), token.clone(), id.clone());
            racers.push(tokio::spawn(async move {
                let mut log = RaceLog::default();
                let url = format!("{base}/api/v1/leads/{id}");
                while Instant::now() < deadline {
                    let Ok(read) = http.get(&url).bearer_auth(&token).send().await else {
                        log.unexpected.push("a read got no answer".to_owned());
                        continue;
                    };
                    let etag = read.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    let lead: Value = read.json().await.unwrap_or_default();
                    let counter = lead["custom_fields"]["n"].as_u64().unwrap_or_default();
                    let sent = http
                        .patch(&url)
                        .bearer_auth(&token)
                        .header("If-Match", etag)
                        .json(&json!({"custom_fields": {"n": counter + 1}}))
                        .send()
                        .await;
                    match sent.map(|r| r.status().as_u16()) {
                        Ok(200) => log.applied += 1,
                        Ok(412) => log.refused += 1,
                        Ok(status) => log.unexpected.push(format!("PATCH answered {status}")),
                        Err(error) => log.unexpected.push(format!("PATCH got no answer: {error}")),
                    }
                }
                log
            }));
        }
        let mut total = RaceLog::default();
        for racer in racers {
            let log = racer.await.map_err(|e| failure(e.to_string()))?;
            total.applied += log.applied;
            total.refused += log.refused;
            total.unexpected.extend(log.unexpected);
        }
        let last: Value =
            http.get(format!("{}/api/v1/leads/{id}", second.base_url)).bearer_auth(&token).send().await?.json().await?;
        let counter = last["custom_fields"]["n"].as_u64().unwrap_or_default();
        let versions = last["version"].as_u64().unwrap_or_default().saturating_sub(start_version);
        outcome.figure(format!(
            "{name}, two processes, 8 racers for {seconds}s: {} applied, {} refused 412, {} other; counter {counter}, versions gained {versions}; lost updates: {}",
            total.applied,
            total.refused,
            total.unexpected.len(),
            total.applied.abs_diff(counter)
        ));
        outcome.promise(
            counter == total.applied && versions == total.applied,
            format!("{name}: no update is lost between two processes (counter {counter}, applied {})", total.applied),
        );
        outcome.promise(
            total.unexpected.is_empty(),
            format!("{name}: every racing PATCH is answered 200 or 412 ({:?})", total.unexpected.first()),
        );
        outcome.promise(total.refused > 0, format!("{name}: the racers did collide"));
        first.stop()?;
        second.stop()?;
        database.drop_now(config).await?;
    }
    Ok(outcome)
}

/// Pool exhaustion on PostgreSQL: a server with 4 database connections, `LOCK TABLE leads` held
/// for 15 s (6 s bounded) while 32 clients read leads (each holds a connection until its lock
/// timeout) and one client reads an account beside them. Promises: every answer is 200 or 503
/// with `Retry-After`, none later than the request deadline (10 s) plus one second; once the
/// lock is gone, reads of leads and accounts answer 200 again.
pub(super) async fn pool_exhaustion(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    use sqlx::Connection;
    let mut outcome = Outcome::default();
    let database = Database::create(config, dir, Backend::Postgres, "pool").await?;
    let server = database.serve_with(config, None, &[("CRM_DB_MAX_CONNECTIONS", "4")]).await?;
    let base = server.base_url.clone();
    let http = reqwest::Client::new();
    let token = admin_token(&http, &base, "pool-admin@reliability.example").await?;
    let lead = create_lead(&http, &base, &token, "Locked").await?;
    let account: Value = http
        .post(format!("{base}/api/v1/accounts"))
        .bearer_auth(&token)
        .json(&json!({"name": "Beside"}))
        .send()
        .await?
        .json()
        .await?;
    let account = account["id"].as_str().unwrap_or_default().to_owned();
    let held = Duration::from_secs(if config.full { 15 } else { 6 });
    let mut lock = sqlx::PgConnection::connect(&database.url).await?;
    sqlx::raw_sql("BEGIN; LOCK TABLE leads IN ACCESS EXCLUSIVE MODE").execute(&mut lock).await?;
    let until = Instant::now() + held;
    let mut clients = Vec::new();
    for n in 0..33 {
        let url =
            if n == 32 { format!("{base}/api/v1/accounts/{account}") } else { format!("{base}/api/v1/leads/{lead}") };
        let (http, token) = (http.clone(), token.clone());
        clients.push(tokio::spawn(async move {
            // (answers by status, the slowest, answers that broke a promise)
            let mut statuses: HashMap<u16, u64> = HashMap::new();
            let mut slowest = Duration::ZERO;
            let mut broken = Vec::new();
            while Instant::now() < until {
                let started = Instant::now();
                match http.get(&url).bearer_auth(&token).send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let retry_after = response.headers().contains_key("retry-after");
                        *statuses.entry(status).or_default() += 1;
                        if !(status == 200 || (status == 503 && retry_after)) {
                            broken.push(format!("{url}: {status}"));
                        }
                    }
                    Err(error) => broken.push(format!("{url}: no answer: {error}")),
                }
                slowest = slowest.max(started.elapsed());
            }
            (statuses, slowest, broken)
        }));
    }
    let mut statuses: HashMap<u16, u64> = HashMap::new();
    let mut beside = HashMap::new();
    let mut slowest = Duration::ZERO;
    let mut broken = Vec::new();
    for (n, client) in clients.into_iter().enumerate() {
        let (seen, slow, wrong) = client.await.map_err(|e| failure(e.to_string()))?;
        for (status, count) in seen {
            *(if n == 32 { &mut beside } else { &mut statuses }).entry(status).or_default() += count;
        }
        slowest = slowest.max(slow);
        broken.extend(wrong);
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut lock).await?;
    lock.close().await?;
    let lead_after =
        http.get(format!("{base}/api/v1/leads/{lead}")).bearer_auth(&token).send().await?.status().as_u16();
    let account_after =
        http.get(format!("{base}/api/v1/accounts/{account}")).bearer_auth(&token).send().await?.status().as_u16();
    let count = |map: &HashMap<u16, u64>, status| map.get(&status).copied().unwrap_or_default();
    outcome.figure(format!(
        "4 connections, leads locked {}s, 32 readers of the lead: {} answered 200, {} answered 503; the reader of an account beside them: {} 200, {} 503; slowest answer {:.1}s; after the lock: lead {lead_after}, account {account_after}",
        held.as_secs(),
        count(&statuses, 200),
        count(&statuses, 503),
        count(&beside, 200),
        count(&beside, 503),
        slowest.as_secs_f64()
    ));
    outcome.promise(broken.is_empty(), format!("every answer is 200 or 503 with Retry-After ({:?})", broken.first()));
    outcome.promise(
        slowest <= Duration::from_secs(11),
        format!("no answer comes later than the request deadline (slowest {:.1}s)", slowest.as_secs_f64()),
    );
    outcome.promise(lead_after == 200 && account_after == 200, "the server serves again once the lock is gone");
    server.stop()?;
    database.drop_now(config).await?;
    Ok(outcome)
}
