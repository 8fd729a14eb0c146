//! Contacts: people, with or without an account, each email once among the active ones.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    a_contact_is_created_updated_archived_and_restored,
    an_email_belongs_to_one_active_contact,
    contacts_are_listed_by_account_and_filters,
    contacts_follow_roles_and_tenancy,
);

async fn a_contact_is_created_updated_archived_and_restored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body;
    let created = app
        .post(
            "/api/v1/contacts",
            &admin.token,
            &json!({
                "first_name": "Grace", "last_name": "Hopper", "email": "Grace@Navy.example", "mobile": "+1 555 0100",
                "account_id": id_of(&account), "source": "referral", "tags": ["decision-maker"]
            }),
        )
        .await
        .expect(201);
    let contact = created.body.clone();
    let id = id_of(&contact);
    assert_eq!(created.header("location"), Some(format!("/api/v1/contacts/{id}").as_str()));
    assert_eq!(contact["email"], "grace@navy.example");
    assert_eq!(contact["account_id"].as_str(), Some(id_of(&account).as_str()));
    assert_eq!(contact["lifecycle_stage"], "prospect");
    assert_eq!(contact["do_not_contact"], false);
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}"), &admin.token).await.expect(200).body, contact);

    // A person buying for themselves has no account.
    let person = app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Solo"})).await.expect(201).body;
    assert_eq!(person["account_id"], Value::Null);

    let path = format!("/api/v1/contacts/{id}");
    let updated = app
        .send(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(&json!({"do_not_contact": true, "mobile": null, "account_id": null})),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(updated.body["do_not_contact"], true);
    assert_eq!(updated.body["mobile"], Value::Null);
    assert_eq!(updated.body["account_id"], Value::Null);
    assert_eq!(updated.body["version"], 2);
    let unknown = app
        .patch(&path, &admin.token, &json!({"account_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(unknown.body["errors"][0]["field"], "account_id");
    app.patch(&path, &admin.token, &json!({"do_not_contact": null})).await.expect_problem(422, "validation_failed");

    app.delete(&path, &admin.token).await.expect(200);
    app.patch(&path, &admin.token, &json!({"title": "x"})).await.expect_problem(409, "contact_archived");
    app.send(Method::POST, &format!("{path}/restore"), Some(&admin.token), None, &[]).await.expect(200);
    app.send(Method::POST, &format!("{path}/restore"), Some(&admin.token), None, &[])
        .await
        .expect_problem(409, "contact_not_archived");
    let events =
        app.get(&format!("/api/v1/audit-events?entity_type=contact&entity_id={id}"), &admin.token).await.expect(200);
    let actions: Vec<&str> = events.body["data"]
        .as_array()
        .map(|a| a.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["restore", "archive", "update", "create"]);
}

async fn an_email_belongs_to_one_active_contact(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let first = app
        .post("/api/v1/contacts", &admin.token, &json!({"last_name": "First", "email": "same@example.com"}))
        .await
        .expect(201)
        .body;
    let duplicate = app
        .post("/api/v1/contacts", &admin.token, &json!({"last_name": "Second", "email": "SAME@example.com"}))
        .await
        .expect_problem(409, "duplicate");
    assert_eq!(duplicate.body["existing_id"].as_str(), Some(id_of(&first).as_str()));
    assert!(duplicate.body["detail"].as_str().is_some_and(|d| d.contains(&id_of(&first))));
    // Contacts without an email never collide.
    app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "No email"})).await.expect(201);
    app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "No email either"})).await.expect(201);
    // Changing another contact to the email collides too.
    let other = app
        .post("/api/v1/contacts", &admin.token, &json!({"last_name": "Other", "email": "other@example.com"}))
        .await
        .expect(201)
        .body;
    let clash = app
        .patch(&format!("/api/v1/contacts/{}", id_of(&other)), &admin.token, &json!({"email": "same@example.com"}))
        .await
        .expect_problem(409, "duplicate");
    assert_eq!(clash.body["existing_id"].as_str(), Some(id_of(&first).as_str()));
    // Once the first is archived, its email is free; restoring it then collides with the new holder.
    app.delete(&format!("/api/v1/contacts/{}", id_of(&first)), &admin.token).await.expect(200);
    let second = app
        .post("/api/v1/contacts", &admin.token, &json!({"last_name": "Second", "email": "same@example.com"}))
        .await
        .expect(201)
        .body;
    let restore = app
        .send(Method::POST, &format!("/api/v1/contacts/{}/restore", id_of(&first)), Some(&admin.token), None, &[])
        .await
        .expect_problem(409, "duplicate");
    assert_eq!(restore.body["existing_id"].as_str(), Some(id_of(&second).as_str()));
    // Another organisation may hold the same email.
    let globex = app.signup("Globex", "hank@globex.example").await;
    app.post("/api/v1/contacts", &globex.token, &json!({"last_name": "Elsewhere", "email": "same@example.com"}))
        .await
        .expect(201);
    // The `email` filter finds the holder, ignoring case, in the caller's organisation only; the
    // archived holder shows with `archived`.
    let names = |query: &'static str, token: String| {
        let app = &app;
        async move {
            let reply = app.get(&format!("/api/v1/contacts?{query}"), &token).await.expect(200);
            reply.body["data"]
                .as_array()
                .map(|a| a.iter().map(|c| c["last_name"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>())
                .unwrap_or_default()
        }
    };
    assert_eq!(names("email=SAME@Example.com", admin.token.clone()).await, ["Second"]);
    assert_eq!(
        names("email=same@example.com&archived=true&sort=last_name", admin.token.clone()).await,
        ["First", "Second"]
    );
    assert_eq!(names("email=same@example.com&archived=only", admin.token.clone()).await, ["First"]);
    assert_eq!(
        names("email=other@example.com,%20same@example.com&sort=last_name", admin.token.clone()).await,
        ["Other", "Second"]
    );
    assert!(names("email=ame@example.com", admin.token.clone()).await.is_empty(), "exact, not a substring");
    assert_eq!(names("email=same@example.com", globex.token.clone()).await, ["Elsewhere"]);
}

async fn last_names(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let reply = app.get(path, token).await.expect(200);
    reply.body["data"]
        .as_array()
        .map(|a| a.iter().map(|c| c["last_name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

async fn contacts_are_listed_by_account_and_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let navy = app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body;
    let army = app.post("/api/v1/accounts", &admin.token, &json!({"name": "Army"})).await.expect(201).body;
    for (last, account, stage, dnc) in [
        ("Hopper", Some(&navy), "customer", false),
        ("Nimitz", Some(&navy), "prospect", true),
        ("Patton", Some(&army), "customer", false),
        ("Solo", None, "prospect", false),
    ] {
        let mut body = json!({"last_name": last, "lifecycle_stage": stage, "do_not_contact": dnc});
        if let Some(account) = account {
            body["account_id"] = json!(id_of(account));
        }
        app.post("/api/v1/contacts", &admin.token, &body).await.expect(201);
    }
    assert_eq!(last_names(&app, &admin.token, "/api/v1/contacts").await, ["Hopper", "Nimitz", "Patton", "Solo"]);
    assert_eq!(
        last_names(&app, &admin.token, &format!("/api/v1/accounts/{}/contacts", id_of(&navy))).await,
        ["Hopper", "Nimitz"]
    );
    assert_eq!(
        last_names(&app, &admin.token, &format!("/api/v1/contacts?account_id={}", id_of(&army))).await,
        ["Patton"]
    );
    assert_eq!(last_names(&app, &admin.token, "/api/v1/contacts?account_id=none").await, ["Solo"]);
    assert_eq!(
        last_names(&app, &admin.token, "/api/v1/contacts?lifecycle_stage=customer&sort=-last_name").await,
        ["Patton", "Hopper"]
    );
    assert_eq!(last_names(&app, &admin.token, "/api/v1/contacts?do_not_contact=true").await, ["Nimitz"]);
    assert_eq!(
        last_names(&app, &admin.token, &format!("/api/v1/accounts/{}/contacts?do_not_contact=false", id_of(&navy)))
            .await,
        ["Hopper"]
    );
    app.get(&format!("/api/v1/accounts/{}/contacts", uuid::Uuid::now_v7()), &admin.token)
        .await
        .expect_problem(404, "not_found");
    app.get(&format!("/api/v1/accounts/{}/contacts?account_id=none", id_of(&navy)), &admin.token)
        .await
        .expect_problem(400, "invalid_parameter");
    for query in ["account_id=some", "do_not_contact=maybe", "sort=phone", "lifecycle_stage=lead"] {
        let reply = app.get(&format!("/api/v1/contacts?{query}"), &admin.token).await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.text);
    }
}

async fn contacts_follow_roles_and_tenancy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let support = app.add_user(&admin, "support@example.com", "support_agent").await;
    let theirs = app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Admin's"})).await.expect(201).body;
    let own = app.post("/api/v1/contacts", &rep.token, &json!({"last_name": "Rep's"})).await.expect(201).body;
    app.patch(&format!("/api/v1/contacts/{}", id_of(&own)), &rep.token, &json!({"title": "CTO"})).await.expect(200);
    app.patch(&format!("/api/v1/contacts/{}", id_of(&theirs)), &rep.token, &json!({"title": "CTO"}))
        .await
        .expect_problem(403, "forbidden");
    // A new customer calls support: the agent creates the contact, and changes no sales record.
    let caller = app.post("/api/v1/contacts", &support.token, &json!({"last_name": "Caller"})).await.expect(201).body;
    assert_eq!(caller["owner_id"], support.user_id.as_str());
    app.patch(&format!("/api/v1/contacts/{}", id_of(&caller)), &support.token, &json!({"title": "CTO"}))
        .await
        .expect_problem(403, "forbidden");
    app.post("/api/v1/contacts", &support.token, &json!({"last_name": "X", "owner_id": rep.user_id}))
        .await
        .expect_problem(403, "forbidden");
    app.post("/api/v1/accounts", &support.token, &json!({"name": "X"})).await.expect_problem(403, "forbidden");
    let globex = app.signup("Globex", "hank@globex.example").await;
    let path = format!("/api/v1/contacts/{}", id_of(&theirs));
    app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    app.patch(&path, &globex.token, &json!({"title": "x"})).await.expect_problem(404, "not_found");
    app.delete(&path, &globex.token).await.expect_problem(404, "not_found");
    assert_eq!(app.get("/api/v1/contacts", &globex.token).await.body["data"], json!([]));
    let account =
        app.post("/api/v1/accounts", &admin.token, &json!({"name": "Acme's customer"})).await.expect(201).body;
    app.post("/api/v1/contacts", &globex.token, &json!({"last_name": "X", "account_id": id_of(&account)}))
        .await
        .expect_problem(422, "validation_failed");
    app.get(&format!("/api/v1/accounts/{}/contacts", id_of(&account)), &globex.token)
        .await
        .expect_problem(404, "not_found");
}
