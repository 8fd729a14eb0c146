//! The competitor report against a fixture worked out by hand.

use reqwest::Method;
use serde_json::{Value, json};

use crate::competitors::{close, competitor, deal, put};
use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(the_competitor_report_matches_hand_computed_figures);

async fn product(app: &TestApp, admin: &Session, sku: &str, amount: i64, currency: &str) -> String {
    let body = json!({"name": sku, "sku": sku, "unit_price": {"amount": amount, "currency": currency}});
    id_of(&app.post("/api/v1/products", &admin.token, &body).await.expect(201).body)
}

async fn their_product(
    app: &TestApp,
    admin: &Session,
    competitor: &str,
    amount: i64,
    currency: &str,
    compared: Option<&str>,
) {
    let body =
        json!({"name": "Theirs", "price": {"amount": amount, "currency": currency}, "compared_product_id": compared});
    app.post(&format!("/api/v1/competitors/{competitor}/products"), &admin.token, &body).await.expect(201);
}

fn money(amount: i64, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

async fn the_competitor_report_matches_hand_computed_figures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let account = id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body);
    // Created out of name order: the report sorts by name.
    let beta = competitor(&app, &admin, json!({"name": "Beta"})).await;
    let alpha = competitor(&app, &admin, json!({"name": "Alpha"})).await;
    let delta = competitor(&app, &admin, json!({"name": "Delta"})).await;
    let gamma = competitor(&app, &admin, json!({"name": "Gamma"})).await;

    // Our price book: P1 EUR 100.00, P2 EUR 120.00, P3 USD 50.00, P4 EUR 0 (a free product).
    let p1 = product(&app, &admin, "P1", 10000, "EUR").await;
    let p2 = product(&app, &admin, "P2", 12000, "EUR").await;
    let p3 = product(&app, &admin, "P3", 5000, "USD").await;
    let p4 = product(&app, &admin, "P4", 0, "EUR").await;
    // Alpha: 9000 vs P1 → (9000 − 10000) / 10000 × 100 = −10 %; 13000 vs P2 → 1000 / 12000 × 100
    // = +8.3333 %; a USD price against P1 (EUR) and a product compared with nothing do not count.
    // Mean (−10 + 8.3333) / 2 = −0.8333 → −0.83 over 2 products.
    their_product(&app, &admin, &alpha, 9000, "EUR", Some(&p1)).await;
    their_product(&app, &admin, &alpha, 13000, "EUR", Some(&p2)).await;
    their_product(&app, &admin, &alpha, 100, "USD", Some(&p1)).await;
    their_product(&app, &admin, &alpha, 100, "EUR", None).await;
    // Beta: 5500 vs P3 → +10 %; against the free P4 there is no percentage. 10.0 over 1 product.
    their_product(&app, &admin, &beta, 5500, "USD", Some(&p3)).await;
    their_product(&app, &admin, &beta, 500, "EUR", Some(&p4)).await;

    // The deals (all owned by the admin but d6):
    // d1 EUR 10000, Alpha medium, closed lost to Alpha.
    let d1 = deal(&app, &admin, &account, Some(money(10000, "EUR"))).await;
    put(&app, &admin, &d1, &alpha, json!({"threat_level": "medium"})).await.expect(201);
    close(&app, &admin, &d1, json!({"outcome": "lost", "lost_to_competitor_id": alpha})).await.expect(200);
    // d2 USD 3000, Alpha low and Beta high, closed lost to Beta.
    let d2 = deal(&app, &admin, &account, Some(money(3000, "USD"))).await;
    put(&app, &admin, &d2, &alpha, json!({"threat_level": "low"})).await.expect(201);
    put(&app, &admin, &d2, &beta, json!({"threat_level": "high"})).await.expect(201);
    close(&app, &admin, &d2, json!({"outcome": "lost", "lost_to_competitor_id": beta})).await.expect(200);
    // d3 EUR 5000, Alpha, closed won.
    let d3 = deal(&app, &admin, &account, Some(money(5000, "EUR"))).await;
    put(&app, &admin, &d3, &alpha, json!({"threat_level": "low"})).await.expect(201);
    close(&app, &admin, &d3, json!({"outcome": "won"})).await.expect(200);
    // d4 EUR 7000, Alpha and Gamma, open; Gamma is archived afterwards and leaves the report.
    let d4 = deal(&app, &admin, &account, Some(money(7000, "EUR"))).await;
    put(&app, &admin, &d4, &alpha, json!({"threat_level": "high"})).await.expect(201);
    put(&app, &admin, &d4, &gamma, json!({"threat_level": "high"})).await.expect(201);
    // d5 without an amount, lost to Alpha, which joins it by that closing.
    let d5 = deal(&app, &admin, &account, None).await;
    close(&app, &admin, &d5, json!({"outcome": "lost", "lost_to_competitor_id": alpha})).await.expect(200);
    // d6 EUR 2000, the rep's, Beta, open.
    let d6 = deal(&app, &rep, &account, Some(money(2000, "EUR"))).await;
    put(&app, &rep, &d6, &beta, json!({"threat_level": "medium"})).await.expect(201);
    // d7 EUR 99999, Alpha, lost to Alpha, then archived: archived deals do not count.
    let d7 = deal(&app, &admin, &account, Some(money(99999, "EUR"))).await;
    close(&app, &admin, &d7, json!({"outcome": "lost", "lost_to_competitor_id": alpha})).await.expect(200);
    app.delete(&format!("/api/v1/opportunities/{d7}"), &admin.token).await.expect(200);
    // d8 USD 2500, lost to Alpha.
    let d8 = deal(&app, &admin, &account, Some(money(2500, "USD"))).await;
    close(&app, &admin, &d8, json!({"outcome": "lost", "lost_to_competitor_id": alpha})).await.expect(200);
    app.delete(&format!("/api/v1/competitors/{gamma}"), &admin.token).await.expect(200);

    // Alpha is in d1, d2, d3, d4, d5, d8 (d7 is archived): 6 deals; won d3; lost to it d1, d5,
    // d8 = 3, amounts EUR 10000 (d5 has none) and USD 2500; open d4.
    // Beta is in d2 and d6: 2 deals; won none; lost to it d2 = USD 3000; open d6.
    // Delta is in no deal and has no products.
    let report = app.get("/api/v1/reports/competitors", &rep.token).await.expect(200).body;
    assert_eq!(
        report["competitors"],
        json!([
            {"competitor_id": alpha, "name": "Alpha", "opportunities": 6, "won": 1, "lost": 3,
             "lost_amount": [money(10000, "EUR"), money(2500, "USD")], "open": 1,
             "price_gap": {"compared": 2, "average_percent": -0.83}},
            {"competitor_id": beta, "name": "Beta", "opportunities": 2, "won": 0, "lost": 1,
             "lost_amount": [money(3000, "USD")], "open": 1,
             "price_gap": {"compared": 1, "average_percent": 10.0}},
            {"competitor_id": delta, "name": "Delta", "opportunities": 0, "won": 0, "lost": 0,
             "lost_amount": [], "open": 0,
             "price_gap": {"compared": 0, "average_percent": null}},
        ])
    );

    // Only the rep's deals: d6, open, with Beta.
    let mine =
        app.get(&format!("/api/v1/reports/competitors?owner_id={}", rep.user_id), &admin.token).await.expect(200).body;
    let counts = |report: &Value| -> Vec<(i64, i64, i64, i64)> {
        report["competitors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let n = |f: &str| c[f].as_i64().unwrap_or(-1);
                        (n("opportunities"), n("won"), n("lost"), n("open"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(counts(&mine), vec![(0, 0, 0, 0), (1, 0, 0, 1), (0, 0, 0, 0)]);
    assert_eq!(mine["competitors"][0]["price_gap"]["compared"], 2, "the price gap ignores deal filters");
    // Nothing closed from tomorrow on: won and lost fall to zero, the deals stay.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let later =
        app.get(&format!("/api/v1/reports/competitors?closed_after={tomorrow}"), &admin.token).await.expect(200).body;
    assert_eq!(counts(&later), vec![(6, 0, 0, 1), (2, 0, 0, 1), (0, 0, 0, 0)]);
    assert_eq!(later["competitors"][0]["lost_amount"], json!([]));
    let today = chrono::Utc::now().date_naive();
    let window = app
        .get(&format!("/api/v1/reports/competitors?closed_after={today}&closed_before={today}"), &admin.token)
        .await
        .expect(200)
        .body;
    assert_eq!(window["competitors"], report["competitors"]);
    for query in ["closed_after=yesterday", "owner_id=x", "stage=open"] {
        app.get(&format!("/api/v1/reports/competitors?{query}"), &admin.token)
            .await
            .expect_problem(400, "invalid_parameter");
    }
    // Reopening a lost deal takes it out of `lost`: d8 is open again with Alpha.
    app.send(Method::POST, &format!("/api/v1/opportunities/{d8}/reopen"), Some(&admin.token), None, &[])
        .await
        .expect(200);
    let reopened = app.get("/api/v1/reports/competitors", &admin.token).await.expect(200).body;
    assert_eq!(counts(&reopened)[0], (6, 1, 2, 2));
    assert_eq!(reopened["competitors"][0]["lost_amount"], json!([money(10000, "EUR")]));
    // Another organisation sees only its own competitors.
    let globex = app.signup("Globex", "hank@globex.example").await;
    let theirs = app.get("/api/v1/reports/competitors", &globex.token).await.expect(200).body;
    assert_eq!(theirs["competitors"], json!([]));
}
