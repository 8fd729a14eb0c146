//! The OpenAPI document. Handlers describe themselves with `#[utoipa::path]`; utoipa-actix-web
//! collects them from the same `service(...)` calls that route requests, so a route cannot exist
//! without its spec. [`Conventions`] then adds what every operation shares (problem responses,
//! `Idempotency-Key`, `If-Match`, `If-None-Match`) in one place.

use std::collections::BTreeSet;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::ResponseBuilder;

use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDocument, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::problem::{Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CRM API",
        description = include_str!("openapi-description.md"),
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    external_docs(url = "/docs/conventions", description = "The API conventions: lists, errors and their codes, versions, idempotency, audit"),
    components(schemas(Problem, ProblemField)),
    tags(
        (name = "auth", description = "Signup, login, tokens"),
        (name = "users", description = "The organisation's users and their roles"),
        (name = "leads", description = "Leads: prospects before qualification and conversion"),
        (name = "accounts", description = "Accounts: the businesses you sell to"),
        (name = "contacts", description = "Contacts: the people you deal with, with or without an account"),
        (name = "opportunities", description = "Opportunities: deals through the pipeline stages until closed won or lost"),
        (name = "reports", description = "The pipeline, the forecast, activities, competitors and support tickets, computed by the database"),
        (name = "products", description = "Products: the price book"),
        (name = "competitors", description = "Competitors and their products priced against ours"),
        (name = "quotes", description = "Quotes: priced offers on an opportunity; accepting one creates an order and wins the deal"),
        (name = "orders", description = "Orders: the closed sale, from pending to delivered"),
        (name = "invoices", description = "Invoices and their payments"),
        (name = "activities", description = "Activities: every call, email, meeting and note (failed attempts too), and planned tasks with reminders"),
        (name = "tickets", description = "Support tickets: questions, incidents, problems, complaints and feature requests, with SLA deadlines on business hours"),
        (name = "settings", description = "The organisation's settings: how often each class of customer should hear from it"),
        (name = "audit", description = "Who changed what, and when"),
        (name = "operations", description = "Health and readiness probes"),
    )
)]
pub struct ApiDoc;

/// Adds the shared conventions to every operation of a collected document.
pub struct Conventions;

/// Writes on a record's path that take no `If-Match`, because no version of theirs means anything:
/// a competitor's new product does not change the competitor, a deal's links to its competitors
/// and contacts have no version of their own (removing one twice answers 404), and a comment is
/// redacted once (again is 409 `comment_redacted`).
const UNVERSIONED: &[(&str, &str)] = &[
    ("post", "/api/v1/competitors/{id}/products"),
    ("delete", "/api/v1/opportunities/{id}/competitors/{competitor_id}"),
    ("delete", "/api/v1/opportunities/{id}/contacts/{contact_id}"),
    ("post", "/api/v1/tickets/{id}/comments/{comment_id}/redact"),
];

fn problem(description: &str) -> RefOr<utoipa::openapi::response::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build(),
    )
}

/// A header whose pattern alone bounds it: length keywords next to a pattern make fuzzers try
/// short strings that the pattern forbids.
fn header_param(name: &str, description: &str, pattern: &str) -> RefOr<utoipa::openapi::path::Parameter> {
    RefOr::T(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(
                ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).pattern(Some(pattern)).build(),
            ))
            .build(),
    )
}

fn is_authenticated(operation: &Operation) -> bool {
    operation.security.as_ref().is_none_or(|requirements| {
        requirements
            .iter()
            .any(|r| serde_json::to_value(r).map(|v| v.as_object().is_some_and(|o| !o.is_empty())).unwrap_or(false))
    })
}

fn add_response(operation: &mut Operation, status: &str, description: &str) {
    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
}

fn has_body(operation: &Operation) -> bool {
    matches!(&operation.request_body, Some(RefOr::T(RequestBody { .. })) | Some(RefOr::Ref(_)))
}

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert(crate::schema::CURRENCY_COMPONENT.to_owned(), crate::schema::currency_component().into());
        components.schemas.extend(crate::schema::custom_fields_components());
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from /api/v1/auth/login or /api/v1/auth/signup"))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            let methods: [(&str, &mut Option<Operation>); 5] = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, slot) in methods {
                let Some(operation) = slot.as_mut() else {
                    continue;
                };
                let authenticated = is_authenticated(operation);
                let body = has_body(operation);
                let has_query = operation.parameters.as_ref().is_some_and(|ps| {
                    ps.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query))
                });
                if body
                    || has_query
                    || has_path_params
                    || method == "patch"
                    || method == "delete"
                    || (method == "post" && authenticated)
                {
                    add_response(
                        operation,
                        "400",
                        "The request is malformed: bad JSON, an unknown or invalid parameter or header",
                    );
                }
                if authenticated {
                    add_response(
                        operation,
                        "401",
                        "The access token is missing, invalid or expired, or its user is deactivated",
                    );
                    add_response(operation, "403", "Your role may not do this");
                }
                if has_path_params {
                    add_response(operation, "404", "No such record in your organization");
                }
                if body {
                    add_response(operation, "413", "The body exceeds 1 MiB");
                    add_response(
                        operation,
                        "415",
                        "The body is not JSON, or is sent with a Content-Encoding other than gzip",
                    );
                    add_response(operation, "422", "Fields are invalid; `errors` lists each of them");
                }
                // The authentication endpoints ignore Idempotency-Key (they answer fresh credentials).
                if method == "post" && authenticated && !path.starts_with("/api/v1/auth/") {
                    add_response(operation, "409", "A request with this Idempotency-Key is still running");
                    add_response(operation, "422", "This Idempotency-Key was used with a different request");
                    operation.parameters.get_or_insert_with(Vec::new).push(header_param(
                        "Idempotency-Key",
                        "Makes the request safe to retry: the first response is kept for 24 hours and replayed with `Idempotent-Replayed: true`.",
                        crate::schema::IDEMPOTENCY_KEY_PATTERN,
                    ));
                }
                if (method == "patch" || method == "delete" || (method == "post" && has_path_params))
                    && authenticated
                    && !UNVERSIONED.contains(&(method, path.as_str()))
                {
                    add_response(
                        operation,
                        "412",
                        "If-Match names a version the record no longer has; nothing changed",
                    );
                    operation.parameters.get_or_insert_with(Vec::new).push(header_param(
                        "If-Match",
                        "The ETag you read; the change is refused with 412 when the record changed since.",
                        crate::schema::ETAG_LIST_PATTERN,
                    ));
                }
                // Conditional GETs are for single records: paths that end with their id.
                if method == "get" && path.ends_with("}") {
                    operation.parameters.get_or_insert_with(Vec::new).push(header_param(
                        "If-None-Match",
                        "The ETag you hold; answers 304 when the record did not change.",
                        crate::schema::ETAG_LIST_PATTERN,
                    ));
                }
                if path.starts_with("/api/v1/auth/") && !authenticated {
                    add_response(
                        operation,
                        "429",
                        "Too many attempts from this client; retry after Retry-After seconds",
                    );
                }
                // OpenAPI requires a description on every response.
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = match status.as_str() {
                            "200" => "OK",
                            "201" => "Created",
                            "204" => "No content",
                            "304" => "Not modified",
                            _ => "See the problem document",
                        }
                        .to_owned();
                    }
                }
                add_response(operation, "500", "An unexpected error; the cause is logged under the request id");
                add_response(
                    operation,
                    "503",
                    "The server cannot take the request now (the database is unreachable, busy or locked, the request passed its deadline, or every password hashing thread is busy); retry after Retry-After seconds",
                );
                // A public operation says it needs no credentials with an empty list, which
                // overrides the document's bearer requirement; `[{}]` ("optional") made client
                // generators demand credentials for signup and login.
                if !authenticated {
                    operation.security = Some(Vec::new());
                }
            }
        }
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
        openapi.servers = Some(vec![
            ServerBuilder::new()
                .url("/")
                .description(Some("The server that serves this document (it is served at /api/v1/openapi.json)"))
                .build(),
        ]);
        mark_sent_properties_required(openapi);
        crate::spec_links::add_links(openapi);
        if let Some(components) = openapi.components.as_mut() {
            for (schema, alternatives) in ALTERNATIVE_REQUIREMENTS {
                require_one_of(components, schema, alternatives);
            }
        }
    }
}

/// Fields that must be present and not `null`, with the type each then has.
type FieldSet = &'static [(&'static str, Type)];

/// Request bodies that need one of several sets of fields, each present and not `null`: rules the
/// domain checks, stated in the schema so that a generated request cannot break them.
const ALTERNATIVE_REQUIREMENTS: &[(&str, &[FieldSet])] = &[
    // A line names a product of the price book, or describes itself and has a price.
    (
        "LineItemRequest",
        &[&[("product_id", Type::String)], &[("description", Type::String), ("unit_price", Type::Integer)]],
    ),
    // A deal, an order or an invoice has a buyer: a business, a person, or (an order) a deal's buyers.
    ("CreateOpportunityRequest", &[&[("account_id", Type::String)], &[("contact_id", Type::String)]]),
    ("CreateInvoiceRequest", &[&[("account_id", Type::String)], &[("contact_id", Type::String)]]),
    // A ticket has a customer: a business, a person, or both.
    ("CreateTicketRequest", &[&[("account_id", Type::String)], &[("contact_id", Type::String)]]),
    (
        "CreateOrderRequest",
        &[&[("account_id", Type::String)], &[("contact_id", Type::String)], &[("opportunity_id", Type::String)]],
    ),
];

/// Makes `schema` `allOf: [<itself>, anyOf: [<each set of fields required and not null>]]`.
fn require_one_of(components: &mut utoipa::openapi::Components, schema: &str, alternatives: &[FieldSet]) {
    let Some(original) = components.schemas.remove(schema) else { return };
    let mut any_of = utoipa::openapi::schema::AnyOfBuilder::new();
    for fields in alternatives {
        let mut branch = ObjectBuilder::new();
        for (name, kind) in fields.iter() {
            branch = branch
                .property(*name, ObjectBuilder::new().schema_type(SchemaType::Type(kind.clone())))
                .required(*name);
        }
        any_of = any_of.item(branch);
    }
    let combined = utoipa::openapi::schema::AllOfBuilder::new()
        .item(original)
        .item(RefOr::T(Schema::AnyOf(any_of.build())))
        .build();
    components.schemas.insert(schema.to_owned(), RefOr::T(Schema::AllOf(combined)));
}

/// Every operation of the document.
pub(crate) fn operations(openapi: &OpenApiDocument) -> impl Iterator<Item = &Operation> {
    openapi
        .paths
        .paths
        .values()
        .flat_map(|item| [&item.get, &item.post, &item.put, &item.patch, &item.delete].into_iter().flatten())
}

/// Response properties the server leaves out when they are empty (`skip_serializing_if`); every
/// other property of a response is always sent, `null` when it has no value.
const OMITTED_WHEN_EMPTY: &[(&str, &str)] =
    &[("Problem", "errors"), ("Problem", "existing_id"), ("ConversionResponse", "duplicates")];

/// The component schemas that `node` refers to, directly or through other components.
fn referenced_components(node: &serde_json::Value, schemas: &serde_json::Value, found: &mut BTreeSet<String>) {
    match node {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(reference)) = map.get("$ref")
                && let Some(name) = reference.strip_prefix("#/components/schemas/")
                && found.insert(name.to_owned())
            {
                referenced_components(&schemas[name], schemas, found);
            }
            map.values().for_each(|value| referenced_components(value, schemas, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|value| referenced_components(value, schemas, found)),
        _ => {}
    }
}

/// Marks every property of a response schema as required (a generated client then types it as
/// always present, nullable where it may be `null`), except the few the server omits. Schemas
/// that requests use too keep their optional properties: a request may leave them out.
fn mark_sent_properties_required(openapi: &mut OpenApiDocument) {
    let Ok(schemas) = serde_json::to_value(openapi.components.as_ref().map(|c| &c.schemas)) else { return };
    let (mut in_responses, mut in_requests) = (BTreeSet::new(), BTreeSet::new());
    for operation in operations(openapi) {
        if let Ok(responses) = serde_json::to_value(&operation.responses) {
            referenced_components(&responses, &schemas, &mut in_responses);
        }
        if let Ok(request) = serde_json::to_value((&operation.request_body, &operation.parameters)) {
            referenced_components(&request, &schemas, &mut in_requests);
        }
    }
    let Some(components) = openapi.components.as_mut() else { return };
    for name in in_responses.difference(&in_requests) {
        let Some(RefOr::T(schema)) = components.schemas.get_mut(name) else { continue };
        let objects: Vec<&mut Object> = match schema {
            Schema::Object(object) => vec![object],
            Schema::AllOf(all_of) => all_of
                .items
                .iter_mut()
                .filter_map(|item| match item {
                    RefOr::T(Schema::Object(object)) => Some(object),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for object in objects {
            let sent: Vec<String> = object
                .properties
                .keys()
                .filter(|property| !OMITTED_WHEN_EMPTY.contains(&(name.as_str(), property.as_str())))
                .cloned()
                .collect();
            for property in sent {
                if !object.required.contains(&property) {
                    object.required.push(property);
                }
            }
        }
    }
}

/// Every documented path as (segments, allowed methods), to answer 405 with `Allow` when a path
/// exists but the method does not.
pub struct RouteTable(Vec<(Vec<String>, Vec<String>)>);

impl RouteTable {
    pub fn from_document(document: &OpenApiDocument) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.trim_matches('/').split('/').map(str::to_owned).collect();
                let mut methods = Vec::new();
                for (name, present) in [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ] {
                    if present {
                        methods.push(name.to_owned());
                    }
                }
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods a concrete path allows, if the path is known at all.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut allowed: Vec<String> = Vec::new();
        let mut matched = false;
        for (segments, methods) in &self.0 {
            let fits = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if fits {
                matched = true;
                for m in methods {
                    if !allowed.contains(m) {
                        allowed.push(m.clone());
                    }
                }
            }
        }
        matched.then_some(allowed)
    }
}
