//! A request never waits without bound: a statement stuck behind another transaction's lock
//! gives up after the lock timeout, and a request past its deadline is answered; both are 503
//! with `Retry-After`. Reports have a deadline of their own.

use std::time::Duration;

use serde_json::json;
use sqlx::Connection;

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(a_write_behind_a_held_lock_is_answered_503);

/// Another connection to the server's database that holds the write lock of `leads` until dropped
/// or rolled back: `LOCK TABLE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite (the whole file).
enum HeldLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

async fn hold_lock(database_url: &str) -> HeldLock {
    if database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
        HeldLock::Sqlite(conn)
    } else {
        let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE leads IN ACCESS EXCLUSIVE MODE").execute(&mut conn).await.unwrap();
        HeldLock::Postgres(conn)
    }
}

impl HeldLock {
    async fn release(self) {
        let rolled_back = match self {
            Self::Sqlite(mut conn) => sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.map(|_| ()),
            Self::Postgres(mut conn) => sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.map(|_| ()),
        };
        rolled_back.unwrap();
    }
}

async fn a_write_behind_a_held_lock_is_answered_503(backend: Backend) {
    // The deadline is far off: only the lock timeout can answer.
    let app = TestApp::spawn_with(backend, |s| {
        s.lock_timeout = Duration::from_millis(300);
        s.request_timeout = Duration::from_secs(120);
    })
    .await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app.create_lead(&admin, json!({"last_name": "Before"})).await;
    let lock = hold_lock(&app.database_url).await;
    let refused = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "Blocked"}))
        .await
        .expect_problem(503, "service_unavailable");
    assert_eq!(refused.header("retry-after"), Some("2"));
    if !app.database_url.starts_with("sqlite:") {
        // On PostgreSQL the lock blocks reads of the table too.
        app.get(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token)
            .await
            .expect_problem(503, "service_unavailable");
    }
    lock.release().await;
    // Nothing of the refused write was kept, and the table serves again.
    let listed = app.get("/api/v1/leads", &admin.token).await.expect(200).body;
    let names: Vec<&str> = listed["data"]
        .as_array()
        .map_or_else(Vec::new, |d| d.iter().map(|l| l["last_name"].as_str().unwrap_or_default()).collect());
    assert_eq!(names, ["Before"]);
    app.post("/api/v1/leads", &admin.token, &json!({"last_name": "After"})).await.expect(201);
}

/// PostgreSQL only: there a read waits for a table lock, so a request can outlive its deadline
/// without writing anything (on SQLite only writes wait, and the lock timeout answers them first).
#[cfg(feature = "postgres-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_answered_503_on_postgres() {
    // The lock timeout is far off: only the deadline can answer.
    let app = TestApp::spawn_with(Backend::Postgres(crate::helpers::postgres_url()), |s| {
        s.lock_timeout = Duration::from_secs(120);
        s.request_timeout = Duration::from_millis(300);
        s.report_timeout = Duration::from_secs(30);
    })
    .await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app.create_lead(&admin, json!({"last_name": "Locked"})).await;
    let lock = hold_lock(&app.database_url).await;
    let late = app
        .get(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token)
        .await
        .expect_problem(503, "service_unavailable");
    assert_eq!(late.header("retry-after"), Some("2"));
    assert!(late.body["detail"].as_str().is_some_and(|d| d.contains("deadline of 300 ms")), "{}", late.body);
    assert_eq!(late.header("x-request-id"), late.body["request_id"].as_str());
    // Reports have their own, longer deadline (this one does not read the locked table).
    app.get("/api/v1/reports/pipeline", &admin.token).await.expect(200);
    lock.release().await;
    app.get(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token).await.expect(200);
}
