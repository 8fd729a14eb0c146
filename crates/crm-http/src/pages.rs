//! What a person opening the server in a browser finds: `/` and `/swagger-ui` lead to Swagger UI,
//! and `/docs/conventions` shows the API conventions (docs/api-conventions.md) as a page, which
//! the OpenAPI document's short description links to.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// Where Swagger UI is served; its assets are relative to this trailing-slash path.
pub const SWAGGER_UI: &str = "/swagger-ui/";
/// Where the conventions are served as HTML.
pub const CONVENTIONS_PATH: &str = "/docs/conventions";

/// The conventions, as written in docs/api-conventions.md (its error table is generated from the
/// problem-code registry and checked by a test).
pub const CONVENTIONS_MARKDOWN: &str = include_str!("../../../docs/api-conventions.md");

/// The conventions page, rendered once at startup.
pub struct ConventionsPage(web::Bytes);

impl ConventionsPage {
    pub fn render() -> Self {
        let mut options = pulldown_cmark::Options::empty();
        options.insert(pulldown_cmark::Options::ENABLE_TABLES);
        let parser = pulldown_cmark::Parser::new_ext(CONVENTIONS_MARKDOWN, options);
        let mut body = String::with_capacity(CONVENTIONS_MARKDOWN.len() * 2);
        pulldown_cmark::html::push_html(&mut body, parser);
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>CRM API conventions</title><style>{STYLE}</style></head>\
             <body><main><p><a href=\"{SWAGGER_UI}\">Swagger UI</a> · \
             <a href=\"/api/v1/openapi.json\">OpenAPI document</a></p>\
             <h1>CRM API conventions</h1>\n{body}</main></body></html>\n"
        );
        Self(web::Bytes::from(page))
    }
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1f2328}\
main{max-width:60rem;margin:0 auto;padding:1rem 2rem}\
code,pre{font-family:ui-monospace,monospace;font-size:.9em;background:#f6f8fa}\
pre{padding:1rem;overflow:auto}table{border-collapse:collapse}\
td,th{border:1px solid #d0d7de;padding:.3rem .6rem;vertical-align:top;text-align:left}";

pub async fn conventions(page: web::Data<ConventionsPage>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page.0.clone())
}

/// `/` and `/swagger-ui` (no slash): a person is sent to Swagger UI. 308 keeps the method and is
/// cached by browsers for the exact path, which these two never serve anything else at.
pub async fn to_swagger_ui() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, SWAGGER_UI)).finish()
}
