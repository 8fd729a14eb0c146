//! The people of a deal: roles, one primary contact, removal.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(the_people_of_a_deal_have_roles_and_one_primary);

async fn the_people_of_a_deal_have_roles_and_one_primary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body);
    let deal = id_of(
        &app.post("/api/v1/opportunities", &admin.token, &json!({"name": "Deal", "account_id": account}))
            .await
            .expect(201)
            .body,
    );
    let grace =
        id_of(&app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Hopper"})).await.expect(201).body);
    let chester =
        id_of(&app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Nimitz"})).await.expect(201).body);
    let put = |contact: &str, body: serde_json::Value| {
        let path = format!("/api/v1/opportunities/{deal}/contacts/{contact}");
        let token = admin.token.clone();
        let app = &app;
        async move { app.send(Method::PUT, &path, Some(&token), Some(&body), &[]).await }
    };
    let set = put(&grace, json!({"role": "decision_maker", "is_primary": true})).await.expect(200);
    assert_eq!(set.body["role"], "decision_maker");
    assert_eq!(set.body["is_primary"], true);
    put(&chester, json!({"role": "evaluator"})).await.expect(200);
    let list = app.get(&format!("/api/v1/opportunities/{deal}/contacts"), &admin.token).await.expect(200).body;
    let summary: Vec<(String, String, bool)> = list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["contact_id"].as_str().unwrap_or_default().to_owned(),
                        r["role"].as_str().unwrap_or_default().to_owned(),
                        r["is_primary"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        summary,
        vec![(grace.clone(), "decision_maker".to_owned(), true), (chester.clone(), "evaluator".to_owned(), false)]
    );
    // Another primary takes over; the first stays with its role.
    put(&chester, json!({"role": "economic_buyer", "is_primary": true})).await.expect(200);
    let list = app.get(&format!("/api/v1/opportunities/{deal}/contacts"), &admin.token).await.expect(200).body;
    assert_eq!(list["data"][0]["contact_id"].as_str(), Some(chester.as_str()));
    assert_eq!(list["data"][0]["role"], "economic_buyer");
    assert_eq!(list["data"][1]["is_primary"], false);
    put(&grace, json!({"role": "boss"})).await.expect_problem(422, "validation_failed");
    put(&uuid::Uuid::now_v7().to_string(), json!({"role": "user"})).await.expect_problem(404, "not_found");
    app.send(Method::DELETE, &format!("/api/v1/opportunities/{deal}/contacts/{grace}"), Some(&admin.token), None, &[])
        .await
        .expect(204);
    app.send(Method::DELETE, &format!("/api/v1/opportunities/{deal}/contacts/{grace}"), Some(&admin.token), None, &[])
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        app.get(&format!("/api/v1/opportunities/{deal}/contacts"), &admin.token).await.body["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let events = app
        .get(&format!("/api/v1/audit-events?entity_type=opportunity&entity_id={deal}"), &admin.token)
        .await
        .expect(200)
        .body;
    assert_eq!(events["data"][0]["changes"][0]["field"], format!("contacts.{grace}"));
    assert_eq!(events["data"][0]["changes"][0]["new"], serde_json::Value::Null);
    // Roles and tenancy.
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    app.send(
        Method::PUT,
        &format!("/api/v1/opportunities/{deal}/contacts/{grace}"),
        Some(&rep.token),
        Some(&json!({"role": "user"})),
        &[],
    )
    .await
    .expect_problem(403, "forbidden");
    let globex = app.signup("Globex", "hank@globex.example").await;
    app.get(&format!("/api/v1/opportunities/{deal}/contacts"), &globex.token).await.expect_problem(404, "not_found");
    let foreign =
        id_of(&app.post("/api/v1/contacts", &globex.token, &json!({"last_name": "Foreign"})).await.expect(201).body);
    put(&foreign, json!({"role": "user"})).await.expect_problem(404, "not_found");
}
