//! Opportunities: stages, history, closing and reopening, lists, roles.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    a_deal_moves_through_stages_closes_lost_reopens_and_closes_won,
    opportunity_fields_and_buyers_are_validated,
    opportunities_are_listed_by_account_stage_and_close_date,
    opportunities_follow_roles_and_tenancy,
);

async fn account(app: &TestApp, session: &Session, name: &str) -> String {
    id_of(&app.post("/api/v1/accounts", &session.token, &json!({"name": name})).await.expect(201).body)
}

fn stages(history: &Value) -> Vec<(Value, Value, Value)> {
    history["data"]
        .as_array()
        .map(|a| a.iter().map(|e| (e["from_stage"].clone(), e["to_stage"].clone(), e["probability"].clone())).collect())
        .unwrap_or_default()
}

async fn a_deal_moves_through_stages_closes_lost_reopens_and_closes_won(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account_id = account(&app, &admin, "Navy").await;
    let created = app
        .post(
            "/api/v1/opportunities",
            &admin.token,
            &json!({
                "name": "Compilers", "account_id": account_id, "amount": {"amount": 5000000, "currency": "EUR"},
                "expected_close_date": "2027-03-31", "kind": "new_business", "lead_source": "referral"
            }),
        )
        .await
        .expect(201);
    let deal = created.body.clone();
    let id = id_of(&deal);
    let path = format!("/api/v1/opportunities/{id}");
    assert_eq!((deal["stage"].clone(), deal["probability"].clone()), (json!("prospecting"), json!(10)));
    assert_eq!(deal["expected_close_date"], "2027-03-31");
    assert_eq!(deal["amount"], json!({"amount": 5000000, "currency": "EUR"}));
    assert_eq!(app.get(&path, &admin.token).await.expect(200).body, deal);

    app.patch(&path, &admin.token, &json!({"stage": "qualification"})).await.expect(200);
    let proposal =
        app.patch(&path, &admin.token, &json!({"stage": "proposal", "next_step": "Send it"})).await.expect(200);
    assert_eq!(proposal.body["probability"], 60, "the probability follows the stage");
    let overridden =
        app.patch(&path, &admin.token, &json!({"stage": "negotiation", "probability": 75})).await.expect(200);
    assert_eq!(overridden.body["probability"], 75);
    app.patch(&path, &admin.token, &json!({"stage": "closed_won"})).await.expect_problem(422, "validation_failed");

    let lost = app
        .send(
            Method::POST,
            &format!("{path}/close"),
            Some(&admin.token),
            Some(&json!({"outcome": "lost", "reason": "Price"})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!((lost.body["stage"].clone(), lost.body["probability"].clone()), (json!("closed_lost"), json!(0)));
    assert_eq!(lost.body["loss_reason"], "Price");
    assert!(lost.body["closed_at"].is_string());
    app.patch(&path, &admin.token, &json!({"name": "x"})).await.expect_problem(409, "opportunity_closed");
    app.send(Method::POST, &format!("{path}/close"), Some(&admin.token), Some(&json!({"outcome": "won"})), &[])
        .await
        .expect_problem(409, "opportunity_closed");

    let reopened = app.send(Method::POST, &format!("{path}/reopen"), Some(&admin.token), None, &[]).await.expect(200);
    assert_eq!(
        (reopened.body["stage"].clone(), reopened.body["probability"].clone()),
        (json!("negotiation"), json!(80))
    );
    assert_eq!((reopened.body["closed_at"].clone(), reopened.body["loss_reason"].clone()), (Value::Null, Value::Null));
    app.send(Method::POST, &format!("{path}/reopen"), Some(&admin.token), None, &[])
        .await
        .expect_problem(409, "opportunity_not_closed");

    let won = app
        .send(
            Method::POST,
            &format!("{path}/close"),
            Some(&admin.token),
            Some(&json!({"outcome": "won", "closed_at": "2027-03-15T10:00:00Z"})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!((won.body["stage"].clone(), won.body["probability"].clone()), (json!("closed_won"), json!(100)));
    assert_eq!(won.body["closed_at"], "2027-03-15T10:00:00.000000Z");

    let history = app.get(&format!("{path}/stage-history"), &admin.token).await.expect(200).body;
    assert_eq!(
        stages(&history),
        vec![
            (Value::Null, json!("prospecting"), json!(10)),
            (json!("prospecting"), json!("qualification"), json!(20)),
            (json!("qualification"), json!("proposal"), json!(60)),
            (json!("proposal"), json!("negotiation"), json!(75)),
            (json!("negotiation"), json!("closed_lost"), json!(0)),
            (json!("closed_lost"), json!("negotiation"), json!(80)),
            (json!("negotiation"), json!("closed_won"), json!(100)),
        ]
    );
    assert_eq!(history["data"][0]["amount"], json!({"amount": 5000000, "currency": "EUR"}));
    assert_eq!(history["data"][6]["changed_by"].as_str(), Some(admin.user_id.as_str()));
    assert_eq!(history["next_cursor"], Value::Null);
    // Paged like every list: four, then the other three.
    let first = app.get(&format!("{path}/stage-history?limit=4"), &admin.token).await.expect(200).body;
    let cursor = first["next_cursor"].as_str().unwrap_or_else(|| panic!("no next page: {first}")).to_owned();
    let rest = app.get(&format!("{path}/stage-history?limit=4&cursor={cursor}"), &admin.token).await.expect(200).body;
    assert_eq!([stages(&first), stages(&rest)].concat(), stages(&history));
    assert_eq!(rest["next_cursor"], Value::Null);
    app.get(&format!("{path}/stage-history?sort=changed_at"), &admin.token)
        .await
        .expect_problem(400, "invalid_parameter");

    // A won deal needs an amount.
    let no_amount = app
        .post("/api/v1/opportunities", &admin.token, &json!({"name": "Free", "account_id": account_id}))
        .await
        .expect(201)
        .body;
    app.send(
        Method::POST,
        &format!("/api/v1/opportunities/{}/close", id_of(&no_amount)),
        Some(&admin.token),
        Some(&json!({"outcome": "won"})),
        &[],
    )
    .await
    .expect_problem(409, "amount_required");
    app.send(
        Method::POST,
        &format!("/api/v1/opportunities/{}/close", id_of(&no_amount)),
        Some(&admin.token),
        Some(&json!({"outcome": "maybe"})),
        &[],
    )
    .await
    .expect_problem(422, "validation_failed");
    let audit = app
        .get(&format!("/api/v1/audit-events?entity_type=opportunity&entity_id={id}"), &admin.token)
        .await
        .expect(200);
    assert_eq!(audit.body["data"].as_array().map(Vec::len), Some(7));
}

async fn opportunity_fields_and_buyers_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let no_buyer = app
        .post("/api/v1/opportunities", &admin.token, &json!({"name": "Orphan"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(no_buyer.body["errors"][0]["code"], "buyer_required");
    let bad = app
        .post(
            "/api/v1/opportunities",
            &admin.token,
            &json!({
                "name": "X", "account_id": uuid::Uuid::now_v7(), "contact_id": uuid::Uuid::now_v7()
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["account_id", "contact_id"]);
    let contact = app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Solo"})).await.expect(201).body;
    let invalid = app
        .post("/api/v1/opportunities", &admin.token, &json!({
            "name": "X", "contact_id": id_of(&contact), "probability": 101, "expected_close_date": "31/12/2026", "stage": "closed_won",
            "amount": {"amount": 1, "currency": "EURO"}
        }))
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<&str> = invalid.body["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    fields.sort_unstable();
    assert_eq!(fields, ["amount.currency", "expected_close_date", "probability", "stage"]);
    // A person buying for themselves: a contact and no account.
    let personal = app
        .post("/api/v1/opportunities", &admin.token, &json!({"name": "Personal", "contact_id": id_of(&contact)}))
        .await
        .expect(201)
        .body;
    assert_eq!(personal["account_id"], Value::Null);
    let path = format!("/api/v1/opportunities/{}", id_of(&personal));
    app.patch(&path, &admin.token, &json!({"contact_id": null})).await.expect_problem(422, "validation_failed");
    app.patch(&path, &admin.token, &json!({"stage": null})).await.expect_problem(422, "validation_failed");
    app.send(Method::POST, &format!("{path}/reopen"), Some(&admin.token), Some(&json!({"stage": "closed_won"})), &[])
        .await
        .expect_problem(422, "validation_failed");
}

async fn names(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let reply = app.get(path, token).await.expect(200);
    reply.body["data"]
        .as_array()
        .map(|a| a.iter().map(|o| o["name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

async fn opportunities_are_listed_by_account_stage_and_close_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let navy = account(&app, &admin, "Navy").await;
    let army = account(&app, &admin, "Army").await;
    for (name, account_id, stage, date) in [
        ("A", &navy, "proposal", Some("2027-01-15")),
        ("B", &navy, "prospecting", Some("2027-02-15")),
        ("C", &army, "negotiation", None),
        ("D", &army, "proposal", Some("2027-03-15")),
    ] {
        let mut body = json!({"name": name, "account_id": account_id, "stage": stage});
        if let Some(date) = date {
            body["expected_close_date"] = json!(date);
        }
        app.post("/api/v1/opportunities", &admin.token, &body).await.expect(201);
    }
    assert_eq!(names(&app, &admin.token, "/api/v1/opportunities").await, ["D", "C", "B", "A"]);
    assert_eq!(
        names(&app, &admin.token, &format!("/api/v1/accounts/{navy}/opportunities?sort=name")).await,
        ["A", "B"]
    );
    // An account's deals take every filter of the opportunity list but the account, which the path names.
    assert_eq!(
        names(
            &app,
            &admin.token,
            &format!(
                "/api/v1/accounts/{navy}/opportunities?q=a&expected_close_before=2027-01-31&owner_id={}",
                admin.user_id
            )
        )
        .await,
        ["A"]
    );
    let refused = app.get(&format!("/api/v1/accounts/{navy}/opportunities?account_id={army}"), &admin.token).await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.text);
    assert_eq!(names(&app, &admin.token, "/api/v1/opportunities?stage=proposal&sort=name").await, ["A", "D"]);
    assert_eq!(names(&app, &admin.token, "/api/v1/opportunities?sort=expected_close_date").await, ["C", "A", "B", "D"]);
    assert_eq!(
        names(
            &app,
            &admin.token,
            "/api/v1/opportunities?expected_close_after=2027-01-15&expected_close_before=2027-02-28&sort=name"
        )
        .await,
        ["A", "B"]
    );
    assert_eq!(
        names(&app, &admin.token, &format!("/api/v1/opportunities?account_id={army}&sort=-name")).await,
        ["D", "C"]
    );
    for query in ["stage=won", "expected_close_after=2027-13-01", "account_id=x", "sort=amount"] {
        let reply = app.get(&format!("/api/v1/opportunities?{query}"), &admin.token).await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.text);
    }
    app.get(&format!("/api/v1/accounts/{}/opportunities", uuid::Uuid::now_v7()), &admin.token)
        .await
        .expect_problem(404, "not_found");
}

async fn opportunities_follow_roles_and_tenancy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let colleague = app.add_user(&admin, "colleague@example.com", "sales_rep").await;
    let support = app.add_user(&admin, "support@example.com", "support_agent").await;
    let account_id = account(&app, &admin, "Navy").await;
    let theirs = app
        .post("/api/v1/opportunities", &colleague.token, &json!({"name": "Theirs", "account_id": account_id}))
        .await
        .expect(201)
        .body;
    let path = format!("/api/v1/opportunities/{}", id_of(&theirs));
    app.patch(&path, &rep.token, &json!({"stage": "proposal"})).await.expect_problem(403, "forbidden");
    app.send(Method::POST, &format!("{path}/close"), Some(&rep.token), Some(&json!({"outcome": "lost"})), &[])
        .await
        .expect_problem(403, "forbidden");
    app.post("/api/v1/opportunities", &support.token, &json!({"name": "X", "account_id": account_id}))
        .await
        .expect_problem(403, "forbidden");
    app.get(&path, &support.token).await.expect(200);
    app.patch(&path, &colleague.token, &json!({"stage": "proposal"})).await.expect(200);

    let globex = app.signup("Globex", "hank@globex.example").await;
    app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    app.get(&format!("{path}/stage-history"), &globex.token).await.expect_problem(404, "not_found");
    app.send(Method::POST, &format!("{path}/close"), Some(&globex.token), Some(&json!({"outcome": "lost"})), &[])
        .await
        .expect_problem(404, "not_found");
    assert_eq!(app.get("/api/v1/opportunities", &globex.token).await.body["data"], json!([]));
    app.post("/api/v1/opportunities", &globex.token, &json!({"name": "X", "account_id": account_id}))
        .await
        .expect_problem(422, "validation_failed");
}
