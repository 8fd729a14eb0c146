//! Accounts: the businesses the organisation sells to.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    an_account_is_created_read_updated_archived_and_restored,
    account_fields_are_validated,
    an_account_cannot_become_its_own_ancestor,
    account_lists_filter_and_sort,
    accounts_follow_roles_and_tenancy,
);

async fn create_account(app: &TestApp, session: &crate::helpers::Session, body: Value) -> Value {
    app.post("/api/v1/accounts", &session.token, &body).await.expect(201).body
}

async fn an_account_is_created_read_updated_archived_and_restored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let created = app
        .post("/api/v1/accounts", &admin.token, &json!({
            "name": "Analytical Engines Ltd", "industry": "Manufacturing", "website": "https://engines.example",
            "email": "Sales@Engines.example", "billing_address": {"street": "1 Main St", "city": "London", "postal_code": "SW1A 2AA", "country": "GB"},
            "employee_count": 120, "annual_revenue": {"amount": 125000000, "currency": "GBP"}, "tier": "a",
            "tags": ["emea", "EMEA", "strategic"], "custom_fields": {"erp_id": "E-42"}
        }))
        .await
        .expect(201);
    let account = created.body.clone();
    let id = id_of(&account);
    assert_eq!(created.header("location"), Some(format!("/api/v1/accounts/{id}").as_str()));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(account["lifecycle_stage"], "prospect");
    assert_eq!(account["email"], "sales@engines.example");
    assert_eq!(
        account["billing_address"],
        json!({"street": "1 Main St", "city": "London", "region": null, "postal_code": "SW1A 2AA", "country": "GB"})
    );
    assert_eq!(account["shipping_address"], Value::Null);
    assert_eq!(account["annual_revenue"], json!({"amount": 125000000, "currency": "GBP"}));
    assert_eq!(account["tags"], json!(["emea", "strategic"]), "case-insensitive repeats are dropped");
    assert_eq!(account["owner_id"].as_str(), Some(admin.user_id.as_str()));
    assert_eq!(app.get(&format!("/api/v1/accounts/{id}"), &admin.token).await.expect(200).body, account);

    let path = format!("/api/v1/accounts/{id}");
    let updated = app
        .send(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(&json!({
                "industry": null, "lifecycle_stage": "customer", "shipping_address": {"city": "Leeds", "country": "GB"},
                "annual_revenue": null, "tags": []
            })),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(updated.body["industry"], Value::Null);
    assert_eq!(updated.body["lifecycle_stage"], "customer");
    assert_eq!(updated.body["shipping_address"]["city"], "Leeds");
    assert_eq!(updated.body["billing_address"]["city"], "London", "absent fields stay");
    assert_eq!(updated.body["annual_revenue"], Value::Null);
    assert_eq!(updated.body["tags"], json!([]));
    assert_eq!(updated.body["version"], 2);
    app.send(Method::PATCH, &path, Some(&admin.token), Some(&json!({"tier": "c"})), &[("if-match", "\"1\"")])
        .await
        .expect_problem(412, "precondition_failed");

    let events =
        app.get(&format!("/api/v1/audit-events?entity_type=account&entity_id={id}"), &admin.token).await.expect(200);
    let update = &events.body["data"][0];
    assert_eq!(update["action"], "update");
    let changed: Vec<&str> = update["changes"]
        .as_array()
        .map(|c| c.iter().map(|f| f["field"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    assert_eq!(changed, ["industry", "shipping_address", "annual_revenue", "lifecycle_stage", "tags"]);
    assert_eq!(update["changes"][2]["old"], json!({"amount": 125000000, "currency": "GBP"}));
    assert_eq!(update["changes"][4]["old"], json!(["emea", "strategic"]));

    app.delete(&path, &admin.token).await.expect(200);
    assert_eq!(app.get("/api/v1/accounts", &admin.token).await.body["data"], json!([]));
    app.patch(&path, &admin.token, &json!({"tier": "c"})).await.expect_problem(409, "account_archived");
    app.delete(&path, &admin.token).await.expect_problem(409, "account_archived");
    app.send(Method::POST, &format!("{path}/restore"), Some(&admin.token), None, &[]).await.expect(200);
    app.send(Method::POST, &format!("{path}/restore"), Some(&admin.token), None, &[])
        .await
        .expect_problem(409, "account_not_archived");
    assert_eq!(app.get("/api/v1/accounts", &admin.token).await.body["data"][0]["id"], id.as_str());
}

async fn account_fields_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let reply = app
        .post(
            "/api/v1/accounts",
            &admin.token,
            &json!({
                "name": "X", "billing_address": {"country": "XX", "postal_code": "123456789012345678901"},
                "annual_revenue": {"amount": -5, "currency": "EUR"}, "employee_count": -1, "tier": "d",
                "tags": ["ok", ""], "lifecycle_stage": "lead"
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<String> = reply.body["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default();
    fields.sort();
    assert_eq!(
        fields,
        [
            "annual_revenue.amount",
            "billing_address.country",
            "billing_address.postal_code",
            "employee_count",
            "lifecycle_stage",
            "tags[1]",
            "tier"
        ]
    );
    let currency = app
        .post(
            "/api/v1/accounts",
            &admin.token,
            &json!({"name": "X", "annual_revenue": {"amount": 5, "currency": "eur"}}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(currency.body["errors"][0]["field"], "annual_revenue.currency");
    assert_eq!(currency.body["errors"][0]["code"], "invalid_currency");
    // A nested object given as an array of its fields in order is refused, not read by position.
    for (body, field) in [
        (json!({"name": "X", "annual_revenue": [100, "EUR"]}), "annual_revenue"),
        (json!({"name": "X", "billing_address": [null, "Paris", null, null, "FR"]}), "billing_address"),
    ] {
        let refused = app.post("/api/v1/accounts", &admin.token, &body).await.expect_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], field);
        assert_eq!(refused.body["errors"][0]["code"], "invalid_type");
    }
    let typed = app
        .post("/api/v1/accounts", &admin.token, &json!({"name": "X", "billing_address": {"city": 7}}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(typed.body["errors"][0]["field"], "billing_address.city", "a nested field's path is kept");
    let parent = app
        .post("/api/v1/accounts", &admin.token, &json!({"name": "X", "parent_account_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(parent.body["errors"][0]["field"], "parent_account_id");
    assert_eq!(parent.body["errors"][0]["code"], "unknown_reference");
    let nested = app
        .post("/api/v1/accounts", &admin.token, &json!({"name": "X", "billing_address": {"planet": "Mars"}}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(nested.body["errors"][0]["field"], "billing_address.planet");
    let tags: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    app.post("/api/v1/accounts", &admin.token, &json!({"name": "X", "tags": tags}))
        .await
        .expect_problem(422, "validation_failed");
    let created = create_account(&app, &admin, json!({"name": "Kept"})).await;
    let path = format!("/api/v1/accounts/{}", id_of(&created));
    let nulls = app
        .patch(&path, &admin.token, &json!({"name": null, "tags": null, "lifecycle_stage": null, "owner_id": null}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(nulls.body["errors"].as_array().map(Vec::len), Some(4));
    assert_eq!(app.get("/api/v1/accounts", &admin.token).await.body["data"].as_array().map(Vec::len), Some(1));
}

async fn an_account_cannot_become_its_own_ancestor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let group = create_account(&app, &admin, json!({"name": "Group"})).await;
    let subsidiary =
        create_account(&app, &admin, json!({"name": "Subsidiary", "parent_account_id": id_of(&group)})).await;
    let branch = create_account(&app, &admin, json!({"name": "Branch", "parent_account_id": id_of(&subsidiary)})).await;
    let group_path = format!("/api/v1/accounts/{}", id_of(&group));
    let cycle = app
        .patch(&group_path, &admin.token, &json!({"parent_account_id": id_of(&branch)}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(cycle.body["errors"][0]["code"], "parent_cycle");
    app.patch(&group_path, &admin.token, &json!({"parent_account_id": id_of(&group)}))
        .await
        .expect_problem(422, "validation_failed");
    let other = create_account(&app, &admin, json!({"name": "Holding"})).await;
    let moved = app.patch(&group_path, &admin.token, &json!({"parent_account_id": id_of(&other)})).await.expect(200);
    assert_eq!(moved.body["parent_account_id"].as_str(), Some(id_of(&other).as_str()));
    let children =
        app.get(&format!("/api/v1/accounts?parent_account_id={}", id_of(&group)), &admin.token).await.expect(200);
    assert_eq!(
        children.body["data"].as_array().map(|a| a.iter().map(id_of).collect::<Vec<_>>()),
        Some(vec![id_of(&subsidiary)])
    );
}

async fn names(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let reply = app.get(&format!("/api/v1/accounts?{query}"), token).await.expect(200);
    reply.body["data"]
        .as_array()
        .map(|a| a.iter().map(|l| l["name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

async fn account_lists_filter_and_sort(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    create_account(
        &app,
        &admin,
        json!({"name": "Beta", "tier": "a", "lifecycle_stage": "customer", "website": "https://beta.example"}),
    )
    .await;
    create_account(&app, &admin, json!({"name": "Alpha", "tier": "b"})).await;
    create_account(&app, &rep, json!({"name": "Gamma", "tier": "a", "lifecycle_stage": "partner"})).await;
    assert_eq!(names(&app, &admin.token, "").await, ["Alpha", "Beta", "Gamma"], "default sort is by name");
    assert_eq!(names(&app, &admin.token, "sort=-created_at").await, ["Gamma", "Alpha", "Beta"]);
    assert_eq!(names(&app, &admin.token, "tier=a").await, ["Beta", "Gamma"]);
    assert_eq!(names(&app, &admin.token, "lifecycle_stage=customer,partner&sort=-name").await, ["Gamma", "Beta"]);
    assert_eq!(names(&app, &admin.token, &format!("owner_id={}", rep.user_id)).await, ["Gamma"]);
    assert_eq!(names(&app, &admin.token, "q=BETA.EX").await, ["Beta"]);
    let first = app.get("/api/v1/accounts?limit=2", &admin.token).await.expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert_eq!(names(&app, &admin.token, &format!("limit=2&cursor={cursor}")).await, ["Gamma"]);
    for query in ["tier=d", "sort=revenue", "parent_account_id=x", "colour=red", "lifecycle_stage=lead"] {
        let reply = app.get(&format!("/api/v1/accounts?{query}"), &admin.token).await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.text);
    }
}

async fn accounts_follow_roles_and_tenancy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let support = app.add_user(&admin, "support@example.com", "support_agent").await;
    let theirs = create_account(&app, &admin, json!({"name": "Admin's"})).await;
    let own = create_account(&app, &rep, json!({"name": "Rep's"})).await;
    app.patch(&format!("/api/v1/accounts/{}", id_of(&own)), &rep.token, &json!({"tier": "a"})).await.expect(200);
    app.patch(&format!("/api/v1/accounts/{}", id_of(&theirs)), &rep.token, &json!({"tier": "a"}))
        .await
        .expect_problem(403, "forbidden");
    app.post("/api/v1/accounts", &support.token, &json!({"name": "X"})).await.expect_problem(403, "forbidden");
    app.get(&format!("/api/v1/accounts/{}", id_of(&theirs)), &support.token).await.expect(200);

    let globex = app.signup("Globex", "hank@globex.example").await;
    let path = format!("/api/v1/accounts/{}", id_of(&theirs));
    app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    app.patch(&path, &globex.token, &json!({"tier": "c"})).await.expect_problem(404, "not_found");
    app.delete(&path, &globex.token).await.expect_problem(404, "not_found");
    assert_eq!(app.get("/api/v1/accounts", &globex.token).await.body["data"], json!([]));
    // Another organisation's account cannot be a parent.
    app.post("/api/v1/accounts", &globex.token, &json!({"name": "Sneaky", "parent_account_id": id_of(&theirs)}))
        .await
        .expect_problem(422, "validation_failed");
}
