//! Values at the bounds: what the API accepts reads back unchanged, on both backends, and sums
//! at the money bounds are right or the documented 422, never a failed write.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Number, Value, json};

use crate::error::{Result, failure};
use crate::rng::Rng;

use super::{Backend, Database, Outcome, ReliabilityConfig, admin_token};

/// How deep objects and arrays may nest inside `custom_fields` (the conventions: four).
const MAX_NESTING: usize = 4;

/// A number a client might send: edges of the 64-bit float and integer ranges, and random bits.
fn number(rng: &mut Rng) -> Value {
    let edges: [f64; 12] = [
        0.0,
        -0.0,
        0.1,
        1e16,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        5e-324,
        1e-300,
        9007199254740993.0,
        0.5,
        -1.5,
        1e300,
    ];
    match rng.below(6) {
        0 => json!(*rng.pick(&edges)),
        1 => json!(*rng.pick(&[i64::MIN, i64::MAX, 9_007_199_254_740_993, -9_007_199_254_740_993, 0, -1])),
        2 => json!(*rng.pick(&[u64::MAX, 18_446_744_073_709_551_000, 9_223_372_036_854_775_808])),
        3 => json!(rng.next_u64() as i64),
        4 => json!(rng.below(1000)),
        // Any finite double, from its bits.
        _ => loop {
            let candidate = f64::from_bits(rng.next_u64());
            if let Some(n) = Number::from_f64(candidate) {
                break Value::Number(n);
            }
        },
    }
}

/// A text: letters, escapes, emoji, separators, control characters and, now and then, a NUL.
fn text(rng: &mut Rng, max_chars: u64) -> String {
    let pieces = ["a", "Z", "é", "😀", "\"", "\\", "/", "\u{2028}", "\u{1f}", "\t", "\u{fffd}", "中", " ", "\u{7f}"];
    let length = rng.below(max_chars + 1);
    let mut out = String::new();
    for _ in 0..length {
        if rng.chance(1) {
            out.push('\0');
        } else if rng.chance(10) {
            out.push(char::from_u32(u32::try_from(rng.below(0xD7FF)).unwrap_or(65)).unwrap_or('a'));
        } else {
            out.push_str(rng.pick_str(&pieces));
        }
    }
    out
}

/// A JSON value `depth` containers deep at most (a few beyond the documented nesting, on purpose).
fn value(rng: &mut Rng, depth: usize) -> Value {
    let container = depth < MAX_NESTING + 2 && rng.chance(35);
    if !container {
        return match rng.below(5) {
            0 => Value::Null,
            1 => Value::Bool(rng.chance(50)),
            2 | 3 => number(rng),
            _ => Value::String(text(rng, 12)),
        };
    }
    if rng.chance(50) {
        Value::Array((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect())
    } else {
        Value::Object((0..rng.below(4)).map(|_| (text(rng, 6), value(rng, depth + 1))).collect())
    }
}

/// How deep containers nest inside `value` (a scalar: 0, `[1]`: 1).
fn nesting(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Whether the conventions promise to accept `fields`: at most four deep inside the object, no
/// NUL, and (the generator keeps sizes far from the line) at most 16 KiB.
fn within_rules(fields: &Map<String, Value>) -> bool {
    let size = serde_json::to_string(fields).map_or(usize::MAX, |s| s.len());
    fields.values().all(|v| nesting(v) <= MAX_NESTING)
        && !fields.iter().any(|(k, v)| k.contains('\0') || has_nul(v))
        && size <= 16 * 1024
}

/// The same value as the conventions define it: numbers are 64-bit floats (compared as such),
/// texts exact, objects by key whatever their order.
fn same(sent: &Value, read: &Value) -> bool {
    match (sent, read) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => sent == read,
    }
}

/// Item 2: arbitrary JSON values (1,000 in full, 150 bounded, per backend) sent as a lead's
/// `custom_fields`: each is accepted exactly when the conventions say so (else 422), and every
/// accepted value reads back the same from the create's answer, the record and the list; the
/// list and the audit trail stay readable, and every such lead can be archived.
pub(super) async fn custom_fields(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let count = if config.full { 1000 } else { 150 };
    for backend in Backend::BOTH {
        let name = backend.name();
        let database = Database::create(config, &dir.join(name), backend, "fields").await?;
        let server = database.serve(config, None).await?;
        let base = server.base_url.clone();
        let http = reqwest::Client::new();
        let token = admin_token(&http, &base, "fields-admin@reliability.example").await?;
        let mut rng = Rng::new(0xC0FF_EE00 ^ backend as u64);
        let (mut accepted, mut refused, mut wrong_verdict, mut changed, mut other) =
            (0, 0, Vec::new(), Vec::new(), Vec::new());
        let mut created = Vec::new();
        for n in 0..count {
            let mut fields: Map<String, Value> =
                (0..rng.below(8)).map(|_| (text(&mut rng, 8), value(&mut rng, 1))).collect();
            if n % 50 == 7 {
                // Well past 16 KiB.
                fields.insert("big".to_owned(), Value::String("x".repeat(20_000)));
            }
            let promised = within_rules(&fields);
            let sent = Value::Object(fields);
            let response = http
                .post(format!("{base}/api/v1/leads"))
                .bearer_auth(&token)
                .json(&json!({"last_name": format!("Fields {n}"), "custom_fields": sent}))
                .send()
                .await?;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            match status {
                201 => {
                    accepted += 1;
                    if !promised {
                        wrong_verdict.push(format!("accepted outside the rules: {sent}"));
                    }
                    let id = body["id"].as_str().unwrap_or_default().to_owned();
                    let read: Value = http
                        .get(format!("{base}/api/v1/leads/{id}"))
                        .bearer_auth(&token)
                        .send()
                        .await?
                        .json()
                        .await
                        .unwrap_or_default();
                    if !same(&sent, &body["custom_fields"]) || !same(&sent, &read["custom_fields"]) {
                        changed.push(format!("sent {sent}, read {}", read["custom_fields"]));
                    }
                    created.push((id, sent));
                }
                422 if body["code"] == "validation_failed" => {
                    refused += 1;
                    if promised {
                        wrong_verdict.push(format!("refused within the rules: {sent}: {}", body["detail"]));
                    }
                }
                _ => other.push(format!("{status} {body}")),
            }
        }
        // The list gives back every value too, and the audit trail stays readable.
        let listed = super::list_all(&http, &base, "/api/v1/leads", &token).await;
        let audit = super::list_all(&http, &base, "/api/v1/audit-events", &token).await;
        let mut list_changed = 0;
        if let Ok(listed) = &listed {
            for (id, sent) in &created {
                let found = listed.iter().find(|l| l["id"] == id.as_str());
                if !found.is_some_and(|l| same(sent, &l["custom_fields"])) {
                    list_changed += 1;
                }
            }
        }
        let mut archive_failures = 0;
        for (id, _) in &created {
            let response = http.delete(format!("{base}/api/v1/leads/{id}")).bearer_auth(&token).send().await?;
            if !response.status().is_success() {
                archive_failures += 1;
            }
        }
        outcome.figure(format!(
            "{name}: {count} random custom_fields: {accepted} accepted, {refused} refused (422); verdicts against the rules: {}; values changed on the way back: {} (record), {list_changed} (list); other answers: {}",
            wrong_verdict.len(),
            changed.len(),
            other.len()
        ));
        outcome.promise(
            wrong_verdict.is_empty(),
            format!("{name}: accepted exactly what the conventions allow ({:?})", wrong_verdict.first()),
        );
        outcome.promise(
            changed.is_empty() && list_changed == 0,
            format!("{name}: every accepted value reads back the same ({:?})", changed.first()),
        );
        outcome.promise(other.is_empty(), format!("{name}: every answer is 201 or 422 ({:?})", other.first()));
        outcome.promise(
            listed.is_ok(),
            format!("{name}: the lead list stays readable ({:?})", listed.as_ref().err().map(ToString::to_string)),
        );
        outcome.promise(
            audit.is_ok(),
            format!("{name}: the audit trail stays readable ({:?})", audit.as_ref().err().map(ToString::to_string)),
        );
        outcome.promise(
            archive_failures == 0,
            format!("{name}: every accepted lead can be archived ({archive_failures} could not)"),
        );
        server.stop()?;
        database.drop_now(config).await?;
    }
    Ok(outcome)
}

/// Item 7: deals at the largest amount (10^15 minor units) at 100%, created through the API by
/// 8 clients: 9,223 of them sum to 9,223 × 10^15, just under 2^63, and the pipeline and the
/// forecast say exactly that; the 9,224th is an ordinary 201, after which both reports answer
/// the documented 422 `amount_overflow`. On both backends (the bounded run too: it is the bound).
pub(super) async fn report_bounds(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    const UNDER: u64 = 9_223;
    let mut outcome = Outcome::default();
    for backend in Backend::BOTH {
        let name = backend.name();
        let database = Database::create(config, &dir.join(name), backend, "totals").await?;
        let server = database.serve(config, None).await?;
        let base = Arc::new(server.base_url.clone());
        let http = reqwest::Client::new();
        let token = Arc::new(admin_token(&http, &base, "totals-admin@reliability.example").await?);
        let account: Value = http
            .post(format!("{base}/api/v1/accounts"))
            .bearer_auth(&*token)
            .json(&json!({"name": "Navy"}))
            .send()
            .await?
            .json()
            .await?;
        let body =
            Arc::new(json!({"name": "Big", "account_id": account["id"], "stage": "negotiation", "probability": 100,
            "amount": {"amount": 1_000_000_000_000_000_i64, "currency": "EUR"}, "expected_close_date": "2027-01-15"}));
        let mut writers = Vec::new();
        for w in 0..8 {
            let (http, base, token, body) = (http.clone(), base.clone(), token.clone(), body.clone());
            writers.push(tokio::spawn(async move {
                let mut failed = Vec::new();
                for _ in (w..UNDER).step_by(8) {
                    let sent = http
                        .post(format!("{base}/api/v1/opportunities"))
                        .bearer_auth(&*token)
                        .json(&*body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 201 => {}
                        Ok(r) => failed.push(format!("{} {}", r.status(), r.text().await.unwrap_or_default())),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                failed
            }));
        }
        let mut failed = Vec::new();
        for writer in writers {
            failed.extend(writer.await.map_err(|e| failure(e.to_string()))?);
        }
        let read = |path: &'static str| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            async move {
                let response = http.get(format!("{base}{path}")).bearer_auth(&*token).send().await?;
                let status = response.status().as_u16();
                let body: Value = response.json().await?;
                Ok::<_, crate::error::BenchError>((status, body))
            }
        };
        let expected = 9_223_000_000_000_000_000_u64;
        let (pipeline_status, pipeline) = read("/api/v1/reports/pipeline").await?;
        let (forecast_status, forecast) = read("/api/v1/reports/forecast?from=2027-01-01&to=2027-01-31").await?;
        let total = pipeline["stages"][0]["total_amount"].as_u64();
        let weighted = pipeline["stages"][0]["weighted_amount"].as_u64();
        let expected_amount = forecast["periods"][0]["expected_amount"].as_u64();
        outcome.figure(format!(
            "{name}: {UNDER} deals of 10^15: {} writes failed; pipeline {pipeline_status} total {total:?} weighted {weighted:?}; forecast {forecast_status} {expected_amount:?}",
            failed.len()
        ));
        outcome
            .promise(failed.is_empty(), format!("{name}: every deal at the bound is created ({:?})", failed.first()));
        outcome.promise(
            total == Some(expected) && weighted == Some(expected) && expected_amount == Some(expected),
            format!("{name}: the reports sum {UNDER} × 10^15 exactly"),
        );
        let one_more = http
            .post(format!("{base}/api/v1/opportunities"))
            .bearer_auth(&*token)
            .json(&*body)
            .send()
            .await?
            .status()
            .as_u16();
        let (pipeline_status, pipeline) = read("/api/v1/reports/pipeline").await?;
        let (forecast_status, forecast) = read("/api/v1/reports/forecast?from=2027-01-01&to=2027-01-31").await?;
        outcome.figure(format!(
            "{name}: deal {}: {one_more}; then pipeline {pipeline_status} {}, forecast {forecast_status} {}",
            UNDER + 1,
            pipeline["code"],
            forecast["code"]
        ));
        outcome.promise(one_more == 201, format!("{name}: the deal past the bound is an ordinary write"));
        outcome.promise(
            pipeline_status == 422
                && pipeline["code"] == "amount_overflow"
                && forecast_status == 422
                && forecast["code"] == "amount_overflow",
            format!("{name}: totals past 64 bits answer 422 amount_overflow"),
        );
        server.stop()?;
        database.drop_now(config).await?;
    }
    Ok(outcome)
}
