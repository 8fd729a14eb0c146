//! What a newcomer and a browser frontend meet first: the way to Swagger UI, the conventions
//! page, a database folder kept private, and CORS for every method and path of the spec.

use reqwest::Method;

use crate::helpers::{Backend, TestApp};

#[tokio::test]
async fn the_root_and_swagger_ui_without_its_slash_lead_to_swagger_ui() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in ["/", "/swagger-ui"] {
        let reply = app.send(Method::GET, path, None, None, &[]).await;
        assert_eq!(reply.status.as_u16(), 308, "{path}");
        assert_eq!(reply.header("location"), Some("/swagger-ui/"), "{path}");
    }
    app.send(Method::GET, "/swagger-ui/", None, None, &[]).await.expect(200);
}

#[tokio::test]
async fn the_spec_description_is_short_and_links_to_the_conventions_page() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200);
    let description = spec.body["info"]["description"].as_str().unwrap_or_default();
    assert!(description.len() < 1500, "the description is {} characters long", description.len());
    assert!(description.contains("/docs/conventions"), "{description}");
    assert!(description.contains("Authorize"), "{description}");
    assert_eq!(spec.body["externalDocs"]["url"], "/docs/conventions");

    let page = app.send(Method::GET, "/docs/conventions", None, None, &[]).await.expect(200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(page.text.starts_with("<!doctype html>"), "{}", &page.text[..80.min(page.text.len())]);
    // The conventions as a page: headings, the error table with a registry code, rendered.
    assert!(page.text.contains("<h2>Errors</h2>"));
    assert!(page.text.contains("<td><code>opportunity_closed</code>"), "the error table is missing a code");
    assert!(page.text.contains("<table>"));
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_embedded_database_is_readable_by_its_owner_alone() {
    use std::os::unix::fs::PermissionsExt;
    let root = crate::helpers::tempfile_dir::TempDir::new();
    let folder = root.path().join("data");
    let file = folder.join("crm.db");
    let url = format!("sqlite:{}", file.display());
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.database_url = url.clone();
        settings.data_dir = folder.clone();
    })
    .await;
    app.signup("Acme", "ada@example.com").await;
    let mode = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap();
    assert_eq!(mode(&folder), 0o700, "the data folder");
    assert_eq!(mode(&file), 0o600, "the database file");
    let wal = folder.join("crm.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "the write-ahead log");
    }
}

/// Every (method, path) of the served spec, with `{…}` filled by an id.
async fn spec_operations(app: &TestApp) -> Vec<(String, String)> {
    let spec = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200);
    let mut operations = Vec::new();
    for (path, item) in spec.body["paths"].as_object().into_iter().flatten() {
        let concrete: String = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                operations.push((method.to_uppercase(), concrete.clone()));
            }
        }
    }
    operations
}

#[tokio::test]
async fn a_browser_on_an_allowed_origin_may_call_every_method_and_path_of_the_spec() {
    const ORIGIN: &str = "https://app.example.com";
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| settings.cors_origins = vec![ORIGIN.to_owned()]).await;
    let operations = spec_operations(&app).await;
    assert!(operations.iter().any(|(method, _)| method == "PUT"), "the spec has PUT routes");
    let requested = "authorization, content-type, if-match, if-none-match, idempotency-key, x-request-id";
    for (method, path) in &operations {
        let preflight = app
            .send(
                Method::OPTIONS,
                path,
                None,
                None,
                &[
                    ("origin", ORIGIN),
                    ("access-control-request-method", method),
                    ("access-control-request-headers", requested),
                ],
            )
            .await;
        assert_eq!(preflight.status.as_u16(), 200, "preflight of {method} {path}: {}", preflight.text);
        assert_eq!(preflight.header("access-control-allow-origin"), Some(ORIGIN), "{method} {path}");
        let methods = preflight.header("access-control-allow-methods").unwrap_or_default();
        assert!(methods.split(',').any(|m| m.trim() == method), "{method} {path}: allows {methods}");
    }
    // What a frontend reads from an answer is exposed to it.
    let reply = app.send(Method::GET, "/health", None, None, &[("origin", ORIGIN)]).await.expect(200);
    let exposed = reply.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    for header in ["etag", "location", "retry-after", "x-request-id", "idempotent-replayed"] {
        assert!(exposed.split(',').any(|h| h.trim() == header), "{header} is not exposed: {exposed}");
    }
    // Another origin is not allowed.
    let foreign = app
        .send(
            Method::OPTIONS,
            "/api/v1/leads",
            None,
            None,
            &[("origin", "https://evil.example.net"), ("access-control-request-method", "GET")],
        )
        .await;
    assert_ne!(foreign.header("access-control-allow-origin"), Some("https://evil.example.net"));
}

/// The error table of docs/api-conventions.md is the registry's. `UPDATE_DOCS=1` rewrites it.
#[test]
fn the_documented_problem_codes_are_the_registry() {
    const START: &str = "<!-- problem-codes:start -->\n";
    const END: &str = "<!-- problem-codes:end -->";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api-conventions.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (before, rest) = text.split_once(START).unwrap_or_else(|| panic!("{path} lacks {START}"));
    let (documented, after) = rest.split_once(END).unwrap_or_else(|| panic!("{path} lacks {END}"));
    let generated = crm_http::problem_codes::markdown_table();
    if documented != generated {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, format!("{before}{START}{generated}{END}{after}")).unwrap();
        } else {
            panic!(
                "the error table of {path} is stale; regenerate it with: UPDATE_DOCS=1 cargo test -p crm --test api the_documented_problem_codes"
            );
        }
    }
}
