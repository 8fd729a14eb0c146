//! The few API calls the harness makes as a client: sign up (which creates the organisation to
//! seed) and log in (a fresh token for each server it starts).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{Result, failure};
use crate::seed::Tenant;

/// The admin's password: the seeded users share its hash.
pub const PASSWORD: &str = "correct horse battery staple";

fn field<'a>(value: &'a Value, path: &[&str]) -> Result<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key)).ok_or_else(|| failure(format!("no {} in {value}", path.join("."))))
}

fn uuid_at(value: &Value, path: &[&str]) -> Result<Uuid> {
    let text = field(value, path)?.as_str().ok_or_else(|| failure(format!("{} is not text", path.join("."))))?;
    Ok(Uuid::parse_str(text)?)
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Result<Value> {
    let response = client.post(&url).json(&body).send().await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    if !status.is_success() {
        return Err(failure(format!("POST {url} answered {status}: {answer}")));
    }
    Ok(answer)
}

/// Signs up a new organisation and its admin through the API.
pub async fn signup(client: &reqwest::Client, base_url: &str, email: &str) -> Result<Tenant> {
    let body = json!({
        "organization_name": "Benchmark Industries",
        "name": "Bench Admin",
        "email": email,
        "password": PASSWORD,
    });
    let answer = post(client, format!("{base_url}/api/v1/auth/signup"), body).await?;
    Ok(Tenant {
        organization_id: uuid_at(&answer, &["organization", "id"])?,
        admin_id: uuid_at(&answer, &["user", "id"])?,
    })
}

/// Logs in and answers the access token.
pub async fn login(client: &reqwest::Client, base_url: &str, email: &str) -> Result<String> {
    let answer =
        post(client, format!("{base_url}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD})).await?;
    let token = field(&answer, &["access_token"])?.as_str().ok_or_else(|| failure("access_token is not text"))?;
    Ok(token.to_owned())
}
