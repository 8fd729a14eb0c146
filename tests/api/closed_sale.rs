//! The closed sale through HTTP: a quote with several lines priced by the rounding rule, sent and
//! accepted into an order that wins the deal, the order fulfilled and delivered, invoiced, and
//! paid in two payments.

use crm_domain::quote::Quote;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;
use chrono::{Days, Utc};
use crm_domain::audit::{AuditAction, AuditContext};
use crm_persistence::{Database, PoolSettings};
use uuid::Uuid;

on_both_backends!(
    a_quote_becomes_an_order_an_invoice_and_two_payments,
    quotes_refuse_what_the_rules_forbid,
    concurrent_quotes_never_share_a_number,
    document_lists_filter_and_sort,
    an_order_of_its_own_takes_the_deal_s_buyers,
    the_whole_sale_from_a_lead_to_a_paid_invoice,
    dated_states_change_the_etag,
);

fn field_codes(body: &Value) -> Vec<(String, String)> {
    let mut errors: Vec<(String, String)> = body["errors"]
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
    errors.sort();
    errors
}

fn numbers(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .map(|a| a.iter().map(|d| d["number"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

async fn post_empty(app: &TestApp, path: &str, session: &Session) -> crate::helpers::Reply {
    app.send(Method::POST, path, Some(&session.token), None, &[]).await
}

/// An account with a shipping address, a product and an open deal worth 1,000.00 EUR.
async fn deal(app: &TestApp, admin: &Session) -> (Value, Value, Value) {
    let account = app
        .post(
            "/api/v1/accounts",
            &admin.token,
            &json!({"name": "Analytical Engines Ltd", "shipping_address": {"street": "1 Dock Road", "city": "Leith", "country": "GB"}}),
        )
        .await
        .expect(201)
        .body;
    let product = app
        .post(
            "/api/v1/products",
            &admin.token,
            &json!({"name": "Installation", "sku": "INST-1", "unit_price": {"amount": 1999, "currency": "EUR"}, "tax_rate": 19}),
        )
        .await
        .expect(201)
        .body;
    let opportunity = app
        .post(
            "/api/v1/opportunities",
            &admin.token,
            &json!({"name": "Engines", "account_id": id_of(&account), "amount": {"amount": 100000, "currency": "EUR"}, "stage": "proposal"}),
        )
        .await
        .expect(201)
        .body;
    (account, product, opportunity)
}

/// The three lines of the rounding rule's worked example (see crm_domain::lines):
/// 3 × 19.99 − 10% + 19% tax; 1.5 × 0.33 + 5.5% tax; 2.125 × 4.00 − 12.5%.
fn three_lines(product_id: &str) -> Value {
    json!([
        {"product_id": product_id, "quantity": 3, "discount_percent": 10},
        {"description": "Cables (m)", "quantity": 1.5, "unit_price": 33, "tax_rate": 5.5},
        {"description": "Brackets", "quantity": 2.125, "unit_price": 400, "discount_percent": 12.5}
    ])
}

async fn a_quote_becomes_an_order_an_invoice_and_two_payments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, product, opportunity) = deal(&app, &admin).await;
    let opportunity_id = id_of(&opportunity);

    // Line 1: 3 × 19.99 = 59.97; 10% = 5.997 → 6.00; 19% of 53.97 = 10.2543 → 10.25; 64.22.
    // Line 2: 1.5 × 0.33 = 0.495 → 0.50; 5.5% of 0.50 = 0.0275 → 0.03; 0.53.
    // Line 3: 2.125 × 4.00 = 8.50; 12.5% = 1.0625 → 1.06; no tax; 7.44.
    // Totals: subtotal 68.97, discounts 7.06, tax 10.28, total 72.19.
    let created = app
        .post(
            "/api/v1/quotes",
            &admin.token,
            &json!({"opportunity_id": opportunity_id, "valid_until": "2099-12-31", "line_items": three_lines(&id_of(&product))}),
        )
        .await
        .expect(201);
    let quote = created.body.clone();
    assert_eq!(created.header("location"), Some(format!("/api/v1/quotes/{}", id_of(&quote)).as_str()));
    assert_eq!(quote["number"], "Q-000001");
    assert_eq!(quote["status"], "draft");
    assert_eq!(quote["currency"], "EUR", "the deal's currency");
    assert_eq!(quote["account_id"], account["id"]);
    assert_eq!(
        (&quote["subtotal"], &quote["discount_total"], &quote["tax_total"], &quote["total"]),
        (&json!(6897), &json!(706), &json!(1028), &json!(7219))
    );
    let first = &quote["line_items"][0];
    assert_eq!(first["description"], "Installation", "the product's name");
    assert_eq!((&first["unit_price"], &first["tax_rate"]), (&json!(1999), &json!(19.0)));
    assert_eq!(
        (&first["subtotal"], &first["discount"], &first["tax"], &first["total"]),
        (&json!(5997), &json!(600), &json!(1025), &json!(6422))
    );
    assert_eq!(quote["line_items"][1]["quantity"], 1.5);
    assert_eq!(quote["line_items"][2]["total"], 744);
    let path = format!("/api/v1/quotes/{}", id_of(&quote));
    assert_eq!(app.get(&path, &admin.token).await.expect(200).body, quote);

    // Drafts change; a sent quote does not.
    let edited = app.patch(&path, &admin.token, &json!({"notes": "Prices include installation"})).await.expect(200);
    assert_eq!(edited.body["version"], 2);
    let sent = post_empty(&app, &format!("{path}/send"), &admin).await.expect(200);
    assert_eq!(sent.body["status"], "sent");
    assert!(sent.body["sent_at"].is_string());
    app.patch(&path, &admin.token, &json!({"notes": "late"})).await.expect_problem(409, "quote_not_draft");

    let accepted = post_empty(&app, &format!("{path}/accept"), &admin).await.expect(200);
    let order = accepted.body["order"].clone();
    assert_eq!(accepted.body["quote"]["status"], "accepted");
    assert_eq!(accepted.body["quote"]["order_id"], order["id"]);
    assert_eq!(order["number"], "SO-000001");
    assert_eq!(order["status"], "pending");
    assert_eq!((&order["total"], &order["currency"]), (&json!(7219), &json!("EUR")));
    assert_eq!(order["line_items"], quote["line_items"]);
    assert_eq!(order["quote_id"], quote["id"]);
    assert_eq!(order["opportunity_id"], opportunity["id"]);
    assert_eq!(order["shipping_address"]["city"], "Leith", "the account's shipping address");
    post_empty(&app, &format!("{path}/accept"), &admin).await.expect_problem(409, "quote_not_sent");

    // The deal closed won with the quote's total, and the stage history says so.
    let won = app.get(&format!("/api/v1/opportunities/{opportunity_id}"), &admin.token).await.expect(200).body;
    assert_eq!(won["stage"], "closed_won");
    assert_eq!(won["amount"], json!({"amount": 7219, "currency": "EUR"}));
    let history =
        app.get(&format!("/api/v1/opportunities/{opportunity_id}/stage-history"), &admin.token).await.expect(200).body;
    let last = history["data"].as_array().and_then(|h| h.last()).cloned().unwrap_or_default();
    assert_eq!((&last["to_stage"], &last["amount"]["amount"]), (&json!("closed_won"), &json!(7219)));

    // The order moves one step at a time.
    let order_path = format!("/api/v1/orders/{}", id_of(&order));
    post_empty(&app, &format!("{order_path}/fulfill"), &admin).await.expect_problem(409, "invalid_transition");
    post_empty(&app, &format!("{order_path}/confirm"), &admin).await.expect(200);
    let fulfilled = post_empty(&app, &format!("{order_path}/fulfill"), &admin).await.expect(200).body;
    assert_eq!(fulfilled["status"], "fulfilled");
    assert!(fulfilled["fulfilled_at"].is_string());
    app.patch(&order_path, &admin.token, &json!({"shipping_address": {"city": "Perth"}}))
        .await
        .expect_problem(409, "order_shipped");
    post_empty(&app, &format!("{order_path}/cancel"), &admin).await.expect_problem(409, "invalid_transition");
    let delivered = post_empty(&app, &format!("{order_path}/deliver"), &admin).await.expect(200).body;
    assert_eq!((&delivered["status"], &delivered["version"]), (&json!("delivered"), &json!(4)));

    // Invoiced once, from the order as it was read: a stale If-Match is refused and invoices nothing.
    app.send(Method::POST, &format!("{order_path}/invoice"), Some(&admin.token), None, &[("if-match", "\"3\"")])
        .await
        .expect_problem(412, "precondition_failed");
    let invoice = app
        .send(Method::POST, &format!("{order_path}/invoice"), Some(&admin.token), None, &[("if-match", "\"4\"")])
        .await
        .expect(201)
        .body;
    assert_eq!(
        (&invoice["number"], &invoice["status"], &invoice["total"]),
        (&json!("INV-000001"), &json!("draft"), &json!(7219))
    );
    assert_eq!((&invoice["order_id"], &invoice["balance_due"]), (&order["id"], &json!(7219)));
    let again =
        post_empty(&app, &format!("{order_path}/invoice"), &admin).await.expect_problem(409, "already_invoiced");
    assert_eq!(again.body["existing_id"], invoice["id"]);
    let invoice_path = format!("/api/v1/invoices/{}", id_of(&invoice));
    let payments = format!("{invoice_path}/payments");
    let pay = |amount: i64, currency: &str| json!({"amount": {"amount": amount, "currency": currency}, "method": "bank_transfer", "paid_at": "2026-11-20T10:00:00Z"});
    app.post(&payments, &admin.token, &pay(100, "EUR")).await.expect_problem(409, "invoice_not_issued");

    // Issued with a due date already past: overdue until paid.
    let issued = app
        .post(
            &format!("{invoice_path}/issue"),
            &admin.token,
            &json!({"issue_date": "2026-11-01", "due_date": "2026-11-15"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!((&issued["status"], &issued["overdue"]), (&json!("issued"), &json!(true)));
    assert_eq!(numbers(&app.get("/api/v1/invoices?overdue=true", &admin.token).await.expect(200).body), ["INV-000001"]);
    app.patch(&invoice_path, &admin.token, &json!({"due_date": "2026-12-31"}))
        .await
        .expect_problem(409, "invoice_not_draft");

    let receipt = app.post(&payments, &admin.token, &pay(3000, "EUR")).await.expect(201).body;
    assert_eq!((&receipt["invoice"]["amount_paid"], &receipt["invoice"]["balance_due"]), (&json!(3000), &json!(4219)));
    assert_eq!(receipt["invoice"]["status"], "issued");
    let over = app.post(&payments, &admin.token, &pay(4220, "EUR")).await.expect_problem(409, "overpayment");
    assert!(over.body["detail"].as_str().unwrap_or_default().contains("4219"));
    let usd = app.post(&payments, &admin.token, &pay(100, "USD")).await.expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&usd.body), [("amount.currency".to_owned(), "currency_mismatch".to_owned())]);
    app.post(&payments, &admin.token, &pay(0, "EUR")).await.expect_problem(422, "validation_failed");
    let paid = app.post(&payments, &admin.token, &pay(4219, "EUR")).await.expect(201).body["invoice"].clone();
    assert_eq!((&paid["status"], &paid["balance_due"], &paid["overdue"]), (&json!("paid"), &json!(0), &json!(false)));
    assert_eq!(paid["paid_at"], "2026-11-20T10:00:00.000000Z");
    let listed = app.get(&payments, &admin.token).await.expect(200).body;
    let amounts: Vec<&Value> =
        listed["data"].as_array().map(|a| a.iter().map(|p| &p["amount"]["amount"]).collect()).unwrap_or_default();
    assert_eq!(amounts, [&json!(3000), &json!(4219)]);
    let first = app.get(&format!("{payments}?limit=1"), &admin.token).await.expect(200).body;
    assert_eq!(first["data"][0]["amount"]["amount"], 3000);
    let cursor = first["next_cursor"].as_str().unwrap_or_else(|| panic!("no next page: {first}")).to_owned();
    let second = app.get(&format!("{payments}?limit=1&cursor={cursor}"), &admin.token).await.expect(200).body;
    assert_eq!((&second["data"][0]["amount"]["amount"], &second["next_cursor"]), (&json!(4219), &Value::Null));
    post_empty(&app, &format!("{invoice_path}/void"), &admin).await.expect_problem(409, "invoice_has_payments");
    app.post(&payments, &admin.token, &pay(1, "EUR")).await.expect_problem(409, "invoice_not_issued");

    // Every step is in the audit trail.
    let events =
        app.get(&format!("/api/v1/audit-events?entity_id={}", id_of(&invoice)), &admin.token).await.expect(200).body;
    assert_eq!(events["data"].as_array().map(Vec::len), Some(4), "create, issue, two payments");
}

async fn quotes_refuse_what_the_rules_forbid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (_, product, opportunity) = deal(&app, &admin).await;
    let opportunity_id = id_of(&opportunity);
    let usd_product = app
        .post(
            "/api/v1/products",
            &admin.token,
            &json!({"name": "Crate", "sku": "CRATE", "unit_price": {"amount": 500, "currency": "USD"}}),
        )
        .await
        .expect(201)
        .body;
    let quote_with = |lines: Value| json!({"opportunity_id": opportunity_id, "line_items": lines});

    let invalid = app
        .post(
            "/api/v1/quotes",
            &admin.token,
            &quote_with(json!([
                {"product_id": id_of(&usd_product), "quantity": 1},
                {"product_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "quantity": 1},
                {"description": "No price", "quantity": 1},
                {"unit_price": 100, "quantity": 1}
            ])),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        field_codes(&invalid.body),
        [
            ("line_items[0].unit_price", "currency_mismatch"),
            ("line_items[1].product_id", "unknown_reference"),
            ("line_items[2].unit_price", "required"),
            ("line_items[3].description", "required"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let too_fine = app
        .post(
            "/api/v1/quotes",
            &admin.token,
            &quote_with(json!([{"description": "Ok", "quantity": 1, "unit_price": 1}, {"description": "Too fine", "quantity": 1.0005, "unit_price": 1, "discount_percent": 5.555}])),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        field_codes(&too_fine.body),
        [("line_items[1].discount_percent", "too_precise"), ("line_items[1].quantity", "too_precise")]
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    // The product's price in another currency is fine when the line names its own.
    app.post(
        "/api/v1/quotes",
        &admin.token,
        &quote_with(json!([{"product_id": id_of(&usd_product), "quantity": 2, "unit_price": 450}])),
    )
    .await
    .expect(201);
    let unknown = app
        .post("/api/v1/quotes", &admin.token, &json!({"opportunity_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&unknown.body), [("opportunity_id".to_owned(), "unknown_reference".to_owned())]);
    let no_amount = app
        .post(
            "/api/v1/opportunities",
            &admin.token,
            &json!({"name": "Unpriced", "account_id": opportunity["account_id"]}),
        )
        .await
        .expect(201)
        .body;
    let no_currency = app
        .post("/api/v1/quotes", &admin.token, &json!({"opportunity_id": id_of(&no_amount)}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&no_currency.body), [("currency".to_owned(), "required".to_owned())]);

    // An empty draft cannot be sent; an expired validity cannot be sent.
    let empty = app.post("/api/v1/quotes", &admin.token, &quote_with(json!([]))).await.expect(201).body;
    let empty_path = format!("/api/v1/quotes/{}", id_of(&empty));
    post_empty(&app, &format!("{empty_path}/send"), &admin).await.expect_problem(409, "quote_empty");
    app.patch(
        &empty_path,
        &admin.token,
        &json!({"valid_until": "2020-01-31", "line_items": [{"product_id": id_of(&product), "quantity": 1}]}),
    )
    .await
    .expect(200);
    post_empty(&app, &format!("{empty_path}/send"), &admin).await.expect_problem(409, "quote_expired");
    post_empty(&app, &format!("{empty_path}/reject"), &admin).await.expect_problem(409, "quote_not_sent");

    // Rejected with a reason; archived and restored.
    let quote = app
        .post("/api/v1/quotes", &admin.token, &quote_with(json!([{"product_id": id_of(&product), "quantity": 1}])))
        .await
        .expect(201)
        .body;
    let path = format!("/api/v1/quotes/{}", id_of(&quote));
    post_empty(&app, &format!("{path}/send"), &admin).await.expect(200);
    let rejected =
        app.post(&format!("{path}/reject"), &admin.token, &json!({"reason": "Too dear"})).await.expect(200).body;
    assert_eq!((&rejected["status"], &rejected["rejection_reason"]), (&json!("rejected"), &json!("Too dear")));
    post_empty(&app, &format!("{path}/accept"), &admin).await.expect_problem(409, "quote_not_sent");
    app.delete(&path, &admin.token).await.expect(200);
    app.delete(&path, &admin.token).await.expect_problem(409, "quote_archived");
    post_empty(&app, &format!("{path}/restore"), &admin).await.expect(200);

    // A stale If-Match is refused.
    let current = app.get(&empty_path, &admin.token).await.expect(200);
    let stale = "\"1\"";
    assert_ne!(current.header("etag"), Some(stale));
    app.send(Method::PATCH, &empty_path, Some(&admin.token), Some(&json!({"notes": "x"})), &[("If-Match", stale)])
        .await
        .expect_problem(412, "precondition_failed");

    // Roles: a sales rep quotes only its own deals; a support agent reads.
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let support = app.add_user(&admin, "help@example.com", "support_agent").await;
    app.post("/api/v1/quotes", &rep.token, &quote_with(json!([]))).await.expect_problem(403, "forbidden");
    app.post("/api/v1/quotes", &support.token, &quote_with(json!([]))).await.expect_problem(403, "forbidden");
    app.patch(&empty_path, &rep.token, &json!({"notes": "mine"})).await.expect_problem(403, "forbidden");
    app.get(&empty_path, &support.token).await.expect(200);
    let own_deal = app
        .post("/api/v1/opportunities", &rep.token, &json!({"name": "Rep's", "account_id": opportunity["account_id"], "amount": {"amount": 5000, "currency": "EUR"}}))
        .await
        .expect(201)
        .body;
    let own =
        app.post("/api/v1/quotes", &rep.token, &json!({"opportunity_id": id_of(&own_deal)})).await.expect(201).body;
    assert_eq!(own["owner_id"].as_str(), Some(rep.user_id.as_str()));

    // Closed deals take no new quotes; other organisations see nothing.
    app.post(&format!("/api/v1/opportunities/{}/close", id_of(&own_deal)), &rep.token, &json!({"outcome": "lost"}))
        .await
        .expect(200);
    app.post("/api/v1/quotes", &rep.token, &json!({"opportunity_id": id_of(&own_deal)}))
        .await
        .expect_problem(409, "opportunity_not_open");
    let globex = app.signup("Globex", "hank@globex.example").await;
    app.get(&path, &globex.token).await.expect_problem(404, "not_found");
    app.post("/api/v1/quotes", &globex.token, &json!({"opportunity_id": opportunity_id, "currency": "EUR"}))
        .await
        .expect_problem(422, "validation_failed");
}

async fn concurrent_quotes_never_share_a_number(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (_, _, opportunity) = deal(&app, &admin).await;
    let body = json!({"opportunity_id": id_of(&opportunity)});
    let requests = (0..24).map(|_| app.post("/api/v1/quotes", &admin.token, &body));
    let replies = futures_util::future::join_all(requests).await;
    let mut numbers: Vec<String> =
        replies.into_iter().map(|r| r.expect(201).body["number"].as_str().unwrap_or_default().to_owned()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=24).map(|n| format!("Q-{n:06}")).collect();
    assert_eq!(numbers, expected);
    // Another organisation starts its own sequence.
    let globex = app.signup("Globex", "hank@globex.example").await;
    let (_, _, theirs) = deal(&app, &globex).await;
    let first = app.post("/api/v1/quotes", &globex.token, &json!({"opportunity_id": id_of(&theirs)})).await.expect(201);
    assert_eq!(first.body["number"], "Q-000001");
}

async fn document_lists_filter_and_sort(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, product, opportunity) = deal(&app, &admin).await;
    let lines = |quantity: u32| json!([{"product_id": id_of(&product), "quantity": quantity}]);
    let mut quotes = Vec::new();
    for quantity in [3, 1, 2] {
        let q = app
            .post(
                "/api/v1/quotes",
                &admin.token,
                &json!({"opportunity_id": id_of(&opportunity), "line_items": lines(quantity)}),
            )
            .await
            .expect(201)
            .body;
        quotes.push(q);
    }
    post_empty(&app, &format!("/api/v1/quotes/{}/send", id_of(&quotes[1])), &admin).await.expect(200);
    let list = |query: &str| {
        let app = &app;
        let token = admin.token.clone();
        let query = query.to_owned();
        async move { numbers(&app.get(&format!("/api/v1/quotes{query}"), &token).await.expect(200).body) }
    };
    assert_eq!(list("").await, ["Q-000003", "Q-000002", "Q-000001"], "newest first by default");
    assert_eq!(list("?sort=number").await, ["Q-000001", "Q-000002", "Q-000003"]);
    assert_eq!(list("?sort=-total").await, ["Q-000001", "Q-000003", "Q-000002"]);
    assert_eq!(list("?status=sent").await, ["Q-000002"]);
    assert_eq!(list("?status=draft,expired&sort=number").await, ["Q-000001", "Q-000003"]);
    assert_eq!(
        list(&format!("?opportunity_id={}&sort=number&limit=2", id_of(&opportunity))).await,
        ["Q-000001", "Q-000002"]
    );
    assert_eq!(
        list(&format!("?account_id={}&owner_id={}&status=draft", id_of(&account), admin.user_id)).await.len(),
        2
    );
    // Pages follow the sort without repeats.
    let first = app.get("/api/v1/quotes?sort=number&limit=2", &admin.token).await.expect(200).body;
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    let second =
        app.get(&format!("/api/v1/quotes?sort=number&limit=2&cursor={cursor}"), &admin.token).await.expect(200).body;
    assert_eq!(numbers(&second), ["Q-000003"]);
    assert!(second["next_cursor"].is_null());
    app.get(&format!("/api/v1/quotes?sort=total&cursor={cursor}"), &admin.token)
        .await
        .expect_problem(400, "invalid_parameter");
    app.get("/api/v1/quotes?status=lost", &admin.token).await.expect_problem(400, "invalid_parameter");
    app.get("/api/v1/quotes?sort=price", &admin.token).await.expect_problem(400, "invalid_parameter");

    // Orders from two accepted quotes; one cancelled.
    let accept = |q: &Value| format!("/api/v1/quotes/{}/accept", id_of(q));
    let first_order = post_empty(&app, &accept(&quotes[1]), &admin).await.expect(200).body["order"].clone();
    let second_deal = app
        .post(
            "/api/v1/opportunities",
            &admin.token,
            &json!({"name": "Second", "account_id": id_of(&account), "amount": {"amount": 1, "currency": "EUR"}}),
        )
        .await
        .expect(201)
        .body;
    let q = app
        .post("/api/v1/quotes", &admin.token, &json!({"opportunity_id": id_of(&second_deal), "line_items": lines(5)}))
        .await
        .expect(201)
        .body;
    post_empty(&app, &format!("/api/v1/quotes/{}/send", id_of(&q)), &admin).await.expect(200);
    let second_order = post_empty(&app, &accept(&q), &admin).await.expect(200).body["order"].clone();
    assert_eq!(second_order["number"], "SO-000002");
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{}/cancel", id_of(&first_order)),
            &admin.token,
            &json!({"reason": "Changed their mind"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(cancelled["cancellation_reason"], "Changed their mind");
    post_empty(&app, &format!("/api/v1/orders/{}/invoice", id_of(&first_order)), &admin)
        .await
        .expect_problem(409, "order_cancelled");
    let orders = |query: &str| {
        let app = &app;
        let token = admin.token.clone();
        let query = query.to_owned();
        async move { numbers(&app.get(&format!("/api/v1/orders{query}"), &token).await.expect(200).body) }
    };
    assert_eq!(orders("").await, ["SO-000002", "SO-000001"]);
    assert_eq!(orders("?status=pending").await, ["SO-000002"]);
    assert_eq!(orders(&format!("?opportunity_id={}", id_of(&second_deal))).await, ["SO-000002"]);
    assert_eq!(orders("?sort=total").await, ["SO-000001", "SO-000002"]);

    // Invoices: one from the order, one of its own for a person without an account.
    let person = app.post("/api/v1/contacts", &admin.token, &json!({"last_name": "Lovelace"})).await.expect(201).body;
    let own = app
        .post(
            "/api/v1/invoices",
            &admin.token,
            &json!({"contact_id": id_of(&person), "currency": "GBP", "line_items": [{"description": "Lesson", "quantity": 2, "unit_price": 4500, "tax_rate": 20}]}),
        )
        .await
        .expect(201)
        .body;
    // 2 × 45.00 = 90.00 + 20% = 108.00.
    assert_eq!((&own["number"], &own["total"], &own["tax_total"]), (&json!("INV-000001"), &json!(10800), &json!(1800)));
    let from_order =
        post_empty(&app, &format!("/api/v1/orders/{}/invoice", id_of(&second_order)), &admin).await.expect(201).body;
    assert_eq!(from_order["number"], "INV-000002");
    let issued =
        app.post(&format!("/api/v1/invoices/{}/issue", id_of(&own)), &admin.token, &json!({})).await.expect(200).body;
    assert_eq!(issued["overdue"], false, "due thirty days after today");
    let void =
        post_empty(&app, &format!("/api/v1/invoices/{}/void", id_of(&from_order)), &admin).await.expect(200).body;
    assert_eq!(void["status"], "void");
    // A void invoice frees the order to be invoiced again.
    let reissued =
        post_empty(&app, &format!("/api/v1/orders/{}/invoice", id_of(&second_order)), &admin).await.expect(201).body;
    assert_eq!(reissued["number"], "INV-000003");
    let invoices = |query: &str| {
        let app = &app;
        let token = admin.token.clone();
        let query = query.to_owned();
        async move { numbers(&app.get(&format!("/api/v1/invoices{query}"), &token).await.expect(200).body) }
    };
    assert_eq!(invoices("?sort=number").await, ["INV-000001", "INV-000002", "INV-000003"]);
    assert_eq!(invoices("?status=draft,issued&sort=-number").await, ["INV-000003", "INV-000001"]);
    assert_eq!(
        invoices(&format!("?order_id={}&sort=number", id_of(&second_order))).await,
        ["INV-000002", "INV-000003"]
    );
    assert_eq!(invoices(&format!("?account_id={}", id_of(&account))).await.len(), 2);
    assert_eq!(invoices("?overdue=false&status=issued").await, ["INV-000001"]);
    assert_eq!(invoices("?overdue=true").await, Vec::<String>::new());
    let no_buyer = app
        .post("/api/v1/invoices", &admin.token, &json!({"currency": "EUR"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&no_buyer.body), [("account_id".to_owned(), "buyer_required".to_owned())]);
    post_empty(&app, &format!("/api/v1/invoices/{}/issue", id_of(&reissued)), &admin).await.expect(200);
    let early = app
        .post(&format!("/api/v1/invoices/{}/issue", id_of(&void)), &admin.token, &json!({"issue_date": "2026-12-01"}))
        .await
        .expect_problem(409, "invoice_not_draft");
    assert!(early.body["detail"].is_string());
}

async fn an_order_of_its_own_takes_the_deal_s_buyers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, product, opportunity) = deal(&app, &admin).await;
    let body = json!({"opportunity_id": id_of(&opportunity), "currency": "EUR", "line_items": [{"product_id": id_of(&product), "quantity": 10}]});
    let created = app.post("/api/v1/orders", &admin.token, &body).await.expect(201);
    let order = created.body;
    // 10 × 19.99 = 199.90; 19% tax = 37.981 → 37.98; 237.88.
    assert_eq!(
        (&order["number"], &order["status"], &order["total"]),
        (&json!("SO-000001"), &json!("pending"), &json!(23788))
    );
    assert_eq!((&order["account_id"], &order["quote_id"]), (&account["id"], &Value::Null));
    assert_eq!(order["shipping_address"]["city"], "Leith");
    assert_eq!(
        created.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1/orders/{}", id_of(&order)).as_str())
    );
    let no_buyer = app
        .post("/api/v1/orders", &admin.token, &json!({"currency": "EUR"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&no_buyer.body), [("account_id".to_owned(), "buyer_required".to_owned())]);
    let unknown = app
        .post(
            "/api/v1/orders",
            &admin.token,
            &json!({"currency": "EUR", "opportunity_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_codes(&unknown.body), [("opportunity_id".to_owned(), "unknown_reference".to_owned())]);
    let shipped_elsewhere = app
        .post("/api/v1/orders", &admin.token, &json!({"account_id": id_of(&account), "currency": "EUR", "shipping_address": {"city": "Oban", "country": "GB"}}))
        .await
        .expect(201)
        .body;
    assert_eq!(
        (&shipped_elsewhere["number"], &shipped_elsewhere["shipping_address"]["city"]),
        (&json!("SO-000002"), &json!("Oban"))
    );
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    app.post("/api/v1/orders", &rep.token, &body).await.expect_problem(403, "forbidden");
}

/// The story end to end: a person lead converted, the deal worked through its stages, lost and
/// reopened, quoted, accepted, shipped, invoiced and paid.
async fn the_whole_sale_from_a_lead_to_a_paid_invoice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app
        .create_lead(
            &admin,
            json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "source": "referral"}),
        )
        .await;
    let converted = app
        .post(
            &format!("/api/v1/leads/{}/convert", id_of(&lead)),
            &admin.token,
            &json!({"opportunity": {"name": "Private lessons", "amount": {"amount": 20000, "currency": "USD"}}}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(converted["account"], Value::Null, "a person buying for themselves has no account");
    let deal_path = format!("/api/v1/opportunities/{}", id_of(&converted["opportunity"]));
    assert_eq!(converted["opportunity"]["contact_id"], converted["contact"]["id"]);
    for stage in ["qualification", "proposal", "negotiation"] {
        app.patch(&deal_path, &admin.token, &json!({"stage": stage})).await.expect(200);
    }
    app.post(&format!("{deal_path}/close"), &admin.token, &json!({"outcome": "lost", "reason": "Went quiet"}))
        .await
        .expect(200);
    let reopened = post_empty(&app, &format!("{deal_path}/reopen"), &admin).await.expect(200).body;
    assert_eq!(reopened["stage"], "negotiation", "back to the stage it closed from");

    let quote = app
        .post(
            "/api/v1/quotes",
            &admin.token,
            &json!({"opportunity_id": id_of(&reopened), "line_items": [
                {"description": "Lesson", "quantity": 4, "unit_price": 4500},
                {"description": "Book", "quantity": 1, "unit_price": 2999, "discount_percent": 50, "tax_rate": 7}
            ]}),
        )
        .await
        .expect(201)
        .body;
    // 4 × 45.00 = 180.00; 29.99 − 50% (14.995 → 15.00) = 14.99, + 7% (1.0493 → 1.05) = 16.04; 196.04.
    assert_eq!(
        (&quote["currency"], &quote["total"], &quote["discount_total"], &quote["tax_total"]),
        (&json!("USD"), &json!(19604), &json!(1500), &json!(105))
    );
    post_empty(&app, &format!("/api/v1/quotes/{}/send", id_of(&quote)), &admin).await.expect(200);
    let order =
        post_empty(&app, &format!("/api/v1/quotes/{}/accept", id_of(&quote)), &admin).await.expect(200).body["order"]
            .clone();
    assert_eq!(
        (&order["contact_id"], &order["account_id"], &order["shipping_address"]),
        (&converted["contact"]["id"], &Value::Null, &Value::Null)
    );
    let won = app.get(&deal_path, &admin.token).await.expect(200).body;
    assert_eq!((&won["stage"], &won["amount"]["amount"]), (&json!("closed_won"), &json!(19604)));
    let history = app.get(&format!("{deal_path}/stage-history"), &admin.token).await.expect(200).body;
    let stages: Vec<&str> = history["data"]
        .as_array()
        .map(|h| h.iter().map(|c| c["to_stage"].as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    assert_eq!(
        stages,
        ["prospecting", "qualification", "proposal", "negotiation", "closed_lost", "negotiation", "closed_won"]
    );

    let order_path = format!("/api/v1/orders/{}", id_of(&order));
    for step in ["confirm", "fulfill"] {
        post_empty(&app, &format!("{order_path}/{step}"), &admin).await.expect(200);
    }
    let invoice = post_empty(&app, &format!("{order_path}/invoice"), &admin).await.expect(201).body;
    let invoice_path = format!("/api/v1/invoices/{}", id_of(&invoice));
    post_empty(&app, &format!("{invoice_path}/issue"), &admin).await.expect(200);
    let pay = |amount: i64| json!({"amount": {"amount": amount, "currency": "USD"}, "method": "card"});
    let half = app.post(&format!("{invoice_path}/payments"), &admin.token, &pay(9802)).await.expect(201).body;
    assert_eq!(half["invoice"]["balance_due"], 9802);
    let rest = app.post(&format!("{invoice_path}/payments"), &admin.token, &pay(9802)).await.expect(201).body;
    assert_eq!((&rest["invoice"]["status"], &rest["invoice"]["amount_paid"]), (&json!("paid"), &json!(19604)));
}

/// A state that follows from the date, not from a change (a sent quote past its validity reads
/// as expired, an issued invoice past its due date as overdue), is part of the ETag: a copy
/// cached before is not revalidated with 304. `If-Match` compares the version alone.
async fn dated_states_change_the_etag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let (account, product, opportunity) = deal(&app, &admin).await;
    let today = Utc::now().date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let get = |path: String, tag: &'static str| {
        let app = &app;
        let token = admin.token.clone();
        async move { app.send(Method::GET, &path, Some(&token), None, &[("if-none-match", tag)]).await }
    };

    let quote = app
        .post(
            "/api/v1/quotes",
            &admin.token,
            &json!({"opportunity_id": id_of(&opportunity), "valid_until": today.to_string(), "line_items": [{"product_id": id_of(&product), "quantity": 1}]}),
        )
        .await
        .expect(201)
        .body;
    let path = format!("/api/v1/quotes/{}", id_of(&quote));
    let sent = post_empty(&app, &format!("{path}/send"), &admin).await.expect(200);
    assert_eq!((sent.body["status"].as_str(), sent.header("etag")), (Some("sent"), Some("\"2\"")));
    get(path.clone(), "\"2\"").await.expect(304);

    // A day later, as far as the quote is concerned: its validity ended yesterday, and the
    // stored quote is still at version 2.
    let database = Database::open(&app.database_url, &PoolSettings::default(), false).await.unwrap();
    let organization_id = Uuid::parse_str(&admin.organization_id).unwrap();
    let audit = AuditContext {
        organization_id,
        actor_id: Uuid::parse_str(&admin.user_id).unwrap(),
        request_id: "test".into(),
        idempotency_attempt: None,
    };
    let mut stored =
        database.store.get::<Quote>(organization_id, Uuid::parse_str(&id_of(&quote)).unwrap()).await.unwrap();
    stored.valid_until = Some(yesterday);
    database.store.save(&stored, 2, AuditAction::Update, &[], &audit).await.unwrap();

    let expired = get(path.clone(), "\"2\"").await.expect(200);
    assert_eq!((expired.body["status"].as_str(), expired.body["version"].as_i64()), (Some("expired"), Some(2)));
    assert_eq!(expired.header("etag"), Some("\"2-expired\""));
    let again = get(path.clone(), "\"2-expired\"").await.expect(304);
    assert_eq!(again.header("etag"), Some("\"2-expired\""));
    let archived =
        app.send(Method::DELETE, &path, Some(&admin.token), None, &[("if-match", "\"2\"")]).await.expect(200);
    assert_eq!(archived.header("etag"), Some("\"3-expired\""));
    app.send(Method::POST, &format!("{path}/restore"), Some(&admin.token), None, &[("if-match", "\"2-expired\"")])
        .await
        .expect_problem(412, "precondition_failed");

    // Issued with its due date passed: overdue, and tagged so, until paid in full.
    let invoice = app
        .post(
            "/api/v1/invoices",
            &admin.token,
            &json!({"account_id": id_of(&account), "currency": "EUR", "line_items": [{"description": "Survey", "quantity": 1, "unit_price": 1000, "tax_rate": 0}]}),
        )
        .await
        .expect(201);
    assert_eq!(invoice.header("etag"), Some("\"1\""));
    let invoice_path = format!("/api/v1/invoices/{}", id_of(&invoice.body));
    let issue_day = today.checked_sub_days(Days::new(30)).unwrap_or(today);
    let issued = app
        .post(
            &format!("{invoice_path}/issue"),
            &admin.token,
            &json!({"issue_date": issue_day.to_string(), "due_date": yesterday.to_string()}),
        )
        .await
        .expect(200);
    assert_eq!((issued.body["overdue"].as_bool(), issued.header("etag")), (Some(true), Some("\"2-overdue\"")));
    get(invoice_path.clone(), "\"2\"").await.expect(200);
    get(invoice_path.clone(), "\"2-overdue\"").await.expect(304);
    let pay = |amount: i64| json!({"amount": {"amount": amount, "currency": "EUR"}, "method": "bank_transfer", "paid_at": format!("{issue_day}T10:00:00Z")});
    let payments = format!("{invoice_path}/payments");
    let part = app
        .send(Method::POST, &payments, Some(&admin.token), Some(&pay(400)), &[("if-match", "\"2\"")])
        .await
        .expect(201);
    assert_eq!(part.header("etag"), Some("\"3-overdue\""));
    let rest = app
        .send(Method::POST, &payments, Some(&admin.token), Some(&pay(600)), &[("if-match", "\"3-overdue\"")])
        .await
        .expect(201);
    assert_eq!((rest.body["invoice"]["status"].as_str(), rest.header("etag")), (Some("paid"), Some("\"4\"")));
    get(invoice_path, "\"3-overdue\"").await.expect(200);
}
