//! Admins manage users; everyone can list them.

use serde_json::json;

use crate::helpers::{Backend, PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(admins_add_users_and_everyone_lists_them);

async fn admins_add_users_and_everyone_lists_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let created = app
        .post(
            "/api/v1/users",
            &admin.token,
            &json!({"name": "Grace", "email": "Grace@Example.com", "password": PASSWORD, "role": "support_agent"}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["email"], "grace@example.com");
    assert_eq!(created.body["role"], "support_agent");
    app.post(
        "/api/v1/users",
        &admin.token,
        &json!({"name": "Again", "email": "grace@example.com", "password": PASSWORD, "role": "manager"}),
    )
    .await
    .expect_problem(409, "duplicate");
    app.post(
        "/api/v1/users",
        &admin.token,
        &json!({"name": "Bad", "email": "bad@example.com", "password": PASSWORD, "role": "overlord"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let grace = crate::helpers::session(&app.login("grace@example.com", PASSWORD).await.expect(200).body);
    let list = app.get("/api/v1/users?sort=email", &grace.token).await.expect(200);
    let emails: Vec<&str> = list.body["data"]
        .as_array()
        .map(|a| a.iter().map(|u| u["email"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    assert_eq!(emails, ["ada@example.com", "grace@example.com"]);
    let agents = app.get("/api/v1/users?role=support_agent", &grace.token).await.expect(200);
    assert_eq!(agents.body["data"].as_array().map(Vec::len), Some(1));
    let user_path = format!("/api/v1/users/{}", grace.user_id);
    let read = app.get(&user_path, &admin.token).await.expect(200);
    assert_eq!(read.header("etag"), Some("\"1\""));
    let promoted =
        app.patch(&user_path, &admin.token, &json!({"role": "manager", "name": "Grace Hopper"})).await.expect(200);
    assert_eq!(promoted.body["role"], "manager");
    assert_eq!(promoted.body["version"], 2);
    app.patch(&user_path, &admin.token, &json!({"role": null})).await.expect_problem(422, "validation_failed");
    app.patch(&format!("/api/v1/users/{}", admin.user_id), &admin.token, &json!({"role": "manager"}))
        .await
        .expect_problem(409, "self_lockout");
    let inactive = app.get("/api/v1/users?active=false", &admin.token).await.expect(200);
    assert_eq!(inactive.body["data"], json!([]));
}
