//! Timelines: one customer's whole story, newest first, merged from the activities and the audit
//! trail, paged while it grows.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    an_account_timeline_merges_its_contacts_and_deals_in_order_across_pages,
    a_contact_timeline_carries_its_lead_s_history_and_the_meetings_it_joined,
    a_deal_timeline_tells_the_sale,
    timeline_filters_and_who_sees_what,
);

async fn post(app: &TestApp, session: &Session, path: &str, body: Value) -> Value {
    app.post(path, &session.token, &body).await.expect(201).body
}

async fn post_empty(app: &TestApp, session: &Session, path: &str) -> Value {
    app.send(Method::POST, path, Some(&session.token), None, &[]).await.expect(200).body
}

/// Every item of a timeline from `cursor` on, following `next_cursor` page by page of `limit`.
async fn walk_from(app: &TestApp, session: &Session, path: &str, limit: u32, mut cursor: Option<String>) -> Vec<Value> {
    let mut seen = Vec::new();
    let separator = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{separator}limit={limit}&cursor={c}"),
            None => format!("{path}{separator}limit={limit}"),
        };
        let body: Value = app.get(&url, &session.token).await.expect(200).body;
        let items = body["data"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        seen.extend(items.iter().cloned());
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

async fn walk(app: &TestApp, session: &Session, path: &str, limit: u32) -> Vec<Value> {
    walk_from(app, session, path, limit, None).await
}

/// Reads the timelines at `paths`, forgets what the application stored for the timeline on every
/// audit event, fills it again with migration 0023's backfill (the events written before the
/// migration get theirs that way), and reads the timelines again: the same items.
async fn backfill_agrees(app: &TestApp, session: &Session, paths: &[String]) {
    let mut before = Vec::new();
    for path in paths {
        before.push(walk(app, session, path, 200).await);
    }
    let folder = if app.database_url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let migration =
        std::fs::read_to_string(format!("{}/../../migrations/{folder}/0023_timeline.sql", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let start = migration.find("-- backfill: begin").unwrap();
    let end = migration.find("-- backfill: end").unwrap();
    crate::helpers::execute_sql(
        &app.database_url,
        "UPDATE audit_events SET timeline_kind = NULL, lead_id = NULL, contact_id = NULL, account_id = NULL, opportunity_id = NULL",
    )
    .await;
    for statement in migration[start..end].split(";\n").filter(|s| s.contains("UPDATE")) {
        crate::helpers::execute_sql(&app.database_url, statement).await;
    }
    for (path, before) in paths.iter().zip(before) {
        assert_eq!(walk(app, session, path, 200).await, before, "{path}");
    }
}

/// (kind, record type, record id) of each item.
fn shape(items: &[Value]) -> Vec<(String, String, String)> {
    items
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["record"]["type"].as_str().unwrap().to_owned(),
                i["record"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn item(kind: &str, record_type: &str, id: &str) -> (String, String, String) {
    (kind.to_owned(), record_type.to_owned(), id.to_owned())
}

async fn an_account_timeline_merges_its_contacts_and_deals_in_order_across_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = id_of(&post(&app, &admin, "/api/v1/accounts", json!({"name": "Babbage & Co"})).await);
    let other_account = id_of(&post(&app, &admin, "/api/v1/accounts", json!({"name": "Elsewhere"})).await);
    let contact =
        id_of(&post(&app, &admin, "/api/v1/contacts", json!({"last_name": "Lovelace", "account_id": account})).await);
    let deal = id_of(
        &post(
            &app,
            &admin,
            "/api/v1/opportunities",
            json!({"name": "Engines", "account_id": account, "amount": {"amount": 100000, "currency": "EUR"}, "stage": "proposal"}),
        )
        .await,
    );
    let activity = |body: Value| {
        let app = &app;
        let admin = &admin;
        async move { id_of(&post(app, admin, "/api/v1/activities", body).await) }
    };
    // The call nobody answered is the contact's; its account is filled from the contact.
    let failed =
        activity(json!({"kind": "call", "direction": "outbound", "subject": "Intro call", "outcome": "no_answer",
        "contact_id": contact, "occurred_at": "2026-01-10T09:00:00Z"}))
        .await;
    let note = activity(json!({"kind": "note", "subject": "Budget in Q2", "account_id": account, "occurred_at": "2026-01-11T09:00:00Z"})).await;
    let meeting =
        activity(json!({"kind": "meeting", "direction": "outbound", "subject": "Demo", "opportunity_id": deal,
        "occurred_at": "2026-01-12T09:00:00Z"}))
        .await;
    let task = activity(json!({"kind": "task", "subject": "Send the proposal", "contact_id": contact, "due_at": "2099-01-01T09:00:00Z"})).await;
    activity(json!({"kind": "call", "subject": "Not theirs", "account_id": other_account, "occurred_at": "2026-01-11T10:00:00Z"})).await;
    let moved = app
        .patch(&format!("/api/v1/opportunities/{deal}"), &admin.token, &json!({"stage": "negotiation"}))
        .await
        .expect(200)
        .body;

    let path = format!("/api/v1/accounts/{account}/timeline");
    let first = app.get(&format!("{path}?limit=3"), &admin.token).await.expect(200).body;
    let mut items: Vec<Value> = first["data"].as_array().unwrap().clone();
    // While the client pages: one item lands among those not read yet, one among those read.
    let late =
        activity(json!({"kind": "email", "direction": "inbound", "subject": "Re: budget", "contact_id": contact,
        "occurred_at": "2026-01-11T12:00:00Z"}))
        .await;
    activity(json!({"kind": "call", "subject": "Just now", "contact_id": contact})).await;
    let cursor = first["next_cursor"].as_str().map(str::to_owned);
    assert!(cursor.is_some());
    items.extend(walk_from(&app, &admin, &path, 3, cursor).await);
    assert_eq!(
        shape(&items),
        vec![
            item("activity", "activity", &task),
            item("stage_changed", "opportunity", &deal),
            item("created", "opportunity", &deal),
            item("created", "contact", &contact),
            item("created", "account", &account),
            item("activity", "activity", &meeting),
            item("activity", "activity", &late),
            item("activity", "activity", &note),
            item("activity", "activity", &failed),
        ],
        "newest first, the planned task at its due date; the other account's call absent; the call made \
         after the first page is newer than the cursor and waits for the next read"
    );
    let failed_item = &items[8];
    assert_eq!(failed_item["summary"], "Call (outbound), no answer: Intro call");
    assert_eq!(failed_item["occurred_at"], "2026-01-10T09:00:00.000000Z");
    assert_eq!(
        (&failed_item["data"]["status"], &failed_item["data"]["outcome"]),
        (&json!("done"), &json!("no_answer"))
    );
    assert_eq!(failed_item["actor"]["name"], "Admin of Acme");
    let stage = &items[1];
    assert_eq!(stage["summary"], "Stage changed to negotiation");
    assert_eq!(stage["data"]["stage"], "negotiation");
    assert_eq!(stage["data"]["amount"], json!({"amount": 100000, "currency": "EUR"}));
    assert_eq!(stage["data"]["probability"], moved["probability"]);
    assert_eq!(
        stage["data"]["changes"].as_array().unwrap().iter().find(|c| c["field"] == "stage").unwrap(),
        &json!({"field": "stage", "old": "proposal", "new": "negotiation"}),
        "an admin reads the audit trail's values"
    );
    assert_eq!(items[2]["data"]["stage"], "proposal", "a deal's creation says its first stage");

    // A fresh read starts with the call logged while paging.
    let first = app.get(&format!("{path}?limit=3"), &admin.token).await.expect(200).body;
    assert_eq!(first["data"][0]["record"]["id"], items[0]["record"]["id"], "the task due in 2099 stays first");
    assert_eq!(first["data"][1]["summary"], "Call: Just now");
}

async fn a_contact_timeline_carries_its_lead_s_history_and_the_meetings_it_joined(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead =
        id_of(&app.create_lead(&admin, json!({"first_name": "Grace", "last_name": "Hopper", "company": "Navy"})).await);
    app.patch(&format!("/api/v1/leads/{lead}"), &admin.token, &json!({"status": "qualified"})).await.expect(200);
    let call = id_of(
        &post(
            &app,
            &admin,
            "/api/v1/activities",
            json!({"kind": "call", "subject": "First call", "lead_id": lead, "occurred_at": "2026-02-01T10:00:00Z"}),
        )
        .await,
    );
    let converted = post_empty(&app, &admin, &format!("/api/v1/leads/{lead}/convert")).await;
    let contact = id_of(&converted["contact"]);
    let account = id_of(&converted["account"]);
    let deal = id_of(&converted["opportunity"]);
    let colleague =
        id_of(&post(&app, &admin, "/api/v1/contacts", json!({"last_name": "Colleague", "account_id": account})).await);
    let meeting = id_of(
        &post(
            &app,
            &admin,
            "/api/v1/activities",
            json!({"kind": "meeting", "subject": "Workshop", "contact_id": colleague, "participant_contact_ids": [contact],
                "occurred_at": "2026-03-01T10:00:00Z"}),
        )
        .await,
    );

    let contact_items = walk(&app, &admin, &format!("/api/v1/contacts/{contact}/timeline"), 2).await;
    assert_eq!(
        shape(&contact_items),
        vec![
            item("converted", "lead", &lead),
            item("created", "opportunity", &deal),
            item("created", "contact", &contact),
            item("status_changed", "lead", &lead),
            item("created", "lead", &lead),
            item("activity", "activity", &meeting),
            item("activity", "activity", &call),
        ],
        "the conversion and the deal it made for the contact (one instant: in the order of writing), the lead's \
         history before it, the call it moved, and the meeting the contact joined"
    );
    assert_eq!(contact_items[0]["summary"], "Lead converted");
    assert_eq!(contact_items[3]["summary"], "Lead status changed to qualified");
    assert_eq!(contact_items[3]["data"]["status"], "qualified");
    let meeting_data = &contact_items[5]["data"];
    assert_eq!(meeting_data["participant_contact_ids"], json!([contact]));

    // The lead keeps its own story, the call included (the conversion adds links, it keeps the lead's).
    let lead_items = walk(&app, &admin, &format!("/api/v1/leads/{lead}/timeline"), 50).await;
    assert_eq!(
        shape(&lead_items),
        vec![
            item("converted", "lead", &lead),
            item("status_changed", "lead", &lead),
            item("created", "lead", &lead),
            item("activity", "activity", &call)
        ]
    );
    // The account: what the conversion made, and the lead's history through its contact.
    let account_kinds: Vec<String> = walk(&app, &admin, &format!("/api/v1/accounts/{account}/timeline"), 50)
        .await
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        account_kinds,
        ["created", "converted", "created", "created", "created", "status_changed", "created", "activity", "activity"],
        "the colleague, the conversion, the deal, contact and account it made, the lead's history, the meeting and the call"
    );
    let paths = [
        format!("/api/v1/contacts/{contact}/timeline"),
        format!("/api/v1/leads/{lead}/timeline"),
        format!("/api/v1/accounts/{account}/timeline"),
        format!("/api/v1/opportunities/{deal}/timeline"),
    ];
    backfill_agrees(&app, &admin, &paths).await;
}

async fn a_deal_timeline_tells_the_sale(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = id_of(&post(&app, &admin, "/api/v1/accounts", json!({"name": "Babbage & Co"})).await);
    let product = id_of(
        &post(
            &app,
            &admin,
            "/api/v1/products",
            json!({"name": "Engine", "sku": "E-1", "unit_price": {"amount": 5000, "currency": "EUR"}}),
        )
        .await,
    );
    let deal = id_of(
        &post(
            &app,
            &admin,
            "/api/v1/opportunities",
            json!({"name": "Engines", "account_id": account, "amount": {"amount": 5000, "currency": "EUR"}, "stage": "proposal"}),
        )
        .await,
    );
    let quote = id_of(
        &post(
            &app,
            &admin,
            "/api/v1/quotes",
            json!({"opportunity_id": deal, "valid_until": "2099-12-31",
            "line_items": [{"product_id": product, "quantity": 1}]}),
        )
        .await,
    );
    post_empty(&app, &admin, &format!("/api/v1/quotes/{quote}/send")).await;
    let order = id_of(&post_empty(&app, &admin, &format!("/api/v1/quotes/{quote}/accept")).await["order"]);
    post_empty(&app, &admin, &format!("/api/v1/orders/{order}/confirm")).await;
    let invoice = app
        .send(Method::POST, &format!("/api/v1/orders/{order}/invoice"), Some(&admin.token), None, &[])
        .await
        .expect(201)
        .body;
    let (invoice, total) = (id_of(&invoice), invoice["total"].as_i64().unwrap());
    post_empty(&app, &admin, &format!("/api/v1/invoices/{invoice}/issue")).await;
    app.post(
        &format!("/api/v1/invoices/{invoice}/payments"),
        &admin.token,
        &json!({"amount": {"amount": 2000, "currency": "EUR"}, "paid_at": "2026-12-01T00:00:00Z", "method": "card"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/invoices/{invoice}/payments"),
        &admin.token,
        &json!({"amount": {"amount": total - 2000, "currency": "EUR"}, "paid_at": "2026-12-02T00:00:00Z", "method": "card"}),
    )
    .await
    .expect(201);

    let items = walk(&app, &admin, &format!("/api/v1/opportunities/{deal}/timeline"), 4).await;
    let summaries: Vec<&str> = items.iter().map(|i| i["summary"].as_str().unwrap()).collect();
    assert_eq!(
        summaries,
        [
            "Invoice paid",
            "Payment recorded",
            "Invoice issued",
            "Invoice created",
            "Order status changed to confirmed",
            "Order created",
            "Stage changed to closed won",
            "Quote accepted",
            "Quote sent",
            "Quote created",
            "Opportunity created",
        ],
        "order of writes: the acceptance writes the quote, the deal's stage, then the order, at one instant"
    );
    // The account sees the same sale, with the account's own creation last.
    let account_items = walk(&app, &admin, &format!("/api/v1/accounts/{account}/timeline"), 50).await;
    assert_eq!(account_items.len(), items.len() + 1);
    assert_eq!(account_items.last().unwrap()["summary"], "Account created");
    let paths = [format!("/api/v1/opportunities/{deal}/timeline"), format!("/api/v1/accounts/{account}/timeline")];
    backfill_agrees(&app, &admin, &paths).await;
}

async fn timeline_filters_and_who_sees_what(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let support = app.add_user(&admin, "agent@example.com", "support_agent").await;
    let account = id_of(&post(&app, &admin, "/api/v1/accounts", json!({"name": "Babbage & Co"})).await);
    let deal = id_of(
        &post(
            &app,
            &admin,
            "/api/v1/opportunities",
            json!({"name": "Engines", "account_id": account, "stage": "proposal"}),
        )
        .await,
    );
    app.patch(&format!("/api/v1/opportunities/{deal}"), &admin.token, &json!({"stage": "negotiation"}))
        .await
        .expect(200);
    for (day, subject) in [("01", "January"), ("02", "February"), ("03", "March")] {
        post(
            &app,
            &support,
            "/api/v1/activities",
            json!({"kind": "call", "subject": subject, "account_id": account,
            "occurred_at": format!("2026-{day}-15T09:00:00Z")}),
        )
        .await;
    }
    let path = format!("/api/v1/accounts/{account}/timeline");

    let kinds = |body: &Value| -> Vec<String> {
        body["data"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_owned()).collect()
    };
    let only = app.get(&format!("{path}?kind=stage_changed,activity"), &admin.token).await.expect(200).body;
    assert_eq!(kinds(&only), ["stage_changed", "activity", "activity", "activity"]);
    let calls = app.get(&format!("{path}?kind=activity"), &admin.token).await.expect(200).body;
    assert_eq!(kinds(&calls), ["activity", "activity", "activity"]);
    let events = app.get(&format!("{path}?kind=created"), &admin.token).await.expect(200).body;
    assert_eq!(kinds(&events), ["created", "created"]);
    // after and before are exclusive.
    let february = app
        .get(&format!("{path}?after=2026-01-15T09:00:00Z&before=2026-03-15T09:00:00Z"), &admin.token)
        .await
        .expect(200)
        .body;
    let subjects: Vec<&str> =
        february["data"].as_array().unwrap().iter().map(|i| i["data"]["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["February"]);
    assert_eq!(february["data"][0]["actor"]["name"], "User agent@example.com", "the support agent logged it");

    // Every role reads the record's timeline; only the audit trail's readers see old and new values.
    let for_rep = app.get(&format!("{path}?kind=stage_changed"), &rep.token).await.expect(200).body;
    let stage = &for_rep["data"][0]["data"];
    assert_eq!(stage["stage"], "negotiation");
    assert!(stage.get("changes").is_none(), "no audit values for a sales rep: {stage}");
    let for_support = app.get(&format!("{path}?kind=stage_changed"), &support.token).await.expect(200).body;
    assert!(for_support["data"][0]["data"].get("changes").is_none());
    let for_admin = app.get(&format!("{path}?kind=stage_changed"), &admin.token).await.expect(200).body;
    assert!(for_admin["data"][0]["data"]["changes"].is_array());

    // Bad parameters are 400s naming them.
    for (query, field) in [
        ("kind=visit", "kind"),
        ("after=yesterday", "after"),
        ("before=2026-13-01", "before"),
        ("limit=0", "limit"),
        ("cursor=zzz", "cursor"),
    ] {
        let reply = app.get(&format!("{path}?{query}"), &admin.token).await.expect_problem(400, "invalid_parameter");
        assert_eq!(reply.body["errors"][0]["field"], field, "{query}");
    }
    app.get(&format!("{path}?sort=occurred_at"), &admin.token).await.expect(400);

    // Another organisation sees nothing: 404 on each timeline of ours, and its own are empty.
    let globex = app.signup("Globex", "hank@globex.example").await;
    for path in [format!("/api/v1/accounts/{account}/timeline"), format!("/api/v1/opportunities/{deal}/timeline")] {
        app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    }
    let missing = uuid::Uuid::now_v7();
    for kind in ["leads", "contacts", "accounts", "opportunities"] {
        app.get(&format!("/api/v1/{kind}/{missing}/timeline"), &admin.token).await.expect_problem(404, "not_found");
    }
    let theirs = id_of(&post(&app, &globex, "/api/v1/accounts", json!({"name": "Globex"})).await);
    let theirs_items = app.get(&format!("/api/v1/accounts/{theirs}/timeline"), &globex.token).await.expect(200).body;
    assert_eq!(kinds(&theirs_items), ["created"]);
    app.get("/api/v1/accounts/not-a-uuid/timeline", &admin.token).await.expect(400);
}
