//! Following customers up: lists sorted by the last interaction, and conversion carrying a
//! lead's history.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    lists_sort_by_the_last_interaction_the_records_never_reached_first,
    conversion_moves_the_leads_history_onto_what_it_produced,
    a_contact_finds_the_activities_it_took_part_in,
);

async fn contact(app: &TestApp, session: &Session, last_name: &str) -> String {
    id_of(&app.post("/api/v1/contacts", &session.token, &json!({"last_name": last_name})).await.expect(201).body)
}

async fn call(app: &TestApp, session: &Session, contact_id: &str, at: &str) {
    app.post(
        "/api/v1/activities",
        &session.token,
        &json!({"kind": "call", "subject": "Catch up", "contact_id": contact_id, "occurred_at": at}),
    )
    .await
    .expect(201);
}

/// Every id of a list, page by page of `limit` 2, following `next_cursor`.
async fn walk(app: &TestApp, session: &Session, path: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit=2&cursor={c}"),
            None => format!("{path}&limit=2"),
        };
        let body: Value = app.get(&url, &session.token).await.expect(200).body;
        seen.extend(body["data"].as_array().unwrap().iter().map(id_of));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

async fn lists_sort_by_the_last_interaction_the_records_never_reached_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let january = contact(&app, &admin, "January").await;
    let never = contact(&app, &admin, "Never").await;
    let march = contact(&app, &admin, "March").await;
    let february = contact(&app, &admin, "February").await;
    let also_never = contact(&app, &admin, "Also never").await;
    call(&app, &admin, &january, "2026-01-15T09:00:00Z").await;
    call(&app, &admin, &march, "2026-03-15T09:00:00Z").await;
    call(&app, &admin, &february, "2026-02-15T09:00:00.250Z").await;

    // Never reached first (between themselves by id, which follows creation), then oldest first.
    let ascending = walk(&app, &admin, "/api/v1/contacts?sort=last_interaction_at").await;
    assert_eq!(ascending, [never.clone(), also_never.clone(), january.clone(), february.clone(), march.clone()]);
    let descending = walk(&app, &admin, "/api/v1/contacts?sort=-last_interaction_at").await;
    assert_eq!(descending, [march.clone(), february.clone(), january.clone(), also_never.clone(), never.clone()]);
    // The filters and the order together: reached before March, the longest silent first.
    let silent =
        walk(&app, &admin, "/api/v1/contacts?sort=last_interaction_at&last_interaction_before=2026-03-01T00:00:00Z")
            .await;
    assert_eq!(silent, [january.clone(), february.clone()]);
    let recent =
        walk(&app, &admin, "/api/v1/contacts?sort=last_interaction_at&last_interaction_after=2026-02-15T09:00:00.250Z")
            .await;
    assert_eq!(recent, vec![march.clone()], "after is exclusive, to the millisecond");

    // A new call moves a record to the end, and the other lists sort the same way.
    call(&app, &admin, &never, "2026-04-01T09:00:00Z").await;
    let ascending = walk(&app, &admin, "/api/v1/contacts?sort=last_interaction_at").await;
    assert_eq!(ascending, [also_never, january, february, march, never]);
    for list in ["leads", "accounts", "opportunities"] {
        app.get(&format!("/api/v1/{list}?sort=-last_interaction_at"), &admin.token).await.expect(200);
    }
}

async fn conversion_moves_the_leads_history_onto_what_it_produced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = id_of(
        &app.post(
            "/api/v1/leads",
            &admin.token,
            &json!({"first_name": "Ada", "last_name": "Lovelace", "company": "Engines Ltd"}),
        )
        .await
        .expect(201)
        .body,
    );
    let other_account =
        id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Other Ltd"})).await.expect(201).body);
    let log = |body: Value| {
        let (app, token) = (&app, admin.token.clone());
        async move { id_of(&app.post("/api/v1/activities", &token, &body).await.expect(201).body) }
    };
    let failed_call = log(json!({"kind": "call", "subject": "First try", "lead_id": lead, "outcome": "no_answer", "occurred_at": "2026-05-01T10:00:00Z"})).await;
    let planned =
        log(json!({"kind": "task", "subject": "Send the deck", "lead_id": lead, "due_at": "2099-01-01T09:00:00Z"}))
            .await;
    let elsewhere = log(json!({"kind": "email", "subject": "Intro via Other", "lead_id": lead, "account_id": other_account, "occurred_at": "2026-05-02T10:00:00Z"})).await;
    let convert = |query: &'static str| {
        let (app, token, lead) = (&app, admin.token.clone(), lead.clone());
        async move { app.send(Method::POST, &format!("/api/v1/leads/{lead}/convert{query}"), Some(&token), None, &[]).await }
    };

    // The dry run counts the two activities about the lead alone and moves nothing.
    let dry = convert("?dry_run=true").await.expect(200).body;
    assert_eq!(dry["activities_moved"], 2);
    let untouched = app.get(&format!("/api/v1/activities/{failed_call}"), &admin.token).await.expect(200).body;
    assert_eq!(untouched["contact_id"], Value::Null);

    let done = convert("").await.expect(200).body;
    assert_eq!(done["activities_moved"], 2);
    let (contact, account, deal) = (id_of(&done["contact"]), id_of(&done["account"]), id_of(&done["opportunity"]));
    // The records answered are the records stored, their interactions and versions included.
    for (path, answered) in [
        (format!("/api/v1/contacts/{contact}"), &done["contact"]),
        (format!("/api/v1/accounts/{account}"), &done["account"]),
        (format!("/api/v1/opportunities/{deal}"), &done["opportunity"]),
    ] {
        let stored = app.get(&path, &admin.token).await.expect(200).body;
        assert_eq!(&stored, answered, "{path}");
        assert_eq!(stored["last_interaction_at"], "2026-05-01T10:00:00.000000Z", "{path}");
        assert_eq!(stored["last_interaction_kind"], "call", "{path}");
        assert_eq!(stored["next_activity_at"], "2099-01-01T09:00:00.000000Z", "{path}");
    }
    for moved in [&failed_call, &planned] {
        let activity = app.get(&format!("/api/v1/activities/{moved}"), &admin.token).await.expect(200).body;
        assert_eq!(activity["lead_id"], lead.as_str(), "the lead's history keeps it");
        assert_eq!(activity["contact_id"], contact.as_str());
        assert_eq!(activity["account_id"], account.as_str());
        assert_eq!(activity["opportunity_id"], deal.as_str());
        assert_eq!(activity["version"], 2);
        let events = app
            .get(&format!("/api/v1/audit-events?entity_type=activity&entity_id={moved}"), &admin.token)
            .await
            .expect(200)
            .body;
        let fields: Vec<&str> =
            events["data"][0]["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
        assert_eq!(events["data"][0]["action"], "update");
        assert_eq!(fields, ["contact_id", "account_id", "opportunity_id"]);
    }
    let kept = app.get(&format!("/api/v1/activities/{elsewhere}"), &admin.token).await.expect(200).body;
    assert_eq!(kept["account_id"], other_account.as_str(), "an activity of another customer keeps its links");
    assert_eq!(kept["contact_id"], Value::Null);
    let on_contact = app
        .get(&format!("/api/v1/activities?contact_id={contact}&sort=created_at"), &admin.token)
        .await
        .expect(200)
        .body;
    let listed: Vec<String> = on_contact["data"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(listed, [failed_call, planned]);
}

async fn a_contact_finds_the_activities_it_took_part_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let ada = contact(&app, &admin, "Lovelace").await;
    let bob = contact(&app, &admin, "Babbage").await;
    let cy = contact(&app, &admin, "Cyrus").await;
    let meeting = id_of(
        &app.post(
            "/api/v1/activities",
            &admin.token,
            &json!({"kind": "meeting", "subject": "Kick-off", "contact_id": ada, "participant_contact_ids": [bob, cy]}),
        )
        .await
        .expect(201)
        .body,
    );
    call(&app, &admin, &bob, "2026-03-01T10:00:00Z").await;
    let took_part = |who: &str| {
        let (app, token) = (&app, admin.token.clone());
        let path = format!("/api/v1/activities?participant_contact_id={who}");
        async move {
            let body: Value = app.get(&path, &token).await.expect(200).body;
            body["data"].as_array().unwrap().iter().map(id_of).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        took_part(&bob).await,
        vec![meeting.clone()],
        "the call Bob was the subject of is not one he took part in"
    );
    assert_eq!(took_part(&cy).await, vec![meeting.clone()]);
    assert!(took_part(&ada).await.is_empty());

    app.patch(&format!("/api/v1/activities/{meeting}"), &admin.token, &json!({"participant_contact_ids": [cy]}))
        .await
        .expect(200);
    assert!(took_part(&bob).await.is_empty());
    assert_eq!(took_part(&cy).await, vec![meeting.clone()]);
    app.delete(&format!("/api/v1/activities/{meeting}"), &admin.token).await.expect(200);
    assert!(took_part(&cy).await.is_empty(), "archived activities are left out unless asked for");
    let archived = app
        .get(&format!("/api/v1/activities?participant_contact_id={cy}&archived=true"), &admin.token)
        .await
        .expect(200)
        .body;
    assert_eq!(archived["data"].as_array().unwrap().len(), 1);
    app.post(&format!("/api/v1/activities/{meeting}/restore"), &admin.token, &json!({})).await.expect(200);
    app.patch(&format!("/api/v1/activities/{meeting}"), &admin.token, &json!({"participant_contact_ids": []}))
        .await
        .expect(200);
    assert!(took_part(&cy).await.is_empty());

    let other = app.signup("Other", "other@example.com").await;
    let theirs = app.get(&format!("/api/v1/activities?participant_contact_id={bob}"), &other.token).await.expect(200);
    assert_eq!(theirs.body["data"], json!([]));
    app.get("/api/v1/activities?participant_contact_id=bob", &admin.token)
        .await
        .expect_problem(400, "invalid_parameter");
}
