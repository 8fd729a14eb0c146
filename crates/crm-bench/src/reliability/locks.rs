//! Locks and connections: a held table lock, an exhausted pool.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::Result;
use crate::process::{self};

use super::{Outcome, ReliabilityConfig, admin_token, create_lead, create_postgres, drop_postgres};

/// Item 4: `LOCK TABLE leads IN ACCESS EXCLUSIVE MODE` held for 20 s (5 s bounded) on
/// PostgreSQL. With the server's defaults, `GET /leads/{id}` and `POST /leads` are answered 503
/// with `Retry-After` while the lock is held (the original probe waited 19.8 s for a 200), and
/// both work again once it is released.
pub(super) async fn table_lock(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
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
