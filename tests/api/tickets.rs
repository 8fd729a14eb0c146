//! Support tickets through HTTP on a server whose clock the test moves: deadlines on the
//! business calendar (a weekend, the spring DST change, a holiday), waiting on the customer,
//! reopening within and after the window, at risk and breached in the list filter and in the
//! ETag, the role rules, and other organisations seeing nothing.

use chrono::{DateTime, Utc};
use crm_http::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    deadlines_follow_the_business_calendar_of_the_policy,
    waiting_on_the_customer_moves_the_resolution_deadline,
    a_solved_ticket_reopens_within_its_window_and_closes_after_it,
    at_risk_and_breached_show_in_the_filter_and_in_the_etag,
    tickets_follow_the_role_rules_and_stay_in_their_organisation,
    comments_answer_the_customer_and_bring_a_pending_ticket_back,
    open_complaints_follow_their_tickets_on_the_customer_records,
    support_hands_an_upsell_to_sales_and_it_is_won,
    the_tickets_report_matches_a_fixture_worked_out_by_hand,
    a_ticket_timeline_tells_its_story_with_the_calls_logged_against_it,
);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}")).with_timezone(&Utc)
}

/// A support desk: an organisation on a Paris business calendar (Monday to Friday,
/// 09:00–17:30), its people, and one customer (a contact of an account).
struct Desk {
    app: TestApp,
    clock: Clock,
    admin: Session,
    agent: Session,
    rep: Session,
    manager: Session,
    account: String,
    contact: String,
}

impl Desk {
    async fn open(backend: Backend, start: &str, targets: Value) -> Self {
        Self::open_in(backend, start, targets, "Europe/Paris").await
    }

    async fn open_in(backend: Backend, start: &str, targets: Value, time_zone: &str) -> Self {
        let clock = Clock::fixed(at(start));
        let shared = clock.clone();
        let app = TestApp::spawn_with(backend, move |s| s.clock = shared).await;
        let admin = app.signup("Acme", "ada@example.com").await;
        let agent = app.add_user(&admin, "agent@example.com", "support_agent").await;
        let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
        let manager = app.add_user(&admin, "boss@example.com", "manager").await;
        app.send(
            Method::PATCH,
            "/api/v1/settings/sla",
            Some(&admin.token),
            Some(&json!({"targets": targets, "calendar": {"time_zone": time_zone}})),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
        let account =
            id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Globex"})).await.expect(201).body);
        let contact = id_of(
            &app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Simpson", "account_id": account}))
                .await
                .expect(201)
                .body,
        );
        Self { app, clock, admin, agent, rep, manager, account, contact }
    }

    async fn ticket(&self, who: &Session, body: Value) -> Value {
        self.app.post("/api/v1/tickets", &who.token, &body).await.expect(201).body
    }

    async fn act(&self, who: &Session, id: &str, action: &str) -> Reply {
        self.app.send(Method::POST, &format!("/api/v1/tickets/{id}/{action}"), Some(&who.token), None, &[]).await
    }

    async fn get(&self, id: &str) -> Reply {
        self.app.get(&format!("/api/v1/tickets/{id}"), &self.agent.token).await.expect(200)
    }

    /// The numbers of the tickets a list answers, in its order.
    async fn numbers(&self, query: &str) -> Vec<String> {
        let page = self.app.get(&format!("/api/v1/tickets?{query}"), &self.agent.token).await.expect(200);
        page.body["data"].as_array().unwrap().iter().map(|t| t["number"].as_str().unwrap().to_owned()).collect()
    }
}

async fn deadlines_follow_the_business_calendar_of_the_policy(backend: Backend) {
    // Friday 27 March 2026, 17:00 in Paris (CET, UTC+1); the clocks go forward on Sunday 29.
    let desk = Desk::open(
        backend,
        "2026-03-27T16:00:00Z",
        json!({"high": {"first_response": {"minutes": 240, "clock": "business"}}}),
    )
    .await;
    let ticket = desk
        .ticket(&desk.agent, json!({"subject": "Export fails", "contact_id": desk.contact, "priority": "high"}))
        .await;
    assert_eq!(ticket["number"], "T-000001");
    // 4 business hours: 30 minutes on Friday, 3 h 30 on Monday from 09:00 → 12:30 CEST (UTC+2).
    assert_eq!(ticket["first_response_due_at"], "2026-03-30T10:30:00.000000Z");
    // At risk with 20 % (48 minutes) left: 11:42 CEST.
    assert_eq!(ticket["first_response_at_risk_at"], "2026-03-30T09:42:00.000000Z");
    // 1 business day (510 minutes): 30 on Friday, 480 on Monday → 17:00 CEST; at risk 102
    // minutes before, 15:18 CEST.
    assert_eq!(ticket["resolution_due_at"], "2026-03-30T15:00:00.000000Z");
    assert_eq!(ticket["resolution_at_risk_at"], "2026-03-30T13:18:00.000000Z");
    assert_eq!(ticket["sla_status"], "on_track");
    // The contact's account is filled in.
    assert_eq!(ticket["account_id"], desk.account.as_str());

    // Monday 30 March becomes a holiday: a ticket opened now is due on Tuesday; the first keeps
    // its deadlines (the policy applies to tickets created after the change).
    desk.app
        .send(
            Method::PATCH,
            "/api/v1/settings/sla",
            Some(&desk.manager.token),
            Some(&json!({"calendar": {"holidays": ["2026-03-30"]}})),
            &[("if-match", "\"2\"")],
        )
        .await
        .expect(200);
    let after = desk
        .ticket(&desk.agent, json!({"subject": "Export fails again", "account_id": desk.account, "priority": "high"}))
        .await;
    assert_eq!(after["number"], "T-000002");
    assert_eq!(after["first_response_due_at"], "2026-03-31T10:30:00.000000Z");
    assert_eq!(after["contact_id"], Value::Null);
    let first = desk.get(&id_of(&ticket)).await;
    assert_eq!(first.body["first_response_due_at"], "2026-03-30T10:30:00.000000Z");

    // A new priority recomputes the deadlines from the opening with today's policy: normal is
    // 8 business hours for the first response and 3 business days for the resolution, counted
    // from Friday 17:00 with Monday a holiday now.
    let changed = desk
        .app
        .patch(&format!("/api/v1/tickets/{}", id_of(&ticket)), &desk.agent.token, &json!({"priority": "normal"}))
        .await
        .expect(200);
    // 30 minutes on Friday, 7 h 30 on Tuesday 31 → 16:30 CEST.
    assert_eq!(changed.body["first_response_due_at"], "2026-03-31T14:30:00.000000Z");
    // 1,530 minutes: 30 on Friday, then 8 h 30 on Tuesday, Wednesday and 8 h on Thursday →
    // Thursday 2 April 17:00 CEST.
    assert_eq!(changed.body["resolution_due_at"], "2026-04-02T15:00:00.000000Z");
    assert_eq!(changed.header("etag"), Some("\"2\""));
}

async fn waiting_on_the_customer_moves_the_resolution_deadline(backend: Backend) {
    // Monday 13 April 2026, 09:00 in Paris (CEST, UTC+2). The first response may take 5
    // business days, so that only the resolution clock matters here.
    let desk = Desk::open(
        backend,
        "2026-04-13T07:00:00Z",
        json!({"normal": {"first_response": {"minutes": 2550, "clock": "business"}}}),
    )
    .await;
    let ticket = desk.ticket(&desk.agent, json!({"subject": "Slow reports", "contact_id": desk.contact})).await;
    let id = id_of(&ticket);
    // 3 business days from Monday 09:00: Wednesday 17:30; at risk 306 minutes before, 12:24.
    assert_eq!(ticket["resolution_due_at"], "2026-04-15T15:30:00.000000Z");
    assert_eq!(ticket["resolution_at_risk_at"], "2026-04-15T10:24:00.000000Z");
    assert_eq!(ticket["allowed_actions"], json!(["start", "solve"]));

    desk.clock.set(at("2026-04-13T07:30:00Z"));
    let open = desk.act(&desk.agent, &id, "start").await.expect(200);
    assert_eq!(open.body["status"], "open");

    // Pending from Tuesday 10:00 to Wednesday 15:00.
    desk.clock.set(at("2026-04-14T08:00:00Z"));
    let pending = desk
        .app
        .post(&format!("/api/v1/tickets/{id}/wait"), &desk.agent.token, &json!({"reason": "Asked for the logs"}))
        .await
        .expect(200);
    assert_eq!(pending.body["status"], "pending");
    assert_eq!(pending.body["pending_reason"], "Asked for the logs");
    assert_eq!(pending.body["pending_since"], "2026-04-14T08:00:00.000000Z");
    assert_eq!(pending.body["allowed_actions"], json!(["resume", "solve"]));
    // Waiting is not a step back: hold needs an open ticket.
    let refused = desk.act(&desk.agent, &id, "hold").await.expect_problem(409, "invalid_transition");
    assert!(refused.body["detail"].as_str().unwrap().ends_with("resume, solve"), "{}", refused.text);

    desk.clock.set(at("2026-04-15T13:00:00Z"));
    let resumed = desk.act(&desk.agent, &id, "resume").await.expect(200);
    assert_eq!(resumed.body["status"], "open");
    assert_eq!(resumed.body["pending_since"], Value::Null);
    assert_eq!(resumed.body["pending_reason"], Value::Null);
    // Pending for 7 h 30 on Tuesday and 6 h on Wednesday of business time: the deadline moves
    // from Wednesday 17:30 by 13 h 30 → Thursday's 8 h 30 and 5 h on Friday → Friday 14:00.
    assert_eq!(resumed.body["resolution_due_at"], "2026-04-17T12:00:00.000000Z");
    // 306 business minutes before: 5 h on Friday and 6 minutes of Thursday → Thursday 17:24.
    assert_eq!(resumed.body["resolution_at_risk_at"], "2026-04-16T15:24:00.000000Z");
    assert_eq!(resumed.body["sla_status"], "on_track");
}

async fn a_solved_ticket_reopens_within_its_window_and_closes_after_it(backend: Backend) {
    let desk = Desk::open(backend, "2026-04-13T07:00:00Z", json!({})).await;
    // Urgent: 1 hour to answer, 4 to solve, on the calendar clock.
    let ticket = desk
        .ticket(&desk.agent, json!({"subject": "Site down", "contact_id": desk.contact, "priority": "urgent"}))
        .await;
    let id = id_of(&ticket);
    assert_eq!(ticket["first_response_due_at"], "2026-04-13T08:00:00.000000Z");
    assert_eq!(ticket["resolution_due_at"], "2026-04-13T11:00:00.000000Z");

    desk.clock.set(at("2026-04-13T08:00:00Z"));
    let solved = desk
        .app
        .post(&format!("/api/v1/tickets/{id}/solve"), &desk.agent.token, &json!({"resolution": "Restarted"}))
        .await
        .expect(200);
    assert_eq!(solved.body["status"], "solved");
    assert_eq!(solved.body["resolution"], "Restarted");
    // Solving answers the customer, right on the deadline: met.
    assert_eq!(solved.body["first_responded_at"], "2026-04-13T08:00:00.000000Z");
    assert_eq!(solved.body["first_response_missed"], false);
    assert_eq!(solved.body["sla_status"], "met");
    assert_eq!(solved.body["closes_at"], "2026-04-20T08:00:00.000000Z");
    assert_eq!(solved.body["allowed_actions"], json!(["reopen", "close"]));

    // Reopened the next day: the resolution clock restarts from the reopening.
    desk.clock.set(at("2026-04-14T08:00:00Z"));
    let reopened = desk.act(&desk.agent, &id, "reopen").await.expect(200);
    assert_eq!(reopened.body["status"], "open");
    assert_eq!(reopened.body["reopened_count"], 1);
    assert_eq!((reopened.body["solved_at"].clone(), reopened.body["closes_at"].clone()), (Value::Null, Value::Null));
    assert_eq!(reopened.body["resolution_due_at"], "2026-04-14T12:00:00.000000Z");
    assert_eq!(reopened.body["resolution_at_risk_at"], "2026-04-14T11:12:00.000000Z");

    desk.clock.set(at("2026-04-14T09:00:00Z"));
    let solved = desk.act(&desk.agent, &id, "solve").await.expect(200);
    assert_eq!(solved.body["closes_at"], "2026-04-21T09:00:00.000000Z");
    assert_eq!(solved.header("etag"), Some("\"4\""));

    // The last second of the window, then its end: closed by the date, which the tag says.
    desk.clock.set(at("2026-04-21T08:59:59Z"));
    assert_eq!(desk.get(&id).await.body["status"], "solved");
    assert_eq!(desk.numbers("status=solved").await, ["T-000001"]);
    desk.clock.set(at("2026-04-21T09:00:00Z"));
    let closed = desk.get(&id).await;
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["closed_at"], "2026-04-21T09:00:00.000000Z");
    assert_eq!(closed.body["allowed_actions"], json!([]));
    assert_eq!(closed.header("etag"), Some("\"4-closed\""));
    assert_eq!(desk.numbers("status=solved").await, Vec::<String>::new());
    assert_eq!(desk.numbers("status=closed").await, ["T-000001"]);
    desk.act(&desk.agent, &id, "reopen").await.expect_problem(409, "reopen_window_passed");
    // A closed ticket takes no change, even under the right version.
    desk.app
        .send(
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            Some(&desk.agent.token),
            Some(&json!({"subject": "Site down (closed)"})),
            &[("if-match", "\"4\"")],
        )
        .await
        .expect_problem(409, "ticket_closed");
    let refused = desk.act(&desk.agent, &id, "start").await.expect_problem(409, "invalid_transition");
    assert!(refused.body["detail"].as_str().unwrap().ends_with("none"), "{}", refused.text);

    // Closing by hand is final at once.
    let other = desk.ticket(&desk.agent, json!({"subject": "Password reset", "contact_id": desk.contact})).await;
    let other_id = id_of(&other);
    desk.act(&desk.agent, &other_id, "solve").await.expect(200);
    let closed = desk.act(&desk.agent, &other_id, "close").await.expect(200);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["closed_at"], "2026-04-21T09:00:00.000000Z");
    assert_eq!(closed.header("etag"), Some("\"3\""));
    desk.act(&desk.agent, &other_id, "reopen").await.expect_problem(409, "invalid_transition");
    assert_eq!(desk.numbers("status=closed&sort=number").await, ["T-000001", "T-000002"]);
}

async fn at_risk_and_breached_show_in_the_filter_and_in_the_etag(backend: Backend) {
    let desk = Desk::open(backend, "2026-04-13T07:00:00Z", json!({})).await;
    // T-000001, urgent: first response due 08:00 (at risk 07:48), resolution due 11:00.
    let urgent = desk
        .ticket(&desk.agent, json!({"subject": "Site down", "contact_id": desk.contact, "priority": "urgent"}))
        .await;
    let urgent_id = id_of(&urgent);
    // T-000002, normal: first response 8 business hours from Monday 09:00 → 17:00 CEST (15:00Z).
    let normal = desk.ticket(&desk.agent, json!({"subject": "Question", "contact_id": desk.contact})).await;
    let normal_id = id_of(&normal);
    assert_eq!(normal["first_response_due_at"], "2026-04-13T15:00:00.000000Z");

    assert_eq!(desk.numbers("first_response_due_before=2026-04-13T09:00:00Z").await, ["T-000001"]);
    assert_eq!(desk.numbers("resolution_due_before=2026-04-13T12:00:00Z").await, ["T-000001"]);
    assert_eq!(desk.numbers("sort=resolution_due_at").await, ["T-000001", "T-000002"]);
    assert_eq!(desk.numbers("sort=-resolution_due_at").await, ["T-000002", "T-000001"]);
    assert_eq!(desk.numbers("status=new,open&sort=resolution_due_at").await, ["T-000001", "T-000002"]);

    desk.clock.set(at("2026-04-13T07:47:59Z"));
    let calm = desk.get(&urgent_id).await;
    assert_eq!((calm.body["sla_status"].as_str(), calm.header("etag")), (Some("on_track"), Some("\"1\"")));
    assert_eq!(desk.numbers("sla_status=at_risk,breached").await, Vec::<String>::new());

    desk.clock.set(at("2026-04-13T07:48:00Z"));
    let risky = desk.get(&urgent_id).await;
    assert_eq!((risky.body["sla_status"].as_str(), risky.header("etag")), (Some("at_risk"), Some("\"1-atrisk\"")));
    assert_eq!(desk.numbers("sla_status=at_risk,breached").await, ["T-000001"]);
    assert_eq!(desk.numbers("sla_status=at_risk").await, ["T-000001"]);
    assert_eq!(desk.numbers("sla_status=on_track").await, ["T-000002"]);
    assert_eq!(desk.numbers("sla_status=breached").await, Vec::<String>::new());
    // The date changed the tag: a client holding "1" gets the ticket again, not a 304.
    let path = format!("/api/v1/tickets/{urgent_id}");
    let token = Some(desk.agent.token.as_str());
    desk.app.send(Method::GET, &path, token, None, &[("if-none-match", "\"1\"")]).await.expect(200);
    desk.app.send(Method::GET, &path, token, None, &[("if-none-match", "\"1-atrisk\"")]).await.expect(304);

    desk.clock.set(at("2026-04-13T08:00:01Z"));
    let late = desk.get(&urgent_id).await;
    assert_eq!((late.body["sla_status"].as_str(), late.header("etag")), (Some("breached"), Some("\"1-breached\"")));
    assert_eq!(desk.numbers("sla_status=breached").await, ["T-000001"]);
    assert_eq!(desk.numbers("sla_status=at_risk").await, Vec::<String>::new());
    // If-Match compares versions: the date's state is not a change anyone could have lost.
    desk.app.send(Method::POST, &format!("{path}/start"), token, None, &[("if-match", "\"1\"")]).await.expect(200);

    // Solved an hour late: the first response was missed, and the ticket stays breached.
    desk.clock.set(at("2026-04-13T09:00:00Z"));
    let solved = desk.act(&desk.agent, &urgent_id, "solve").await.expect(200);
    assert_eq!(solved.body["first_response_missed"], true);
    assert_eq!(solved.body["resolution_missed"], false);
    assert_eq!((solved.body["sla_status"].as_str(), solved.header("etag")), (Some("breached"), Some("\"3-breached\"")));
    let solved_normal = desk.act(&desk.agent, &normal_id, "solve").await.expect(200);
    assert_eq!(solved_normal.body["sla_status"], "met");
    assert_eq!(desk.numbers("sla_status=breached").await, ["T-000001"]);
    assert_eq!(desk.numbers("sla_status=met").await, ["T-000002"]);
    assert_eq!(desk.numbers("sla_status=at_risk,breached").await, ["T-000001"]);
    assert_eq!(desk.numbers("first_response_due_before=2026-04-14T00:00:00Z").await, Vec::<String>::new());
}

async fn tickets_follow_the_role_rules_and_stay_in_their_organisation(backend: Backend) {
    let desk = Desk::open(backend, "2026-04-13T07:00:00Z", json!({})).await;
    let app = &desk.app;
    let agent2 = app.add_user(&desk.admin, "agent2@example.com", "support_agent").await;
    let ticket = desk
        .ticket(
            &desk.agent,
            json!({"subject": "Refund", "contact_id": desk.contact, "category": "complaint",
                                     "channel": "phone", "tags": ["vip"]}),
        )
        .await;
    let id = id_of(&ticket);
    assert_eq!(
        (
            ticket["status"].as_str(),
            ticket["priority"].as_str(),
            ticket["category"].as_str(),
            ticket["channel"].as_str()
        ),
        (Some("new"), Some("normal"), Some("complaint"), Some("phone"))
    );
    assert_eq!((ticket["owner_id"].clone(), ticket["tags"].clone()), (Value::Null, json!(["vip"])));

    // What a ticket must name, and what it names must exist.
    let missing = app
        .post("/api/v1/tickets", &desk.agent.token, &json!({"subject": "Nobody"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        (missing.body["errors"][0]["field"].as_str(), missing.body["errors"][0]["code"].as_str()),
        (Some("contact_id"), Some("requester_required"))
    );
    let unknown = app
        .post(
            "/api/v1/tickets",
            &desk.agent.token,
            &json!({"subject": "Ghost", "contact_id": uuid::Uuid::now_v7(),
                                                           "product_id": uuid::Uuid::now_v7()}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<(&str, &str)> = unknown.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("contact_id", "unknown_reference"), ("product_id", "unknown_reference")]);
    let elsewhere =
        id_of(&app.post("/api/v1/accounts", &desk.admin.token, &json!({"name": "Initech"})).await.expect(201).body);
    let mismatch = app
        .post(
            "/api/v1/tickets",
            &desk.agent.token,
            &json!({"subject": "Mixed", "contact_id": desk.contact, "account_id": elsewhere}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(mismatch.body["errors"][0]["code"], "account_mismatch");

    // Sales reads tickets and works none.
    app.post("/api/v1/tickets", &desk.rep.token, &json!({"subject": "Rep", "contact_id": desk.contact}))
        .await
        .expect_problem(403, "forbidden");
    app.get(&format!("/api/v1/tickets/{id}"), &desk.rep.token).await.expect(200);
    desk.act(&desk.rep, &id, "start").await.expect_problem(403, "forbidden");
    app.patch(&format!("/api/v1/tickets/{id}"), &desk.rep.token, &json!({"priority": "high"}))
        .await
        .expect_problem(403, "forbidden");

    // An agent takes an unassigned ticket, and may not give it to someone else; a manager may.
    let path = format!("/api/v1/tickets/{id}");
    app.patch(&path, &desk.agent.token, &json!({"owner_id": agent2.user_id})).await.expect_problem(403, "forbidden");
    let taken = app.patch(&path, &desk.agent.token, &json!({"owner_id": desk.agent.user_id})).await.expect(200);
    assert_eq!(taken.body["owner_id"], desk.agent.user_id.as_str());
    app.patch(&path, &desk.agent.token, &json!({"owner_id": agent2.user_id})).await.expect_problem(403, "forbidden");
    app.post(
        "/api/v1/tickets",
        &desk.agent.token,
        &json!({"subject": "For you", "contact_id": desk.contact, "owner_id": agent2.user_id}),
    )
    .await
    .expect_problem(403, "forbidden");
    let given = app.patch(&path, &desk.manager.token, &json!({"owner_id": agent2.user_id})).await.expect(200);
    assert_eq!(given.body["owner_id"], agent2.user_id.as_str());
    // Another agent of the team works it all the same. (Each step a minute apart, so that the
    // timeline's order below is the order of the steps.)
    let minute = chrono::Duration::minutes(1);
    desk.clock.advance(minute);
    desk.act(&desk.agent, &id, "start").await.expect(200);
    assert_eq!(desk.numbers(&format!("owner_id={}", agent2.user_id)).await, ["T-000001"]);
    assert_eq!(desk.numbers("owner_id=none").await, Vec::<String>::new());
    assert_eq!(desk.numbers("category=complaint").await, ["T-000001"]);
    assert_eq!(desk.numbers(&format!("account_id={}", desk.account)).await, ["T-000001"]);

    // Archived tickets leave the lists and take no step until restored.
    desk.clock.advance(minute);
    let archived = app.delete(&path, &desk.agent.token).await.expect(200);
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(desk.numbers("").await, Vec::<String>::new());
    assert_eq!(desk.numbers("archived=only").await, ["T-000001"]);
    desk.act(&desk.agent, &id, "solve").await.expect_problem(409, "ticket_archived");
    app.delete(&path, &desk.agent.token).await.expect_problem(409, "ticket_archived");
    desk.clock.advance(minute);
    desk.act(&desk.agent, &id, "restore").await.expect(200);
    desk.act(&desk.agent, &id, "restore").await.expect_problem(409, "ticket_not_archived");
    desk.clock.advance(minute);
    desk.act(&desk.agent, &id, "solve").await.expect(200);

    // The ticket's story shows in its contact's and its account's timelines.
    for path in
        [format!("/api/v1/contacts/{}/timeline", desk.contact), format!("/api/v1/accounts/{}/timeline", desk.account)]
    {
        let timeline = app.get(&path, &desk.agent.token).await.expect(200);
        let items: Vec<(String, String)> = timeline.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["record"]["type"] == "ticket")
            .map(|i| (i["kind"].as_str().unwrap().to_owned(), i["summary"].as_str().unwrap().to_owned()))
            .collect();
        let expect = |kind: &str, summary: &str| (kind.to_owned(), summary.to_owned());
        assert_eq!(
            items,
            [
                expect("ticket_solved", "Ticket solved"),
                expect("restored", "Ticket restored"),
                expect("archived", "Ticket archived"),
                expect("ticket_status_changed", "Ticket status changed to open"),
                expect("created", "Ticket created"),
            ],
            "{path}"
        );
    }

    // Another organisation sees nothing.
    let other = app.signup("Umbrella", "wesker@example.com").await;
    app.get(&path, &other.token).await.expect_problem(404, "not_found");
    desk.act(&other, &id, "reopen").await.expect_problem(404, "not_found");
    let theirs = app.get("/api/v1/tickets", &other.token).await.expect(200);
    assert_eq!(theirs.body["data"], json!([]));
    app.post("/api/v1/tickets", &other.token, &json!({"subject": "Theirs", "contact_id": desk.contact}))
        .await
        .expect_problem(422, "validation_failed");
    let own = app.post("/api/v1/tickets", &other.token, &json!({"subject": "No customer"})).await;
    own.expect_problem(422, "validation_failed");
}

async fn comments_answer_the_customer_and_bring_a_pending_ticket_back(backend: Backend) {
    // Monday 13 April 2026, 09:00 in Paris. A normal ticket: first response due 17:00 CEST
    // (15:00Z), resolution Wednesday 17:30 CEST.
    let desk = Desk::open(backend, "2026-04-13T07:00:00Z", json!({})).await;
    let app = &desk.app;
    let ticket = desk.ticket(&desk.agent, json!({"subject": "Export fails", "contact_id": desk.contact})).await;
    let id = id_of(&ticket);
    let comments = format!("/api/v1/tickets/{id}/comments");
    let say = |who: &Session, body: Value| {
        let who = who.token.clone();
        let comments = comments.clone();
        async move { app.post(&comments, &who, &body).await }
    };

    // Sales adds internal notes and nothing the customer sees; an internal note answers no one.
    let note = say(&desk.rep, json!({"body": "They renew in May"})).await.expect(201);
    assert_eq!(note.body["comment"]["visibility"], "internal");
    assert_eq!(note.body["comment"]["author_user_id"], desk.rep.user_id.as_str());
    assert_eq!(note.header("etag"), Some("\"1\""));
    assert_eq!(note.header("location"), Some(comments.as_str()));
    say(&desk.rep, json!({"body": "Hello", "visibility": "public"})).await.expect_problem(403, "forbidden");
    let internal = say(&desk.agent, json!({"body": "Looking at the logs"})).await.expect(201);
    assert_eq!(internal.body["ticket"]["first_responded_at"], Value::Null);

    // The first public comment of staff is the first response, once.
    desk.clock.set(at("2026-04-13T09:00:00Z"));
    let answer = say(&desk.agent, json!({"body": "We are on it", "visibility": "public"})).await.expect(201);
    assert_eq!(answer.body["ticket"]["first_responded_at"], "2026-04-13T09:00:00.000000Z");
    assert_eq!(answer.body["ticket"]["first_response_missed"], false);
    assert_eq!(answer.header("etag"), Some("\"2\""));
    desk.clock.set(at("2026-04-13T09:30:00Z"));
    let again = say(&desk.agent, json!({"body": "Still on it", "visibility": "public"})).await.expect(201);
    assert_eq!(again.body["ticket"]["first_responded_at"], "2026-04-13T09:00:00.000000Z");
    assert_eq!(again.header("etag"), Some("\"2\""));
    // A comment under a stale version of the ticket is refused.
    app.send(
        Method::POST,
        &comments,
        Some(&desk.agent.token),
        Some(&json!({"body": "Late"})),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect(412);

    // Waiting on the customer from Monday 12:00 CEST; their reply on Tuesday 09:00 opens the
    // ticket again, and the 5 h 30 of business time spent waiting move the resolution deadline
    // from Wednesday 17:30 to Thursday 14:30 CEST.
    desk.act(&desk.agent, &id, "start").await.expect(200);
    desk.clock.set(at("2026-04-13T10:00:00Z"));
    desk.act(&desk.agent, &id, "wait").await.expect(200);
    desk.clock.set(at("2026-04-14T07:00:00Z"));
    let unknown = say(&desk.agent, json!({"body": "Hi", "author_contact_id": uuid::Uuid::now_v7()})).await;
    unknown.expect_problem(422, "validation_failed");
    let hidden =
        say(&desk.agent, json!({"body": "Hi", "author_contact_id": desk.contact, "visibility": "internal"})).await;
    let hidden = hidden.expect_problem(422, "validation_failed");
    assert_eq!(hidden.body["errors"][0]["field"], "visibility");
    assert_eq!(hidden.body["errors"][0]["code"], "customer_comment_public");
    let reply =
        say(&desk.agent, json!({"body": "Here are the logs: secret-token-42", "author_contact_id": desk.contact}))
            .await
            .expect(201);
    assert_eq!(reply.body["comment"]["visibility"], "public");
    assert_eq!(reply.body["comment"]["author_contact_id"], desk.contact.as_str());
    assert_eq!(reply.body["comment"]["author_user_id"], Value::Null);
    assert_eq!(reply.body["comment"]["created_by"], desk.agent.user_id.as_str());
    assert_eq!(reply.body["ticket"]["status"], "open");
    assert_eq!(reply.body["ticket"]["pending_since"], Value::Null);
    assert_eq!(reply.body["ticket"]["resolution_due_at"], "2026-04-16T12:30:00.000000Z");
    let reply_id = reply.body["comment"]["id"].as_str().unwrap().to_owned();

    // Oldest first, page by page; `public` is what the customer saw.
    let first = app.get(&format!("{comments}?limit=3"), &desk.rep.token).await.expect(200);
    let bodies = |page: &Reply| -> Vec<String> {
        page.body["data"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap_or("∅").to_owned()).collect()
    };
    assert_eq!(bodies(&first), ["They renew in May", "Looking at the logs", "We are on it"]);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("{comments}?limit=3&cursor={cursor}"), &desk.rep.token).await.expect(200);
    assert_eq!(bodies(&rest), ["Still on it", "Here are the logs: secret-token-42"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let public = app.get(&format!("{comments}?visibility=public"), &desk.agent.token).await.expect(200);
    assert_eq!(bodies(&public), ["We are on it", "Still on it", "Here are the logs: secret-token-42"]);

    // Only an admin redacts; the tombstone stays, the words go, from the audit trail too.
    let redact = format!("{comments}/{reply_id}/redact");
    app.send(Method::POST, &redact, Some(&desk.manager.token), None, &[]).await.expect_problem(403, "forbidden");
    desk.clock.set(at("2026-04-14T08:00:00Z"));
    let redacted = app.send(Method::POST, &redact, Some(&desk.admin.token), None, &[]).await.expect(200);
    assert_eq!(redacted.body["body"], Value::Null);
    assert_eq!(redacted.body["redacted_at"], "2026-04-14T08:00:00.000000Z");
    assert_eq!(redacted.body["redacted_by"], desk.admin.user_id.as_str());
    assert_eq!(redacted.body["author_contact_id"], desk.contact.as_str());
    app.send(Method::POST, &redact, Some(&desk.admin.token), None, &[]).await.expect_problem(409, "comment_redacted");
    let public = app.get(&format!("{comments}?visibility=public"), &desk.agent.token).await.expect(200);
    assert_eq!(bodies(&public), ["We are on it", "Still on it", "∅"]);
    let audit =
        app.get("/api/v1/audit-events?entity_type=ticket_comment&limit=200", &desk.admin.token).await.expect(200);
    assert_eq!(audit.body["data"].as_array().unwrap().len(), 6, "five comments and one redaction");
    assert!(!audit.text.contains("secret-token-42"));
    let other_ticket = desk.ticket(&desk.agent, json!({"subject": "Other", "contact_id": desk.contact})).await;
    app.send(
        Method::POST,
        &format!("/api/v1/tickets/{}/comments/{reply_id}/redact", id_of(&other_ticket)),
        Some(&desk.admin.token),
        None,
        &[],
    )
    .await
    .expect_problem(404, "not_found");

    // A closed ticket takes internal comments only.
    desk.act(&desk.agent, &id, "solve").await.expect(200);
    desk.act(&desk.agent, &id, "close").await.expect(200);
    let late_note = say(&desk.rep, json!({"body": "Upsell later"})).await.expect(201);
    assert_eq!(late_note.body["ticket"]["status"], "closed");
    say(&desk.agent, json!({"body": "Anything else?", "visibility": "public"}))
        .await
        .expect_problem(409, "ticket_closed");
    say(&desk.agent, json!({"body": "Me again", "author_contact_id": desk.contact}))
        .await
        .expect_problem(409, "ticket_closed");

    // The public ones are in the customer's timeline; internal notes are not.
    let timeline = app.get(&format!("/api/v1/contacts/{}/timeline", desk.contact), &desk.agent.token).await.expect(200);
    let commented =
        timeline.body["data"].as_array().unwrap().iter().filter(|i| i["kind"] == "ticket_commented").count();
    assert_eq!(commented, 3);

    // Another organisation neither reads nor writes them.
    let other = app.signup("Umbrella", "wesker@example.com").await;
    app.get(&comments, &other.token).await.expect_problem(404, "not_found");
    say(&other, json!({"body": "Hi"})).await.expect_problem(404, "not_found");
}

async fn open_complaints_follow_their_tickets_on_the_customer_records(backend: Backend) {
    let desk = Desk::open(backend, "2026-04-13T07:00:00Z", json!({})).await;
    let app = &desk.app;
    let other_contact = id_of(
        &app.post("/api/v1/contacts", &desk.admin.token, &json!({"last_name": "Flanders", "account_id": desk.account}))
            .await
            .expect(201)
            .body,
    );
    // (account's open complaints, its version, the contact's, the other contact's)
    let counts = async || {
        let account = app.get(&format!("/api/v1/accounts/{}", desk.account), &desk.rep.token).await.expect(200);
        let contact = app.get(&format!("/api/v1/contacts/{}", desk.contact), &desk.rep.token).await.expect(200);
        let other = app.get(&format!("/api/v1/contacts/{other_contact}"), &desk.rep.token).await.expect(200);
        assert_eq!(account.header("etag"), Some(format!("\"{}\"", account.body["version"]).as_str()));
        (
            account.body["open_complaints"].as_i64().unwrap(),
            account.body["version"].as_i64().unwrap(),
            contact.body["open_complaints"].as_i64().unwrap(),
            other.body["open_complaints"].as_i64().unwrap(),
        )
    };
    assert_eq!(counts().await, (0, 1, 0, 0));
    let complaint = desk
        .ticket(&desk.agent, json!({"subject": "Late delivery", "contact_id": desk.contact, "category": "complaint"}))
        .await;
    let complaint = id_of(&complaint);
    // The count moved, and with it the account's version (its ETag follows).
    assert_eq!(counts().await, (1, 2, 1, 0));
    let question =
        id_of(&desk.ticket(&desk.agent, json!({"subject": "How to export?", "contact_id": desk.contact})).await);
    assert_eq!(counts().await, (1, 2, 1, 0));
    app.patch(&format!("/api/v1/tickets/{question}"), &desk.agent.token, &json!({"category": "complaint"}))
        .await
        .expect(200);
    assert_eq!(counts().await, (2, 3, 2, 0));
    // Moved to the other contact of the same account.
    app.patch(&format!("/api/v1/tickets/{question}"), &desk.agent.token, &json!({"contact_id": other_contact}))
        .await
        .expect(200);
    assert_eq!(counts().await, (2, 3, 1, 1));
    app.delete(&format!("/api/v1/tickets/{complaint}"), &desk.agent.token).await.expect(200);
    assert_eq!(counts().await, (1, 4, 0, 1));
    desk.act(&desk.agent, &complaint, "restore").await.expect(200);
    assert_eq!(counts().await, (2, 5, 1, 1));
    // Solved is no longer open; reopened it is again; on hold and pending still are.
    desk.act(&desk.agent, &complaint, "solve").await.expect(200);
    assert_eq!(counts().await, (1, 6, 0, 1));
    desk.act(&desk.agent, &complaint, "reopen").await.expect(200);
    desk.act(&desk.agent, &complaint, "hold").await.expect(200);
    assert_eq!(counts().await, (2, 7, 1, 1));
    let listed = app.get("/api/v1/accounts", &desk.rep.token).await.expect(200);
    assert_eq!(listed.body["data"][0]["open_complaints"], 2);
}

async fn support_hands_an_upsell_to_sales_and_it_is_won(backend: Backend) {
    let desk = Desk::open(backend, "2026-04-13T07:00:00Z", json!({})).await;
    let app = &desk.app;
    let ticket = desk.ticket(&desk.agent, json!({"subject": "We need more seats", "contact_id": desk.contact})).await;
    let id = id_of(&ticket);
    let path = format!("/api/v1/tickets/{id}/opportunity");
    let upsell = json!({"kind": "upsell", "amount": {"amount": 1_200_000, "currency": "EUR"}});

    // Sales reads tickets but hands nothing over from them; the request is checked.
    app.post(&path, &desk.rep.token, &upsell).await.expect_problem(403, "forbidden");
    let invalid =
        app.post(&path, &desk.agent.token, &json!({"kind": "renewal"})).await.expect_problem(422, "validation_failed");
    assert_eq!(
        (invalid.body["errors"][0]["field"].as_str(), invalid.body["errors"][0]["code"].as_str()),
        (Some("kind"), Some("invalid_value"))
    );
    let unknown =
        app.post(&path, &desk.agent.token, &json!({"kind": "cross_sell", "product_id": uuid::Uuid::now_v7()})).await;
    assert_eq!(unknown.expect_problem(422, "validation_failed").body["errors"][0]["field"], "product_id");

    let handed = app.post(&path, &desk.agent.token, &upsell).await.expect(201);
    let deal = &handed.body["opportunity"];
    let deal_id = id_of(deal);
    assert_eq!(handed.header("location"), Some(format!("/api/v1/opportunities/{deal_id}").as_str()));
    assert_eq!(handed.header("etag"), Some("\"2\""));
    // The deal belongs to sales: the account's owner (the admin who created the account).
    assert_eq!(deal["owner_id"], desk.admin.user_id.as_str());
    assert_eq!(deal["name"], "Upsell from T-000001");
    assert_eq!((deal["kind"].as_str(), deal["stage"].as_str()), (Some("upsell"), Some("prospecting")));
    assert_eq!(
        (deal["account_id"].as_str(), deal["contact_id"].as_str()),
        (Some(desk.account.as_str()), Some(desk.contact.as_str()))
    );
    assert_eq!(deal["amount"], json!({"amount": 1_200_000, "currency": "EUR"}));
    assert_eq!(deal["source_ticket_id"], id.as_str());
    assert_eq!(handed.body["ticket"]["opportunity_ids"], json!([deal_id]));
    assert_eq!(desk.get(&id).await.body["opportunity_ids"], json!([deal_id]));

    // A second one, for a rep named by support and a product of the price book.
    let product = id_of(
        &app.post(
            "/api/v1/products",
            &desk.admin.token,
            &json!({"name": "Training", "sku": "TRN-1",
        "unit_price": {"amount": 90_000, "currency": "EUR"}}),
        )
        .await
        .expect(201)
        .body,
    );
    let cross = app
        .post(&path, &desk.agent.token, &json!({"kind": "cross_sell", "name": "Training days", "product_id": product, "owner_id": desk.rep.user_id}))
        .await
        .expect(201);
    assert_eq!(cross.body["opportunity"]["owner_id"], desk.rep.user_id.as_str());
    assert_eq!(cross.body["opportunity"]["source_product_id"], product.as_str());
    assert_eq!(cross.body["ticket"]["opportunity_ids"].as_array().unwrap().len(), 2);

    // Audited on both sides.
    let on_ticket = app
        .get(&format!("/api/v1/audit-events?entity_type=ticket&entity_id={id}"), &desk.admin.token)
        .await
        .expect(200);
    assert!(
        on_ticket.body["data"].as_array().unwrap().iter().any(|e| e["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "opportunity_ids"))
    );
    let on_deal = app
        .get(&format!("/api/v1/audit-events?entity_type=opportunity&entity_id={deal_id}"), &desk.admin.token)
        .await
        .expect(200);
    let created = &on_deal.body["data"][0];
    assert_eq!(created["action"], "create");
    assert!(
        created["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "source_ticket_id" && c["new"] == id.as_str())
    );

    // Sales wins it.
    let won = app
        .send(
            Method::POST,
            &format!("/api/v1/opportunities/{deal_id}/close"),
            Some(&desk.admin.token),
            Some(&json!({"outcome": "won"})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(won.body["stage"], "closed_won");
    assert_eq!(won.body["source_ticket_id"], id.as_str());

    // A closed ticket hands nothing more over.
    desk.act(&desk.agent, &id, "solve").await.expect(200);
    desk.act(&desk.agent, &id, "close").await.expect(200);
    app.post(&path, &desk.agent.token, &upsell).await.expect_problem(409, "ticket_closed");
}

async fn the_tickets_report_matches_a_fixture_worked_out_by_hand(backend: Backend) {
    // A UTC calendar, Monday to Friday 09:00–17:30, the default targets: urgent 60/240 minutes
    // and high 240 minutes on the calendar clock; high's resolution 510, normal 480/1530 and low
    // 1020/2550 business minutes. The week of Monday 13 April 2026.
    let desk = Desk::open_in(backend, "2026-04-13T09:00:00Z", json!({}), "UTC").await;
    let app = &desk.app;
    let (a, b) = (&desk.agent, &app.add_user(&desk.admin, "agent2@example.com", "support_agent").await);
    let initech =
        id_of(&app.post("/api/v1/accounts", &desk.admin.token, &json!({"name": "Initech"})).await.expect(201).body);
    let product = id_of(
        &app.post(
            "/api/v1/products",
            &desk.admin.token,
            &json!({"name": "Exporter", "sku": "EXP-1",
            "unit_price": {"amount": 10_000, "currency": "EUR"}}),
        )
        .await
        .expect(201)
        .body,
    );
    let clock = |instant: &str| desk.clock.set(at(instant));
    let open = async |who: &Session, body: Value| id_of(&desk.ticket(who, body).await);
    let public = async |who: &Session, id: &str| {
        app.post(
            &format!("/api/v1/tickets/{id}/comments"),
            &who.token,
            &json!({"body": "On it", "visibility": "public"}),
        )
        .await
        .expect(201);
    };
    let step = async |id: &str, action: &str| desk.act(&desk.agent, id, action).await.expect(200);

    // T1: urgent incident, agent A: answered after 30 minutes, solved after 3 hours (both met).
    clock("2026-04-13T09:00:00Z");
    let t1 = open(a, json!({"subject": "T1", "account_id": desk.account, "priority": "urgent", "category": "incident", "owner_id": a.user_id})).await;
    clock("2026-04-13T09:30:00Z");
    public(a, &t1).await;
    // Support hands a won up-sell of 1,000.00 EUR to sales.
    let deal = app
        .post(
            &format!("/api/v1/tickets/{t1}/opportunity"),
            &a.token,
            &json!({"kind": "upsell", "amount": {"amount": 100_000, "currency": "EUR"}}),
        )
        .await
        .expect(201);
    let deal = id_of(&deal.body["opportunity"]);
    app.post(&format!("/api/v1/opportunities/{deal}/close"), &desk.admin.token, &json!({"outcome": "won"}))
        .await
        .expect(200);
    clock("2026-04-13T12:00:00Z");
    step(&t1, "solve").await;

    // T2: high complaint of the contact (Globex) about the product, agent B: answered at 15:00
    // (due 14:00, missed: 5 business hours), solved Tuesday 11:00 (due Tuesday 10:00, missed:
    // 7 h 30 on Monday and 2 h on Tuesday).
    clock("2026-04-13T10:00:00Z");
    let t2 = open(
        b,
        json!({"subject": "T2", "contact_id": desk.contact, "priority": "high", "category": "complaint",
        "product_id": product, "owner_id": b.user_id}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{t2}/opportunity"),
        &b.token,
        &json!({"kind": "cross_sell", "amount": {"amount": 50_000, "currency": "EUR"}}),
    )
    .await
    .expect(201);
    clock("2026-04-13T15:00:00Z");
    public(b, &t2).await;
    clock("2026-04-14T11:00:00Z");
    step(&t2, "solve").await;

    // T3: normal complaint of Globex about the product, agent A. Started 11:00, pending from
    // 12:00 to the customer's reply on Tuesday 09:30 (6 business hours), answered Tuesday 10:00
    // (due 10:30: met, after 7 h 30 of business time), solved Tuesday 12:00 (the clock ran
    // 9 h 30 less 6 h: 3 h 30), reopened Wednesday 09:00, solved again at 10:00 (1 h).
    clock("2026-04-13T11:00:00Z");
    let t3 = open(
        a,
        json!({"subject": "T3", "account_id": desk.account, "category": "complaint", "product_id": product,
        "owner_id": a.user_id}),
    )
    .await;
    app.post(&format!("/api/v1/tickets/{t3}/opportunity"), &a.token, &json!({"kind": "upsell"})).await.expect(201);
    step(&t3, "start").await;
    clock("2026-04-13T12:00:00Z");
    step(&t3, "wait").await;
    clock("2026-04-14T09:30:00Z");
    app.post(
        &format!("/api/v1/tickets/{t3}/comments"),
        &a.token,
        &json!({"body": "Logs attached", "author_contact_id": desk.contact}),
    )
    .await
    .expect(201);
    clock("2026-04-14T10:00:00Z");
    public(a, &t3).await;
    clock("2026-04-14T12:00:00Z");
    let solved = step(&t3, "solve").await;
    assert_eq!(solved.body["resolution_missed"], false);
    clock("2026-04-15T09:00:00Z");
    step(&t3, "reopen").await;
    clock("2026-04-15T10:00:00Z");
    step(&t3, "solve").await;

    // T4: low question of Initech, unassigned, still new.
    clock("2026-04-14T09:00:00Z");
    open(a, json!({"subject": "T4", "account_id": initech, "priority": "low"})).await;
    // T5: normal complaint of Initech about the product, agent B, open, answered right at its
    // deadline (Wednesday 17:00, 8 business hours).
    clock("2026-04-15T09:00:00Z");
    let t5 = open(
        b,
        json!({"subject": "T5", "account_id": initech, "category": "complaint", "product_id": product,
        "owner_id": b.user_id}),
    )
    .await;
    step(&t5, "start").await;
    clock("2026-04-15T17:00:00Z");
    public(b, &t5).await;
    // T6: high complaint of Globex, agent A, waiting on the customer.
    clock("2026-04-15T10:00:00Z");
    let t6 = open(
        a,
        json!({"subject": "T6", "account_id": desk.account, "priority": "high", "category": "complaint",
        "owner_id": a.user_id}),
    )
    .await;
    step(&t6, "start").await;
    clock("2026-04-15T11:00:00Z");
    step(&t6, "wait").await;
    // T7: archived: counted nowhere.
    clock("2026-04-16T09:00:00Z");
    let t7 =
        open(a, json!({"subject": "T7", "account_id": desk.account, "priority": "urgent", "category": "complaint"}))
            .await;
    public(a, &t7).await;
    app.delete(&format!("/api/v1/tickets/{t7}"), &a.token).await.expect(200);
    // T8: after the range: only in the backlog.
    clock("2026-04-20T09:00:00Z");
    open(a, json!({"subject": "T8", "account_id": desk.account, "category": "complaint"})).await;

    let report = app.get("/api/v1/reports/tickets?from=2026-04-13&to=2026-04-19", &desk.rep.token).await.expect(200);
    let r = &report.body;
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str(), r["period"].as_str()),
        (Some("2026-04-13"), Some("2026-04-19"), Some("day"))
    );
    assert_eq!(
        r["backlog"],
        json!([
            {"status": "new", "priority": "normal", "count": 1},
            {"status": "new", "priority": "low", "count": 1},
            {"status": "open", "priority": "normal", "count": 1},
            {"status": "pending", "priority": "high", "count": 1},
        ])
    );
    assert_eq!(r["backlog_total"], 4);
    assert_eq!(
        r["flow"],
        json!([
            {"period": "2026-04-13", "created": 3, "solved": 1},
            {"period": "2026-04-14", "created": 1, "solved": 1},
            {"period": "2026-04-15", "created": 2, "solved": 1},
        ])
    );
    let compliance = |fr: i64, fr_met: i64, fr_rate: Value, res: i64, res_met: i64, res_rate: Value| {
        json!({"first_responses": fr, "first_responses_met": fr_met, "first_response_compliance": fr_rate,
               "resolutions": res, "resolutions_met": res_met, "resolution_compliance": res_rate})
    };
    assert_eq!(r["sla"]["overall"], compliance(4, 3, json!(75.0), 3, 2, json!(66.67)));
    let mut urgent = compliance(1, 1, json!(100.0), 1, 1, json!(100.0));
    urgent["priority"] = json!("urgent");
    let mut high = compliance(1, 0, json!(0.0), 1, 0, json!(0.0));
    high["priority"] = json!("high");
    let mut normal = compliance(2, 2, json!(100.0), 1, 1, json!(100.0));
    normal["priority"] = json!("normal");
    assert_eq!(r["sla"]["by_priority"], json!([urgent, high, normal]));
    let mut agent_a = compliance(2, 2, json!(100.0), 2, 2, json!(100.0));
    agent_a["owner_id"] = json!(a.user_id);
    let mut agent_b = compliance(2, 1, json!(50.0), 1, 0, json!(0.0));
    agent_b["owner_id"] = json!(b.user_id);
    assert_eq!(r["sla"]["by_agent"], json!([agent_a, agent_b]));
    // First responses: 1,800 (T1), 18,000 (T2), 27,000 (T3), 28,800 (T5) business seconds.
    assert_eq!(
        r["first_response_time"],
        json!({"count": 4, "median_business_seconds": 22_500, "p90_business_seconds": 28_800})
    );
    // Resolutions: 3,600 (T3's second), 10,800 (T1), 34,200 (T2).
    assert_eq!(
        r["resolution_time"],
        json!({"count": 3, "median_business_seconds": 10_800, "p90_business_seconds": 34_200})
    );
    assert_eq!(r["reopens"], json!({"solved": 3, "reopened": 1, "reopen_rate": 33.33}));
    assert_eq!(
        r["complaints"],
        json!({"total": 4,
               "by_account": [{"account_id": desk.account, "complaints": 3}, {"account_id": initech, "complaints": 1}],
               "by_product": [{"product_id": product, "complaints": 3}]})
    );
    assert_eq!(
        r["opportunities_from_support"],
        json!([
            {"currency": "EUR", "opportunities": 2, "won": 1, "won_amount": 100_000},
            {"currency": null, "opportunities": 1, "won": 0, "won_amount": 0},
        ])
    );

    // By week the flow is one line; a range before any ticket has the backlog only.
    let weekly = app
        .get("/api/v1/reports/tickets?from=2026-04-13&to=2026-04-19&period=week", &desk.agent.token)
        .await
        .expect(200);
    assert_eq!(weekly.body["flow"], json!([{"period": "2026-04-13", "created": 6, "solved": 3}]));
    let empty = app.get("/api/v1/reports/tickets?from=2026-01-01&to=2026-01-31", &desk.agent.token).await.expect(200);
    assert_eq!(empty.body["backlog_total"], 4);
    assert_eq!(empty.body["flow"], json!([]));
    assert_eq!(empty.body["sla"]["overall"], compliance(0, 0, Value::Null, 0, 0, Value::Null));
    assert_eq!(
        empty.body["first_response_time"],
        json!({"count": 0, "median_business_seconds": null, "p90_business_seconds": null})
    );
    app.get("/api/v1/reports/tickets?from=2026-04-19&to=2026-04-13", &desk.agent.token)
        .await
        .expect_problem(400, "invalid_parameter");
    app.get("/api/v1/reports/tickets?from=2026-04-13&to=2026-04-19&period=year", &desk.agent.token)
        .await
        .expect_problem(400, "invalid_parameter");
    // Another organisation's report counts none of it.
    let other = app.signup("Umbrella", "wesker@example.com").await;
    let theirs = app.get("/api/v1/reports/tickets?from=2026-04-13&to=2026-04-19", &other.token).await.expect(200);
    assert_eq!((theirs.body["backlog_total"].clone(), theirs.body["flow"].clone()), (json!(0), json!([])));
}

async fn a_ticket_timeline_tells_its_story_with_the_calls_logged_against_it(backend: Backend) {
    let desk = Desk::open(backend, "2026-04-13T07:00:00Z", json!({})).await;
    let app = &desk.app;
    let minute = chrono::Duration::minutes(1);
    let ticket = desk.ticket(&desk.agent, json!({"subject": "Export fails", "contact_id": desk.contact})).await;
    let id = id_of(&ticket);

    // A call about the ticket is about its customer.
    desk.clock.advance(minute);
    let call = app
        .post(
            "/api/v1/activities",
            &desk.agent.token,
            &json!({"kind": "call", "direction": "outbound",
            "subject": "Called back", "outcome": "no_answer", "ticket_id": id, "occurred_at": "2026-04-13T07:01:00Z"}),
        )
        .await
        .expect(201);
    assert_eq!(call.body["ticket_id"], id.as_str());
    assert_eq!(
        (call.body["contact_id"].as_str(), call.body["account_id"].as_str()),
        (Some(desk.contact.as_str()), Some(desk.account.as_str()))
    );
    let call_id = id_of(&call.body);
    app.post(
        "/api/v1/activities",
        &desk.agent.token,
        &json!({"kind": "call", "subject": "Nobody", "ticket_id": uuid::Uuid::now_v7()}),
    )
    .await
    .expect_problem(422, "validation_failed");
    desk.clock.advance(minute);
    desk.act(&desk.agent, &id, "start").await.expect(200);
    desk.clock.advance(minute);
    app.post(&format!("/api/v1/tickets/{id}/comments"), &desk.rep.token, &json!({"body": "Key account"}))
        .await
        .expect(201);
    desk.clock.advance(minute);
    app.post(
        &format!("/api/v1/tickets/{id}/comments"),
        &desk.agent.token,
        &json!({"body": "Fixed", "visibility": "public"}),
    )
    .await
    .expect(201);
    // Another ticket's call is not in this story.
    let other = desk.ticket(&desk.agent, json!({"subject": "Other", "contact_id": desk.contact})).await;
    app.post(
        "/api/v1/activities",
        &desk.agent.token,
        &json!({"kind": "note", "subject": "Elsewhere", "ticket_id": id_of(&other)}),
    )
    .await
    .expect(201);

    let path = format!("/api/v1/tickets/{id}/timeline");
    let story = app.get(&path, &desk.rep.token).await.expect(200);
    let items: Vec<(&str, &str, &str)> = story.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["summary"].as_str().unwrap(), i["record"]["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        items,
        [
            ("ticket_commented", "Public comment on the ticket", "ticket_comment"),
            ("ticket_note", "Internal note", "ticket_comment"),
            ("ticket_status_changed", "Ticket status changed to open", "ticket"),
            ("activity", "Call (outbound), no answer: Called back", "activity"),
            ("created", "Ticket created", "ticket"),
        ]
    );
    let data = &story.body["data"];
    assert_eq!(
        (data[0]["data"]["body"].as_str(), data[1]["data"]["body"].as_str()),
        (Some("Fixed"), Some("Key account"))
    );
    assert_eq!(data[1]["actor"]["id"], desk.rep.user_id.as_str());
    assert_eq!(data[3]["data"]["id"], call_id.as_str());
    // Filtered by kind, and page by page.
    let notes = app.get(&format!("{path}?kind=ticket_note,activity"), &desk.agent.token).await.expect(200);
    let kinds: Vec<&str> = notes.body["data"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ticket_note", "activity"]);
    let first = app.get(&format!("{path}?limit=3"), &desk.agent.token).await.expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("{path}?limit=3&cursor={cursor}"), &desk.agent.token).await.expect(200);
    let kinds: Vec<&str> = rest.body["data"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["activity", "created"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    // The calls of a ticket are a list filter too; a call is unlinked with null.
    let calls = app.get(&format!("/api/v1/activities?ticket_id={id}"), &desk.agent.token).await.expect(200);
    assert_eq!(calls.body["data"].as_array().unwrap().len(), 1);
    app.patch(&format!("/api/v1/activities/{call_id}"), &desk.agent.token, &json!({"ticket_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    let unlinked = app
        .patch(&format!("/api/v1/activities/{call_id}"), &desk.agent.token, &json!({"ticket_id": null}))
        .await
        .expect(200);
    assert_eq!(unlinked.body["ticket_id"], Value::Null);
    let calls = app.get(&format!("/api/v1/activities?ticket_id={id}"), &desk.agent.token).await.expect(200);
    assert_eq!(calls.body["data"], json!([]));

    // Another organisation reads no ticket timeline of this one.
    let stranger = app.signup("Umbrella", "wesker@example.com").await;
    app.get(&path, &stranger.token).await.expect_problem(404, "not_found");
}
