//! The server binary stops gracefully on SIGINT (Ctrl-C) and on SIGTERM: every request in flight
//! when the signal arrives gets its answer, and the process exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::PASSWORD;

/// The server binary on a fresh SQLite database in its own folder, and its base URL.
struct Server {
    child: Child,
    root: String,
    base: String,
    _dir: crate::helpers::tempfile_dir::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        // A test that failed halfway leaves no server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let dir = crate::helpers::tempfile_dir::TempDir::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        // Logins wait for a hashing thread as long as it takes, so that none is answered 503.
        .env("CRM_PASSWORD_WAIT_MS", "60000")
        .env("CRM_PASSWORD_THREADS", "1")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start the server: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let (port_sender, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = port_sender.send(digits);
            }
        }
    });
    let port = port.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|e| panic!("the server did not start: {e}"));
    Server {
        child,
        root: format!("http://127.0.0.1:{port}"),
        base: format!("http://127.0.0.1:{port}/api/v1"),
        _dir: dir,
    }
}

async fn in_flight_requests_finish_on(signal: &str) {
    let mut server = start_server();
    let client = reqwest::Client::new();
    let signup = client
        .post(format!("{}/auth/signup", server.base))
        .json(&json!({"organization_name": "Acme", "name": "Ada", "email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
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
