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
