//! Activities: calls, emails, meetings and notes (the failed attempts too), and planned work.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    a_call_nobody_answered_is_logged_with_its_account_and_listed,
    a_planned_activity_is_overdue_rescheduled_snoozed_and_completed_once,
    what_an_activity_is_about_is_checked,
    activities_are_corrected_archived_and_restored_under_if_match,
    a_sales_rep_changes_only_its_own_activities_and_a_support_agent_logs_calls,
    another_organisation_sees_no_activity,
    reminders_come_overdue_first_with_what_they_are_about,
    the_last_and_next_interaction_follow_every_activity_change,
    lists_find_the_records_nobody_follows_up,
);

async fn account_and_contact(app: &TestApp, session: &Session) -> (String, String) {
    let account =
        id_of(&app.post("/api/v1/accounts", &session.token, &json!({"name": "Babbage & Co"})).await.expect(201).body);
    let contact = id_of(
        &app.post(
            "/api/v1/contacts",
            &session.token,
            &json!({"first_name": "Ada", "last_name": "Lovelace", "account_id": account}),
        )
        .await
        .expect(201)
        .body,
    );
    (account, contact)
}

async fn log(app: &TestApp, session: &Session, body: Value) -> Value {
    app.post("/api/v1/activities", &session.token, &body).await.expect(201).body
}

async fn action(app: &TestApp, session: &Session, id: &str, verb: &str, body: Option<Value>) -> crate::helpers::Reply {
    app.send(Method::POST, &format!("/api/v1/activities/{id}/{verb}"), Some(&session.token), body.as_ref(), &[]).await
}

fn ids(body: &Value) -> Vec<String> {
    body["data"].as_array().map(|a| a.iter().map(id_of).collect()).unwrap_or_default()
}

async fn a_call_nobody_answered_is_logged_with_its_account_and_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, contact) = account_and_contact(&app, &admin).await;
    let created = app
        .post(
            "/api/v1/activities",
            &admin.token,
            &json!({"kind": "call", "direction": "outbound", "subject": "Renewal", "contact_id": contact, "outcome": "no_answer"}),
        )
        .await
        .expect(201);
    let call = created.body.clone();
    let id = id_of(&call);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.header("location"), Some(format!("/api/v1/activities/{id}").as_str()));
    assert_eq!(
        (
            call["status"].as_str(),
            call["outcome"].as_str(),
            call["failed_attempt"].as_bool(),
            call["overdue"].as_bool()
        ),
        (Some("done"), Some("no_answer"), Some(true), Some(false))
    );
    assert_eq!(call["account_id"], account, "the contact's account is filled in");
    assert_eq!((call["owner_id"].as_str(), call["priority"].as_str()), (Some(admin.user_id.as_str()), Some("normal")));
    assert!(call["occurred_at"].is_string() && call["due_at"].is_null() && call["remind_at"].is_null());
    assert_eq!(
        app.get(&format!("/api/v1/activities/{id}"), &admin.token).await.expect(200).body,
        call,
        "it reads back"
    );
    let email = id_of(&log(&app, &admin, json!({"kind": "email", "direction": "inbound", "subject": "Question about the invoice", "account_id": account})).await);
    let note = id_of(
        &log(
            &app,
            &admin,
            json!({"kind": "note", "subject": "Prefers mornings", "body": "Call before 10", "contact_id": contact}),
        )
        .await,
    );

    let list = |query: &str| format!("/api/v1/activities?{query}");
    assert_eq!(
        ids(&app.get(&list(""), &admin.token).await.expect(200).body),
        [note.clone(), email.clone(), id.clone()]
    );
    assert_eq!(ids(&app.get(&list("outcome=no_answer,busy"), &admin.token).await.expect(200).body), vec![id.clone()]);
    assert_eq!(
        ids(&app.get(&list("kind=email,note&sort=created_at"), &admin.token).await.expect(200).body),
        [email.clone(), note.clone()]
    );
    assert_eq!(
        ids(&app.get(&list(&format!("contact_id={contact}&sort=occurred_at")), &admin.token).await.expect(200).body),
        [id.clone(), note.clone()]
    );
    assert_eq!(
        ids(&app.get(&list(&format!("account_id={account}&status=done&limit=2")), &admin.token).await.expect(200).body)
            .len(),
        2
    );
    assert_eq!(ids(&app.get(&list("q=MORNINGS"), &admin.token).await.expect(200).body), vec![note.clone()]);
    assert_eq!(
        ids(&app.get(&list("q=before%2010"), &admin.token).await.expect(200).body),
        [note],
        "the body is searched"
    );
    app.get(&list("kind=fax"), &admin.token).await.expect_problem(400, "invalid_parameter");
    app.get(&list("sort=subject"), &admin.token).await.expect_problem(400, "invalid_parameter");
}

async fn a_planned_activity_is_overdue_rescheduled_snoozed_and_completed_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (_, contact) = account_and_contact(&app, &admin).await;
    let created = app
        .post(
            "/api/v1/activities",
            &admin.token,
            &json!({"kind": "call", "subject": "Follow up", "contact_id": contact, "due_at": "2026-01-05T09:00:00+01:00", "remind_at": "2026-01-05T07:45:00Z", "priority": "high"}),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!((created.body["status"].as_str(), created.body["overdue"].as_bool()), (Some("planned"), Some(true)));
    assert_eq!(created.body["due_at"], "2026-01-05T08:00:00.000000Z", "kept in UTC");
    assert_eq!(created.header("etag"), Some("\"1-overdue\""), "overdue is a state the date gives: in the ETag");
    let overdue = ids(&app.get("/api/v1/activities?overdue=true", &admin.token).await.expect(200).body);
    assert_eq!(overdue, vec![id.clone()]);

    let moved = action(
        &app,
        &admin,
        &id,
        "reschedule",
        Some(json!({"due_at": "2099-03-01T10:00:00Z", "remind_at": "2099-03-01T09:30:00Z"})),
    )
    .await
    .expect(200);
    assert_eq!((moved.body["overdue"].as_bool(), moved.header("etag")), (Some(false), Some("\"2\"")));
    assert!(ids(&app.get("/api/v1/activities?overdue=true", &admin.token).await.expect(200).body).is_empty());
    action(
        &app,
        &admin,
        &id,
        "reschedule",
        Some(json!({"due_at": "2099-03-01T10:00:00Z", "remind_at": "2099-03-01T11:00:00Z"})),
    )
    .await
    .expect_problem(422, "validation_failed");
    let snoozed =
        action(&app, &admin, &id, "snooze", Some(json!({"remind_at": "2099-03-02T08:00:00Z"}))).await.expect(200);
    assert_eq!(
        (snoozed.body["remind_at"].as_str(), snoozed.body["version"].as_i64()),
        (Some("2099-03-02T08:00:00.000000Z"), Some(3))
    );

    let done = action(
        &app,
        &admin,
        &id,
        "complete",
        Some(json!({"outcome": "left_voicemail", "occurred_at": "2026-02-01T10:00:00Z"})),
    )
    .await
    .expect(200);
    assert_eq!(
        (
            done.body["status"].as_str(),
            done.body["outcome"].as_str(),
            done.body["occurred_at"].as_str(),
            done.body["remind_at"].as_str()
        ),
        (Some("done"), Some("left_voicemail"), Some("2026-02-01T10:00:00.000000Z"), None)
    );
    action(&app, &admin, &id, "complete", None).await.expect_problem(409, "activity_not_planned");
    action(&app, &admin, &id, "cancel", None).await.expect_problem(409, "activity_not_planned");
    action(&app, &admin, &id, "snooze", Some(json!({"remind_at": "2099-03-02T08:00:00Z"})))
        .await
        .expect_problem(409, "activity_not_planned");
    app.patch(&format!("/api/v1/activities/{id}"), &admin.token, &json!({"due_at": "2099-01-01T00:00:00Z"}))
        .await
        .expect_problem(409, "activity_not_planned");
    let corrected = app
        .patch(
            &format!("/api/v1/activities/{id}"),
            &admin.token,
            &json!({"outcome": "completed", "body": "Reached her after all"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (corrected.body["outcome"].as_str(), corrected.body["failed_attempt"].as_bool()),
        (Some("completed"), Some(false))
    );

    let other = id_of(&log(&app, &admin, json!({"kind": "task", "subject": "Send the brochure", "contact_id": contact, "due_at": "2099-01-01T00:00:00Z"})).await);
    let cancelled = action(&app, &admin, &other, "cancel", None).await.expect(200);
    assert_eq!(
        (cancelled.body["status"].as_str(), cancelled.body["due_at"].as_str()),
        (Some("cancelled"), Some("2099-01-01T00:00:00.000000Z"))
    );
    assert_eq!(ids(&app.get("/api/v1/activities?status=planned", &admin.token).await.expect(200).body).len(), 0);
}

async fn what_an_activity_is_about_is_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, contact) = account_and_contact(&app, &admin).await;
    let other_account =
        id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Other"})).await.expect(201).body);
    let post = |body: Value| {
        let app = &app;
        let token = admin.token.clone();
        async move { app.post("/api/v1/activities", &token, &body).await }
    };
    let field_codes = |body: &Value| -> Vec<(String, String)> {
        body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or_default().to_owned(),
                            e["code"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let none = post(json!({"kind": "call", "subject": "About nothing"})).await.expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&none.body), [("lead_id".to_owned(), "required".to_owned())]);
    let ghost = post(json!({"kind": "call", "subject": "Ghost", "contact_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "lead_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f81"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        field_codes(&ghost.body),
        [
            ("lead_id".to_owned(), "unknown_reference".to_owned()),
            ("contact_id".to_owned(), "unknown_reference".to_owned())
        ]
    );
    let mismatch =
        post(json!({"kind": "meeting", "subject": "Lunch", "contact_id": contact, "account_id": other_account}))
            .await
            .expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&mismatch.body), [("account_id".to_owned(), "account_mismatch".to_owned())]);
    let note = post(json!({"kind": "note", "direction": "inbound", "subject": "x", "account_id": account, "status": "planned", "outcome": "busy"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        field_codes(&note.body),
        [("direction", "not_allowed"), ("due_at", "required"), ("outcome", "not_allowed")]
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    post(json!({"kind": "call", "subject": "x", "account_id": account, "duration_minutes": -1}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"kind": "call", "subject": "x", "account_id": account, "occurred_at": "yesterday"}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"kind": "call", "subject": "x", "account_id": account, "participant_contact_ids": ["0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"]}))
        .await
        .expect_problem(422, "validation_failed");

    // A meeting with a participant shows them; an archived contact takes no new activity.
    let colleague = id_of(
        &app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Babbage", "account_id": account}))
            .await
            .expect(201)
            .body,
    );
    let meeting = log(&app, &admin, json!({"kind": "meeting", "subject": "Demo", "contact_id": contact, "participant_contact_ids": [colleague], "duration_minutes": 45})).await;
    assert_eq!(
        (meeting["participant_contact_ids"].clone(), meeting["duration_minutes"].as_i64()),
        (json!([colleague]), Some(45))
    );
    app.delete(&format!("/api/v1/contacts/{colleague}"), &admin.token).await.expect(200);
    let archived = post(json!({"kind": "call", "subject": "x", "contact_id": colleague}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&archived.body), [("contact_id".to_owned(), "unknown_reference".to_owned())]);
}

async fn activities_are_corrected_archived_and_restored_under_if_match(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, contact) = account_and_contact(&app, &admin).await;
    let id = id_of(&log(&app, &admin, json!({"kind": "visit", "subject": "Site visit", "account_id": account})).await);
    let path = format!("/api/v1/activities/{id}");
    app.send(Method::PATCH, &path, Some(&admin.token), Some(&json!({"subject": "Late"})), &[("If-Match", "\"7\"")])
        .await
        .expect_problem(412, "precondition_failed");
    let relinked = app
        .send(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(&json!({"contact_id": contact, "subject": "Site visit with Ada"})),
            &[("If-Match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(
        (relinked.body["contact_id"].as_str(), relinked.body["version"].as_i64()),
        (Some(contact.as_str()), Some(2))
    );
    app.patch(&path, &admin.token, &json!({"account_id": null, "contact_id": null}))
        .await
        .expect_problem(422, "validation_failed");
    app.patch(&path, &admin.token, &json!({"subject": null})).await.expect_problem(422, "validation_failed");
    let archived = app.delete(&path, &admin.token).await.expect(200);
    assert!(archived.body["archived_at"].is_string());
    app.delete(&path, &admin.token).await.expect_problem(409, "activity_archived");
    app.patch(&path, &admin.token, &json!({"subject": "x"})).await.expect_problem(409, "activity_archived");
    assert!(ids(&app.get("/api/v1/activities", &admin.token).await.expect(200).body).is_empty());
    assert_eq!(
        ids(&app.get("/api/v1/activities?archived=only", &admin.token).await.expect(200).body),
        vec![id.clone()]
    );
    app.post(&format!("{path}/restore"), &admin.token, &json!({})).await.expect(200);
    app.post(&format!("{path}/restore"), &admin.token, &json!({})).await.expect_problem(409, "activity_not_archived");
    let audit =
        app.get(&format!("/api/v1/audit-events?entity_type=activity&entity_id={id}"), &admin.token).await.expect(200);
    let actions: Vec<&str> =
        audit.body["data"].as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions.len(), 4, "create, update, archive, restore: {actions:?}");
}

async fn a_sales_rep_changes_only_its_own_activities_and_a_support_agent_logs_calls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let agent = app.add_user(&admin, "agent@example.com", "support_agent").await;
    let (_, contact) = account_and_contact(&app, &admin).await;
    let planned =
        json!({"kind": "call", "subject": "Call back", "contact_id": contact, "due_at": "2099-01-01T09:00:00Z"});
    let admins = id_of(&log(&app, &admin, planned.clone()).await);
    action(&app, &rep, &admins, "complete", None).await.expect_problem(403, "forbidden");
    app.patch(&format!("/api/v1/activities/{admins}"), &rep.token, &json!({"subject": "Mine"}))
        .await
        .expect_problem(403, "forbidden");
    app.get(&format!("/api/v1/activities/{admins}"), &rep.token).await.expect(200);
    let mut for_admin = planned.clone();
    for_admin["owner_id"] = json!(admin.user_id);
    app.post("/api/v1/activities", &rep.token, &for_admin).await.expect_problem(403, "forbidden");
    let reps = id_of(&log(&app, &rep, planned.clone()).await);
    action(&app, &rep, &reps, "complete", Some(json!({"outcome": "completed"}))).await.expect(200);

    let call = log(&app, &agent, json!({"kind": "call", "direction": "inbound", "subject": "Printer jammed", "contact_id": contact, "outcome": "completed"})).await;
    assert_eq!(call["owner_id"], agent.user_id);
    app.patch(&format!("/api/v1/activities/{}", id_of(&call)), &agent.token, &json!({"body": "Sent a technician"}))
        .await
        .expect(200);
    action(&app, &agent, &admins, "cancel", None).await.expect_problem(403, "forbidden");
    let given = app
        .patch(&format!("/api/v1/activities/{reps}"), &admin.token, &json!({"owner_id": agent.user_id}))
        .await
        .expect(200);
    assert_eq!(given.body["owner_id"], agent.user_id, "a manager or admin reassigns");
}

async fn another_organisation_sees_no_activity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let other = app.signup("Globex", "hank@example.com").await;
    let (_, contact) = account_and_contact(&app, &admin).await;
    let id = id_of(
        &log(
            &app,
            &admin,
            json!({"kind": "call", "subject": "Secret", "contact_id": contact, "due_at": "2099-01-01T09:00:00Z"}),
        )
        .await,
    );
    let path = format!("/api/v1/activities/{id}");
    app.get(&path, &other.token).await.expect_problem(404, "not_found");
    app.patch(&path, &other.token, &json!({"subject": "x"})).await.expect_problem(404, "not_found");
    app.delete(&path, &other.token).await.expect_problem(404, "not_found");
    for verb in ["complete", "cancel", "restore"] {
        action(&app, &other, &id, verb, None).await.expect_problem(404, "not_found");
    }
    assert!(
        ids(&app.get(&format!("/api/v1/activities?contact_id={contact}"), &other.token).await.expect(200).body)
            .is_empty()
    );
    app.post("/api/v1/activities", &other.token, &json!({"kind": "call", "subject": "x", "contact_id": contact}))
        .await
        .expect_problem(422, "validation_failed");
}

async fn reminders_come_overdue_first_with_what_they_are_about(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let (account, contact) = account_and_contact(&app, &admin).await;
    let lead = id_of(
        &app.post("/api/v1/leads", &admin.token, &json!({"first_name": "Charles", "last_name": "Babbage"}))
            .await
            .expect(201)
            .body,
    );
    let deal = id_of(
        &app.post("/api/v1/opportunities", &admin.token, &json!({"name": "Engine deal", "account_id": account}))
            .await
            .expect(201)
            .body,
    );
    let plan = |body: Value| log(&app, &admin, body);
    let a = id_of(&plan(json!({"kind": "task", "subject": "Send the contract", "contact_id": contact, "due_at": "2020-01-01T10:00:00Z"})).await);
    let b = id_of(
        &plan(json!({"kind": "call", "subject": "Qualify", "lead_id": lead, "due_at": "2020-06-01T10:00:00Z"})).await,
    );
    let c = id_of(&plan(json!({"kind": "call", "subject": "Check in", "opportunity_id": deal, "due_at": "2099-01-01T10:00:00Z", "remind_at": "2020-03-01T10:00:00Z"})).await);
    let d = id_of(&plan(json!({"kind": "meeting", "subject": "Review", "account_id": account, "due_at": "2099-01-01T10:00:00Z", "remind_at": "2098-01-01T10:00:00Z"})).await);
    // Not reminders of the admin's now: done, someone else's, archived, snoozed.
    plan(json!({"kind": "call", "subject": "Done", "contact_id": contact, "outcome": "busy"})).await;
    log(
        &app,
        &rep,
        json!({"kind": "task", "subject": "The rep's", "contact_id": contact, "due_at": "2020-01-01T09:00:00Z"}),
    )
    .await;
    let archived = id_of(
        &plan(json!({"kind": "task", "subject": "Archived", "contact_id": contact, "due_at": "2019-01-01T09:00:00Z"}))
            .await,
    );
    app.delete(&format!("/api/v1/activities/{archived}"), &admin.token).await.expect(200);
    let snoozed = id_of(
        &plan(json!({"kind": "task", "subject": "Snoozed", "contact_id": contact, "due_at": "2019-02-01T09:00:00Z"}))
            .await,
    );
    action(&app, &admin, &snoozed, "snooze", Some(json!({"remind_at": "2099-06-01T00:00:00Z"}))).await.expect(200);

    let reminders = |query: &'static str| {
        let (app, token) = (&app, admin.token.clone());
        async move {
            let body = app.get(&format!("/api/v1/me/reminders{query}"), &token).await.expect(200).body;
            body["data"]
                .as_array()
                .map(|a| a.iter().map(|r| id_of(&r["activity"])).collect::<Vec<_>>())
                .unwrap_or_default()
        }
    };
    assert_eq!(reminders("").await, [a.clone(), b.clone(), c.clone()], "the overdue first, the longest overdue first");
    assert_eq!(reminders("?until=2098-06-01T00:00:00Z").await, [a.clone(), b.clone(), c.clone(), d.clone()]);
    assert_eq!(reminders("?limit=2").await, [a.clone(), b.clone()]);
    let first = app.get("/api/v1/me/reminders", &admin.token).await.expect(200).body;
    assert_eq!(first["data"][0]["activity"]["overdue"], true);
    assert_eq!(
        first["data"][0]["about"],
        json!([{"type": "contact", "id": contact, "name": "Ada Lovelace"}, {"type": "account", "id": account, "name": "Babbage & Co"}])
    );
    assert_eq!(first["data"][1]["about"], json!([{"type": "lead", "id": lead, "name": "Charles Babbage"}]));
    assert_eq!(first["data"][2]["about"][0], json!({"type": "account", "id": account, "name": "Babbage & Co"}));
    assert_eq!(first["data"][2]["about"][1], json!({"type": "opportunity", "id": deal, "name": "Engine deal"}));
    app.get("/api/v1/me/reminders?limit=0", &admin.token).await.expect_problem(400, "invalid_parameter");
    app.get("/api/v1/me/reminders?until=soon", &admin.token).await.expect_problem(400, "invalid_parameter");
    let other = app.signup("Globex", "hank@example.com").await;
    let theirs = app.get("/api/v1/me/reminders?until=2099-12-31T00:00:00Z", &other.token).await.expect(200).body;
    assert_eq!(theirs["data"], json!([]));
    action(&app, &admin, &a, "complete", None).await.expect(200);
    assert_eq!(reminders("").await, [b, c], "a completed activity leaves the reminders");
}

async fn the_last_and_next_interaction_follow_every_activity_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, contact) = account_and_contact(&app, &admin).await;
    let lead = id_of(&app.post("/api/v1/leads", &admin.token, &json!({"last_name": "Babbage"})).await.expect(201).body);
    let deal = id_of(
        &app.post("/api/v1/opportunities", &admin.token, &json!({"name": "Engine", "account_id": account}))
            .await
            .expect(201)
            .body,
    );
    let read = |path: String| {
        let (app, token) = (&app, admin.token.clone());
        async move { app.get(&path, &token).await.expect(200) }
    };
    let summary = |body: &Value| {
        (
            body["last_interaction_at"].as_str().map(str::to_owned),
            body["last_interaction_kind"].as_str().map(str::to_owned),
            body["next_activity_at"].as_str().map(str::to_owned),
        )
    };
    let at = |t: &str| Some(format!("{t}.000000Z"));
    let kind = |k: &str| Some(k.to_owned());
    let (c_path, a_path, l_path, d_path) = (
        format!("/api/v1/contacts/{contact}"),
        format!("/api/v1/accounts/{account}"),
        format!("/api/v1/leads/{lead}"),
        format!("/api/v1/opportunities/{deal}"),
    );
    let before = read(c_path.clone()).await;
    assert_eq!(summary(&before.body), (None, None, None));
    let stale_tag = before.header("etag").map(str::to_owned).unwrap_or_default();

    // A failed call counts as an interaction, for the contact and the account it fills in.
    log(&app, &admin, json!({"kind": "call", "subject": "No answer", "contact_id": contact, "outcome": "no_answer", "occurred_at": "2026-02-01T10:00:00Z"})).await;
    let after_call = read(c_path.clone()).await;
    assert_eq!(summary(&after_call.body), (at("2026-02-01T10:00:00"), kind("call"), None));
    assert_ne!(
        after_call.header("etag").map(str::to_owned),
        Some(stale_tag.clone()),
        "what it shows changed: so did its ETag"
    );
    assert_eq!(summary(&read(a_path.clone()).await.body), (at("2026-02-01T10:00:00"), kind("call"), None));
    app.send(
        Method::PATCH,
        &c_path,
        Some(&admin.token),
        Some(&json!({"title": "CTO"})),
        &[("If-Match", stale_tag.as_str())],
    )
    .await
    .expect_problem(412, "precondition_failed");

    // Planned work is the next activity; an older email does not move the last one.
    let task = id_of(&log(&app, &admin, json!({"kind": "task", "subject": "Send the contract", "contact_id": contact, "due_at": "2099-01-01T09:00:00Z"})).await);
    log(
        &app,
        &admin,
        json!({"kind": "email", "subject": "Old thread", "contact_id": contact, "occurred_at": "2026-01-01T08:00:00Z"}),
    )
    .await;
    assert_eq!(
        summary(&read(c_path.clone()).await.body),
        (at("2026-02-01T10:00:00"), kind("call"), at("2099-01-01T09:00:00"))
    );
    let call_later = id_of(
        &log(
            &app,
            &admin,
            json!({"kind": "call", "subject": "Call", "contact_id": contact, "due_at": "2097-01-01T09:00:00Z"}),
        )
        .await,
    );
    assert_eq!(summary(&read(c_path.clone()).await.body).2, at("2097-01-01T09:00:00"));
    action(&app, &admin, &call_later, "reschedule", Some(json!({"due_at": "2096-06-01T09:00:00Z"}))).await.expect(200);
    assert_eq!(summary(&read(c_path.clone()).await.body).2, at("2096-06-01T09:00:00"));
    action(&app, &admin, &call_later, "cancel", None).await.expect(200);
    assert_eq!(summary(&read(c_path.clone()).await.body).2, at("2099-01-01T09:00:00"));

    // Completing moves it from next to last; archiving takes it back out; restoring puts it back.
    action(&app, &admin, &task, "complete", Some(json!({"occurred_at": "2026-03-01T12:00:00Z"}))).await.expect(200);
    assert_eq!(summary(&read(c_path.clone()).await.body), (at("2026-03-01T12:00:00"), kind("task"), None));
    app.delete(&format!("/api/v1/activities/{task}"), &admin.token).await.expect(200);
    assert_eq!(summary(&read(c_path.clone()).await.body), (at("2026-02-01T10:00:00"), kind("call"), None));
    app.post(&format!("/api/v1/activities/{task}/restore"), &admin.token, &json!({})).await.expect(200);
    assert_eq!(summary(&read(a_path.clone()).await.body), (at("2026-03-01T12:00:00"), kind("task"), None));

    // Relinking moves it from the contact to the lead.
    app.patch(&format!("/api/v1/activities/{task}"), &admin.token, &json!({"contact_id": null, "lead_id": lead}))
        .await
        .expect(200);
    assert_eq!(summary(&read(c_path.clone()).await.body), (at("2026-02-01T10:00:00"), kind("call"), None));
    assert_eq!(summary(&read(l_path.clone()).await.body), (at("2026-03-01T12:00:00"), kind("task"), None));
    assert_eq!(summary(&read(a_path.clone()).await.body).0, at("2026-03-01T12:00:00"), "the account keeps it");

    // A deal's meeting is the deal's and its account's next activity until cancelled.
    let meeting = id_of(
        &log(
            &app,
            &admin,
            json!({"kind": "meeting", "subject": "Demo", "opportunity_id": deal, "due_at": "2098-05-01T14:00:00Z"}),
        )
        .await,
    );
    assert_eq!(summary(&read(d_path.clone()).await.body), (None, None, at("2098-05-01T14:00:00")));
    assert_eq!(summary(&read(a_path.clone()).await.body).2, at("2098-05-01T14:00:00"));
    action(&app, &admin, &meeting, "cancel", None).await.expect(200);
    assert_eq!(summary(&read(d_path).await.body), (None, None, None));
    assert_eq!(summary(&read(a_path).await.body).2, None);
}

async fn lists_find_the_records_nobody_follows_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let person = |last: &str| json!({"last_name": last});
    let called = id_of(&app.post("/api/v1/contacts", &admin.token, &person("Called")).await.expect(201).body);
    let forgotten = id_of(&app.post("/api/v1/contacts", &admin.token, &person("Forgotten")).await.expect(201).body);
    let planned = id_of(&app.post("/api/v1/contacts", &admin.token, &person("Planned")).await.expect(201).body);
    log(
        &app,
        &admin,
        json!({"kind": "call", "subject": "Hello", "contact_id": called, "occurred_at": "2026-02-01T10:00:00Z"}),
    )
    .await;
    log(
        &app,
        &admin,
        json!({"kind": "task", "subject": "Write", "contact_id": planned, "due_at": "2099-01-01T10:00:00Z"}),
    )
    .await;
    let contacts = |query: &'static str| {
        let (app, token) = (&app, admin.token.clone());
        async move { ids(&app.get(&format!("/api/v1/contacts?sort=last_name&{query}"), &token).await.expect(200).body) }
    };
    assert_eq!(contacts("no_interaction=true").await, [forgotten.clone(), planned.clone()]);
    assert_eq!(contacts("no_interaction=false").await, vec![called.clone()]);
    assert_eq!(contacts("next_activity=none").await, [called.clone(), forgotten.clone()]);
    assert_eq!(contacts("next_activity=any").await, vec![planned.clone()]);
    assert_eq!(contacts("next_activity=none&no_interaction=true").await, vec![forgotten], "nobody follows them up");
    assert_eq!(contacts("last_interaction_before=2026-03-01T00:00:00Z").await, vec![called.clone()]);
    assert!(contacts("last_interaction_after=2026-03-01T00:00:00Z").await.is_empty());
    app.get("/api/v1/contacts?next_activity=soon", &admin.token).await.expect_problem(400, "invalid_parameter");
    app.get("/api/v1/leads?no_interaction=maybe", &admin.token).await.expect_problem(400, "invalid_parameter");

    let lead = id_of(&app.post("/api/v1/leads", &admin.token, &person("Lead")).await.expect(201).body);
    let account =
        id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Quiet Ltd"})).await.expect(201).body);
    let deal = id_of(
        &app.post("/api/v1/opportunities", &admin.token, &json!({"name": "Quiet deal", "account_id": account}))
            .await
            .expect(201)
            .body,
    );
    assert_eq!(
        ids(&app.get("/api/v1/leads?no_interaction=true", &admin.token).await.expect(200).body),
        vec![lead.clone()]
    );
    log(&app, &admin, json!({"kind": "email", "subject": "Hi", "lead_id": lead, "opportunity_id": deal})).await;
    assert!(ids(&app.get("/api/v1/leads?no_interaction=true", &admin.token).await.expect(200).body).is_empty());
    assert_eq!(
        ids(&app.get("/api/v1/accounts?no_interaction=false", &admin.token).await.expect(200).body),
        vec![account.clone()]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/api/v1/accounts/{account}/opportunities?no_interaction=false"), &admin.token)
            .await
            .expect(200)
            .body),
        vec![deal]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/api/v1/accounts/{account}/contacts?no_interaction=true"), &admin.token)
            .await
            .expect(200)
            .body),
        Vec::<String>::new()
    );
}
