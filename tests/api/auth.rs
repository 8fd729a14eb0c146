//! Signup, login, refresh rotation, logout, and attacks on tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, JWT_SECRET, PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(
    signup_creates_an_organisation_and_its_admin,
    login_answers_the_same_401_for_a_wrong_password_and_an_unknown_email,
    signup_refuses_short_passwords_and_taken_emails,
    refresh_tokens_rotate_and_reuse_revokes_the_session,
    logout_revokes_the_refresh_token,
    forged_and_expired_tokens_are_refused,
    a_token_used_before_is_refused_once_it_expires,
    a_deactivated_user_is_locked_out_at_once,
    other_processes_see_a_deactivation_within_their_cache_lifetime,
    signup_can_be_turned_off,
    repeated_login_attempts_are_rate_limited,
    failed_logins_are_limited_per_address_whatever_the_email,
    password_checks_beyond_the_hashing_threads_are_told_to_come_back,
);

async fn failed_logins_are_limited_per_address_whatever_the_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signup("Acme", "ada@example.com").await;
    // Successful logins do not count against the address.
    for _ in 0..5 {
        app.login("ada@example.com", PASSWORD).await.expect(200);
    }
    // Thirty failures with thirty different emails...
    for n in 0..30 {
        app.login(&format!("nobody-{n}@example.com"), "wrong password").await.expect_problem(401, "unauthorized");
    }
    // ...and the address is refused for the rest of the minute, whatever the email, without a hash.
    let limited = app.login("nobody-else@example.com", "wrong password").await.expect_problem(429, "rate_limited");
    let retry_after: u64 = limited.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_default();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    app.login("ada@example.com", PASSWORD).await.expect_problem(429, "rate_limited");
}

async fn password_checks_beyond_the_hashing_threads_are_told_to_come_back(backend: Backend) {
    // One hashing thread and no waiting: of logins arriving together, those that find the thread
    // busy are answered 503 at once instead of queueing with ~19 MiB each.
    let app = TestApp::spawn_with(backend, |s| {
        s.password_threads = 1;
        s.password_wait = std::time::Duration::ZERO;
    })
    .await;
    let emails: Vec<String> = (0..8).map(|n| format!("nobody-{n}@example.com")).collect();
    let logins = emails.iter().map(|email| app.login(email, "wrong password"));
    let replies = futures_util::future::join_all(logins).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 503), "{statuses:?}");
    assert!(statuses.contains(&401) && statuses.contains(&503), "{statuses:?}");
    let busy =
        replies.into_iter().find(|r| r.status.as_u16() == 503).map(|r| r.expect_problem(503, "service_unavailable"));
    assert_eq!(busy.as_ref().and_then(|r| r.header("retry-after")), Some("1"));
}

async fn repeated_login_attempts_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signup("Acme", "ada@example.com").await;
    for _ in 0..10 {
        app.login("ada@example.com", "wrong password").await.expect_problem(401, "unauthorized");
    }
    let limited = app.login("ada@example.com", PASSWORD).await.expect_problem(429, "rate_limited");
    let retry_after: u64 = limited.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_default();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Another account from the same client is counted apart.
    app.login("someone@example.com", PASSWORD).await.expect_problem(401, "unauthorized");
}

async fn signup_creates_an_organisation_and_its_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reply = app
        .send(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(&json!({
                "organization_name": "Acme", "name": "Ada Lovelace", "email": "Ada@Example.com", "password": PASSWORD
            })),
            &[],
        )
        .await
        .expect(201);
    let body = &reply.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["active"], true);
    assert_eq!(body["organization"]["name"], "Acme");
    assert_eq!(body["user"]["organization_id"], body["organization"]["id"]);
    assert!(body["user"].get("password_hash").is_none());

    let me = app.get("/api/v1/me", body["access_token"].as_str().unwrap_or_default()).await.expect(200);
    assert_eq!(me.body["user"]["id"], body["user"]["id"]);
    assert_eq!(me.body["organization"]["name"], "Acme");

    let login = app.login("ADA@example.com", PASSWORD).await.expect(200);
    assert_eq!(login.body["user"]["id"], body["user"]["id"]);
    assert!(
        login.body["refresh_token"].as_str().is_some_and(|t| t != body["refresh_token"].as_str().unwrap_or_default())
    );
}

async fn login_answers_the_same_401_for_a_wrong_password_and_an_unknown_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signup("Acme", "ada@example.com").await;
    let wrong_password = app.login("ada@example.com", "not the password").await.expect_problem(401, "unauthorized");
    let unknown_email = app.login("nobody@example.com", PASSWORD).await.expect_problem(401, "unauthorized");
    assert_eq!(wrong_password.body["detail"], unknown_email.body["detail"]);
    assert_eq!(wrong_password.header("www-authenticate"), Some("Bearer realm=\"crm\""));
    let malformed = app.login("not an email", PASSWORD).await.expect_problem(401, "unauthorized");
    assert_eq!(malformed.body["detail"], unknown_email.body["detail"]);
}

async fn signup_refuses_short_passwords_and_taken_emails(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let short = app
        .send(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(&json!({
                "organization_name": "Acme", "name": "Ada", "email": "not-an-email", "password": "123456789"
            })),
            &[],
        )
        .await
        .expect_problem(422, "validation_failed");
    let errors: Vec<(String, String)> = short.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_owned(),
                        e["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        errors,
        vec![("email".to_owned(), "invalid_email".to_owned()), ("password".to_owned(), "too_short".to_owned())]
    );

    app.signup("Acme", "ada@example.com").await;
    app.send(
        Method::POST,
        "/api/v1/auth/signup",
        None,
        Some(&json!({
            "organization_name": "Other", "name": "Ada", "email": "ADA@example.com", "password": PASSWORD
        })),
        &[],
    )
    .await
    .expect_problem(409, "email_taken");
}

async fn refresh(app: &TestApp, token: &str) -> crate::helpers::Reply {
    app.send(Method::POST, "/api/v1/auth/refresh", None, Some(&json!({"refresh_token": token})), &[]).await
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let first = refresh(&app, &admin.refresh_token).await.expect(200);
    let second_token = first.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    assert_ne!(second_token, admin.refresh_token);
    app.get("/api/v1/me", first.body["access_token"].as_str().unwrap_or_default()).await.expect(200);

    let third = refresh(&app, &second_token).await.expect(200);
    let third_token = third.body["refresh_token"].as_str().unwrap_or_default().to_owned();

    // The first token was spent: presenting it again means it leaked, so the whole family dies.
    refresh(&app, &admin.refresh_token).await.expect_problem(401, "unauthorized");
    refresh(&app, &third_token).await.expect_problem(401, "unauthorized");

    // Another login is another family and still works.
    let other = app.login("ada@example.com", PASSWORD).await.expect(200);
    refresh(&app, other.body["refresh_token"].as_str().unwrap_or_default()).await.expect(200);

    refresh(&app, "garbage").await.expect_problem(401, "unauthorized");
    refresh(&app, &format!("{}.{}", admin.organization_id.replace('-', ""), "A".repeat(43)))
        .await
        .expect_problem(401, "unauthorized");
}

async fn logout_revokes_the_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let second = app.login("ada@example.com", PASSWORD).await.expect(200);
    app.send(
        Method::POST,
        "/api/v1/auth/logout",
        Some(&admin.token),
        Some(&json!({"refresh_token": admin.refresh_token})),
        &[],
    )
    .await
    .expect(204);
    refresh(&app, &admin.refresh_token).await.expect_problem(401, "unauthorized");
    // The other session is untouched until a logout without a body ends them all.
    let second_refresh = second.body["refresh_token"].as_str().unwrap_or_default();
    let rotated = refresh(&app, second_refresh).await.expect(200);
    app.send(Method::POST, "/api/v1/auth/logout", Some(&admin.token), None, &[]).await.expect(204);
    refresh(&app, rotated.body["refresh_token"].as_str().unwrap_or_default()).await.expect_problem(401, "unauthorized");
    app.send(Method::POST, "/api/v1/auth/logout", None, None, &[]).await.expect_problem(401, "unauthorized");
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

async fn forged_and_expired_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let now = chrono::Utc::now().timestamp();
    let claims = |overrides: Value| {
        let mut base = json!({"sub": rep.user_id, "org": rep.organization_id, "role": "sales_rep", "iat": now, "exp": now + 600, "iss": "crm", "aud": "crm-api"});
        if let (Some(base), Some(over)) = (base.as_object_mut(), overrides.as_object()) {
            for (k, v) in over {
                if v.is_null() {
                    base.remove(k);
                } else {
                    base.insert(k.clone(), v.clone());
                }
            }
        }
        base
    };
    // The control: a well-formed token signed with the secret works.
    app.get("/api/v1/me", &sign(&claims(json!({})), JWT_SECRET)).await.expect(200);

    let forged = [
        ("expired a second ago", sign(&claims(json!({"iat": now - 901, "exp": now - 1})), JWT_SECRET)),
        ("another secret", sign(&claims(json!({})), "another-secret-another-secret-another-secret")),
        ("wrong audience", sign(&claims(json!({"aud": "someone-else"})), JWT_SECRET)),
        ("wrong issuer", sign(&claims(json!({"iss": "evil"})), JWT_SECRET)),
        ("no audience", sign(&claims(json!({"aud": null})), JWT_SECRET)),
        ("no issuer", sign(&claims(json!({"iss": null})), JWT_SECRET)),
        ("no expiry", sign(&claims(json!({"exp": null})), JWT_SECRET)),
        ("no subject", sign(&claims(json!({"sub": null})), JWT_SECRET)),
        ("alg none", {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
            format!("{header}.{payload}.")
        }),
        ("tampered role", {
            let token = rep.token.clone();
            let parts: Vec<&str> = token.split('.').collect();
            let mut payload: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default()).unwrap_or_default();
            payload["role"] = json!("admin");
            format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2])
        }),
        ("not a token", "abc".to_owned()),
    ];
    for (what, token) in forged {
        let reply = app.get("/api/v1/me", &token).await;
        assert_eq!(reply.status.as_u16(), 401, "{what} was accepted: {}", reply.text);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"crm\""), "{what}");
    }
    app.send(Method::GET, "/api/v1/me", None, None, &[]).await.expect_problem(401, "unauthorized");
    app.send(Method::GET, "/api/v1/me", None, None, &[("authorization", "Basic YTpi")])
        .await
        .expect_problem(401, "unauthorized");
}

/// The server remembers tokens it has checked; a remembered one still expires to the second.
async fn a_token_used_before_is_refused_once_it_expires(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": admin.user_id, "org": admin.organization_id, "role": "admin", "iat": now, "exp": now + 2, "iss": "crm", "aud": "crm-api"});
    let token = sign(&claims, JWT_SECRET);
    app.get("/api/v1/me", &token).await.expect(200);
    app.get("/api/v1/me", &token).await.expect(200);
    // The same claims signed with another secret are another string, checked in full.
    let same_claims_other_secret = sign(&claims, "another-secret-another-secret-another-secret");
    app.get("/api/v1/me", &same_claims_other_secret).await.expect_problem(401, "unauthorized");
    // jsonwebtoken accepts a token through the second of its `exp`, and refuses it after.
    while chrono::Utc::now().timestamp() <= now + 2 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let refused = app.get("/api/v1/me", &token).await.expect_problem(401, "unauthorized");
    assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains("expired")), "{}", refused.text);
}

async fn a_deactivated_user_is_locked_out_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    app.get("/api/v1/me", &rep.token).await.expect(200);
    let updated =
        app.patch(&format!("/api/v1/users/{}", rep.user_id), &admin.token, &json!({"active": false})).await.expect(200);
    assert_eq!(updated.body["active"], false);
    app.get("/api/v1/me", &rep.token).await.expect_problem(401, "unauthorized");
    refresh(&app, &rep.refresh_token).await.expect_problem(401, "unauthorized");
    app.login("rep@example.com", PASSWORD).await.expect_problem(401, "unauthorized");
    // An admin cannot lock themselves out.
    app.patch(&format!("/api/v1/users/{}", admin.user_id), &admin.token, &json!({"active": false}))
        .await
        .expect_problem(409, "self_lockout");
    // Reactivated, the user can log in again.
    app.patch(&format!("/api/v1/users/{}", rep.user_id), &admin.token, &json!({"active": true})).await.expect(200);
    app.login("rep@example.com", PASSWORD).await.expect(200);
}

/// Each process reuses a caller's role and active state for `principal_cache`; the process that
/// makes a change forgets it at once, the others within that time.
async fn other_processes_see_a_deactivation_within_their_cache_lifetime(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let uncached = app.spawn_beside(|s| s.principal_cache = std::time::Duration::ZERO).await;
    let briefly = app.spawn_beside(|s| s.principal_cache = std::time::Duration::from_millis(300)).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    for server in [&app, &uncached, &briefly] {
        server.get("/api/v1/me", &rep.token).await.expect(200);
    }
    app.patch(&format!("/api/v1/users/{}", rep.user_id), &admin.token, &json!({"active": false})).await.expect(200);
    app.get("/api/v1/me", &rep.token).await.expect_problem(401, "unauthorized");
    uncached.get("/api/v1/me", &rep.token).await.expect_problem(401, "unauthorized");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    briefly.get("/api/v1/me", &rep.token).await.expect_problem(401, "unauthorized");

    // A role change made in the caching process applies to its next request.
    let manager = app.add_user(&admin, "manager@example.com", "manager").await;
    app.get("/api/v1/audit-events", &manager.token).await.expect(200);
    app.patch(&format!("/api/v1/users/{}", manager.user_id), &admin.token, &json!({"role": "sales_rep"}))
        .await
        .expect(200);
    app.get("/api/v1/audit-events", &manager.token).await.expect_problem(403, "forbidden");
}

async fn signup_can_be_turned_off(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.allow_signup = false).await;
    app.send(
        Method::POST,
        "/api/v1/auth/signup",
        None,
        Some(&json!({
            "organization_name": "Acme", "name": "Ada", "email": "ada@example.com", "password": PASSWORD
        })),
        &[],
    )
    .await
    .expect_problem(403, "forbidden");
}
