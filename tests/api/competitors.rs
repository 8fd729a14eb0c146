//! Competitors, their products priced against ours, and their place in deals.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    competitors_are_created_listed_edited_archived_and_audited,
    competitor_products_compare_with_our_price_book,
    deals_list_their_competitors_with_a_threat_level,
    a_deal_lost_to_a_competitor_names_it_until_reopened,
);

pub(crate) async fn competitor(app: &TestApp, session: &Session, body: Value) -> String {
    id_of(&app.post("/api/v1/competitors", &session.token, &body).await.expect(201).body)
}

pub(crate) fn names(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .map(|a| a.iter().map(|c| c["name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

pub(crate) async fn deal(app: &TestApp, session: &Session, account: &str, amount: Option<Value>) -> String {
    let mut body = json!({"name": "Deal", "account_id": account});
    if let Some(amount) = amount {
        body["amount"] = amount;
    }
    id_of(&app.post("/api/v1/opportunities", &session.token, &body).await.expect(201).body)
}

pub(crate) async fn put(
    app: &TestApp,
    session: &Session,
    deal: &str,
    competitor: &str,
    body: Value,
) -> crate::helpers::Reply {
    app.send(
        Method::PUT,
        &format!("/api/v1/opportunities/{deal}/competitors/{competitor}"),
        Some(&session.token),
        Some(&body),
        &[],
    )
    .await
}

pub(crate) async fn close(app: &TestApp, session: &Session, deal: &str, body: Value) -> crate::helpers::Reply {
    app.send(Method::POST, &format!("/api/v1/opportunities/{deal}/close"), Some(&session.token), Some(&body), &[]).await
}

async fn competitors_are_created_listed_edited_archived_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let created = app
        .send(
            Method::POST,
            "/api/v1/competitors",
            Some(&admin.token),
            Some(&json!({
                "name": "Babbage Engines", "website": "https://babbage.example", "strengths": "Cheap",
                "weaknesses": "No support", "notes": "Met at the fair", "custom_fields": {"region": "EMEA"}
            })),
            &[("Idempotency-Key", "first-competitor")],
        )
        .await
        .expect(201);
    let babbage = created.body.clone();
    let id = id_of(&babbage);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.header("location"), Some(format!("/api/v1/competitors/{id}").as_str()));
    assert_eq!(babbage["custom_fields"], json!({"region": "EMEA"}));
    assert_eq!((babbage["website"].as_str(), babbage["version"].as_i64()), (Some("https://babbage.example"), Some(1)));
    // A retry with the same key answers the same competitor and creates nothing.
    let replay = app
        .send(
            Method::POST,
            "/api/v1/competitors",
            Some(&admin.token),
            Some(&json!({
                "name": "Babbage Engines", "website": "https://babbage.example", "strengths": "Cheap",
                "weaknesses": "No support", "notes": "Met at the fair", "custom_fields": {"region": "EMEA"}
            })),
            &[("Idempotency-Key", "first-competitor")],
        )
        .await
        .expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(id_of(&replay.body), id);
    competitor(&app, &admin, json!({"name": "Analytical Co"})).await;
    let zuse = competitor(&app, &admin, json!({"name": "Zuse KG"})).await;
    let path = format!("/api/v1/competitors/{id}");
    assert_eq!(app.get(&path, &admin.token).await.expect(200).body, babbage);
    app.send(Method::GET, &path, Some(&admin.token), None, &[("If-None-Match", "\"1\"")]).await.expect(304);

    // Lists: name by default, created_at and descending sorts, search, cursor.
    let list = |query: &'static str| {
        let app = &app;
        let token = admin.token.clone();
        async move { app.get(&format!("/api/v1/competitors{query}"), &token).await.expect(200).body }
    };
    assert_eq!(names(&list("").await), ["Analytical Co", "Babbage Engines", "Zuse KG"]);
    assert_eq!(names(&list("?sort=-name").await), ["Zuse KG", "Babbage Engines", "Analytical Co"]);
    assert_eq!(names(&list("?sort=created_at").await), ["Babbage Engines", "Analytical Co", "Zuse KG"]);
    assert_eq!(names(&list("?sort=-created_at").await), ["Zuse KG", "Analytical Co", "Babbage Engines"]);
    assert_eq!(names(&list("?q=BABB").await), ["Babbage Engines"]);
    let first = list("?limit=2").await;
    assert_eq!(names(&first), ["Analytical Co", "Babbage Engines"]);
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    let rest = app.get(&format!("/api/v1/competitors?limit=2&cursor={cursor}"), &admin.token).await.expect(200).body;
    assert_eq!(names(&rest), ["Zuse KG"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    for bad in ["?sort=website", "?archived=maybe", "?owner_id=x"] {
        app.get(&format!("/api/v1/competitors{bad}"), &admin.token).await.expect_problem(400, "invalid_parameter");
    }

    // Edits: If-Match, clearing, validation.
    let updated = app
        .send(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(&json!({"weaknesses": "Slow support", "notes": null, "custom_fields": null})),
            &[("If-Match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(updated.header("etag"), Some("\"2\""));
    assert_eq!(
        (updated.body["weaknesses"].clone(), updated.body["notes"].clone(), updated.body["custom_fields"].clone()),
        (json!("Slow support"), Value::Null, json!({}))
    );
    app.send(Method::PATCH, &path, Some(&admin.token), Some(&json!({"notes": "x"})), &[("If-Match", "\"1\"")])
        .await
        .expect_problem(412, "precondition_failed");
    let invalid = app.patch(&path, &admin.token, &json!({"name": null, "website": ""})).await;
    let invalid = invalid.expect_problem(422, "validation_failed");
    assert_eq!(invalid.body["errors"].as_array().map(Vec::len), Some(2));
    app.post("/api/v1/competitors", &admin.token, &json!({"name": "X", "colour": "red"}))
        .await
        .expect_problem(422, "validation_failed");

    // Archive and restore; archived ones are listed on request only.
    let zuse_path = format!("/api/v1/competitors/{zuse}");
    app.delete(&zuse_path, &admin.token).await.expect(200);
    app.delete(&zuse_path, &admin.token).await.expect_problem(409, "competitor_archived");
    app.patch(&zuse_path, &admin.token, &json!({"notes": "x"})).await.expect_problem(409, "competitor_archived");
    assert_eq!(names(&list("").await), ["Analytical Co", "Babbage Engines"]);
    assert_eq!(names(&list("?archived=only").await), ["Zuse KG"]);
    assert_eq!(names(&list("?archived=true").await).len(), 3);
    app.send(Method::POST, &format!("{zuse_path}/restore"), Some(&admin.token), None, &[]).await.expect(200);
    app.send(Method::POST, &format!("{zuse_path}/restore"), Some(&admin.token), None, &[])
        .await
        .expect_problem(409, "competitor_not_archived");

    let events = app
        .get(&format!("/api/v1/audit-events?entity_type=competitor&entity_id={id}"), &admin.token)
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> =
        events["data"].as_array().map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect()).unwrap_or_default();
    assert_eq!(actions, ["update", "create"]);

    // Roles: every role reads; only managers and admins change competitors. Tenancy.
    let agent = app.add_user(&admin, "agent@example.com", "support_agent").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let manager = app.add_user(&admin, "manager@example.com", "manager").await;
    app.get(&path, &agent.token).await.expect(200);
    app.post("/api/v1/competitors", &agent.token, &json!({"name": "Nope"})).await.expect_problem(403, "forbidden");
    app.post("/api/v1/competitors", &rep.token, &json!({"name": "Nope"})).await.expect_problem(403, "forbidden");
    app.patch(&path, &rep.token, &json!({"notes": "x"})).await.expect_problem(403, "forbidden");
    app.delete(&path, &agent.token).await.expect_problem(403, "forbidden");
    competitor(&app, &manager, json!({"name": "Manager's pick"})).await;
    let globex = app.signup("Globex", "hank@globex.example").await;
    app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    assert_eq!(names(&app.get("/api/v1/competitors", &globex.token).await.expect(200).body).len(), 0);
}

async fn competitor_products_compare_with_our_price_book(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let engine = id_of(
        &app.post(
            "/api/v1/products",
            &admin.token,
            &json!({"name": "Engine", "sku": "ENG", "unit_price": {"amount": 10000, "currency": "EUR"}}),
        )
        .await
        .expect(201)
        .body,
    );
    let retired = id_of(
        &app.post(
            "/api/v1/products",
            &admin.token,
            &json!({"name": "Old", "sku": "OLD", "unit_price": {"amount": 1, "currency": "EUR"}}),
        )
        .await
        .expect(201)
        .body,
    );
    app.delete(&format!("/api/v1/products/{retired}"), &admin.token).await.expect(200);
    let babbage = competitor(&app, &admin, json!({"name": "Babbage"})).await;
    let products = format!("/api/v1/competitors/{babbage}/products");
    let mill = app
        .post(&products, &admin.token, &json!({"name": "Mill", "price": {"amount": 9000, "currency": "EUR"}, "compared_product_id": engine, "notes": "Cheaper"}))
        .await
        .expect(201);
    assert_eq!(mill.header("etag"), Some("\"1\""));
    let mill = mill.body;
    assert_eq!(mill["price"], json!({"amount": 9000, "currency": "EUR"}));
    assert_eq!(mill["compared_product_id"].as_str(), Some(engine.as_str()));
    assert_eq!(mill["competitor_id"].as_str(), Some(babbage.as_str()));
    app.post(&products, &admin.token, &json!({"name": "Store", "price": {"amount": 500, "currency": "USD"}}))
        .await
        .expect(201);
    // Unknown, archived and foreign compared products are refused, naming the field.
    let unknown = app
        .post(&products, &admin.token, &json!({"name": "X", "price": {"amount": 1, "currency": "EUR"}, "compared_product_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(unknown.body["errors"][0]["field"], "compared_product_id");
    assert_eq!(unknown.body["errors"][0]["code"], "unknown_product");
    let archived = app
        .post(
            &products,
            &admin.token,
            &json!({"name": "X", "price": {"amount": 1, "currency": "EUR"}, "compared_product_id": retired}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(archived.body["errors"][0]["code"], "product_archived");
    let invalid = app
        .post(&products, &admin.token, &json!({"name": "", "price": {"amount": -1, "currency": "eur"}}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(invalid.body["errors"].as_array().map(Vec::len), Some(2));

    // Listing: by name, by creation, search and the compared-product filter.
    let list = |query: String| {
        let app = &app;
        let token = admin.token.clone();
        let products = products.clone();
        async move { app.get(&format!("{products}{query}"), &token).await.expect(200).body }
    };
    assert_eq!(names(&list(String::new()).await), ["Mill", "Store"]);
    assert_eq!(names(&list("?sort=-name".to_owned()).await), ["Store", "Mill"]);
    assert_eq!(names(&list("?sort=-created_at".to_owned()).await), ["Store", "Mill"]);
    assert_eq!(names(&list("?q=sto".to_owned()).await), ["Store"]);
    assert_eq!(names(&list(format!("?compared_product_id={engine}")).await), ["Mill"]);
    let first = list("?limit=1".to_owned()).await;
    assert_eq!(names(&first), ["Mill"]);
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert_eq!(names(&list(format!("?limit=1&cursor={cursor}")).await), ["Store"]);
    app.get(&format!("{products}?compared_product_id=x"), &admin.token).await.expect_problem(400, "invalid_parameter");

    // Edits with If-Match; clearing the compared product.
    let mill_path = format!("{products}/{}", id_of(&mill));
    assert_eq!(app.get(&mill_path, &admin.token).await.expect(200).body, mill);
    let changed = app
        .send(
            Method::PATCH,
            &mill_path,
            Some(&admin.token),
            Some(&json!({"price": {"amount": 9500, "currency": "EUR"}, "compared_product_id": null})),
            &[("If-Match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    assert_eq!(
        (changed.body["compared_product_id"].clone(), changed.body["price"]["amount"].clone()),
        (Value::Null, json!(9500))
    );
    app.send(Method::PATCH, &mill_path, Some(&admin.token), Some(&json!({"notes": "x"})), &[("If-Match", "\"1\"")])
        .await
        .expect_problem(412, "precondition_failed");
    app.patch(&mill_path, &admin.token, &json!({"compared_product_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    app.patch(&mill_path, &admin.token, &json!({"price": null})).await.expect_problem(422, "validation_failed");

    // Roles and tenancy: a foreign or missing competitor is a 404, also for its products.
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    app.get(&mill_path, &rep.token).await.expect(200);
    app.patch(&mill_path, &rep.token, &json!({"notes": "x"})).await.expect_problem(403, "forbidden");
    app.delete(&mill_path, &rep.token).await.expect_problem(403, "forbidden");
    let globex = app.signup("Globex", "hank@globex.example").await;
    app.get(&products, &globex.token).await.expect_problem(404, "not_found");
    app.get(&mill_path, &globex.token).await.expect_problem(404, "not_found");
    app.post(&products, &globex.token, &json!({"name": "X", "price": {"amount": 1, "currency": "EUR"}}))
        .await
        .expect_problem(404, "not_found");
    let missing = format!("/api/v1/competitors/{}/products", uuid::Uuid::now_v7());
    app.post(&missing, &admin.token, &json!({"name": "X", "price": {"amount": 1, "currency": "EUR"}}))
        .await
        .expect_problem(404, "not_found");
    let other = competitor(&app, &admin, json!({"name": "Other"})).await;
    app.get(&format!("/api/v1/competitors/{other}/products/{}", id_of(&mill)), &admin.token)
        .await
        .expect_problem(404, "not_found");
    // Our product compared by another organisation's competitor is unknown there.
    let theirs = competitor(&app, &globex, json!({"name": "Theirs"})).await;
    app.post(
        &format!("/api/v1/competitors/{theirs}/products"),
        &globex.token,
        &json!({"name": "X", "price": {"amount": 1, "currency": "EUR"}, "compared_product_id": engine}),
    )
    .await
    .expect_problem(422, "validation_failed");

    // An archived competitor keeps its products but takes no new ones or edits.
    let archived_path = format!("/api/v1/competitors/{babbage}");
    app.delete(&archived_path, &admin.token).await.expect(200);
    app.post(&products, &admin.token, &json!({"name": "Late", "price": {"amount": 1, "currency": "EUR"}}))
        .await
        .expect_problem(409, "competitor_archived");
    app.patch(&mill_path, &admin.token, &json!({"notes": "x"})).await.expect_problem(409, "competitor_archived");
    app.send(Method::POST, &format!("{archived_path}/restore"), Some(&admin.token), None, &[]).await.expect(200);

    // Deleting is for good, and audited.
    app.send(Method::DELETE, &mill_path, Some(&admin.token), None, &[("If-Match", "\"1\"")])
        .await
        .expect_problem(412, "precondition_failed");
    app.delete(&mill_path, &admin.token).await.expect(204);
    app.get(&mill_path, &admin.token).await.expect_problem(404, "not_found");
    app.delete(&mill_path, &admin.token).await.expect_problem(404, "not_found");
    assert_eq!(names(&list(String::new()).await), ["Store"]);
    let events = app
        .get(&format!("/api/v1/audit-events?entity_type=competitor_product&entity_id={}", id_of(&mill)), &admin.token)
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> =
        events["data"].as_array().map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect()).unwrap_or_default();
    assert_eq!(actions, ["delete", "update", "create"]);
    assert_eq!(events["data"][0]["changes"][0], json!({"field": "competitor_id", "old": babbage, "new": null}));
}

async fn deals_list_their_competitors_with_a_threat_level(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let colleague = app.add_user(&admin, "colleague@example.com", "sales_rep").await;
    let agent = app.add_user(&admin, "agent@example.com", "support_agent").await;
    let account = id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body);
    let deal_id = deal(&app, &rep, &account, None).await;
    let babbage = competitor(&app, &admin, json!({"name": "Babbage"})).await;
    let zuse = competitor(&app, &admin, json!({"name": "Zuse"})).await;

    let added =
        put(&app, &rep, &deal_id, &babbage, json!({"threat_level": "low", "notes": "Early days"})).await.expect(201);
    assert_eq!((added.body["threat_level"].as_str(), added.body["notes"].as_str()), (Some("low"), Some("Early days")));
    let changed = put(&app, &rep, &deal_id, &babbage, json!({"threat_level": "medium"})).await.expect(200);
    assert_eq!((changed.body["threat_level"].as_str(), changed.body["notes"].clone()), (Some("medium"), Value::Null));
    assert_eq!(changed.body["created_at"], added.body["created_at"]);
    let same = put(&app, &rep, &deal_id, &babbage, json!({"threat_level": "medium"})).await.expect(200);
    assert_eq!(same.body, changed.body, "setting the same place again changes nothing");
    put(&app, &admin, &deal_id, &zuse, json!({"threat_level": "high"})).await.expect(201);
    let list = app.get(&format!("/api/v1/opportunities/{deal_id}/competitors"), &agent.token).await.expect(200).body;
    let summary: Vec<(String, String)> = list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    (
                        l["competitor_id"].as_str().unwrap_or_default().to_owned(),
                        l["threat_level"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        summary,
        vec![(zuse.clone(), "high".to_owned()), (babbage.clone(), "medium".to_owned())],
        "highest threat first"
    );

    // Deals are listed by the competitors they track: any of a list, each deal once.
    let other_deal = deal(&app, &rep, &account, None).await;
    deal(&app, &rep, &account, None).await;
    put(&app, &rep, &other_deal, &zuse, json!({"threat_level": "low"})).await.expect(201);
    let deals = |query: String| {
        let app = &app;
        let token = admin.token.clone();
        async move {
            let body = app.get(&format!("/api/v1/opportunities?{query}"), &token).await.expect(200).body;
            let mut ids: Vec<String> =
                body["data"].as_array().map(|a| a.iter().map(id_of).collect()).unwrap_or_default();
            ids.sort();
            ids
        }
    };
    let mut both = vec![deal_id.clone(), other_deal.clone()];
    both.sort();
    assert_eq!(deals(format!("competitor_id={babbage}")).await, [deal_id.as_str()]);
    assert_eq!(deals(format!("competitor_id={zuse}")).await, both);
    assert_eq!(deals(format!("competitor_id={babbage},{zuse}")).await, both);
    assert_eq!(deals(format!("competitor_id={babbage}&account_id={account}")).await, [deal_id.as_str()]);
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{account}/opportunities"), &admin.token).await.expect(200).body["data"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert!(deals(format!("competitor_id={}", uuid::Uuid::now_v7())).await.is_empty());
    app.get("/api/v1/opportunities?competitor_id=babbage", &admin.token).await.expect_problem(400, "invalid_parameter");

    // Bad input, unknown and foreign records.
    put(&app, &rep, &deal_id, &babbage, json!({"threat_level": "severe"}))
        .await
        .expect_problem(422, "validation_failed");
    put(&app, &rep, &deal_id, &uuid::Uuid::now_v7().to_string(), json!({"threat_level": "low"}))
        .await
        .expect_problem(404, "not_found");
    put(&app, &rep, &uuid::Uuid::now_v7().to_string(), &babbage, json!({"threat_level": "low"}))
        .await
        .expect_problem(404, "not_found");
    let globex = app.signup("Globex", "hank@globex.example").await;
    let foreign = competitor(&app, &globex, json!({"name": "Foreign"})).await;
    put(&app, &rep, &deal_id, &foreign, json!({"threat_level": "low"})).await.expect_problem(404, "not_found");
    app.get(&format!("/api/v1/opportunities/{deal_id}/competitors"), &globex.token)
        .await
        .expect_problem(404, "not_found");
    let theirs = app.get(&format!("/api/v1/opportunities?competitor_id={zuse}"), &globex.token).await.expect(200);
    assert_eq!(theirs.body["data"], json!([]), "another organisation's deals are not listed by our competitor");

    // Whoever may update the deal may change its competitors: not a colleague, not an agent.
    put(&app, &colleague, &deal_id, &babbage, json!({"threat_level": "high"})).await.expect_problem(403, "forbidden");
    put(&app, &agent, &deal_id, &babbage, json!({"threat_level": "high"})).await.expect_problem(403, "forbidden");
    let delete = |session: &Session, competitor: &str| {
        let path = format!("/api/v1/opportunities/{deal_id}/competitors/{competitor}");
        let token = session.token.clone();
        let app = &app;
        async move { app.send(Method::DELETE, &path, Some(&token), None, &[]).await }
    };
    delete(&colleague, &zuse).await.expect_problem(403, "forbidden");

    // An archived competitor joins no deal; one already in a deal stays listed.
    let old = competitor(&app, &admin, json!({"name": "Old"})).await;
    app.delete(&format!("/api/v1/competitors/{old}"), &admin.token).await.expect(200);
    put(&app, &rep, &deal_id, &old, json!({"threat_level": "low"})).await.expect_problem(409, "competitor_archived");

    delete(&rep, &zuse).await.expect(204);
    delete(&rep, &zuse).await.expect_problem(404, "not_found");
    let list = app.get(&format!("/api/v1/opportunities/{deal_id}/competitors"), &admin.token).await.expect(200).body;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));

    // Each change is an audit event of the opportunity.
    let events = app
        .get(&format!("/api/v1/audit-events?entity_type=opportunity&entity_id={deal_id}"), &admin.token)
        .await
        .expect(200)
        .body;
    assert_eq!(events["data"][0]["changes"][0]["field"], format!("competitors.{zuse}"));
    assert_eq!(events["data"][0]["changes"][0]["old"], json!({"threat_level": "high", "notes": null}));
    assert_eq!(events["data"][0]["changes"][0]["new"], Value::Null);
    assert_eq!(events["data"][2]["changes"][0]["new"], json!({"threat_level": "medium", "notes": null}));

    // An archived deal refuses changes to its competitors.
    app.delete(&format!("/api/v1/opportunities/{deal_id}"), &admin.token).await.expect(200);
    put(&app, &admin, &deal_id, &babbage, json!({"threat_level": "low"}))
        .await
        .expect_problem(409, "opportunity_archived");
    delete(&admin, &babbage).await.expect_problem(409, "opportunity_archived");
}

async fn a_deal_lost_to_a_competitor_names_it_until_reopened(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body);
    let eur = json!({"amount": 1000, "currency": "EUR"});
    let deal_id = deal(&app, &admin, &account, Some(eur.clone())).await;
    let babbage = competitor(&app, &admin, json!({"name": "Babbage"})).await;
    let zuse = competitor(&app, &admin, json!({"name": "Zuse"})).await;
    let old = competitor(&app, &admin, json!({"name": "Old"})).await;
    app.delete(&format!("/api/v1/competitors/{old}"), &admin.token).await.expect(200);
    let globex = app.signup("Globex", "hank@globex.example").await;
    let foreign = competitor(&app, &globex, json!({"name": "Foreign"})).await;

    // Refusals: not with a win; only active competitors of the organisation.
    let won = close(&app, &admin, &deal_id, json!({"outcome": "won", "lost_to_competitor_id": babbage}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(won.body["errors"][0]["field"], "lost_to_competitor_id");
    assert_eq!(won.body["errors"][0]["code"], "only_when_lost");
    for unknown in [uuid::Uuid::now_v7().to_string(), old.clone(), foreign.clone()] {
        let reply = close(&app, &admin, &deal_id, json!({"outcome": "lost", "lost_to_competitor_id": unknown}))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(reply.body["errors"][0]["field"], "lost_to_competitor_id");
        assert_eq!(reply.body["errors"][0]["code"], "unknown_competitor");
    }
    close(&app, &admin, &deal_id, json!({"outcome": "lost", "lost_to_competitor_id": "nope"}))
        .await
        .expect_problem(422, "validation_failed");
    let unchanged = app.get(&format!("/api/v1/opportunities/{deal_id}"), &admin.token).await.expect(200).body;
    assert_eq!((unchanged["stage"].as_str(), unchanged["version"].as_i64()), (Some("prospecting"), Some(1)));

    // Zuse is already in the deal as a low threat and stays so; Babbage joins as a high threat.
    put(&app, &admin, &deal_id, &zuse, json!({"threat_level": "low"})).await.expect(201);
    let lost =
        close(&app, &admin, &deal_id, json!({"outcome": "lost", "reason": "Price", "lost_to_competitor_id": babbage}))
            .await
            .expect(200)
            .body;
    assert_eq!(
        (lost["stage"].as_str(), lost["lost_to_competitor_id"].as_str()),
        (Some("closed_lost"), Some(babbage.as_str()))
    );
    let links = app.get(&format!("/api/v1/opportunities/{deal_id}/competitors"), &admin.token).await.expect(200).body;
    assert_eq!(links["data"][0]["competitor_id"].as_str(), Some(babbage.as_str()));
    assert_eq!(links["data"][0]["threat_level"], "high");
    assert_eq!(links["data"][1]["threat_level"], "low");
    let events = app
        .get(&format!("/api/v1/audit-events?entity_type=opportunity&entity_id={deal_id}&limit=1"), &admin.token)
        .await
        .expect(200)
        .body;
    let fields: Vec<&str> = events["data"][0]["changes"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(fields.contains(&"lost_to_competitor_id"), "{fields:?}");
    assert!(fields.contains(&format!("competitors.{babbage}").as_str()), "{fields:?}");
    // The competitor a deal was lost to stays in it until the deal is reopened.
    let remove = format!("/api/v1/opportunities/{deal_id}/competitors/{babbage}");
    app.delete(&remove, &admin.token).await.expect_problem(409, "lost_to_competitor");
    let reopened = app
        .send(Method::POST, &format!("/api/v1/opportunities/{deal_id}/reopen"), Some(&admin.token), None, &[])
        .await
        .expect(200)
        .body;
    assert_eq!(reopened["lost_to_competitor_id"], Value::Null);
    app.delete(&remove, &admin.token).await.expect(204);

    // A competitor already in the deal keeps its threat level when the deal is lost to it.
    let lost =
        close(&app, &admin, &deal_id, json!({"outcome": "lost", "lost_to_competitor_id": zuse})).await.expect(200).body;
    assert_eq!(lost["lost_to_competitor_id"].as_str(), Some(zuse.as_str()));
    let links = app.get(&format!("/api/v1/opportunities/{deal_id}/competitors"), &admin.token).await.expect(200).body;
    assert_eq!(links["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(links["data"][0]["threat_level"], "low");
    // A plain loss names no competitor.
    app.send(Method::POST, &format!("/api/v1/opportunities/{deal_id}/reopen"), Some(&admin.token), None, &[])
        .await
        .expect(200);
    let plain = close(&app, &admin, &deal_id, json!({"outcome": "lost"})).await.expect(200).body;
    assert_eq!(plain["lost_to_competitor_id"], Value::Null);
}
