//! The committed OpenAPI document is the one the server serves, and Swagger UI is up.

use reqwest::Method;

use crate::helpers::{Backend, TestApp};

#[tokio::test]
async fn the_committed_openapi_document_matches_the_served_one() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let served = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap_or_default();
    assert!(
        served.body == committed,
        "openapi/openapi.json is stale; regenerate it with: cargo run -q -p crm -- openapi > openapi/openapi.json"
    );
    assert_eq!(served.body["openapi"], "3.1.0");
    assert!(served.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn swagger_ui_is_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = app.send(Method::GET, "/swagger-ui/", None, None, &[]).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.text.contains("swagger"), "{}", &page.text[..page.text.len().min(200)]);
}

/// `If-Match` is declared exactly where the server honours it: not on writes whose target has no
/// version (a competitor's new product, a deal's links), and on invoicing an order.
#[tokio::test]
async fn if_match_is_declared_only_where_a_version_is_checked() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200).body;
    let declares = |method: &str, path: &str| {
        spec["paths"][path][method]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match" && p["in"] == "header"))
    };
    assert!(!declares("post", "/api/v1/competitors/{id}/products"));
    assert!(!declares("delete", "/api/v1/opportunities/{id}/competitors/{competitor_id}"));
    assert!(!declares("delete", "/api/v1/opportunities/{id}/contacts/{contact_id}"));
    assert!(declares("post", "/api/v1/orders/{id}/invoice"));
    assert!(declares("patch", "/api/v1/leads/{id}"));
}

/// What a client generated from the spec relies on: fields always sent are required, currencies
/// are one `Currency` type, public operations need no credentials, operation ids are names.
#[tokio::test]
async fn a_generated_client_gets_the_types_the_server_sends() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200).body;
    let schemas = &spec["components"]["schemas"];
    let required = |schema: &serde_json::Value| -> Vec<String> {
        let own = schema["required"].as_array().cloned().unwrap_or_default();
        let inline = schema["allOf"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|part| part["required"].as_array().cloned().unwrap_or_default());
        own.into_iter().chain(inline).filter_map(|v| v.as_str().map(str::to_owned)).collect()
    };
    for (schema, property) in [
        ("ConversionResponse", "account"),
        ("ConversionResponse", "opportunity"),
        ("InvoiceResponse", "paid_at"),
        ("AccountResponse", "shipping_address"),
        ("AddressResponse", "country"),
        ("LeadResponse", "email"),
    ] {
        assert!(required(&schemas[schema]).iter().any(|p| p == property), "{schema}.{property} is not required");
    }
    assert!(!required(&schemas["ConversionResponse"]).iter().any(|p| p == "duplicates"), "sent only on a dry run");
    assert!(!required(&schemas["AddressDto"]).iter().any(|p| p == "city"), "a request may leave it out");

    let currency = serde_json::json!({"$ref": "#/components/schemas/Currency"});
    assert_eq!(schemas["LinesResponse"]["properties"]["currency"], currency);
    assert_eq!(schemas["MoneyDto"]["properties"]["currency"], currency);
    assert_eq!(schemas["ForecastPeriod"]["properties"]["currency"], currency);
    assert_eq!(schemas["PipelineTotal"]["properties"]["currency"]["oneOf"][0], currency);
    assert!(schemas["Currency"]["enum"].as_array().is_some_and(|codes| codes.contains(&"EUR".into())));
    assert_eq!(
        schemas["ForecastReport"]["properties"]["interval"]["enum"],
        serde_json::json!(["month", "quarter", "year"])
    );
    assert!(
        schemas["Problem"]["properties"]["code"]["enum"].as_array().is_some_and(|c| c.contains(&"overpayment".into()))
    );

    assert_eq!(spec["security"], serde_json::json!([{"bearer": []}]));
    assert!(spec["servers"].as_array().is_some_and(|s| !s.is_empty()));
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty() && !id.ends_with("_handler"), "{method} {path}: operationId {id}");
            assert_ne!(operation["security"], serde_json::json!([{}]), "{method} {path}");
        }
    }
    for public in ["/api/v1/auth/signup", "/api/v1/auth/login", "/api/v1/auth/refresh"] {
        assert_eq!(spec["paths"][public]["post"]["security"], serde_json::json!([]), "{public}");
    }
}
