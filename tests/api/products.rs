//! Products: the price book, with SKUs unique in the organisation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(the_price_book_keeps_unique_skus_and_exact_tax_rates);

async fn the_price_book_keeps_unique_skus_and_exact_tax_rates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let created = app
        .post("/api/v1/products", &admin.token, &json!({"name": "Difference Engine", "sku": "ENG-001", "unit_price": {"amount": 1250000, "currency": "GBP"}, "tax_rate": 5.5, "custom_fields": {"warranty_years": 2}}))
        .await
        .expect(201);
    let product = created.body.clone();
    assert_eq!(product["tax_rate"], 5.5);
    assert_eq!(product["active"], true);
    assert_eq!(product["custom_fields"], json!({"warranty_years": 2}));
    assert_eq!(product["unit_price"], json!({"amount": 1250000, "currency": "GBP"}));
    let id = id_of(&product);
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), &admin.token).await.expect(200).body, product);
    let taken = app
        .post(
            "/api/v1/products",
            &admin.token,
            &json!({"name": "Copy", "sku": "ENG-001", "unit_price": {"amount": 1, "currency": "GBP"}}),
        )
        .await
        .expect_problem(409, "duplicate");
    assert_eq!(taken.body["existing_id"].as_str(), Some(id.as_str()));
    let invalid = app
        .post("/api/v1/products", &admin.token, &json!({"name": "X", "sku": "has space", "unit_price": {"amount": -1, "currency": "GBP"}, "tax_rate": 5.555}))
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<&str> = invalid.body["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    fields.sort_unstable();
    assert_eq!(fields, ["sku", "tax_rate", "unit_price.amount"]);
    let other = app
        .post(
            "/api/v1/products",
            &admin.token,
            &json!({"name": "Analytical Engine", "sku": "ENG-002", "unit_price": {"amount": 9900, "currency": "EUR"}}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!((&other["tax_rate"], &other["custom_fields"]), (&json!(0.0), &json!({})));
    let path = format!("/api/v1/products/{}", id_of(&other));
    app.patch(&path, &admin.token, &json!({"sku": "ENG-001"})).await.expect_problem(409, "duplicate");
    let updated = app
        .patch(&path, &admin.token, &json!({"active": false, "tax_rate": 19.99, "custom_fields": {"colour": "brass"}}))
        .await
        .expect(200);
    assert_eq!(updated.body["custom_fields"], json!({"colour": "brass"}));
    assert_eq!((updated.body["active"].clone(), updated.body["tax_rate"].clone()), (json!(false), json!(19.99)));
    let names = |body: &Value| {
        body["data"]
            .as_array()
            .map(|a| a.iter().map(|p| p["sku"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(names(&app.get("/api/v1/products?active=true", &admin.token).await.expect(200).body), ["ENG-001"]);
    assert_eq!(names(&app.get("/api/v1/products?currency=EUR", &admin.token).await.expect(200).body), ["ENG-002"]);
    assert_eq!(names(&app.get("/api/v1/products?q=analytical", &admin.token).await.expect(200).body), ["ENG-002"]);
    assert_eq!(
        names(&app.get("/api/v1/products?sort=-sku", &admin.token).await.expect(200).body),
        ["ENG-002", "ENG-001"]
    );
    app.get("/api/v1/products?currency=eur", &admin.token).await.expect_problem(400, "invalid_parameter");
    app.delete(&path, &admin.token).await.expect(200);
    app.send(Method::POST, &format!("{path}/restore"), Some(&admin.token), None, &[]).await.expect(200);
    // Sales reps read the price book but do not change it; another organisation sees nothing.
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    app.get(&path, &rep.token).await.expect(200);
    app.patch(&path, &rep.token, &json!({"active": true})).await.expect_problem(403, "forbidden");
    app.post(
        "/api/v1/products",
        &rep.token,
        &json!({"name": "X", "sku": "X", "unit_price": {"amount": 1, "currency": "EUR"}}),
    )
    .await
    .expect_problem(403, "forbidden");
    let globex = app.signup("Globex", "hank@globex.example").await;
    app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    // Another organisation may use the same SKU.
    app.post(
        "/api/v1/products",
        &globex.token,
        &json!({"name": "Theirs", "sku": "ENG-001", "unit_price": {"amount": 1, "currency": "EUR"}}),
    )
    .await
    .expect(201);
}
