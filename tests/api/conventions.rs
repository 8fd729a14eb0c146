//! The conventions every resource shares, exercised through leads: pagination, problems,
//! idempotency, request ids, limits, methods.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    walking_all_pages_while_others_insert_shows_each_record_once,
    malformed_bodies_get_problems,
    idempotent_posts_replay_and_refuse_mismatches,
    request_ids_are_kept_or_made,
    unknown_methods_answer_405_with_allow,
    thirty_two_concurrent_writers_all_succeed,
    concurrent_patches_without_if_match_all_apply,
);

async fn walking_all_pages_while_others_insert_shows_each_record_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let mut expected = HashSet::new();
    for i in 0..23 {
        // Shared last names make ties that only the id breaks.
        let lead = app.create_lead(&admin, json!({"last_name": format!("Name{}", i % 4)})).await;
        expected.insert(id_of(&lead));
    }
    for sort in ["-created_at", "last_name", "-last_name", "company"] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/leads?limit=5&sort={sort}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get(&path, &admin.token).await.expect(200);
            let data = page.body["data"].as_array().cloned().unwrap_or_default();
            assert!(data.len() <= 5);
            seen.extend(data.iter().map(id_of));
            pages += 1;
            // Others keep inserting while we walk; new records may or may not show, old ones must.
            app.create_lead(&admin, json!({"last_name": "Name1"})).await;
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(pages < 40, "pagination does not end");
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a record showed twice");
        for id in &expected {
            assert!(unique.contains(id), "{sort}: record {id} was skipped");
        }
    }
    let first = app.get("/api/v1/leads?limit=2&sort=last_name", &admin.token).await.expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap_or_default().to_owned();
    app.get(&format!("/api/v1/leads?limit=2&sort=-last_name&cursor={cursor}"), &admin.token)
        .await
        .expect_problem(400, "invalid_parameter");
    // A forged cursor whose value is not of the sort field's kind is a 400, not a database error.
    let forge = |sort: &str, value: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("1\n{sort}\n{}\n{value}", uuid::Uuid::now_v7().simple()))
    };
    for (path, sort, value) in [
        ("/api/v1/leads", "-created_at", "s:yesterday"),
        ("/api/v1/leads", "last_name", "t:2026-01-01T00:00:00Z"),
        ("/api/v1/quotes", "number", "s:Q-000001"),
        ("/api/v1/invoices", "-created_at", "i:12"),
    ] {
        let forged = forge(sort, value);
        let reply = app.get(&format!("{path}?sort={sort}&cursor={forged}"), &admin.token).await;
        reply.expect_problem(400, "invalid_parameter");
    }
    let genuine = forge("number", "i:1");
    app.get(&format!("/api/v1/quotes?sort=number&cursor={genuine}"), &admin.token).await.expect(200);
}

async fn malformed_bodies_get_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let raw = |body: &'static str, content_type: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/leads"))
            .bearer_auth(&admin.token)
            .header("content-type", content_type)
            .body(body);
        async move { crate::helpers::read(request.send().await.unwrap()).await }
    };
    raw("{\"last_name\": ", "application/json").await.expect_problem(400, "malformed_json");
    raw("not json", "application/json").await.expect_problem(400, "malformed_json");
    raw("{\"last_name\": \"X\"}", "text/plain").await.expect_problem(415, "unsupported_media_type");
    let no_type = app.client.post(app.url("/api/v1/leads")).bearer_auth(&admin.token).body("{}").send().await.unwrap();
    crate::helpers::read(no_type).await.expect_problem(415, "unsupported_media_type");
    raw("{\"last_name\": \"X\"}", "application/json; charset=utf-8").await.expect(201);
    raw("[]", "application/json").await.expect_problem(422, "validation_failed");
    // serde reads a struct from an array by position; the API takes objects only.
    raw("[null, \"Positional\"]", "application/json").await.expect_problem(422, "validation_failed");
    // A body in an encoding the server does not decode is refused, not read as plain bytes.
    let encoded = |encoding: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/leads"))
            .bearer_auth(&admin.token)
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body("{\"last_name\": \"Encoded\"}");
        async move { crate::helpers::read(request.send().await.unwrap()).await }
    };
    let brotli = encoded("br").await.expect_problem(415, "unsupported_media_type");
    assert_eq!(brotli.body["detail"], "Content-Encoding \"br\" is not supported: send the body as is, or with gzip");
    encoded("gzip, deflate").await.expect_problem(415, "unsupported_media_type");
    encoded("identity").await.expect(201);

    let huge = format!("{{\"last_name\": \"X\", \"description\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
    let response = app
        .client
        .post(app.url("/api/v1/leads"))
        .bearer_auth(&admin.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    crate::helpers::read(response).await.expect_problem(413, "payload_too_large");
    // Bad UUIDs in paths are problems too, and nothing internal leaks.
    let bad = app.get("/api/v1/leads/not-a-uuid", &admin.token).await.expect_problem(400, "invalid_path_parameter");
    assert_eq!(bad.body["errors"][0]["field"], "id");
    let unknown = app.get("/api/v1/nothing-here", &admin.token).await.expect_problem(404, "not_found");
    assert!(!unknown.text.to_lowercase().contains("sql"));
    let leads = app.get("/api/v1/leads", &admin.token).await.body["data"].as_array().map(Vec::len);
    assert_eq!(leads, Some(2), "only the two valid requests stored a lead");
}

async fn idempotent_posts_replay_and_refuse_mismatches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let other = app.add_user(&admin, "other@example.com", "sales_rep").await;
    let body = json!({"last_name": "Once"});
    let first = app
        .send(Method::POST, "/api/v1/leads", Some(&admin.token), Some(&body), &[("idempotency-key", "abc-1")])
        .await
        .expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = app
        .send(Method::POST, "/api/v1/leads", Some(&admin.token), Some(&body), &[("idempotency-key", "abc-1")])
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(app.get("/api/v1/leads", &admin.token).await.body["data"].as_array().map(Vec::len), Some(1));

    app.send(
        Method::POST,
        "/api/v1/leads",
        Some(&admin.token),
        Some(&json!({"last_name": "Twice"})),
        &[("idempotency-key", "abc-1")],
    )
    .await
    .expect_problem(422, "idempotency_key_reused");
    // Keys are per user: another user's same key is a new request.
    app.send(Method::POST, "/api/v1/leads", Some(&other.token), Some(&body), &[("idempotency-key", "abc-1")])
        .await
        .expect(201);
    // A refused request is replayed as refused.
    let invalid = json!({"last_name": ""});
    app.send(Method::POST, "/api/v1/leads", Some(&admin.token), Some(&invalid), &[("idempotency-key", "abc-2")])
        .await
        .expect_problem(422, "validation_failed");
    let replayed = app
        .send(Method::POST, "/api/v1/leads", Some(&admin.token), Some(&invalid), &[("idempotency-key", "abc-2")])
        .await;
    assert_eq!(replayed.status.as_u16(), 422);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    // Restore is a POST too.
    let lead = app.create_lead(&admin, json!({"last_name": "Archived"})).await;
    app.delete(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token).await.expect(200);
    let path = format!("/api/v1/leads/{}/restore", id_of(&lead));
    app.send(Method::POST, &path, Some(&admin.token), None, &[("idempotency-key", "restore-1")]).await.expect(200);
    let replay =
        app.send(Method::POST, &path, Some(&admin.token), None, &[("idempotency-key", "restore-1")]).await.expect(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let too_long = "k".repeat(256);
    app.send(Method::POST, "/api/v1/leads", Some(&admin.token), Some(&body), &[("idempotency-key", too_long.as_str())])
        .await
        .expect_problem(400, "invalid_parameter");
}

async fn request_ids_are_kept_or_made(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let kept = app.send(Method::GET, "/health", None, None, &[("x-request-id", "trace-123")]).await.expect(200);
    assert_eq!(kept.header("x-request-id"), Some("trace-123"));
    let made = app.send(Method::GET, "/health", None, None, &[]).await.expect(200);
    assert!(made.header("x-request-id").is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    let problem = app
        .send(Method::GET, "/api/v1/me", None, None, &[("x-request-id", "trace-456")])
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(problem.body["request_id"], "trace-456");
    app.send(Method::GET, "/ready", None, None, &[]).await.expect(200);
}

async fn unknown_methods_answer_405_with_allow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let put = app
        .send(Method::PUT, "/api/v1/leads", Some(&admin.token), Some(&json!({})), &[])
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(put.header("allow"), Some("GET, POST"));
    let id = uuid::Uuid::now_v7();
    let post = app
        .send(Method::POST, &format!("/api/v1/leads/{id}"), Some(&admin.token), None, &[])
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(post.header("allow"), Some("GET, PATCH, DELETE"));
    let get =
        app.send(Method::GET, "/api/v1/auth/login", None, None, &[]).await.expect_problem(405, "method_not_allowed");
    assert_eq!(get.header("allow"), Some("POST"));
}

async fn thirty_two_concurrent_writers_all_succeed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_db_connections = 8).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let client = app.client.clone();
        let url = app.url("/api/v1/leads");
        let token = admin.token.clone();
        tasks.push(tokio::spawn(async move {
            let response =
                client.post(url).bearer_auth(token).json(&json!({"last_name": format!("Writer {i}")})).send().await;
            crate::helpers::read(response.unwrap()).await
        }));
    }
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    }
    let page = app.get("/api/v1/leads?limit=200", &admin.token).await.expect(200);
    assert_eq!(page.body["data"].as_array().map(Vec::len), Some(32));
}

async fn concurrent_patches_without_if_match_all_apply(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app.create_lead(&admin, json!({"last_name": "Contended"})).await;
    let path = format!("/api/v1/leads/{}", id_of(&lead));
    let fields = ["first_name", "title", "phone", "website", "source_detail", "description"];
    let mut tasks = Vec::new();
    for field in fields {
        let client = app.client.clone();
        let url = app.url(&path);
        let token = admin.token.clone();
        tasks.push(tokio::spawn(async move {
            let response =
                client.patch(url).bearer_auth(token).json(&json!({field: format!("set {field}")})).send().await;
            crate::helpers::read(response.unwrap()).await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        assert!(matches!(reply.status.as_u16(), 200 | 412), "{}", reply.text);
        if reply.status.as_u16() == 200 {
            ok += 1;
        }
    }
    let final_state = app.get(&path, &admin.token).await.expect(200).body;
    let applied = fields.iter().filter(|f| final_state[**f] == Value::String(format!("set {f}"))).count();
    assert_eq!(applied, ok, "every accepted change is in the record, none lost");
    assert_eq!(final_state["version"], 1 + ok as i64);
}

/// Sends `head` (a whole request head, CRLFs included) on a fresh connection and answers the
/// response's status line and body, as the server wrote them.
async fn raw_request(app: &TestApp, head: &[u8]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(head).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// What the conventions say of requests the HTTP parser cannot read: 431 past 128 KiB of head or
/// 96 headers, 400 for a NUL in a header, with an empty body; a body field that is
/// not a UUID is described, not quoted from the parser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_requests_are_answered_as_documented() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let huge = format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n", "a".repeat(200 * 1024));
    let (status, body) = raw_request(&app, huge.as_bytes()).await;
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    assert_eq!(body, "");
    let (status, body) = raw_request(&app, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\0b\r\n\r\n").await;
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    assert_eq!(body, "");
    let many: String = (0..100).map(|n| format!("X-H{n}: v\r\n")).collect();
    let (status, _) = raw_request(&app, format!("GET /health HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes()).await;
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    // A head of 8 KiB is read like any other.
    let fine =
        format!("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Padding: {}\r\n\r\n", "a".repeat(8 * 1024));
    let (status, _) = raw_request(&app, fine.as_bytes()).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");

    let admin = app.signup("Acme", "ada@example.com").await;
    let refused = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "Hopper", "owner_id": "abc"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "owner_id");
    assert_eq!(refused.body["errors"][0]["message"], "must be a UUID such as 0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80");
    assert!(!refused.text.contains("parsing failed"), "{}", refused.text);
}
