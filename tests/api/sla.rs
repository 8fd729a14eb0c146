//! The SLA policy of support tickets: read by every role, changed by admins and managers under
//! If-Match, checked field by field, audited, and kept per organisation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(the_sla_policy_is_read_by_everyone_and_changed_by_managers);

async fn the_sla_policy_is_read_by_everyone_and_changed_by_managers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "agent@example.com", "support_agent").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let manager = app.add_user(&admin, "boss@example.com", "manager").await;

    let defaults = app.get("/api/v1/settings/sla", &agent.token).await.expect(200);
    assert_eq!(defaults.header("etag"), Some("\"1\""));
    let target = |minutes: u32, clock: &str| json!({"minutes": minutes, "clock": clock});
    assert_eq!(
        defaults.body["targets"],
        json!({
            "urgent": {"first_response": target(60, "calendar"), "resolution": target(240, "calendar")},
            "high": {"first_response": target(240, "calendar"), "resolution": target(510, "business")},
            "normal": {"first_response": target(480, "business"), "resolution": target(1530, "business")},
            "low": {"first_response": target(1020, "business"), "resolution": target(2550, "business")},
        })
    );
    let day = json!([{"start": "09:00", "end": "17:30"}]);
    assert_eq!(
        defaults.body["calendar"],
        json!({
            "time_zone": "UTC",
            "hours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day,
                      "saturday": [], "sunday": []},
            "holidays": [],
        })
    );
    assert_eq!((defaults.body["reopen_window_days"].clone(), defaults.body["version"].clone()), (json!(7), json!(1)));

    // Only admins and managers change it.
    for member in [&agent, &rep] {
        app.patch("/api/v1/settings/sla", &member.token, &json!({"reopen_window_days": 3}))
            .await
            .expect_problem(403, "forbidden");
    }
    // Every field is checked, and each error names its place.
    let invalid = app
        .patch(
            "/api/v1/settings/sla",
            &manager.token,
            &json!({
                "targets": {"urgent": {"first_response": {"minutes": 0, "clock": "sundial"}}},
                "calendar": {"time_zone": "Mars/Olympus", "hours": {"monday": [{"start": "9:00", "end": "25:00"}]},
                             "holidays": ["2026-02-30"]},
                "reopen_window_days": 366
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<(&str, &str)> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("targets.urgent.first_response.minutes", "out_of_range"),
            ("targets.urgent.first_response.clock", "invalid_value"),
            ("calendar.time_zone", "unknown_time_zone"),
            ("calendar.hours.monday[0].start", "invalid_time"),
            ("calendar.hours.monday[0].end", "invalid_time"),
            ("calendar.holidays[0]", "invalid_date"),
            ("reopen_window_days", "out_of_range"),
        ]
    );
    let overlapping = app
        .patch(
            "/api/v1/settings/sla",
            &manager.token,
            &json!({"calendar": {"hours": {"tuesday": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}]}}}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        (&overlapping.body["errors"][0]["field"], &overlapping.body["errors"][0]["code"]),
        (&json!("calendar.hours.tuesday"), &json!("overlapping_business_hours"))
    );
    let closed: Value = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|d| (d.to_string(), json!([])))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let never_open = app
        .patch("/api/v1/settings/sla", &manager.token, &json!({"calendar": {"hours": closed}}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(never_open.body["errors"][0]["field"], "calendar.hours");
    app.patch(
        "/api/v1/settings/sla",
        &manager.token,
        &json!({"targets": {"urgent": {"first_response": {"minutes": 30}}}}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.patch(
        "/api/v1/settings/sla",
        &manager.token,
        &json!({"calendar": {"hours": {"monday": [["09:00", "17:00"]]}}}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.patch("/api/v1/settings/sla", &manager.token, &json!({"targets": [1, 2]}))
        .await
        .expect_problem(422, "validation_failed");

    // A manager's change under the current version; what it names changes, the rest stays.
    let changed = app
        .send(
            Method::PATCH,
            "/api/v1/settings/sla",
            Some(&manager.token),
            Some(&json!({
                "targets": {"urgent": {"first_response": {"minutes": 30, "clock": "calendar"}}},
                "calendar": {"time_zone": "Europe/Paris",
                             "hours": {"saturday": [{"start": "10:00", "end": "12:00"}, {"start": "13:00", "end": "24:00"}]},
                             "holidays": ["2027-01-01", "2026-12-25"]},
                "reopen_window_days": 3
            })),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    assert_eq!(changed.body["targets"]["urgent"]["first_response"], target(30, "calendar"));
    assert_eq!(changed.body["targets"]["urgent"]["resolution"], target(240, "calendar"));
    assert_eq!(changed.body["calendar"]["time_zone"], "Europe/Paris");
    assert_eq!(
        changed.body["calendar"]["hours"]["saturday"],
        json!([{"start": "10:00", "end": "12:00"}, {"start": "13:00", "end": "24:00"}])
    );
    assert_eq!(changed.body["calendar"]["hours"]["monday"], day);
    assert_eq!(changed.body["calendar"]["holidays"], json!(["2026-12-25", "2027-01-01"]));
    assert_eq!(changed.body["reopen_window_days"], 3);
    // What was accepted reads back.
    let read = app.get("/api/v1/settings/sla", &rep.token).await.expect(200).body;
    assert_eq!(read, changed.body);
    // Nothing changed: the version stays; a stale version is refused.
    let same = app.patch("/api/v1/settings/sla", &admin.token, &json!({"reopen_window_days": 3})).await.expect(200);
    assert_eq!(same.body["version"], 2);
    app.send(
        Method::PATCH,
        "/api/v1/settings/sla",
        Some(&admin.token),
        Some(&json!({"reopen_window_days": 1})),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect_problem(412, "precondition_failed");
    let events = app.get("/api/v1/audit-events?entity_type=sla_policy", &admin.token).await.expect(200).body;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        events["data"][0]["changes"],
        json!([
            {"field": "targets.urgent.first_response", "old": "60 calendar", "new": "30 calendar"},
            {"field": "calendar.time_zone", "old": "UTC", "new": "Europe/Paris"},
            {"field": "calendar.hours.saturday", "old": "", "new": "10:00-12:00,13:00-24:00"},
            {"field": "calendar.holidays", "old": "", "new": "2026-12-25,2027-01-01"},
            {"field": "reopen_window_days", "old": 7, "new": 3},
        ])
    );
    // Another organisation keeps its own policy.
    let other = app.signup("Other", "other@example.com").await;
    let theirs = app.get("/api/v1/settings/sla", &other.token).await.expect(200).body;
    assert_eq!((theirs["version"].clone(), theirs["calendar"]["time_zone"].clone()), (json!(1), json!("UTC")));
}
