//! The activity report, against a fixture worked out by hand.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(the_activity_report_counts_a_fixture_worked_out_by_hand, how_fast_new_leads_are_first_reached);

async fn log(app: &TestApp, session: &Session, body: Value) -> String {
    id_of(&app.post("/api/v1/activities", &session.token, &body).await.expect(201).body)
}

async fn report(app: &TestApp, session: &Session, query: &str) -> Value {
    app.get(&format!("/api/v1/reports/activities?{query}"), &session.token).await.expect(200).body
}

/// done, failed attempts, succeeded, success rate, on time, late.
type Figures = (i64, i64, i64, Value, i64, i64);

fn figures(line: &Value) -> Figures {
    (
        line["done"].as_i64().unwrap(),
        line["failed_attempts"].as_i64().unwrap(),
        line["succeeded"].as_i64().unwrap(),
        line["success_rate"].clone(),
        line["completed_on_time"].as_i64().unwrap(),
        line["completed_late"].as_i64().unwrap(),
    )
}

async fn the_activity_report_counts_a_fixture_worked_out_by_hand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let account =
        id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Babbage & Co"})).await.expect(201).body);
    let at_account = id_of(
        &app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Lovelace", "account_id": account}))
            .await
            .expect(201)
            .body,
    );
    let alone =
        id_of(&app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Hopper"})).await.expect(201).body);
    let done = |kind: &str, contact: &str, outcome: &str, at: &str| json!({"kind": kind, "subject": "Fixture", "contact_id": contact, "outcome": outcome, "occurred_at": at});
    // 1, 2: the account's contact, Monday 2 March; 3: a bounced email, Tuesday 10 March.
    log(&app, &admin, done("call", &at_account, "completed", "2026-03-02T10:00:00Z")).await;
    log(&app, &admin, done("call", &at_account, "no_answer", "2026-03-02T11:00:00Z")).await;
    log(&app, &admin, done("email", &alone, "bounced", "2026-03-10T09:00:00Z")).await;
    // 4: planned for Thursday 5 March noon, done at 11:00 (on time); 5: planned for Friday 6
    // March, done Monday 9 March (late).
    for (kind, due, occurred) in [
        ("task", "2026-03-05T12:00:00Z", "2026-03-05T11:00:00Z"),
        ("meeting", "2026-03-06T09:00:00Z", "2026-03-09T09:00:00Z"),
    ] {
        let planned =
            log(&app, &admin, json!({"kind": kind, "subject": "Planned", "contact_id": alone, "due_at": due})).await;
        app.post(
            &format!("/api/v1/activities/{planned}/complete"),
            &admin.token,
            &json!({"outcome": "completed", "occurred_at": occurred}),
        )
        .await
        .expect(200);
    }
    // 6, 7: the rep's, Tuesday 3 March and the last second of March.
    log(&app, &rep, done("call", &alone, "busy", "2026-03-03T08:00:00Z")).await;
    log(&app, &rep, done("call", &alone, "completed", "2026-03-31T23:59:59Z")).await;
    // Not counted: outside the range, archived, or still planned.
    log(&app, &admin, done("call", &alone, "completed", "2026-04-01T00:00:00Z")).await;
    log(&app, &admin, done("call", &alone, "completed", "2026-02-28T23:59:59Z")).await;
    let archived = log(&app, &admin, done("call", &alone, "completed", "2026-03-15T10:00:00Z")).await;
    app.delete(&format!("/api/v1/activities/{archived}"), &admin.token).await.expect(200);
    log(
        &app,
        &admin,
        json!({"kind": "task", "subject": "Later", "contact_id": alone, "due_at": "2026-03-20T10:00:00Z"}),
    )
    .await;

    let march = "from=2026-03-01&to=2026-03-31";
    // Seven done, three failed (no answer, bounced, busy): 4 / 7 = 57.142…% → 57.14.
    let all = report(&app, &admin, march).await;
    assert_eq!(all["lines"].as_array().unwrap().len(), 1);
    assert_eq!(figures(&all["totals"]), (7, 3, 4, json!(57.14), 1, 1));
    assert_eq!(figures(&all["lines"][0]), figures(&all["totals"]));

    let by_owner = report(&app, &admin, &format!("{march}&group_by=owner")).await;
    let line_of =
        |owner: &str| by_owner["lines"].as_array().unwrap().iter().find(|l| l["owner_id"] == owner).cloned().unwrap();
    assert_eq!(figures(&line_of(&admin.user_id)), (5, 2, 3, json!(60.0), 1, 1));
    assert_eq!(figures(&line_of(&rep.user_id)), (2, 1, 1, json!(50.0), 0, 0));
    assert_eq!(by_owner["lines"][0]["kind"], Value::Null);

    // By kind and week (weeks from Monday), in that order.
    let by_kind_week = report(&app, &admin, &format!("{march}&group_by=kind,week")).await;
    let lines: Vec<(String, String, Figures)> = by_kind_week["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap().to_owned(), l["period"].as_str().unwrap().to_owned(), figures(l)))
        .collect();
    let line = |k: &str, p: &str, f: Figures| (k.to_owned(), p.to_owned(), f);
    assert_eq!(
        lines,
        [
            line("call", "2026-03-02", (3, 2, 1, json!(33.33), 0, 0)),
            line("call", "2026-03-30", (1, 0, 1, json!(100.0), 0, 0)),
            line("email", "2026-03-09", (1, 1, 0, json!(0.0), 0, 0)),
            line("meeting", "2026-03-09", (1, 0, 1, json!(100.0), 0, 1)),
            line("task", "2026-03-02", (1, 0, 1, json!(100.0), 1, 0)),
        ]
    );
    assert_eq!(by_kind_week["group_by"], json!(["kind", "week"]));
    assert_eq!(figures(&by_kind_week["totals"]), (7, 3, 4, json!(57.14), 1, 1));

    let calls = report(&app, &admin, &format!("{march}&kind=call&group_by=outcome")).await;
    let outcomes: Vec<(&str, i64, i64)> = calls["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["outcome"].as_str().unwrap(), l["done"].as_i64().unwrap(), l["failed_attempts"].as_i64().unwrap()))
        .collect();
    assert_eq!(outcomes, [("busy", 1, 1), ("completed", 2, 0), ("no_answer", 1, 1)]);
    let monthly = report(&app, &admin, "from=2026-02-01&to=2026-04-30&group_by=month").await;
    let months: Vec<(&str, i64)> = monthly["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["period"].as_str().unwrap(), l["done"].as_i64().unwrap()))
        .collect();
    assert_eq!(months, [("2026-02", 1), ("2026-03", 7), ("2026-04", 1)]);
    let of_account = report(&app, &admin, &format!("{march}&account_id={account}")).await;
    assert_eq!(figures(&of_account["totals"]), (2, 1, 1, json!(50.0), 0, 0));
    let of_rep = report(&app, &admin, &format!("{march}&owner_id={}", rep.user_id)).await;
    assert_eq!(figures(&of_rep["totals"]), (2, 1, 1, json!(50.0), 0, 0));
    let empty = report(&app, &admin, "from=2025-01-01&to=2025-01-31&group_by=owner").await;
    assert_eq!((empty["lines"].clone(), figures(&empty["totals"])), (json!([]), (0, 0, 0, Value::Null, 0, 0)));

    for bad in [
        "from=2026-03-31&to=2026-03-01",
        "from=2026-03-01&to=2026-03-31&group_by=day,month",
        "from=2026-03-01&to=2026-03-31&group_by=owner,owner",
        "from=2026-03-01&to=2036-04-01",
        "from=2026-03-01",
    ] {
        app.get(&format!("/api/v1/reports/activities?{bad}"), &admin.token)
            .await
            .expect_problem(400, "invalid_parameter");
    }
    // Another organisation counts nothing of these.
    let other = app.signup("Other", "other@example.com").await;
    assert_eq!(figures(&report(&app, &other, march).await["totals"]).0, 0);
}

fn created_at(lead: &Value) -> DateTime<Utc> {
    lead["created_at"].as_str().unwrap().parse().unwrap()
}

async fn how_fast_new_leads_are_first_reached(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let mut leads = Vec::new();
    for name in ["One", "Two", "Three", "Four", "Five"] {
        leads.push(app.create_lead(&admin, json!({"last_name": name})).await);
    }
    let reps_lead = app.create_lead(&rep, json!({"last_name": "Rep's"})).await;
    let call = |lead: &Value, after_seconds: i64| {
        let at = (created_at(lead) + Duration::seconds(after_seconds)).to_rfc3339();
        json!({"kind": "call", "subject": "First call", "lead_id": id_of(lead), "outcome": "no_answer", "occurred_at": at})
    };
    // Reached after 3,600 s; 7,200 s (a later call does not count); a day before it existed (0);
    // 100 s; one never reached. The rep's lead after 50 s.
    let first = log(&app, &admin, call(&leads[0], 3_600)).await;
    log(&app, &admin, call(&leads[1], 7_200)).await;
    log(&app, &admin, call(&leads[1], 10_000)).await;
    log(&app, &admin, call(&leads[2], -86_400)).await;
    let hundred = log(&app, &admin, call(&leads[3], 100)).await;
    log(&app, &rep, call(&reps_lead, 50)).await;

    let today = Utc::now().date_naive();
    let range = format!("from={}&to={}", today - Duration::days(1), today + Duration::days(1));
    // All six leads, five reached: waits 0, 50, 100, 3,600, 7,200: the median is 100.
    let all = report(&app, &admin, &range).await;
    assert_eq!(
        all["leads"],
        json!({"leads_created": 6, "leads_reached": 5, "median_seconds_to_first_interaction": 100})
    );
    // The admin's: 0, 100, 3,600, 7,200: the mean of 100 and 3,600 is 1,850.
    let admins = report(&app, &admin, &format!("{range}&owner_id={}", admin.user_id)).await;
    assert_eq!(
        admins["leads"],
        json!({"leads_created": 5, "leads_reached": 4, "median_seconds_to_first_interaction": 1850})
    );
    let lead_figures = |all: &Value| {
        let l = &all["leads"];
        (l["leads_reached"].as_i64().unwrap(), l["median_seconds_to_first_interaction"].as_i64())
    };
    let admins_only = format!("{range}&owner_id={}", admin.user_id);

    // Each lead's first interaction follows every change of its activities. Archived, the 100 s
    // call no longer counts (0, 50, 3,600, 7,200: the median is 1,825); restored, it does again.
    app.delete(&format!("/api/v1/activities/{hundred}"), &admin.token).await.expect(200);
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (4, Some(1_825)));
    app.post(&format!("/api/v1/activities/{hundred}/restore"), &admin.token, &json!({})).await.expect(200);
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (5, Some(100)));
    // Corrected to 30 s after its lead: 0, 30, 50, 100, 7,200, median 50; the admin's 0, 30,
    // 100, 7,200, median 65.
    let at = |lead: &Value, seconds: i64| (created_at(lead) + Duration::seconds(seconds)).to_rfc3339();
    app.patch(&format!("/api/v1/activities/{first}"), &admin.token, &json!({"occurred_at": at(&leads[0], 30)}))
        .await
        .expect(200);
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (5, Some(50)));
    assert_eq!(lead_figures(&report(&app, &admin, &admins_only).await), (4, Some(65)));
    // Relinked from the fourth lead to the fifth, 200 s after it: the fourth is no longer
    // reached, the fifth is (0, 30, 50, 200, 7,200; the admin's 0, 30, 200, 7,200, median 115).
    app.patch(
        &format!("/api/v1/activities/{hundred}"),
        &admin.token,
        &json!({"lead_id": id_of(&leads[4]), "occurred_at": at(&leads[4], 200)}),
    )
    .await
    .expect(200);
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (5, Some(50)));
    assert_eq!(lead_figures(&report(&app, &admin, &admins_only).await), (4, Some(115)));
    // A planned call counts once it is done, when it was done: the fourth lead after 500 s
    // (0, 30, 50, 200, 500, 7,200: the median is 125).
    let planned = log(
        &app,
        &admin,
        json!({"kind": "call", "subject": "Call back", "lead_id": id_of(&leads[3]), "due_at": at(&leads[3], 400)}),
    )
    .await;
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (5, Some(50)));
    app.post(
        &format!("/api/v1/activities/{planned}/complete"),
        &admin.token,
        &json!({"outcome": "completed", "occurred_at": at(&leads[3], 500)}),
    )
    .await
    .expect(200);
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (6, Some(125)));

    // The leads of a database that had activities before migration 0025 get their first
    // interaction from its backfill, by the same rule as the triggers.
    let folder = if app.database_url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let migration = std::fs::read_to_string(format!(
        "{}/../../migrations/{folder}/0025_activity_report.sql",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let backfill =
        &migration[migration.find("-- backfill: begin").unwrap()..migration.find("-- backfill: end").unwrap()];
    crate::helpers::execute_sql(&app.database_url, "UPDATE leads SET first_interaction_at = NULL").await;
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (0, None));
    for statement in backfill.split(";\n").filter(|s| s.contains("UPDATE")) {
        crate::helpers::execute_sql(&app.database_url, statement).await;
    }
    assert_eq!(lead_figures(&report(&app, &admin, &range).await), (6, Some(125)));
    assert_eq!(lead_figures(&report(&app, &admin, &admins_only).await), (5, Some(200)));

    let before = report(&app, &admin, "from=2020-01-01&to=2020-01-31").await;
    assert_eq!(
        before["leads"],
        json!({"leads_created": 0, "leads_reached": 0, "median_seconds_to_first_interaction": null})
    );
}
