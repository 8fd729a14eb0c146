//! Requests that the spec allows are accepted, and what the server refuses the spec says: a
//! client generated from the spec cannot build a request the server turns down for its shape.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    a_null_body_where_the_body_is_optional_is_no_body,
    an_integral_number_is_an_integer,
    custom_fields_nest_as_deep_as_the_spec_describes,
    extreme_numbers_in_custom_fields_read_back,
);

async fn extreme_numbers_in_custom_fields_read_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let sent = r#"{"last_name": "Extreme", "custom_fields": {"max": 1.7976931348623157e308, "min": -1.7976931348623155e+308, "tiny": 5e-324, "big": -2.121375785390416e+16, "u": 18446744073709551615, "i": -9223372036854775808, "nested": [{"x": [5.993022841913161e-192, 1.4109047900525414e+259]}]}}"#;
    let created = post_json_text(&app, "/api/v1/leads", &admin.token, sent).await.expect(201);
    let read = app.get(&format!("/api/v1/leads/{}", id_of(&created.body)), &admin.token).await.expect(200).body;
    assert_eq!(read["custom_fields"], created.body["custom_fields"]);
    app.get("/api/v1/leads", &admin.token).await.expect(200);
    app.get("/api/v1/audit-events", &admin.token).await.expect(200);
}

async fn custom_fields_nest_as_deep_as_the_spec_describes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    // Four levels of objects and arrays inside custom_fields: described, accepted, read back.
    let deepest = json!({"a": [{"b": [[1, "x", null, true]]}], "n": 1.5});
    let lead = app.create_lead(&admin, json!({"last_name": "Deep", "custom_fields": deepest})).await;
    let read = app.get(&format!("/api/v1/leads/{}", id_of(&lead)), &admin.token).await.expect(200).body;
    assert_eq!(read["custom_fields"], deepest);
    // A fifth level is neither.
    let refused = app
        .post("/api/v1/leads", &admin.token, &json!({"last_name": "Deeper", "custom_fields": {"a": [[[[[1]]]]]}}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["code"], "too_deep");
    assert_eq!(refused.body["errors"][0]["field"], "custom_fields");
}

async fn post_json_text(app: &TestApp, path: &str, token: &str, text: &'static str) -> crate::helpers::Reply {
    let response = app
        .client
        .request(Method::POST, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap();
    crate::helpers::read(response).await
}

async fn a_null_body_where_the_body_is_optional_is_no_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let lead = app.create_lead(&admin, json!({"last_name": "Hopper", "company": "Eckert-Mauchly"})).await;
    let converted = post_json_text(&app, &format!("/api/v1/leads/{}/convert", id_of(&lead)), &admin.token, "null")
        .await
        .expect(200);
    assert_eq!(converted.body["lead"]["status"], "converted");
    assert_eq!(converted.body["opportunity"]["name"], "Eckert-Mauchly", "the default plan, as with no body");
    // Logout with `null` ends every session of the caller, as with no body.
    post_json_text(&app, "/api/v1/auth/logout", &admin.token, " null ").await.expect(204);
    app.post("/api/v1/auth/refresh", "", &json!({"refresh_token": admin.refresh_token}))
        .await
        .expect_problem(401, "unauthorized");
    // Anything else still has to be an object.
    post_json_text(&app, "/api/v1/auth/logout", &admin.token, "[]").await.expect_problem(422, "validation_failed");
}

async fn an_integral_number_is_an_integer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body;
    let deal = app
        .post(
            "/api/v1/opportunities",
            &admin.token,
            &json!({"name": "Ships", "account_id": id_of(&account), "probability": 35.0,
                    "amount": {"amount": 125000.0, "currency": "EUR"}, "custom_fields": {"score": 7.0}}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!((&deal["probability"], &deal["amount"]["amount"]), (&json!(35), &json!(125000)));
    // In custom_fields too: one canonical number, what both databases give back.
    assert_eq!(deal["custom_fields"]["score"], json!(7));
    let refused = app
        .post(
            "/api/v1/opportunities",
            &admin.token,
            &json!({"name": "Half", "account_id": id_of(&account), "probability": 35.5}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], Value::from("probability"));
}

/// What the server refuses for its shape, the spec states.
#[tokio::test]
async fn the_spec_states_what_the_server_refuses() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200).body;
    let schemas = &spec["components"]["schemas"];
    let param = |path: &str, name: &str| -> Value {
        spec["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .map(|p| p["schema"].clone())
            .unwrap_or_default()
    };
    // Dates from 1900 on; `q` and custom fields without NUL; emails in the email filter.
    let date = param("/api/v1/reports/forecast", "from");
    assert_eq!(
        (&date["format"], date["pattern"].as_str().map(|p| p.starts_with("^(19"))),
        (&json!("date"), Some(true))
    );
    assert_eq!(param("/api/v1/leads", "q")["pattern"], "^[^\\u0000]*$");
    assert!(param("/api/v1/contacts", "email")["pattern"].as_str().is_some_and(|p| p.contains('@')));
    assert_eq!(schemas["CustomFields"]["propertyNames"]["pattern"], "^[^\\u0000]*$");
    assert_eq!(schemas["CustomFieldValue1"]["oneOf"][0]["pattern"], "^[^\\u0000]*$");
    assert_eq!(schemas["CustomFieldValue4"]["oneOf"][5]["items"]["$ref"], "#/components/schemas/CustomFieldValue5");
    assert_eq!(schemas["CustomFieldValue5"]["oneOf"].as_array().map(Vec::len), Some(4), "scalars only");
    assert_eq!(schemas["LeadResponse"]["properties"]["custom_fields"]["$ref"], "#/components/schemas/CustomFields");
    // A payment is above zero.
    let amount = &schemas["CreatePaymentRequest"]["properties"]["amount"]["allOf"];
    assert_eq!(amount[1]["properties"]["amount"]["exclusiveMinimum"], 0);
    // A line names a product, or describes itself with a price; a buyer is named.
    let line = &schemas["LineItemRequest"]["allOf"][1]["anyOf"];
    assert_eq!(
        (&line[0]["required"], &line[1]["required"]),
        (&json!(["product_id"]), &json!(["description", "unit_price"]))
    );
    assert_eq!(schemas["CreateInvoiceRequest"]["allOf"][1]["anyOf"][1]["required"], json!(["contact_id"]));
    assert_eq!(schemas["CreateOrderRequest"]["allOf"][1]["anyOf"][2]["required"], json!(["opportunity_id"]));
}
