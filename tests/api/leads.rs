//! Leads: create, read, update, archive, restore, validation, the status machine, roles, lists.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    a_lead_is_created_read_updated_archived_and_restored,
    lead_fields_are_validated_all_at_once,
    status_changes_follow_the_machine,
    roles_decide_who_may_change_a_lead,
    lists_filter_and_sort,
    lists_search_case_insensitively,
    lists_find_leads_by_exact_email,
    search_follows_every_write_and_pages,
    search_finds_the_same_leads_after_the_index_is_tidied,
);

async fn a_lead_is_created_read_updated_archived_and_restored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let created = app
        .post("/api/v1/leads", &admin.token, &json!({
            "first_name": "Grace", "last_name": "Hopper", "company": "Navy", "email": "Grace@Navy.example",
            "source": "trade_show", "source_detail": "Expo", "rating": "hot", "custom_fields": {"budget": 1000, "tags": ["a"]}
        }))
        .await
        .expect(201);
    let lead = created.body.clone();
    let id = id_of(&lead);
    assert_eq!(created.header("location"), Some(format!("/api/v1/leads/{id}").as_str()));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(lead["status"], "new");
    assert_eq!(lead["email"], "grace@navy.example");
    assert_eq!(lead["owner_id"].as_str(), Some(admin.user_id.as_str()));
    assert_eq!(lead["created_by"].as_str(), Some(admin.user_id.as_str()));
    assert_eq!(lead["version"], 1);
    assert_eq!(lead["custom_fields"], json!({"budget": 1000, "tags": ["a"]}));
    assert_eq!(lead["archived_at"], Value::Null);
    assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 7));
    assert!(lead["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    let read = app.get(&format!("/api/v1/leads/{id}"), &admin.token).await.expect(200);
    assert_eq!(read.body, lead);
    assert_eq!(read.header("etag"), Some("\"1\""));
    let not_modified = app
        .send(Method::GET, &format!("/api/v1/leads/{id}"), Some(&admin.token), None, &[("if-none-match", "\"1\"")])
        .await;
    assert_eq!(not_modified.status.as_u16(), 304);

    // Absent fields stay, null clears.
    let updated = app
        .send(
            Method::PATCH,
            &format!("/api/v1/leads/{id}"),
            Some(&admin.token),
            Some(&json!({"first_name": null, "title": "Rear Admiral", "status": "contacted"})),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(updated.header("etag"), Some("\"2\""));
    assert_eq!(updated.body["first_name"], Value::Null);
    assert_eq!(updated.body["title"], "Rear Admiral");
    assert_eq!(updated.body["company"], "Navy");
    assert_eq!(updated.body["status"], "contacted");
    assert_eq!(updated.body["version"], 2);
    // A stale If-Match changes nothing.
    app.send(
        Method::PATCH,
        &format!("/api/v1/leads/{id}"),
        Some(&admin.token),
        Some(&json!({"title": "x"})),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert_eq!(app.get(&format!("/api/v1/leads/{id}"), &admin.token).await.body["title"], "Rear Admiral");
    // A PATCH that changes nothing keeps the version.
    let same =
        app.patch(&format!("/api/v1/leads/{id}"), &admin.token, &json!({"title": "Rear Admiral"})).await.expect(200);
    assert_eq!(same.body["version"], 2);

    // Archive: gone from the default list, refused edits, back after restore.
    app.send(Method::DELETE, &format!("/api/v1/leads/{id}"), Some(&admin.token), None, &[("if-match", "\"1\"")])
        .await
        .expect_problem(412, "precondition_failed");
    let archived = app.delete(&format!("/api/v1/leads/{id}"), &admin.token).await.expect(200);
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(archived.body["version"], 3);
    assert_eq!(app.get("/api/v1/leads", &admin.token).await.body["data"], json!([]));
    assert_eq!(app.get("/api/v1/leads?archived=true", &admin.token).await.body["data"][0]["id"], id.as_str());
    assert_eq!(app.get("/api/v1/leads?archived=only", &admin.token).await.body["data"][0]["id"], id.as_str());
    app.get(&format!("/api/v1/leads/{id}"), &admin.token).await.expect(200);
    app.patch(&format!("/api/v1/leads/{id}"), &admin.token, &json!({"title": "x"}))
        .await
        .expect_problem(409, "lead_archived");
    app.delete(&format!("/api/v1/leads/{id}"), &admin.token).await.expect_problem(409, "lead_archived");
    let restored =
        app.send(Method::POST, &format!("/api/v1/leads/{id}/restore"), Some(&admin.token), None, &[]).await.expect(200);
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(restored.body["version"], 4);
    app.send(Method::POST, &format!("/api/v1/leads/{id}/restore"), Some(&admin.token), None, &[])
        .await
        .expect_problem(409, "lead_not_archived");
    assert_eq!(app.get("/api/v1/leads", &admin.token).await.body["data"][0]["id"], id.as_str());
    assert_eq!(app.get("/api/v1/leads?archived=only", &admin.token).await.body["data"], json!([]));

    let missing = uuid::Uuid::now_v7();
    app.get(&format!("/api/v1/leads/{missing}"), &admin.token).await.expect_problem(404, "not_found");
}

async fn lead_fields_are_validated_all_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let reply = app
        .post(
            "/api/v1/leads",
            &admin.token,
            &json!({
                "last_name": "  ", "email": "nope", "first_name": "x".repeat(201), "source": "carrier_pigeon",
                "rating": "lukewarm", "status": "converted"
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<(String, String)> = reply.body["errors"]
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
        .unwrap_or_default();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("email".to_owned(), "invalid_email".to_owned()),
            ("first_name".to_owned(), "too_long".to_owned()),
            ("last_name".to_owned(), "blank".to_owned()),
            ("rating".to_owned(), "invalid_value".to_owned()),
            ("source".to_owned(), "invalid_value".to_owned()),
        ]
    );
    let converted = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "X", "status": "converted"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(converted.body["errors"][0]["field"], "status");
    let missing = app
        .post("/api/v1/leads", &admin.token, &json!({"first_name": "X"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "last_name");
    assert_eq!(missing.body["errors"][0]["code"], "required");
    let unknown = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "X", "nickname": "Y"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(unknown.body["errors"][0]["field"], "nickname");
    assert_eq!(unknown.body["errors"][0]["code"], "unknown_field");
    let wrong_type = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": 42}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(wrong_type.body["errors"][0]["field"], "last_name");
    assert_eq!(wrong_type.body["errors"][0]["code"], "invalid_type");
    let not_object = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "X", "custom_fields": [1]}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(not_object.body["errors"][0]["field"], "custom_fields");
    let big = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "X", "custom_fields": {"k": "v".repeat(17_000)}}))
        .await
        .expect_problem(422, "validation_failed");
    // PostgreSQL cannot store NUL in JSON: refused on both backends alike, never a 500.
    let nul = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "X", "custom_fields": {"k\u{0}": {"v": "a\u{0}b"}}}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(nul.body["errors"][0]["code"], "invalid_characters");
    app.get("/api/v1/leads?q=a%00b", &admin.token).await.expect_problem(400, "invalid_parameter");
    assert_eq!(big.body["errors"][0]["code"], "too_large");
    let unknown_owner = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "X", "owner_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(unknown_owner.body["errors"][0]["field"], "owner_id");
    assert_eq!(unknown_owner.body["errors"][0]["code"], "unknown_reference");

    let lead = app.create_lead(&admin, json!({"last_name": "Kept"})).await;
    let path = format!("/api/v1/leads/{}", id_of(&lead));
    let nulls = app
        .patch(&path, &admin.token, &json!({"last_name": null, "status": null}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(nulls.body["errors"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.get(&path, &admin.token).await.body["version"], 1, "a refused PATCH changes nothing");
    assert_eq!(
        app.get("/api/v1/leads", &admin.token).await.body["data"].as_array().map(Vec::len),
        Some(1),
        "refused creates stored nothing"
    );
}

async fn status_changes_follow_the_machine(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app.create_lead(&admin, json!({"last_name": "Machine"})).await;
    let path = format!("/api/v1/leads/{}", id_of(&lead));
    let step = |status: &'static str| json!({"status": status});
    app.patch(&path, &admin.token, &step("contacted")).await.expect(200);
    let back = app.patch(&path, &admin.token, &step("new")).await.expect_problem(409, "illegal_status_change");
    assert!(back.body["detail"].as_str().is_some_and(|d| d.contains("qualified, unqualified")), "{}", back.text);
    app.patch(&path, &admin.token, &step("converted")).await.expect_problem(409, "illegal_status_change");
    app.patch(&path, &admin.token, &step("qualified")).await.expect(200);
    app.patch(&path, &admin.token, &step("unqualified")).await.expect(200);
    app.patch(&path, &admin.token, &step("contacted")).await.expect(200);
    let final_state = app.get(&path, &admin.token).await;
    assert_eq!(final_state.body["status"], "contacted");
    assert_eq!(final_state.body["version"], 5);
}

async fn roles_decide_who_may_change_a_lead(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let colleague = app.add_user(&admin, "colleague@example.com", "sales_rep").await;
    let support = app.add_user(&admin, "support@example.com", "support_agent").await;
    let manager = app.add_user(&admin, "manager@example.com", "manager").await;

    let own = app.create_lead(&rep, json!({"last_name": "Own"})).await;
    let theirs = app.create_lead(&colleague, json!({"last_name": "Theirs"})).await;
    let own_path = format!("/api/v1/leads/{}", id_of(&own));
    let their_path = format!("/api/v1/leads/{}", id_of(&theirs));

    app.patch(&own_path, &rep.token, &json!({"rating": "warm"})).await.expect(200);
    app.patch(&their_path, &rep.token, &json!({"rating": "warm"})).await.expect_problem(403, "forbidden");
    app.delete(&their_path, &rep.token).await.expect_problem(403, "forbidden");
    app.get(&their_path, &rep.token).await.expect(200);
    // A sales rep cannot give a lead away, nor create one for someone else.
    app.patch(&own_path, &rep.token, &json!({"owner_id": colleague.user_id})).await.expect_problem(403, "forbidden");
    app.post("/api/v1/leads", &rep.token, &json!({"last_name": "X", "owner_id": colleague.user_id}))
        .await
        .expect_problem(403, "forbidden");
    // Support agents read but do not write.
    app.post("/api/v1/leads", &support.token, &json!({"last_name": "X"})).await.expect_problem(403, "forbidden");
    app.get(&own_path, &support.token).await.expect(200);
    app.patch(&own_path, &support.token, &json!({"rating": "cold"})).await.expect_problem(403, "forbidden");
    // Managers reassign; the new owner may then change it and the old one may not.
    let moved = app.patch(&own_path, &manager.token, &json!({"owner_id": colleague.user_id})).await.expect(200);
    assert_eq!(moved.body["owner_id"].as_str(), Some(colleague.user_id.as_str()));
    app.patch(&own_path, &colleague.token, &json!({"rating": "cold"})).await.expect(200);
    app.patch(&own_path, &rep.token, &json!({"rating": "hot"})).await.expect_problem(403, "forbidden");
    // Only admins manage users.
    app.post(
        "/api/v1/users",
        &manager.token,
        &json!({"name": "X", "email": "x@example.com", "password": "0123456789", "role": "admin"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.patch(&format!("/api/v1/users/{}", rep.user_id), &manager.token, &json!({"role": "admin"}))
        .await
        .expect_problem(403, "forbidden");
    // A role change takes effect on the next request, with the same token.
    app.patch(&format!("/api/v1/users/{}", rep.user_id), &admin.token, &json!({"role": "manager"})).await.expect(200);
    app.patch(&their_path, &rep.token, &json!({"rating": "warm"})).await.expect(200);
}

async fn page_ids(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let reply = app.get(&format!("/api/v1/leads?{query}"), token).await.expect(200);
    reply.body["data"]
        .as_array()
        .map(|a| a.iter().map(|l| l["last_name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

async fn lists_filter_and_sort(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    app.create_lead(&admin, json!({"last_name": "Alpha", "company": "Zeta", "source": "web", "rating": "hot"})).await;
    let beta = app
        .create_lead(
            &admin,
            json!({"last_name": "Beta", "source": "referral", "rating": "cold", "status": "contacted"}),
        )
        .await;
    app.create_lead(&rep, json!({"last_name": "Gamma", "company": "Acme", "source": "web", "status": "qualified"}))
        .await;

    assert_eq!(page_ids(&app, &admin.token, "").await, ["Gamma", "Beta", "Alpha"], "default sort is newest first");
    assert_eq!(page_ids(&app, &admin.token, "sort=created_at").await, ["Alpha", "Beta", "Gamma"]);
    assert_eq!(page_ids(&app, &admin.token, "sort=-last_name").await, ["Gamma", "Beta", "Alpha"]);
    assert_eq!(
        page_ids(&app, &admin.token, "sort=company").await,
        ["Beta", "Gamma", "Alpha"],
        "no company sorts first"
    );
    assert_eq!(page_ids(&app, &admin.token, "status=new,contacted&sort=last_name").await, ["Alpha", "Beta"]);
    assert_eq!(page_ids(&app, &admin.token, "source=web&sort=last_name").await, ["Alpha", "Gamma"]);
    assert_eq!(page_ids(&app, &admin.token, "rating=cold").await, ["Beta"]);
    assert_eq!(page_ids(&app, &admin.token, &format!("owner_id={}", rep.user_id)).await, ["Gamma"]);
    let beta_created = beta["created_at"].as_str().unwrap_or_default().replace('+', "%2B");
    assert_eq!(page_ids(&app, &admin.token, &format!("created_after={beta_created}")).await, ["Gamma"]);
    assert_eq!(page_ids(&app, &admin.token, &format!("created_before={beta_created}")).await, ["Alpha"]);

    // Every unknown or invalid parameter is a 400 that names what is allowed.
    let unknown = app.get("/api/v1/leads?colour=red", &admin.token).await.expect_problem(400, "invalid_parameter");
    assert!(
        unknown.body["detail"].as_str().is_some_and(|d| d.contains("colour") && d.contains("status")),
        "{}",
        unknown.text
    );
    let bad_sort = app.get("/api/v1/leads?sort=password", &admin.token).await.expect_problem(400, "invalid_parameter");
    assert!(
        bad_sort.body["detail"].as_str().is_some_and(|d| d.contains("created_at, updated_at, last_name")),
        "{}",
        bad_sort.text
    );
    let bad_status =
        app.get("/api/v1/leads?status=new,won", &admin.token).await.expect_problem(400, "invalid_parameter");
    assert_eq!(bad_status.body["errors"][0]["field"], "status");
    for query in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "created_after=yesterday",
        "owner_id=abc",
        "archived=maybe",
        "cursor=bogus",
        "status=new&status=contacted",
    ] {
        let reply = app.get(&format!("/api/v1/leads?{query}"), &admin.token).await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.text);
    }
    app.get("/api/v1/leads?limit=200", &admin.token).await.expect(200);
}

async fn lists_search_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    app.create_lead(&admin, json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@engines.example"}))
        .await;
    app.create_lead(&admin, json!({"last_name": "Babbage", "company": "Difference ENGINES"})).await;
    app.create_lead(&admin, json!({"last_name": "Hopper", "company": "100% Navy_Corp"})).await;
    assert_eq!(page_ids(&app, &admin.token, "q=ENGINES&sort=last_name").await, ["Babbage", "Lovelace"]);
    assert_eq!(page_ids(&app, &admin.token, "q=ada").await, ["Lovelace"]);
    assert_eq!(page_ids(&app, &admin.token, "q=%25").await, ["Hopper"], "% is a literal, not a wildcard");
    assert_eq!(page_ids(&app, &admin.token, "q=y_c").await, ["Hopper"]);
    assert_eq!(page_ids(&app, &admin.token, "q=_").await, ["Hopper"]);
    assert!(page_ids(&app, &admin.token, "q=nobody").await.is_empty());
    // Each field is searched on its own: PostgreSQL's index joins them with U+0001, which a
    // needle cannot use to reach from one field into the next.
    assert!(page_ids(&app, &admin.token, "q=ada%01lovelace").await.is_empty());
    assert!(page_ids(&app, &admin.token, "q=lovelace%01").await.is_empty());
    // Beyond ASCII, case is ignored too (SQLite's FTS5 index folds it, as PostgreSQL's lower()
    // does under a UTF-8 ctype); accents are not.
    app.create_lead(&admin, json!({"last_name": "Zola", "company": "ÉCOLE Normale"})).await;
    assert_eq!(page_ids(&app, &admin.token, "q=%C3%A9cole").await, ["Zola"]);
    assert!(page_ids(&app, &admin.token, "q=ecole").await.is_empty());
}

/// `email` is an exact lookup for integrations: a comma-separated list of addresses, case
/// ignored, never a substring, within the caller's organisation, with the other filters.
async fn lists_find_leads_by_exact_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let other = app.signup("Rival", "rival@example.com").await;
    let ada = app.create_lead(&admin, json!({"last_name": "Lovelace", "email": "Ada@Engines.example"})).await;
    app.create_lead(&admin, json!({"last_name": "Byron", "email": "ada@engines.example.org"})).await;
    app.create_lead(&admin, json!({"last_name": "King", "email": "lady.ada@engines.example"})).await;
    app.create_lead(&admin, json!({"last_name": "Babbage", "email": "charles@engines.example", "status": "contacted"}))
        .await;
    app.create_lead(&admin, json!({"last_name": "Nobody"})).await;
    app.create_lead(&other, json!({"last_name": "Rival", "email": "ada@engines.example"})).await;

    assert_eq!(page_ids(&app, &admin.token, "email=ADA@engines.EXAMPLE").await, ["Lovelace"]);
    assert_eq!(
        page_ids(&app, &admin.token, "email=charles@engines.example,ada@engines.example&sort=last_name").await,
        ["Babbage", "Lovelace"]
    );
    assert_eq!(
        page_ids(&app, &admin.token, "email=charles@engines.example,ada@engines.example&status=new").await,
        ["Lovelace"]
    );
    assert!(page_ids(&app, &admin.token, "email=charles@engines.example&q=ada").await.is_empty());
    assert!(page_ids(&app, &admin.token, "email=engines.example%40x.example").await.is_empty());
    assert_eq!(page_ids(&app, &other.token, "email=ada@engines.example").await, ["Rival"]);

    app.delete(&format!("/api/v1/leads/{}", id_of(&ada)), &admin.token).await.expect(200);
    assert!(page_ids(&app, &admin.token, "email=ada@engines.example").await.is_empty());
    assert_eq!(page_ids(&app, &admin.token, "email=ada@engines.example&archived=only").await, ["Lovelace"]);

    let bad = app.get("/api/v1/leads?email=ada@engines.example,not-an-email", &admin.token).await;
    let bad = bad.expect_problem(400, "invalid_parameter");
    assert_eq!(
        bad.body["errors"],
        json!([{
            "field": "email", "code": "invalid_email", "message": "must be an email address such as ada@example.com"
        }])
    );
    let many = vec!["a@b.example"; 101].join(",");
    let too_many = app.get(&format!("/api/v1/leads?email={many}"), &admin.token).await;
    let too_many = too_many.expect_problem(400, "invalid_parameter");
    assert_eq!(too_many.body["errors"][0]["code"], "too_many_values");
    let hundred = vec!["a@b.example"; 100].join(",");
    assert!(page_ids(&app, &admin.token, &format!("email={hundred}")).await.is_empty());
    let long = format!("{}@engines.example,", "a".repeat(64)).repeat(26);
    let too_long = app.get(&format!("/api/v1/leads?email={long}"), &admin.token).await;
    assert_eq!(too_long.expect_problem(400, "invalid_parameter").body["errors"][0]["code"], "too_long");
}

/// Search reads an index on both backends (SQLite: an FTS5 trigram table kept by triggers;
/// PostgreSQL: trigram GIN indexes): renames, archives and other organisations must show through
/// it, FTS syntax in a needle is literal text, and paging behind a cursor works on the hits.
async fn search_follows_every_write_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let other = app.signup("Rival", "rival@example.com").await;
    let hopper =
        app.create_lead(&admin, json!({"first_name": "Grace", "last_name": "Hopper", "company": "Navy"})).await;
    app.create_lead(&other, json!({"first_name": "Grace", "last_name": "Hopper", "company": "Navy"})).await;
    assert_eq!(page_ids(&app, &admin.token, "q=HOPP").await, ["Hopper"], "the other organisation's lead is not found");

    let id = id_of(&hopper);
    app.send(
        Method::PATCH,
        &format!("/api/v1/leads/{id}"),
        Some(&admin.token),
        Some(&json!({"last_name": "Murray", "email": "grace@cobol.example"})),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect(200);
    assert!(page_ids(&app, &admin.token, "q=hopper").await.is_empty(), "the old name is gone from the index");
    assert_eq!(page_ids(&app, &admin.token, "q=murr").await, ["Murray"]);
    assert_eq!(page_ids(&app, &admin.token, "q=COBOL.ex").await, ["Murray"]);

    app.delete(&format!("/api/v1/leads/{id}"), &admin.token).await.expect(200);
    assert!(page_ids(&app, &admin.token, "q=murray").await.is_empty());
    assert_eq!(page_ids(&app, &admin.token, "q=murray&archived=only").await, ["Murray"]);

    // Quotes, operators and wildcards are text to find, never syntax.
    for needle in ["%22gr", "gr%22%22", "NOT%20navy", "navy%20OR%20x", "nav*", "(navy)", "a%3Ab"] {
        assert!(page_ids(&app, &admin.token, &format!("q={needle}")).await.is_empty(), "q={needle}");
    }
    app.create_lead(&admin, json!({"last_name": "Quote", "company": "Say \"hi\" Ltd"})).await;
    assert_eq!(page_ids(&app, &admin.token, "q=%22hi%22").await, ["Quote"]);

    for last_name in ["Widget A", "Widget B", "Widget C"] {
        app.create_lead(&admin, json!({"last_name": last_name, "company": "Widget Works"})).await;
    }
    let first = app.get("/api/v1/leads?q=widget%20works&limit=2&sort=last_name", &admin.token).await.expect(200);
    let names: Vec<&str> = first.body["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| l["last_name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["Widget A", "Widget B"]);
    let cursor = first.body["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert!(!cursor.is_empty(), "{}", first.text);
    assert_eq!(
        page_ids(&app, &admin.token, &format!("q=widget%20works&limit=2&sort=last_name&cursor={cursor}")).await,
        ["Widget C"]
    );
}

/// Each write of leads adds a segment to SQLite's search index, and every search looks its
/// trigrams up in each one; the server's upkeep merges them while searches keep their answers.
/// PostgreSQL has nothing to tidy, and its answers are checked the same way.
async fn search_finds_the_same_leads_after_the_index_is_tidied(backend: Backend) {
    let untidied = TestApp::spawn_with(backend, |s| s.search_upkeep = std::time::Duration::ZERO).await;
    let admin = untidied.signup("Acme", "ada@example.com").await;
    let sqlite = untidied.database_url.starts_with("sqlite:");
    let segments = || async {
        let pool = sqlx::SqlitePool::connect(&untidied.database_url).await.unwrap();
        let n: i64 =
            sqlx::query_scalar("SELECT count(DISTINCT segid) FROM leads_search_idx").fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    };
    let mut created = 0;
    while created < 12 || (sqlite && segments().await < 4) {
        assert!(created < 60, "writes stopped adding segments");
        untidied
            .create_lead(
                &admin,
                json!({"last_name": format!("Tidy {created:02}"), "email": format!("t{created}@tidy.example")}),
            )
            .await;
        created += 1;
    }
    let before = page_ids(&untidied, &admin.token, "q=tidy.exa&limit=100").await;
    assert_eq!(before.len(), created);
    assert_eq!(before.first().map(String::as_str), Some(format!("Tidy {:02}", created - 1).as_str()), "newest first");

    let tidying = untidied.spawn_beside(|s| s.search_upkeep = std::time::Duration::from_millis(50)).await;
    if sqlite {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while segments().await > 2 {
            assert!(std::time::Instant::now() < deadline, "the upkeep left {} segments", segments().await);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert_eq!(page_ids(&tidying, &admin.token, "q=tidy.exa&limit=100").await, before);
    for n in [0, created / 2, created - 1] {
        assert_eq!(page_ids(&tidying, &admin.token, &format!("q=t{n}@tidy")).await, [format!("Tidy {n:02}")]);
    }
}
