//! A second organisation can neither see nor touch the first one's records.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(another_organisation_cannot_read_list_change_archive_or_restore_leads);

async fn another_organisation_cannot_read_list_change_archive_or_restore_leads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.signup("Acme", "ada@acme.example").await;
    let globex = app.signup("Globex", "hank@globex.example").await;
    let lead = app.create_lead(&acme, json!({"last_name": "Secret", "company": "Acme customer"})).await;
    let archived = app.create_lead(&acme, json!({"last_name": "Archived"})).await;
    app.delete(&format!("/api/v1/leads/{}", id_of(&archived)), &acme.token).await.expect(200);
    let path = format!("/api/v1/leads/{}", id_of(&lead));

    let missing = app
        .get(&format!("/api/v1/leads/{}", uuid::Uuid::now_v7()), &globex.token)
        .await
        .expect_problem(404, "not_found");
    let foreign = app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    assert_eq!(foreign.body["detail"], missing.body["detail"], "a foreign record looks exactly like a missing one");
    app.patch(&path, &globex.token, &json!({"title": "pwned"})).await.expect_problem(404, "not_found");
    app.delete(&path, &globex.token).await.expect_problem(404, "not_found");
    app.send(Method::POST, &format!("/api/v1/leads/{}/restore", id_of(&archived)), Some(&globex.token), None, &[])
        .await
        .expect_problem(404, "not_found");
    for query in ["", "?archived=true", "?q=secret", "?archived=only"] {
        let list = app.get(&format!("/api/v1/leads{query}"), &globex.token).await.expect(200);
        assert_eq!(list.body["data"], json!([]), "{query}");
    }
    // Nor users, nor audit events, nor ownership across organisations.
    app.get(&format!("/api/v1/users/{}", acme.user_id), &globex.token).await.expect_problem(404, "not_found");
    assert_eq!(app.get("/api/v1/users", &globex.token).await.body["data"].as_array().map(Vec::len), Some(1));
    app.patch(&format!("/api/v1/users/{}", acme.user_id), &globex.token, &json!({"active": false}))
        .await
        .expect_problem(404, "not_found");
    let events = app.get(&format!("/api/v1/audit-events?entity_id={}", id_of(&lead)), &globex.token).await.expect(200);
    assert_eq!(events.body["data"], json!([]));
    app.post("/api/v1/leads", &globex.token, &json!({"last_name": "X", "owner_id": acme.user_id}))
        .await
        .expect_problem(422, "validation_failed");

    // The record is untouched.
    let unchanged = app.get(&path, &acme.token).await.expect(200);
    assert_eq!(unchanged.body["version"], 1);
    assert_eq!(unchanged.body["archived_at"], serde_json::Value::Null);
}
