//! The database goes away and comes back: requests answer 503 with Retry-After meanwhile, and the
//! server recovers by itself. PostgreSQL only (the `postgres-tests` feature): a TCP proxy between
//! the server and the database is cut and restored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::helpers::{Backend, TestApp, fresh_database_url, postgres_url};

/// Forwards connections to `target` while enabled; `cut` also drops the open ones.
struct Proxy {
    port: u16,
    enabled: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().map(|a| a.port()).unwrap();
        let enabled = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let (flag, open) = (enabled.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                open.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Self { port, enabled, connections }
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
