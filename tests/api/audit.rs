//! Every create, update, archive and restore leaves an audit event.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(changes_leave_audit_events_with_old_and_new_values);

async fn changes_leave_audit_events_with_old_and_new_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let lead = app.create_lead(&rep, json!({"last_name": "Audited", "rating": "cold"})).await;
    let id = id_of(&lead);
    let path = format!("/api/v1/leads/{id}");
    app.send(
        Method::PATCH,
        &path,
        Some(&rep.token),
        Some(&json!({"rating": "hot", "title": "CEO"})),
        &[("x-request-id", "req-patch-1")],
    )
    .await
    .expect(200);
    app.delete(&path, &rep.token).await.expect(200);
    app.send(Method::POST, &format!("{path}/restore"), Some(&rep.token), None, &[]).await.expect(200);

    let events =
        app.get(&format!("/api/v1/audit-events?entity_type=lead&entity_id={id}"), &admin.token).await.expect(200);
    let data = events.body["data"].as_array().cloned().unwrap_or_default();
    let actions: Vec<&str> = data.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(actions, ["restore", "archive", "update", "create"], "newest first");
    for event in &data {
        assert_eq!(event["actor_id"].as_str(), Some(rep.user_id.as_str()));
        assert_eq!(event["entity_type"], "lead");
        assert_eq!(event["entity_id"].as_str(), Some(id.as_str()));
    }
    let update = &data[2];
    assert_eq!(update["request_id"], "req-patch-1");
    assert_eq!(
        update["changes"],
        json!([{"field": "title", "old": null, "new": "CEO"}, {"field": "rating", "old": "cold", "new": "hot"}])
    );
    let create_fields: Vec<&str> = data[3]["changes"]
        .as_array()
        .map(|c| c.iter().map(|f| f["field"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    assert!(create_fields.contains(&"last_name") && create_fields.contains(&"status"), "{create_fields:?}");
    assert_eq!(data[1]["changes"][0]["field"], "archived_at");
    assert_eq!(data[1]["changes"][0]["old"], Value::Null);

    // Paging through the trail, and who may read it.
    let first = app.get("/api/v1/audit-events?limit=2", &admin.token).await.expect(200);
    assert_eq!(first.body["data"].as_array().map(Vec::len), Some(2));
    let cursor = first.body["next_cursor"].as_str().unwrap_or_default().to_owned();
    let second = app.get(&format!("/api/v1/audit-events?limit=2&cursor={cursor}"), &admin.token).await.expect(200);
    assert_ne!(second.body["data"][0]["id"], first.body["data"][0]["id"]);
    app.get("/api/v1/audit-events", &rep.token).await.expect_problem(403, "forbidden");
    let user_events = app
        .get(&format!("/api/v1/audit-events?entity_type=user&entity_id={}", rep.user_id), &admin.token)
        .await
        .expect(200);
    assert_eq!(user_events.body["data"][0]["action"], "create");
    assert_eq!(user_events.body["data"][0]["actor_id"].as_str(), Some(admin.user_id.as_str()));
    app.get("/api/v1/audit-events?entity_id=nope", &admin.token).await.expect_problem(400, "invalid_parameter");
}
