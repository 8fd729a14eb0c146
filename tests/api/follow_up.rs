//! Following customers up: lists sorted by the last interaction, and conversion carrying a
//! lead's history.

use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(lists_sort_by_the_last_interaction_the_records_never_reached_first);

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
