//! A request sent with `Idempotency-Key` runs at most once even when the server running it is
//! killed: its retries get its answer (kept, or rebuilt from what its write committed), or run it
//! once its process is known to be gone, within seconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::binary::{Server, Storage};
use crate::helpers::{Backend, PASSWORD, TestApp, execute_sql, id_of};
use crate::on_both_backends;

on_both_backends!(answers_lost_after_the_commit_are_rebuilt, keyed_creates_survive_kill_9);

/// What a process killed between its commit and keeping its response leaves behind.
async fn lose_kept_answers(app: &TestApp) {
    execute_sql(
        &app.database_url,
        "UPDATE idempotency_keys SET response_status = NULL, response_headers = NULL, response_body = NULL",
    )
    .await;
}

async fn answers_lost_after_the_commit_are_rebuilt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let keyed = |key: &'static str| [("Idempotency-Key", key)];
    let post = |path: String, body: Value, key: &'static str| {
        let app = &app;
        let token = admin.token.clone();
        async move { app.send(Method::POST, &path, Some(&token), Some(&body), &keyed(key)).await }
    };

    // A creation: 201, the same record at the same Location, nothing created twice.
    let created =
        post("/api/v1/leads".to_owned(), json!({"last_name": "Lovelace", "company": "Lovelace Ltd"}), "create")
            .await
            .expect(201);
    let account = post("/api/v1/accounts".to_owned(), json!({"name": "Babbage & Co"}), "account").await.expect(201);
    let deal_body =
        json!({"name": "Engines", "account_id": id_of(&account.body), "amount": {"amount": 120000, "currency": "EUR"}});
    let deal = post("/api/v1/opportunities".to_owned(), deal_body.clone(), "deal").await.expect(201);
    let deal_path = format!("/api/v1/opportunities/{}", id_of(&deal.body));
    let closed = post(format!("{deal_path}/close"), json!({"outcome": "won"}), "close").await.expect(200);
    let convert_path = format!("/api/v1/leads/{}/convert", id_of(&created.body));
    post(convert_path.clone(), json!({}), "convert").await.expect(200);
    lose_kept_answers(&app).await;

    let again = post("/api/v1/leads".to_owned(), json!({"last_name": "Lovelace", "company": "Lovelace Ltd"}), "create")
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), created.header("location"));
    assert_eq!(id_of(&again.body), id_of(&created.body));
    assert_eq!(again.body["last_name"], "Lovelace");
    assert_eq!(app.get("/api/v1/leads", &admin.token).await.expect(200).body["data"].as_array().map(Vec::len), Some(1));
    // Rebuilt once, then kept: the next retry is the same answer.
    let third = post("/api/v1/leads".to_owned(), json!({"last_name": "Lovelace", "company": "Lovelace Ltd"}), "create")
        .await
        .expect(201);
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(id_of(&third.body), id_of(&created.body));
    // Another body with the key is still refused.
    post("/api/v1/leads".to_owned(), json!({"last_name": "Other"}), "create")
        .await
        .expect_problem(422, "idempotency_key_reused");

    // An action answers the record it acted on, as it is now.
    let deal_again = post("/api/v1/opportunities".to_owned(), deal_body, "deal").await.expect(201);
    assert_eq!(deal_again.header("location"), Some(deal_path.as_str()));
    let closed_again = post(format!("{deal_path}/close"), json!({"outcome": "won"}), "close").await.expect(200);
    assert_eq!(closed_again.header("idempotent-replayed"), Some("true"));
    assert_eq!(closed_again.body["stage"], "closed_won");
    assert_eq!(closed_again.body["version"], closed.body["version"]);
    assert_eq!(closed_again.header("etag"), closed.header("etag"));

    // A conversion's answer holds four records: it is not rebuilt, and the retry is told that
    // the conversion took effect and where to read it.
    let converted = post(convert_path, json!({}), "convert").await.expect_problem(409, "idempotent_request_applied");
    assert_eq!(converted.header("location"), Some(format!("/api/v1/leads/{}", id_of(&created.body)).as_str()));
    assert_eq!(
        app.get("/api/v1/accounts", &admin.token).await.expect(200).body["data"].as_array().map(Vec::len),
        Some(2)
    );
}

/// One client's keyed creations: which keys were acknowledged, and for those that had to be
/// retried, when the first try failed and when the answer came.
#[derive(Default)]
struct ClientLog {
    acknowledged: Vec<String>,
    retried: Vec<(Instant, Instant)>,
    replayed: usize,
}

async fn keyed_client(base: Arc<String>, token: String, client_number: usize, stop: Arc<AtomicBool>) -> ClientLog {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut log = ClientLog::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("c{client_number}-{n}");
        n += 1;
        let mut failed_at: Option<Instant> = None;
        loop {
            if let Some(failed_at) = failed_at {
                assert!(failed_at.elapsed() < Duration::from_secs(60), "{key}: retried for a minute without an answer");
            }
            let sent = http
                .post(format!("{base}/leads"))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .json(&json!({"last_name": key}))
                .send()
                .await;
            match sent {
                Ok(response) if response.status() == 201 => {
                    let replayed = response.headers().get("idempotent-replayed").is_some();
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(body["last_name"], key.as_str(), "the answer is the record of this key");
                    log.acknowledged.push(key);
                    if let Some(failed_at) = failed_at {
                        log.retried.push((failed_at, Instant::now()));
                        log.replayed += usize::from(replayed);
                    }
                    break;
                }
                // Still running in a process that may be gone: come back as told.
                Ok(response) if response.status() == 409 || response.status() == 503 => {
                    failed_at.get_or_insert_with(Instant::now);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Ok(response) => {
                    let status = response.status();
                    panic!("{key}: unexpected {status}: {}", response.text().await.unwrap_or_default());
                }
                // Killed mid-request, or down: retry with the same key.
                Err(_) => {
                    failed_at.get_or_insert_with(Instant::now);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    log
}

/// Sixteen clients create leads with keys while the server is killed with SIGKILL ten times;
/// each failed request is retried with its key until answered.
async fn keyed_creates_survive_kill_9(backend: Backend) {
    const CLIENTS: usize = 16;
    const KILLS: usize = 10;
    let storage = Storage::fresh(&backend).await;
    let mut server = Server::start(&storage, 0, &[]);
    let port = server.port;
    let base = Arc::new(server.base.clone());
    let signup = reqwest::Client::new()
        .post(format!("{base}/auth/signup"))
        .json(&json!({"organization_name": "Acme", "name": "Ada", "email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let token = crate::helpers::session(&signup.json().await.unwrap()).token;

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> =
        (0..CLIENTS).map(|c| tokio::spawn(keyed_client(base.clone(), token.clone(), c, stop.clone()))).collect();
    let mut restarts = Vec::new();
    for kill in 0..KILLS {
        // Under load for a while (varied, so that the kills land at different points of a write).
        tokio::time::sleep(Duration::from_millis(300 + 71 * (kill as u64 % 5))).await;
        server.kill();
        server = Server::start(&storage, port, &[]);
        restarts.push(Instant::now());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for client in clients {
        logs.push(client.await.unwrap());
    }

    // Every acknowledged key is one lead, and no key made two.
    let mut leads: HashMap<String, usize> = HashMap::new();
    let mut cursor: Option<String> = None;
    let http = reqwest::Client::new();
    loop {
        let mut url = format!("{base}/leads?limit=100");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = http
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap()
            .json()
            .await
            .unwrap();
        for lead in page["data"].as_array().into_iter().flatten() {
            *leads.entry(lead["last_name"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let acknowledged: Vec<&String> = logs.iter().flat_map(|l| &l.acknowledged).collect();
    let lost = acknowledged.iter().filter(|key| !leads.contains_key(key.as_str())).count();
    let duplicates: usize = leads.values().map(|n| n - 1).sum();
    let retried: Vec<(Instant, Instant)> = logs.iter().flat_map(|l| l.retried.iter().copied()).collect();
    // How long after the restart that followed its failure each retried request was answered.
    let slowest = retried
        .iter()
        .map(|(failed, answered)| {
            let restart = restarts.iter().copied().find(|r| r >= failed).unwrap_or(*failed);
            answered.saturating_duration_since(restart)
        })
        .max()
        .unwrap_or_default();
    let replayed: usize = logs.iter().map(|l| l.replayed).sum();
    eprintln!(
        "kill -9 x{KILLS}: {} acknowledged, {} retried ({replayed} answered as replays), lost {lost}, duplicated {duplicates}, slowest retry {} ms after its restart",
        acknowledged.len(),
        retried.len(),
        slowest.as_millis()
    );
    assert_eq!(lost, 0, "acknowledged writes lost");
    assert_eq!(duplicates, 0, "keyed creations that ran twice");
    assert_eq!(leads.len(), acknowledged.len(), "every lead is an acknowledged key");
    assert!(retried.len() >= KILLS, "the kills interrupted requests ({} retried)", retried.len());
    // A killed process's claims are freed once its heartbeat has been silent for `SILENCE`
    // (5 s), not after the five minutes that free any abandoned claim: the bound tells the two
    // apart with room for a loaded machine (it is not a speed measure; 10 s failed under a
    // concurrent build).
    assert!(slowest <= Duration::from_secs(60), "a retry waited {slowest:?} after the restart");
}

/// PostgreSQL only (where a lock can stop one table and not another): a keyed request whose
/// write fails because the database cannot serve it, and whose claim cannot be freed either
/// (the very outage), must not leave its key "in progress" while its process lives on: the
/// process frees the claim with its heartbeat once the database answers, and the retry runs.
#[cfg(feature = "postgres-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_left_by_an_outage_is_freed_once_postgres_answers() {
    use sqlx::Connection;
    let app = TestApp::spawn_with(Backend::Postgres(crate::helpers::postgres_url()), |s| {
        s.lock_timeout = Duration::from_millis(500);
        s.request_timeout = Duration::from_secs(120);
    })
    .await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let connect = || async { sqlx::PgConnection::connect(&app.database_url).await.unwrap() };
    let mut leads_lock = connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE leads IN ACCESS EXCLUSIVE MODE").execute(&mut leads_lock).await.unwrap();
    let keyed = [("Idempotency-Key", "outage")];
    let body = json!({"last_name": "Blocked"});
    let first = {
        let (app, token, body) = (&app, admin.token.clone(), body.clone());
        async move { app.send(Method::POST, "/api/v1/leads", Some(&token), Some(&body), &keyed).await }
    };
    let lock_the_keys = async {
        // Once the claim is in, the keys' table goes too: freeing the claim will fail.
        let mut probe = connect().await;
        loop {
            let claims: i64 =
                sqlx::query_scalar("SELECT count(*) FROM idempotency_keys").fetch_one(&mut probe).await.unwrap();
            if claims > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut keys_lock = connect().await;
        sqlx::raw_sql("BEGIN; LOCK TABLE idempotency_keys IN ACCESS EXCLUSIVE MODE")
            .execute(&mut keys_lock)
            .await
            .unwrap();
        keys_lock
    };
    let (first, mut keys_lock) = tokio::join!(first, lock_the_keys);
    first.expect_problem(503, "service_unavailable");
    sqlx::raw_sql("ROLLBACK").execute(&mut keys_lock).await.unwrap();
    sqlx::raw_sql("ROLLBACK").execute(&mut leads_lock).await.unwrap();

    // The retry is told to come back while the claim waits to be freed, then runs, once.
    let started = Instant::now();
    let created = loop {
        let retry = app.send(Method::POST, "/api/v1/leads", Some(&admin.token), Some(&body), &keyed).await;
        if retry.status == 201 {
            break retry;
        }
        assert_eq!(retry.status, 409, "{}", retry.text);
        assert!(started.elapsed() < Duration::from_secs(5), "the key stayed in progress for 5 s: {}", retry.text);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(created.header("idempotent-replayed"), None);
    let listed = app.get("/api/v1/leads", &admin.token).await.expect(200).body;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));
}
