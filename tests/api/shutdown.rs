//! The server binary stops gracefully on SIGINT (Ctrl-C) and on SIGTERM: every request in flight
//! when the signal arrives gets its answer, and the process exits 0.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::binary::{Server, Storage};
use crate::helpers::{Backend, PASSWORD};

fn start_server(storage: &Storage) -> Server {
    // Logins wait for a hashing thread as long as it takes, so that none is answered 503.
    Server::start(storage, 0, &[("CRM_PASSWORD_WAIT_MS", "60000"), ("CRM_PASSWORD_THREADS", "1")])
}

async fn in_flight_requests_finish_on(signal: &str) {
    let storage = Storage::fresh(&Backend::Sqlite).await;
    let mut server = start_server(&storage);
    let client = reqwest::Client::new();
    let signup = client
        .post(format!("{}/auth/signup", server.base))
        .json(&json!({"organization_name": "Acme", "name": "Ada", "email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    // Nine logins at once (the per-email limit is ten a minute) on one hashing thread: they finish
    // one after the other, over several hundred milliseconds, so most are in flight when the
    // signal arrives.
    let logins: Vec<_> = (0..9)
        .map(|_| {
            let request = client
                .post(format!("{}/auth/login", server.base))
                .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
                .send();
            tokio::spawn(async move { request.await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let sent = Command::new("kill").args([signal, &server.child.id().to_string()]).status();
    assert!(sent.is_ok_and(|s| s.success()), "could not send {signal}");
    let mut answered = 0;
    for login in logins {
        match login.await {
            Ok(Ok(200)) => answered += 1,
            other => panic!("a request in flight at {signal} was not answered 200: {other:?}"),
        }
    }
    assert_eq!(answered, 9);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not stop after {signal}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status after {signal}: {status}");
    // It no longer listens.
    assert!(client.get(format!("{}/health", server.root)).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_lets_in_flight_requests_finish() {
    in_flight_requests_finish_on("-INT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish() {
    in_flight_requests_finish_on("-TERM").await;
}
