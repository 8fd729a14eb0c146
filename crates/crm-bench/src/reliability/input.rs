//! Hostile input: bodies and headers of every bad size, depth and encoding; values at the bounds
//! that must read back as they were accepted.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::Result;

use super::{Backend, Database, Outcome, ReliabilityConfig, admin_token, mib};

/// What a hostile request must be answered with.
struct Expect {
    status: u16,
    /// The problem code, when the API sees the request; `None` for the answers the HTTP parser
    /// gives itself (documented as bodiless in the conventions).
    code: Option<&'static str>,
}

/// A raw HTTP/1.1 exchange: the whole answer as the server sent it before closing or within 10 s.
async fn raw_exchange(address: &str, request: &[u8]) -> Result<Vec<u8>> {
    let mut stream = TcpStream::connect(address).await?;
    // The server may answer (and close) before the whole request is written: that is an answer.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                if complete(&answer) {
                    break;
                }
            }
            Err(_) if !answer.is_empty() && complete(&answer) => break,
            Err(_) => {}
        }
    }
    Ok(answer)
}

/// Whether `answer` holds a whole response (head, and a body of its Content-Length).
fn complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    answer.len() >= end + 4 + length
}

/// The status, the `Content-Type` and the body of a raw answer.
fn parse_answer(answer: &[u8]) -> (Option<u16>, String, Value) {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type").then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    let body = answer.get(end + 4..).and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
    (status, content_type, body)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// A `POST /api/v1/leads` with `body`, its content type and extra header lines.
fn post_leads(token: &str, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /api/v1/leads HTTP/1.1\r\nHost: reliability\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// A `PATCH` of a lead that does not exist, with extra header lines.
fn patch_lead(token: &str, extra: &str) -> Vec<u8> {
    let body = b"{\"last_name\":\"x\"}";
    let mut request = format!(
        "PATCH /api/v1/leads/0190d7a0-0000-7000-8000-000000000000 HTTP/1.1\r\nHost: reliability\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn get(path: &str, token: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: reliability\r\nAuthorization: Bearer {token}\r\n{extra}Connection: close\r\n\r\n"
    )
    .into_bytes()
}

/// Item 6 and the attacker's view of item 2: hostile bodies (too large, a gzip bomb, deep,
/// not UTF-8, out-of-range numbers, control characters, undeclared or undecodable encodings)
/// and hostile heads (a 1 MB header, 500 headers, a 100 KB query or path, NUL and oversized
/// `Idempotency-Key`), then 300 connections that trickle a request head and never finish it.
/// Promises: each is answered with its documented status, a problem document with its code
/// wherever the API sees the request; no lead is stored by any of them; the slow connections
/// are closed by the server and a client beside them is served; the server's RSS stays under
/// 150 MiB throughout.
pub(super) async fn hostile(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let database = Database::create(config, dir, Backend::Sqlite, "hostile").await?;
    let server = database.serve(config, None).await?;
    let base = server.base_url.clone();
    let address = base.trim_start_matches("http://").to_owned();
    let http = reqwest::Client::new();
    let token = admin_token(&http, &base, "hostile-admin@reliability.example").await?;
    let json = "application/json";
    let bomb = gzip(&[b"{\"last_name\":\"".as_slice(), &vec![b'a'; 100 << 20], b"\"}"].concat())?;
    let deep = [
        b"{\"last_name\":\"x\",\"custom_fields\":{\"a\":".as_slice(),
        &vec![b'['; 100_000],
        &vec![b']'; 100_000],
        b"}}",
    ]
    .concat();
    let too_deep_fields =
        format!("{{\"last_name\":\"x\",\"custom_fields\":{{\"a\":{}1{}}}}}", "[".repeat(6), "]".repeat(6));
    let long_name = format!("{{\"last_name\":\"{}\"}}", "a".repeat(900_000));
    let big = format!("{{\"last_name\":\"{}\"}}", "a".repeat(2 << 20));
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "a 2 MiB body",
            post_leads(&token, json, "", big.as_bytes()),
            Expect { status: 413, code: Some("payload_too_large") },
        ),
        (
            "a gzip bomb (100 MiB in 100 KiB)",
            post_leads(&token, json, "Content-Encoding: gzip\r\n", &bomb),
            Expect { status: 413, code: Some("payload_too_large") },
        ),
        (
            "a body in brotli",
            post_leads(&token, json, "Content-Encoding: br\r\n", b"{\"last_name\":\"x\"}"),
            Expect { status: 415, code: Some("unsupported_media_type") },
        ),
        (
            "a body that is not gzip, sent as gzip",
            post_leads(&token, json, "Content-Encoding: gzip\r\n", b"not gzip at all"),
            Expect { status: 400, code: Some("unreadable_body") },
        ),
        (
            "a body sent as text/plain",
            post_leads(&token, "text/plain", "", b"{\"last_name\":\"x\"}"),
            Expect { status: 415, code: Some("unsupported_media_type") },
        ),
        (
            "arrays nested 100,000 deep",
            post_leads(&token, json, "", &deep),
            Expect { status: 400, code: Some("malformed_json") },
        ),
        (
            "custom_fields nested 7 deep",
            post_leads(&token, json, "", too_deep_fields.as_bytes()),
            Expect { status: 422, code: Some("validation_failed") },
        ),
        (
            "bytes that are not UTF-8",
            post_leads(&token, json, "", b"{\"last_name\":\"\xff\xfe\"}"),
            Expect { status: 400, code: Some("malformed_json") },
        ),
        (
            "a lone surrogate",
            post_leads(&token, json, "", b"{\"last_name\":\"\\ud800\"}"),
            Expect { status: 400, code: Some("malformed_json") },
        ),
        (
            "a NUL in a text",
            post_leads(&token, json, "", b"{\"last_name\":\"a\\u0000b\"}"),
            Expect { status: 422, code: Some("validation_failed") },
        ),
        (
            "a NUL in a custom field's key",
            post_leads(&token, json, "", b"{\"last_name\":\"x\",\"custom_fields\":{\"a\\u0000\":1}}"),
            Expect { status: 422, code: Some("validation_failed") },
        ),
        (
            "a 900 KB name",
            post_leads(&token, json, "", long_name.as_bytes()),
            Expect { status: 422, code: Some("validation_failed") },
        ),
        (
            "the number 1e400",
            post_leads(&token, json, "", b"{\"last_name\":\"x\",\"custom_fields\":{\"n\":1e400}}"),
            Expect { status: 400, code: Some("malformed_json") },
        ),
        ("an empty body", post_leads(&token, json, "", b""), Expect { status: 400, code: Some("malformed_json") }),
        (
            "a JSON array",
            post_leads(&token, json, "", b"[1,2,3]"),
            Expect { status: 422, code: Some("validation_failed") },
        ),
        (
            "a 10 KB Idempotency-Key",
            post_leads(&token, json, &format!("Idempotency-Key: {}\r\n", "k".repeat(10_000)), b"{\"last_name\":\"x\"}"),
            Expect { status: 400, code: Some("invalid_parameter") },
        ),
        (
            "a NUL in Idempotency-Key",
            post_leads(&token, json, "Idempotency-Key: a\0b\r\n", b"{\"last_name\":\"x\"}"),
            Expect { status: 400, code: None },
        ),
        (
            "a 1 MB header",
            get("/api/v1/leads", &token, &format!("X-Big: {}\r\n", "b".repeat(1 << 20))),
            Expect { status: 431, code: None },
        ),
        (
            "500 headers",
            get("/api/v1/leads", &token, &(0..500).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()),
            Expect { status: 431, code: None },
        ),
        (
            "a 100 KB query",
            get(&format!("/api/v1/leads?q={}", "a".repeat(100_000)), &token, ""),
            Expect { status: 400, code: None },
        ),
        (
            "a 100 KB path",
            get(&format!("/api/v1/leads/{}", "a".repeat(100_000)), &token, ""),
            Expect { status: 400, code: None },
        ),
        (
            "a 7 KB query",
            get(&format!("/api/v1/leads?q={}", "a".repeat(7_000)), &token, ""),
            Expect { status: 400, code: Some("invalid_parameter") },
        ),
        (
            "an If-Match of 100 digits",
            patch_lead(&token, &format!("If-Match: \"{}\"\r\n", "9".repeat(100))),
            Expect { status: 400, code: Some("invalid_parameter") },
        ),
        (
            "a limit past 64 bits",
            get("/api/v1/leads?limit=99999999999999999999", &token, ""),
            Expect { status: 400, code: Some("invalid_parameter") },
        ),
    ];
    let mut peak = server.rss_bytes().unwrap_or_default();
    let mut answered_as_documented = 0;
    for (what, request, expect) in &cases {
        let answer = raw_exchange(&address, request).await?;
        let (status, content_type, body) = parse_answer(&answer);
        peak = peak.max(server.rss_bytes().unwrap_or_default());
        let kept = status == Some(expect.status)
            && expect.code.is_none_or(|code| content_type == "application/problem+json" && body["code"] == code);
        answered_as_documented += usize::from(kept);
        outcome.promise(
            kept,
            format!(
                "{what}: answered {} {} (got {} {content_type} {})",
                expect.status,
                expect.code.unwrap_or("by the HTTP parser"),
                status.map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
                body.get("code").unwrap_or(&Value::Null)
            ),
        );
    }
    outcome.figure(format!("hostile requests answered as documented: {answered_as_documented} of {}", cases.len()));
    let leads = super::list_all(&http, &base, "/api/v1/leads", &token).await?;
    outcome.figure(format!("leads stored by them: {}", leads.len()));
    outcome.promise(leads.is_empty(), "no hostile request stores a lead");

    // Slow heads: connections that send part of a request head and a byte now and then.
    let slow = 300;
    let mut trickling = Vec::new();
    for n in 0..slow {
        let address = address.clone();
        trickling.push(tokio::spawn(async move {
            let started = Instant::now();
            let Ok(mut stream) = TcpStream::connect(&address).await else {
                return None;
            };
            let _ = stream.write_all(format!("GET /api/v1/leads HTTP/1.1\r\nHost: slow{n}\r\n").as_bytes()).await;
            let mut buffer = [0_u8; 1024];
            while started.elapsed() < Duration::from_secs(30) {
                if stream.write_all(b"X").await.is_err() {
                    return Some(started.elapsed());
                }
                if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await
                {
                    return Some(started.elapsed());
                }
            }
            None
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let beside = http.get(format!("{base}/api/v1/leads")).bearer_auth(&token).send().await?.status().as_u16();
    peak = peak.max(server.rss_bytes().unwrap_or_default());
    let mut closed = Vec::new();
    for task in trickling {
        if let Ok(Some(after)) = task.await {
            closed.push(after);
        }
    }
    let slowest = closed.iter().max().copied().unwrap_or_default();
    outcome.figure(format!(
        "{slow} connections trickling a request head: {} closed by the server, the last after {:.1} s; a read beside them: {beside}",
        closed.len(),
        slowest.as_secs_f64()
    ));
    outcome.promise(closed.len() == slow, "the server closes every connection that never finishes its head");
    outcome.promise(beside == 200, "a client beside the slow connections is served");
    let ready = http.get(format!("{base}/ready")).send().await?.status().as_u16();
    outcome.promise(ready == 200, "the server is ready after all of it");
    outcome.figure(format!("server RSS at most {:.1} MiB", mib(peak)));
    outcome.promise(peak < 150 * 1024 * 1024, format!("RSS stays under 150 MiB (peak {:.1} MiB)", mib(peak)));
    server.stop()?;
    database.drop_now(config).await?;
    Ok(outcome)
}
