//! Lead conversion: accounts, contacts and opportunities from a lead, in one transaction.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    a_company_lead_becomes_an_account_a_contact_and_an_opportunity,
    a_person_lead_becomes_a_contact_alone_and_merges_fill_only_empty_fields,
    a_dry_run_shows_the_plan_and_duplicates_and_writes_nothing,
    conversion_is_refused_twice_for_archived_leads_and_on_taken_emails,
);

async fn convert(
    app: &TestApp,
    session: &Session,
    lead_id: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> crate::helpers::Reply {
    app.send(Method::POST, &format!("/api/v1/leads/{lead_id}/convert"), Some(&session.token), body.as_ref(), headers)
        .await
}

async fn count(app: &TestApp, session: &Session, path: &str) -> usize {
    app.get(path, &session.token).await.expect(200).body["data"].as_array().map_or(0, Vec::len)
}

async fn a_company_lead_becomes_an_account_a_contact_and_an_opportunity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app
        .create_lead(&admin, json!({
            "first_name": "Grace", "last_name": "Hopper", "company": "Navy", "title": "Admiral", "email": "grace@navy.example",
            "phone": "+1 555 0100", "website": "https://navy.example", "source": "trade_show", "status": "qualified"
        }))
        .await;
    let body = json!({"opportunity": {"name": "Compilers", "amount": {"amount": 5000000, "currency": "EUR"}, "expected_close_date": "2027-03-31", "stage": "qualification"}});
    let first =
        convert(&app, &admin, &id_of(&lead), Some(body.clone()), &[("idempotency-key", "convert-1")]).await.expect(200);
    let result = &first.body;
    assert_eq!(result["dry_run"], false);
    assert_eq!(result["account"]["name"], "Navy");
    assert_eq!(result["account"]["website"], "https://navy.example");
    assert_eq!(result["contact"]["first_name"], "Grace");
    assert_eq!(result["contact"]["account_id"], result["account"]["id"]);
    assert_eq!(result["contact"]["source"], "trade_show");
    assert_eq!(result["opportunity"]["name"], "Compilers");
    assert_eq!(result["opportunity"]["stage"], "qualification");
    assert_eq!(result["opportunity"]["probability"], 20);
    assert_eq!(result["opportunity"]["lead_source"], "trade_show");
    assert_eq!(result["opportunity"]["account_id"], result["account"]["id"]);
    assert_eq!(result["opportunity"]["contact_id"], result["contact"]["id"]);
    assert_eq!(result["lead"]["status"], "converted");
    assert!(result["lead"]["converted_at"].is_string());
    assert_eq!(result["lead"]["converted_account_id"], result["account"]["id"]);
    assert_eq!(result["lead"]["converted_contact_id"], result["contact"]["id"]);
    assert_eq!(result["lead"]["converted_opportunity_id"], result["opportunity"]["id"]);

    // Every record exists, and the retry with the same key converts once.
    let retry = convert(&app, &admin, &id_of(&lead), Some(body), &[("idempotency-key", "convert-1")]).await.expect(200);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);
    assert_eq!(count(&app, &admin, "/api/v1/accounts").await, 1);
    assert_eq!(count(&app, &admin, "/api/v1/contacts").await, 1);
    assert_eq!(count(&app, &admin, "/api/v1/opportunities").await, 1);
    let stored = app.get(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token).await.expect(200).body;
    assert_eq!(stored, result["lead"]);
    let history = app
        .get(&format!("/api/v1/opportunities/{}/stage-history", id_of(&result["opportunity"])), &admin.token)
        .await
        .expect(200);
    assert_eq!(history.body["data"][0]["to_stage"], "qualification");
    let events = app.get(&format!("/api/v1/audit-events?entity_id={}", id_of(&lead)), &admin.token).await.expect(200);
    assert_eq!(events.body["data"][0]["action"], "update");
    assert_eq!(
        events.body["data"][0]["changes"][0],
        json!({"field": "status", "old": "qualified", "new": "converted"})
    );
    // A converted lead is terminal.
    app.patch(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token, &json!({"status": "contacted"}))
        .await
        .expect_problem(409, "lead_converted");
}

async fn a_person_lead_becomes_a_contact_alone_and_merges_fill_only_empty_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let person =
        app.create_lead(&admin, json!({"first_name": "Solo", "last_name": "Buyer", "email": "solo@example.com"})).await;
    let result = convert(&app, &admin, &id_of(&person), Some(json!({"opportunity": null})), &[]).await.expect(200).body;
    assert_eq!(result["account"], Value::Null);
    assert_eq!(result["opportunity"], Value::Null);
    assert_eq!(result["contact"]["account_id"], Value::Null);
    assert_eq!(result["lead"]["converted_opportunity_id"], Value::Null);
    assert_eq!(count(&app, &admin, "/api/v1/opportunities").await, 0);

    // An empty body converts with defaults: the person's name names the deal.
    let other = app.create_lead(&admin, json!({"first_name": "Ann", "last_name": "Other"})).await;
    let defaults = app
        .client
        .post(app.url(&format!("/api/v1/leads/{}/convert", id_of(&other))))
        .bearer_auth(&admin.token)
        .send()
        .await;
    let defaults = crate::helpers::read(defaults.unwrap()).await.expect(200);
    assert_eq!(defaults.body["opportunity"]["name"], "Ann Other");
    assert_eq!(defaults.body["opportunity"]["account_id"], Value::Null);

    // Merges: the account keeps its fields and gets the missing website; the contact keeps its
    // title and gets the missing email and phone.
    let account = app
        .post("/api/v1/accounts", &admin.token, &json!({"name": "Navy HQ", "phone": "+1 000"}))
        .await
        .expect(201)
        .body;
    let contact = app
        .post("/api/v1/contacts", &admin.token, &json!({"last_name": "Hopper", "title": "Commodore"}))
        .await
        .expect(201)
        .body;
    let lead = app
        .create_lead(&admin, json!({
            "first_name": "Grace", "last_name": "Hopper", "company": "Navy", "title": "Admiral", "email": "grace@navy.example",
            "phone": "+1 555", "website": "https://navy.example"
        }))
        .await;
    let merged = convert(
        &app,
        &admin,
        &id_of(&lead),
        Some(json!({"account_id": id_of(&account), "contact_id": id_of(&contact)})),
        &[],
    )
    .await
    .expect(200)
    .body;
    assert_eq!(merged["account"]["id"], account["id"]);
    assert_eq!(merged["account"]["name"], "Navy HQ");
    assert_eq!(merged["account"]["phone"], "+1 000");
    assert_eq!(merged["account"]["website"], "https://navy.example");
    assert_eq!(merged["account"]["version"], 2);
    assert_eq!(merged["contact"]["id"], contact["id"]);
    assert_eq!(merged["contact"]["title"], "Commodore");
    assert_eq!(merged["contact"]["first_name"], "Grace");
    assert_eq!(merged["contact"]["email"], "grace@navy.example");
    assert_eq!(merged["contact"]["account_id"], account["id"]);
    assert_eq!(app.get(&format!("/api/v1/contacts/{}", id_of(&contact)), &admin.token).await.body, merged["contact"]);
    assert_eq!(count(&app, &admin, "/api/v1/accounts").await, 1, "merged, not created");
}

async fn a_dry_run_shows_the_plan_and_duplicates_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let existing_account = app.post("/api/v1/accounts", &admin.token, &json!({"name": "NAVY"})).await.expect(201).body;
    let existing_contact = app
        .post("/api/v1/contacts", &admin.token, &json!({"last_name": "Hopper", "email": "grace@navy.example"}))
        .await
        .expect(201)
        .body;
    let lead =
        app.create_lead(&admin, json!({"last_name": "Hopper", "company": "Navy", "email": "grace@navy.example"})).await;
    let plan = app
        .send(
            Method::POST,
            &format!("/api/v1/leads/{}/convert?dry_run=true", id_of(&lead)),
            Some(&admin.token),
            None,
            &[],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["lead"]["status"], "converted");
    assert_eq!(plan["account"]["name"], "Navy");
    assert_eq!(
        plan["duplicates"]["accounts"].as_array().map(|a| a.iter().map(id_of).collect::<Vec<_>>()),
        Some(vec![id_of(&existing_account)])
    );
    assert_eq!(
        plan["duplicates"]["contacts"].as_array().map(|a| a.iter().map(id_of).collect::<Vec<_>>()),
        Some(vec![id_of(&existing_contact)])
    );
    let stored = app.get(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token).await.expect(200).body;
    assert_eq!(
        (stored["status"].clone(), stored["version"].clone()),
        (json!("new"), json!(1)),
        "a dry run writes nothing"
    );
    assert_eq!(count(&app, &admin, "/api/v1/accounts").await, 1);
    assert_eq!(count(&app, &admin, "/api/v1/contacts").await, 1);
    assert_eq!(count(&app, &admin, "/api/v1/opportunities").await, 0);
    app.send(
        Method::POST,
        &format!("/api/v1/leads/{}/convert?dry_run=perhaps", id_of(&lead)),
        Some(&admin.token),
        None,
        &[],
    )
    .await
    .expect_problem(400, "invalid_parameter");
}

async fn conversion_is_refused_twice_for_archived_leads_and_on_taken_emails(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app.create_lead(&admin, json!({"last_name": "Once"})).await;
    convert(&app, &admin, &id_of(&lead), None, &[]).await.expect(200);
    convert(&app, &admin, &id_of(&lead), None, &[]).await.expect_problem(409, "lead_converted");

    let archived = app.create_lead(&admin, json!({"last_name": "Archived"})).await;
    app.delete(&format!("/api/v1/leads/{}", id_of(&archived)), &admin.token).await.expect(200);
    convert(&app, &admin, &id_of(&archived), None, &[]).await.expect_problem(409, "lead_archived");

    let holder = app
        .post("/api/v1/contacts", &admin.token, &json!({"last_name": "Holder", "email": "taken@example.com"}))
        .await
        .expect(201)
        .body;
    let clash = app
        .create_lead(&admin, json!({"last_name": "Clash", "company": "Clash Co", "email": "taken@example.com"}))
        .await;
    let refused = convert(&app, &admin, &id_of(&clash), None, &[]).await.expect_problem(409, "duplicate");
    assert_eq!(refused.body["existing_id"].as_str(), Some(id_of(&holder).as_str()));
    assert_eq!(count(&app, &admin, "/api/v1/accounts").await, 0, "nothing of a failed conversion remains");
    assert_eq!(app.get(&format!("/api/v1/leads/{}", id_of(&clash)), &admin.token).await.body["status"], "new");
    // Merging into the holder instead works.
    convert(&app, &admin, &id_of(&clash), Some(json!({"contact_id": id_of(&holder)})), &[]).await.expect(200);

    let missing = convert(
        &app,
        &admin,
        &id_of(&app.create_lead(&admin, json!({"last_name": "X"})).await),
        Some(json!({"account_id": uuid::Uuid::now_v7()})),
        &[],
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "account_id");

    // Roles: a support agent cannot convert; a sales rep converts only its own leads.
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let support = app.add_user(&admin, "support@example.com", "support_agent").await;
    let admins = app.create_lead(&admin, json!({"last_name": "Admin's"})).await;
    convert(&app, &support, &id_of(&admins), None, &[]).await.expect_problem(403, "forbidden");
    convert(&app, &rep, &id_of(&admins), None, &[]).await.expect_problem(403, "forbidden");
    let own = app.create_lead(&rep, json!({"last_name": "Rep's"})).await;
    convert(&app, &rep, &id_of(&own), None, &[]).await.expect(200);
    let globex = app.signup("Globex", "hank@globex.example").await;
    convert(&app, &globex, &id_of(&admins), None, &[]).await.expect_problem(404, "not_found");
}
