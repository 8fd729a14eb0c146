//! The database goes away and comes back: requests answer 503 with Retry-After meanwhile, and the
//! server recovers by itself. PostgreSQL only (the `postgres-tests` feature): a TCP proxy between
//! the server and the database is cut and restored, or drops the answer to one `COMMIT`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::helpers::{Backend, TestApp, fresh_database_url, postgres_url};

/// Forwards connections to `target` while enabled; `cut` also drops the open ones, and
/// `lose_next_commit_answer` lets the next `COMMIT` reach the database but not its answer.
struct Proxy {
    port: u16,
    enabled: Arc<AtomicBool>,
    lose_commit_answer: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().map(|a| a.port()).unwrap();
        let enabled = Arc::new(AtomicBool::new(true));
        let lose_commit_answer = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let (flag, lose, open) = (enabled.clone(), lose_commit_answer.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let (target, lose) = (target.clone(), lose.clone());
                open.lock().await.push(tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(target).await {
                        forward(inbound, outbound, lose).await;
                    }
                }));
            }
        });
        Self { port, enabled, lose_commit_answer, connections }
    }

    async fn cut(&self) {
        self.enabled.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().await.drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }

    fn lose_next_commit_answer(&self) {
        self.lose_commit_answer.store(true, Ordering::SeqCst);
    }
}

/// Copies bytes both ways until either side closes. When `lose_commit_answer` is set, the first
/// chunk from the server's side that carries `COMMIT` is delivered, the database is given time
/// to commit it, and the connection is dropped before its answer comes back: the commit happened,
/// and the server cannot know it.
async fn forward(inbound: TcpStream, outbound: TcpStream, lose_commit_answer: Arc<AtomicBool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut from_server, mut to_server) = inbound.into_split();
    let (mut from_database, mut to_database) = outbound.into_split();
    let muted = Arc::new(AtomicBool::new(false));
    let answers = {
        let muted = muted.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 16 * 1024];
            while let Ok(n @ 1..) = from_database.read(&mut buffer).await {
                if muted.load(Ordering::SeqCst) || to_server.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        })
    };
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = from_server.read(&mut buffer).await {
        let chunk = &buffer[..n];
        let commit = chunk.windows(6).any(|w| w == b"COMMIT");
        if commit && lose_commit_answer.swap(false, Ordering::SeqCst) {
            muted.store(true, Ordering::SeqCst);
            let _ = to_database.write_all(chunk).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            break;
        }
        if to_database.write_all(chunk).await.is_err() {
            break;
        }
    }
    answers.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_postgres_database_answers_503_and_the_server_recovers_by_itself() {
    let (database_url, _) = fresh_database_url(&Backend::Postgres(postgres_url())).await;
    // postgres://user@host:port/name -> host:port and name.
    let after_scheme = database_url.split_once("://").map_or("", |(_, rest)| rest);
    let (authority, name) = after_scheme.split_once('/').unwrap_or_else(|| panic!("{database_url}"));
    let (user, host_port) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    let proxy = Proxy::start(host_port.to_owned()).await;
    let proxied = format!("postgres://{user}@127.0.0.1:{}/{name}", proxy.port);

    let app = TestApp::spawn_with(Backend::Sqlite, |settings| settings.database_url = proxied.clone()).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    app.create_lead(&admin, json!({"last_name": "Before"})).await;

    proxy.cut().await;
    let down = app.get("/api/v1/leads", &admin.token).await.expect_problem(503, "service_unavailable");
    assert!(down.header("retry-after").is_some_and(|v| v.parse::<u32>().is_ok()), "{:?}", down.headers);
    app.send(reqwest::Method::GET, "/ready", None, None, &[]).await.expect_problem(503, "service_unavailable");
    app.send(reqwest::Method::GET, "/health", None, None, &[]).await.expect(200);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        if app.get("/api/v1/leads", &admin.token).await.status.as_u16() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the server did not recover after the database came back");
    let leads = app.get("/api/v1/leads", &admin.token).await.expect(200);
    assert_eq!(leads.body["data"][0]["last_name"], "Before", "nothing was lost");
}

/// The database commits an `Idempotency-Key` claim but the answer is lost on the way back: the
/// request fails with 503, and a retry with the same key must not be told "in progress" for the
/// five minutes a claim of a live process is kept: the server frees the claim once the database
/// answers again, and the retry creates the lead, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_losing_the_answer_to_a_claims_commit_frees_the_key_for_the_retry() {
    let (database_url, _) = fresh_database_url(&Backend::Postgres(postgres_url())).await;
    let after_scheme = database_url.split_once("://").map_or("", |(_, rest)| rest);
    let (authority, name) = after_scheme.split_once('/').unwrap_or_else(|| panic!("{database_url}"));
    let (user, host_port) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    let proxy = Proxy::start(host_port.to_owned()).await;
    // Plain text, so that the proxy can see the `COMMIT` go by.
    let proxied = format!("postgres://{user}@127.0.0.1:{}/{name}?sslmode=disable", proxy.port);
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| settings.database_url = proxied.clone()).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    // Warm the caller's principal, so the claim is the first write of the keyed request.
    app.get("/api/v1/leads", &admin.token).await.expect(200);

    let body = json!({"last_name": "Keyed"});
    let keyed = [("Idempotency-Key", "lost-answer")];
    proxy.lose_next_commit_answer();
    app.send(reqwest::Method::POST, "/api/v1/leads", Some(&admin.token), Some(&body), &keyed)
        .await
        .expect_problem(503, "service_unavailable");

    let mut answers = Vec::new();
    for _ in 0..40 {
        let reply = app.send(reqwest::Method::POST, "/api/v1/leads", Some(&admin.token), Some(&body), &keyed).await;
        answers.push(reply.status.as_u16());
        if reply.status.as_u16() == 201 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(answers.last(), Some(&201), "the retries were answered {answers:?}");
    assert!(answers.iter().all(|s| matches!(s, 201 | 409 | 503)), "{answers:?}");
    let leads = app.get("/api/v1/leads?q=Keyed", &admin.token).await.expect(200);
    assert_eq!(leads.body["data"].as_array().map(Vec::len), Some(1), "{}", leads.body);
}
