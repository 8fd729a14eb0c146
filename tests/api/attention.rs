//! Attention by class of customer: the policy, the overdue lists and the report.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    the_overdue_customers_follow_calls_tiers_and_the_policy,
    people_buying_for_themselves_are_followed_by_lifecycle_stage,
    the_policy_is_read_by_all_changed_by_managers_and_checked,
);

fn ids(body: &Value) -> Vec<String> {
    body["data"].as_array().unwrap().iter().map(id_of).collect()
}

async fn overdue(app: &TestApp, session: &Session, list: &str) -> Vec<String> {
    ids(&app.get(&format!("/api/v1/{list}?attention=overdue"), &session.token).await.expect(200).body)
}

async fn call(app: &TestApp, session: &Session, link: (&str, &str), occurred_at: &str) {
    let mut body = json!({"kind": "call", "subject": "Checking in", "occurred_at": occurred_at});
    body[link.0] = json!(link.1);
    app.post("/api/v1/activities", &session.token, &body).await.expect(201);
}

fn days_ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339()
}

async fn the_overdue_customers_follow_calls_tiers_and_the_policy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = |name: &str, tier: Value| {
        let (app, token) = (&app, admin.token.clone());
        let body = json!({"name": name, "tier": tier});
        async move { id_of(&app.post("/api/v1/accounts", &token, &body).await.expect(201).body) }
    };
    let top = account("Top", json!("a")).await;
    let middle = account("Middle", json!("b")).await;
    let untiered = account("Untiered", Value::Null).await;
    let small = account("Small", json!("c")).await;

    // Never reached: overdue since their creation, oldest first; no tier, no expectation.
    assert_eq!(overdue(&app, &admin, "accounts").await, [top.clone(), middle.clone(), small.clone()]);

    // A call ten days ago puts tier a (14 days) back on track; one forty days ago leaves tier b
    // (30 days) ten days overdue, more than the never-reached account created a moment ago.
    call(&app, &admin, ("account_id", &top), &days_ago(10)).await;
    call(&app, &admin, ("account_id", &middle), "2020-01-01T00:00:00Z").await;
    assert_eq!(overdue(&app, &admin, "accounts").await, [middle.clone(), small.clone()]);

    // A tier change moves the due date in the same write.
    app.patch(&format!("/api/v1/accounts/{small}"), &admin.token, &json!({"tier": null})).await.expect(200);
    assert_eq!(overdue(&app, &admin, "accounts").await, vec![middle.clone()]);

    // So does the policy: tier a every 7 days makes the call ten days ago three days late.
    let changed = app
        .send(
            Method::PATCH,
            "/api/v1/settings/attention",
            Some(&admin.token),
            Some(&json!({"tiers": {"a": 7}})),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    assert_eq!(changed.body["tiers"], json!({"a": 7, "b": 30, "c": 90, "none": null}));
    assert_eq!(overdue(&app, &admin, "accounts").await, [middle.clone(), top.clone()]);
    // Pages follow the same order.
    let first = app.get("/api/v1/accounts?attention=overdue&limit=1", &admin.token).await.expect(200).body;
    assert_eq!(ids(&first), vec![middle.clone()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second =
        app.get(&format!("/api/v1/accounts?attention=overdue&limit=1&cursor={cursor}"), &admin.token).await.expect(200);
    assert_eq!(ids(&second.body), vec![top.clone()]);
    assert_eq!(second.body["next_cursor"], Value::Null);
    // Other sorts and filters combine with it.
    let by_name = app.get("/api/v1/accounts?attention=overdue&sort=name&tier=a,b", &admin.token).await.expect(200);
    assert_eq!(ids(&by_name.body), [middle.clone(), top.clone()]);
    // Accounts sort by the attention date too, those without an expectation last.
    let all = app.get("/api/v1/accounts?sort=attention_due_at", &admin.token).await.expect(200);
    assert_eq!(ids(&all.body)[..2], [middle.clone(), top.clone()]);

    // The report counts them by tier and owner; the most overdue of tier b fell due 30 days
    // after its call.
    let report = app.get("/api/v1/reports/attention", &admin.token).await.expect(200).body;
    assert_eq!(
        report["accounts"],
        json!([
            {"class": "a", "owner_id": admin.user_id, "overdue": 1, "oldest_due_at": report["accounts"][0]["oldest_due_at"]},
            {"class": "b", "owner_id": admin.user_id, "overdue": 1, "oldest_due_at": "2020-01-31T00:00:00.000000Z"},
        ])
    );
    assert_eq!(report["contacts"], json!([]));

    // An archived account is not listed, and the untiered one never was.
    app.delete(&format!("/api/v1/accounts/{middle}"), &admin.token).await.expect(200);
    assert_eq!(overdue(&app, &admin, "accounts").await, vec![top]);
    assert!(!overdue(&app, &admin, "accounts").await.contains(&untiered));
    app.get("/api/v1/accounts?attention=soon", &admin.token).await.expect_problem(400, "invalid_parameter");
}

async fn people_buying_for_themselves_are_followed_by_lifecycle_stage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account =
        id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Babbage & Co"})).await.expect(201).body);
    let person = |last: &str, extra: Value| {
        let (app, token) = (&app, admin.token.clone());
        let mut body = json!({"last_name": last});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        async move { id_of(&app.post("/api/v1/contacts", &token, &body).await.expect(201).body) }
    };
    let prospect = person("Prospect", json!({"lifecycle_stage": "prospect"})).await;
    let former = person("Former", json!({"lifecycle_stage": "former_customer"})).await;
    let employee = person("Employee", json!({"account_id": account})).await;
    assert_eq!(overdue(&app, &admin, "contacts").await, [prospect.clone(), former.clone()]);

    // A call thirty days ago: late for a prospect (14 days), on time for a former customer (180).
    call(&app, &admin, ("contact_id", &prospect), &days_ago(30)).await;
    call(&app, &admin, ("contact_id", &former), &days_ago(30)).await;
    assert_eq!(overdue(&app, &admin, "contacts").await, vec![prospect.clone()]);

    // Joining an account hands the person over to the account's attention.
    app.patch(&format!("/api/v1/contacts/{prospect}"), &admin.token, &json!({"account_id": account})).await.expect(200);
    assert!(overdue(&app, &admin, "contacts").await.is_empty());
    // Leaving it brings them back; the policy for prospects cleared, they are never overdue.
    app.patch(&format!("/api/v1/contacts/{prospect}"), &admin.token, &json!({"account_id": null})).await.expect(200);
    assert_eq!(overdue(&app, &admin, "contacts").await, vec![prospect.clone()]);
    app.patch("/api/v1/settings/attention", &admin.token, &json!({"lifecycle_stages": {"prospect": null}}))
        .await
        .expect(200);
    assert!(overdue(&app, &admin, "contacts").await.is_empty());
    app.patch("/api/v1/settings/attention", &admin.token, &json!({"lifecycle_stages": {"former_customer": 20}}))
        .await
        .expect(200);
    assert_eq!(overdue(&app, &admin, "contacts").await, vec![former.clone()]);
    let report = app.get("/api/v1/reports/attention", &admin.token).await.expect(200).body;
    assert_eq!(report["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(report["contacts"][0]["class"], "former_customer");
    assert_eq!(report["contacts"][0]["overdue"], 1);
    let _ = employee;
}

async fn the_policy_is_read_by_all_changed_by_managers_and_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let manager = app.add_user(&admin, "manager@example.com", "manager").await;
    let defaults = app.get("/api/v1/settings/attention", &rep.token).await.expect(200);
    assert_eq!(defaults.header("etag"), Some("\"1\""));
    assert_eq!(
        (&defaults.body["tiers"], &defaults.body["lifecycle_stages"], &defaults.body["version"]),
        (
            &json!({"a": 14, "b": 30, "c": 90, "none": null}),
            &json!({"prospect": 14, "customer": 30, "former_customer": 180, "partner": 30}),
            &json!(1)
        )
    );
    app.patch("/api/v1/settings/attention", &rep.token, &json!({"tiers": {"a": 7}}))
        .await
        .expect_problem(403, "forbidden");
    let invalid = app
        .patch(
            "/api/v1/settings/attention",
            &manager.token,
            &json!({"tiers": {"a": 0, "b": 3651}, "lifecycle_stages": {"partner": 10}}),
        )
        .await
        .expect(422);
    let fields: Vec<&str> =
        invalid.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["tiers.a", "tiers.b"]);
    let unknown = app
        .patch("/api/v1/settings/attention", &manager.token, &json!({"tiers": {"d": 7}}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(unknown.body["errors"][0]["field"], "tiers.d");
    let array = app
        .patch("/api/v1/settings/attention", &manager.token, &json!({"tiers": [7, 30, 90, null]}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(array.body["errors"][0]["field"], "tiers");

    let changed = app
        .patch(
            "/api/v1/settings/attention",
            &manager.token,
            &json!({"tiers": {"none": 60}, "lifecycle_stages": {"partner": 10}}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["version"], 2);
    // Nothing changed: the version stays.
    let same =
        app.patch("/api/v1/settings/attention", &manager.token, &json!({"tiers": {"none": 60}})).await.expect(200);
    assert_eq!(same.body["version"], 2);
    app.send(
        Method::PATCH,
        "/api/v1/settings/attention",
        Some(&admin.token),
        Some(&json!({"tiers": {"a": 1}})),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect_problem(412, "precondition_failed");
    let events = app.get("/api/v1/audit-events?entity_type=attention_policy", &admin.token).await.expect(200).body;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        events["data"][0]["changes"],
        json!([{"field": "tiers.none", "old": null, "new": 60}, {"field": "lifecycle_stages.partner", "old": 30, "new": 10}])
    );
    // Another organisation keeps its own policy.
    let other = app.signup("Other", "other@example.com").await;
    let theirs = app.get("/api/v1/settings/attention", &other.token).await.expect(200).body;
    assert_eq!((theirs["version"].clone(), theirs["tiers"]["none"].clone()), (json!(1), Value::Null));
}
