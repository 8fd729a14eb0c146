//! Access: organisations never see or touch each other's records, through any route of the
//! served API description.

use std::collections::HashMap;
use std::path::Path;

use crm_domain::permissions::{Action, Reach, Resource, Role, reach};
use reqwest::Method;
use serde_json::{Value, json};

use crate::error::{Result, failure};

use super::{Backend, Database, Outcome, ReliabilityConfig};

/// What every one of organisation A's records carries, so that a leak is visible in any answer.
const MARKER: &str = "alpha-secret";
/// The amount every one of A's priced records carries, for the same reason.
const AMOUNT: i64 = 77_777_701;

/// A client of one organisation's admin.
struct Session {
    http: reqwest::Client,
    base: String,
    token: String,
    user_id: String,
}

impl Session {
    async fn new(base: &str, email: &str) -> Result<Self> {
        let http = reqwest::Client::new();
        let tenant = crate::api::signup(&http, base, email).await?;
        let token = crate::api::login(&http, base, email).await?;
        Ok(Session { http, base: base.to_owned(), token, user_id: tenant.admin_id.to_string() })
    }

    /// Sends a request; the status and the body as text.
    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<(u16, String)> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// A request that must succeed; its JSON answer.
    async fn must(&self, method: Method, path: &str, body: &Value) -> Result<Value> {
        let (status, text) = self.send(method.clone(), path, Some(body)).await?;
        if !(200..300).contains(&status) {
            return Err(failure(format!("{method} {path} answered {status}: {text}")));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn id(value: &Value) -> Result<String> {
    value["id"].as_str().map(str::to_owned).ok_or_else(|| failure(format!("no id in {value}")))
}

/// Organisation A's records, one of each kind, named by the noun the API's paths use.
async fn seed_alpha(a: &Session) -> Result<HashMap<&'static str, String>> {
    seed(a, "alpha", None).await
}

/// One record of each kind, created by `a` (who owns them), named by the noun the API's paths
/// use; `label` keeps unique values (SKU, emails) apart between seeds of one organisation.
/// With `shared`, the price book, the competitors and the users are taken from it instead of
/// created (for a seller, who may create only sales records).
async fn seed(
    a: &Session,
    label: &str,
    shared: Option<&HashMap<&'static str, String>>,
) -> Result<HashMap<&'static str, String>> {
    let label = label.replace('_', "-");
    let mut ids = HashMap::new();
    let line = json!([{"description": format!("{MARKER} line"), "quantity": 1, "unit_price": AMOUNT, "tax_rate": 0}]);
    let money = json!({"amount": AMOUNT, "currency": "EUR"});
    let lead = a
        .must(
            Method::POST,
            "/api/v1/leads",
            &json!({"last_name": format!("{MARKER} lead"), "email": format!("lead@{label}-secret.example")}),
        )
        .await?;
    ids.insert("leads", id(&lead)?);
    let account = a.must(Method::POST, "/api/v1/accounts", &json!({"name": format!("{MARKER} account")})).await?;
    let account_id = id(&account)?;
    let contact = a
        .must(
            Method::POST,
            "/api/v1/contacts",
            &json!({"last_name": format!("{MARKER} contact"), "account_id": account_id}),
        )
        .await?;
    let deal = a
        .must(
            Method::POST,
            "/api/v1/opportunities",
            &json!({"name": format!("{MARKER} deal"), "account_id": account_id, "amount": money, "expected_close_date": "2027-01-15"}),
        )
        .await?;
    let deal_id = id(&deal)?;
    let (product_id, competitor_id, rival_product_id) = if let Some(shared) = shared {
        (shared["products"].clone(), shared["competitors"].clone(), shared["competitor_products"].clone())
    } else {
        let product = a
            .must(
                Method::POST,
                "/api/v1/products",
                &json!({"name": format!("{MARKER} product"), "sku": format!("{label}-1"), "unit_price": money}),
            )
            .await?;
        let competitor =
            a.must(Method::POST, "/api/v1/competitors", &json!({"name": format!("{MARKER} rival")})).await?;
        let competitor_id = id(&competitor)?;
        let rival_product = a
            .must(
                Method::POST,
                &format!("/api/v1/competitors/{competitor_id}/products"),
                &json!({"name": format!("{MARKER} mill"), "price": money}),
            )
            .await?;
        (id(&product)?, competitor_id, id(&rival_product)?)
    };
    a.must(
        Method::PUT,
        &format!("/api/v1/opportunities/{deal_id}/competitors/{competitor_id}"),
        &json!({"threat_level": "high"}),
    )
    .await?;
    let contact_id = id(&contact)?;
    a.must(
        Method::PUT,
        &format!("/api/v1/opportunities/{deal_id}/contacts/{contact_id}"),
        &json!({"role": "decision_maker"}),
    )
    .await?;
    let quote = a
        .must(
            Method::POST,
            "/api/v1/quotes",
            &json!({"opportunity_id": deal_id, "currency": "EUR", "line_items": line}),
        )
        .await?;
    let order = a
        .must(Method::POST, "/api/v1/orders", &json!({"account_id": account_id, "currency": "EUR", "line_items": line}))
        .await?;
    let invoice = a
        .must(
            Method::POST,
            "/api/v1/invoices",
            &json!({"account_id": account_id, "currency": "EUR", "line_items": line}),
        )
        .await?;
    let invoice_id = id(&invoice)?;
    a.must(Method::POST, &format!("/api/v1/invoices/{invoice_id}/issue"), &json!({})).await?;
    a.must(
        Method::POST,
        &format!("/api/v1/invoices/{invoice_id}/payments"),
        &json!({"amount": {"amount": 100, "currency": "EUR"}, "method": "bank_transfer"}),
    )
    .await?;
    if let Some(shared) = shared {
        ids.insert("users", shared["users"].clone());
    } else {
        let user = a
            .must(
                Method::POST,
                "/api/v1/users",
                &json!({"name": format!("{MARKER} rep"), "email": format!("rep@{label}-secret.example"), "password": crate::api::PASSWORD, "role": "sales_rep"}),
            )
            .await?;
        ids.insert("users", id(&user)?);
    }
    let activity = a
        .must(
            Method::POST,
            "/api/v1/activities",
            &json!({"kind": "call", "subject": format!("{MARKER} call"), "contact_id": contact_id, "due_at": "2099-01-15T09:00:00Z"}),
        )
        .await?;
    ids.insert("activities", id(&activity)?);
    // A support ticket with a comment (sellers create none: they take the shared one).
    if let Some(shared) = shared {
        ids.insert("tickets", shared["tickets"].clone());
        ids.insert("comments", shared["comments"].clone());
    } else {
        let ticket = a
            .must(
                Method::POST,
                "/api/v1/tickets",
                &json!({"subject": format!("{MARKER} ticket"), "contact_id": contact_id, "category": "complaint"}),
            )
            .await?;
        let ticket_id = id(&ticket)?;
        let receipt = a
            .must(
                Method::POST,
                &format!("/api/v1/tickets/{ticket_id}/comments"),
                &json!({"body": format!("{MARKER} comment")}),
            )
            .await?;
        ids.insert("comments", id(&receipt["comment"])?);
        ids.insert("tickets", ticket_id);
    }
    ids.insert("accounts", account_id);
    ids.insert("contacts", contact_id);
    ids.insert("opportunities", deal_id);
    ids.insert("products", product_id);
    ids.insert("competitors", competitor_id);
    ids.insert("competitor_products", rival_product_id);
    ids.insert("quotes", id(&quote)?);
    ids.insert("orders", id(&order)?);
    ids.insert("invoices", invoice_id);
    Ok(ids)
}

/// The id of A's record that a path or query parameter names: `{id}` the record of the segment
/// before it, `{x_id}` the record of kind x.
fn alpha_id(ids: &HashMap<&'static str, String>, alpha_admin: &str, path: &str, parameter: &str) -> Option<String> {
    let noun = match parameter {
        "id" => {
            let before = path.split("/{id}").next()?;
            before.rsplit('/').next()?.to_owned()
        }
        "product_id" if path.contains("/competitors/") => "competitor_products".to_owned(),
        "owner_id" | "actor_id" => return Some(alpha_admin.to_owned()),
        "entity_id" => "leads".to_owned(),
        "parent_account_id" => "accounts".to_owned(),
        other => format!("{}s", other.strip_suffix("_id")?),
    };
    let noun = if noun == "opportunitys" { "opportunities".to_owned() } else { noun };
    ids.get(noun.as_str()).cloned()
}

/// The example body the API description gives an operation (on the body or its schema).
fn example_body(spec: &Value, operation: &Value) -> Option<Value> {
    let content = &operation["requestBody"]["content"]["application/json"];
    if content.is_null() {
        return None;
    }
    if !content["example"].is_null() {
        return Some(content["example"].clone());
    }
    let reference = content["schema"]["$ref"].as_str().unwrap_or_default();
    let schema = &spec["components"]["schemas"][reference.rsplit('/').next().unwrap_or_default()];
    if !schema["example"].is_null() {
        return Some(schema["example"].clone());
    }
    // The creates whose schema has no example yet: the least a valid one holds.
    let path = operation["operationId"].as_str().unwrap_or_default();
    Some(match path {
        "create_opportunity" => json!({"name": "Probe", "account_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"}),
        "create_ticket" => json!({"subject": "Probe", "account_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"}),
        "create_order" | "create_invoice" => {
            json!({"currency": "EUR", "account_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"})
        }
        _ => json!({}),
    })
}

/// What in an answer to B would be A's: a marker, the amount, or an id.
fn leaks(text: &str, ids: &HashMap<&'static str, String>, alpha_admin: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if lower.contains(MARKER) {
        return Some(format!("the marker {MARKER}"));
    }
    if text.contains(&AMOUNT.to_string()) {
        return Some(format!("the amount {AMOUNT}"));
    }
    ids.iter()
        .map(|(noun, id)| (*noun, id.as_str()))
        .chain([("admin", alpha_admin)])
        .find(|(_, id)| text.contains(id))
        .map(|(noun, id)| format!("the id of A's {noun} {id}"))
}

/// Cross-organisation access: organisation A holds one record of every kind (lead, account,
/// contact, deal with a competitor and a contact role, product, competitor and its product,
/// quote, order, issued invoice with a payment, activity, user, support ticket with a comment), each
/// carrying a marker. B's admin then
/// calls every operation of the served API description that takes a path id, with A's ids and
/// the operation's example body; every list and report, plain and with each id filter set to
/// A's records; and every create that references A's records. Promises, on both backends: each
/// path with A's id answers 404 `not_found`; no answer to B holds a marker, an amount or an id
/// of A's; no create referencing A succeeds; and every record of A's is unchanged afterwards.
pub(super) async fn cross_org(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    for backend in Backend::BOTH {
        let name = backend.name();
        let database = Database::create(config, &dir.join(name), backend, "tenancy").await?;
        let server = database.serve(config, None).await?;
        let a = Session::new(&server.base_url, "admin@alpha.example").await?;
        let b = Session::new(&server.base_url, "admin@beta.example").await?;
        let alpha_admin = a.user_id.clone();
        let ids = seed_alpha(&a).await?;
        b.must(Method::POST, "/api/v1/leads", &json!({"last_name": "Beta lead"})).await?;
        let before = alpha_versions(&a, &ids).await?;
        let spec: Value = serde_json::from_str(&b.send(Method::GET, "/api/v1/openapi.json", None).await?.1)?;
        let mut probes = 0;
        let mut broken = Vec::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
                if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str())
                    || path.starts_with("/api/v1/auth/")
                {
                    continue;
                }
                if path.contains('{') {
                    let mut concrete = path.clone();
                    for parameter in path.split('{').skip(1).filter_map(|p| p.split('}').next()) {
                        let Some(value) = alpha_id(&ids, &alpha_admin, path, parameter) else {
                            broken.push(format!("{method} {path}: no record of A for {{{parameter}}}"));
                            continue;
                        };
                        concrete = concrete.replace(&format!("{{{parameter}}}"), &value);
                    }
                    let body = example_body(&spec, operation);
                    let (status, text) = b.send(method.clone(), &concrete, body.as_ref()).await?;
                    probes += 1;
                    let code: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if status != 404 || code["code"] != "not_found" {
                        broken.push(format!(
                            "{method} {path} with A's ids: {status} {}",
                            text.chars().take(200).collect::<String>()
                        ));
                    }
                    if let Some(leak) = leaks(&text, &ids, &alpha_admin) {
                        broken.push(format!("{method} {path} with A's ids showed {leak}"));
                    }
                } else if method == Method::GET {
                    let mut variants = vec![path.clone()];
                    for parameter in operation["parameters"].as_array().into_iter().flatten() {
                        let pname = parameter["name"].as_str().unwrap_or_default();
                        if parameter["in"] == "query"
                            && pname.ends_with("_id")
                            && let Some(value) = alpha_id(&ids, &alpha_admin, path, pname)
                        {
                            variants.push(format!("{path}?{pname}={value}"));
                        }
                    }
                    for variant in variants {
                        let (status, text) = b.send(Method::GET, &variant, None).await?;
                        probes += 1;
                        if status >= 500 {
                            broken.push(format!("GET {variant}: {status}"));
                        }
                        if let Some(leak) = leaks(&text, &ids, &alpha_admin) {
                            broken.push(format!("GET {variant} showed {leak}"));
                        }
                    }
                }
            }
        }
        // Creates that reference A's records.
        let references = [
            ("/api/v1/contacts", json!({"last_name": "x", "account_id": ids["accounts"]})),
            ("/api/v1/leads", json!({"last_name": "x", "owner_id": alpha_admin})),
            ("/api/v1/opportunities", json!({"name": "x", "account_id": ids["accounts"]})),
            ("/api/v1/opportunities", json!({"name": "x", "contact_id": ids["contacts"]})),
            ("/api/v1/quotes", json!({"opportunity_id": ids["opportunities"]})),
            ("/api/v1/orders", json!({"currency": "EUR", "account_id": ids["accounts"]})),
            (
                "/api/v1/orders",
                json!({"currency": "EUR", "contact_id": ids["contacts"], "opportunity_id": ids["opportunities"]}),
            ),
            ("/api/v1/invoices", json!({"currency": "EUR", "account_id": ids["accounts"]})),
            ("/api/v1/accounts", json!({"name": "x", "parent_account_id": ids["accounts"]})),
            ("/api/v1/activities", json!({"kind": "call", "subject": "x", "contact_id": ids["contacts"]})),
            ("/api/v1/activities", json!({"kind": "call", "subject": "x", "lead_id": ids["leads"]})),
        ];
        for (path, body) in &references {
            let (status, text) = b.send(Method::POST, path, Some(body)).await?;
            probes += 1;
            if (200..300).contains(&status) || status >= 500 {
                broken.push(format!("POST {path} referencing A's record {body}: {status}"));
            }
            if let Some(leak) = leaks(&text, &ids, &alpha_admin) {
                broken.push(format!("POST {path} referencing A's record showed {leak}"));
            }
        }
        let after = alpha_versions(&a, &ids).await?;
        let changed: Vec<&str> = before.iter().filter(|(k, v)| after.get(*k) != Some(v)).map(|(k, _)| *k).collect();
        outcome.figure(format!(
            "{name}: {probes} requests by B at A's records through every route: broken {}; A's records changed: {}",
            broken.len(),
            changed.len()
        ));
        for problem in broken.iter().take(10) {
            outcome.promise(false, format!("{name}: {problem}"));
        }
        outcome.promise(broken.len() <= 10, format!("{name}: and {} more", broken.len().saturating_sub(10)));
        outcome.promise(changed.is_empty(), format!("{name}: A's records are unchanged ({changed:?})"));
        server.stop()?;
        database.drop_now(config).await?;
    }
    Ok(outcome)
}

/// Each of A's records as A reads it (its whole answer, dates and all).
async fn alpha_versions(a: &Session, ids: &HashMap<&'static str, String>) -> Result<HashMap<&'static str, String>> {
    let mut versions = HashMap::new();
    for (noun, id) in ids {
        let path = if *noun == "competitor_products" {
            format!("/api/v1/competitors/{}/products/{id}", ids["competitors"])
        } else if *noun == "comments" {
            // A comment is read in its ticket's list.
            format!("/api/v1/tickets/{}/comments", ids["tickets"])
        } else {
            format!("/api/v1/{noun}/{id}")
        };
        let (status, text) = a.send(Method::GET, &path, None).await?;
        versions.insert(*noun, format!("{status} {text}"));
    }
    Ok(versions)
}

/// The kind of record a path acts on, as the permission module names it; `None` for routes
/// outside the matrix (the caller's own profile).
fn resource_of(method: &Method, path: &str) -> Option<Resource> {
    let rest = path.strip_prefix("/api/v1/")?;
    if rest.starts_with("tickets/{id}/comments") {
        return Some(Resource::TicketComment);
    }
    if rest == "contacts" && *method == Method::POST {
        return Some(Resource::NewContact);
    }
    match rest.split('/').next()? {
        "tickets" => Some(Resource::Ticket),
        "leads" | "accounts" | "contacts" | "opportunities" | "quotes" | "orders" | "invoices" | "reports" => {
            Some(Resource::SalesRecord)
        }
        "products" => Some(Resource::PriceBook),
        "competitors" => Some(Resource::Competitor),
        "activities" => Some(Resource::Activity),
        "users" => Some(Resource::User),
        "audit-events" => Some(Resource::AuditEvent),
        "settings" => Some(Resource::Settings),
        _ => None,
    }
}

/// What an operation does in the matrix's terms: a read, a create (a `POST` on a collection),
/// or a change of the record its path names (every other write: edits, actions, links).
fn action_of(method: &Method, path: &str) -> Action {
    if *method == Method::GET {
        Action::Read
    } else if *method == Method::POST && (!path.contains('{') || path.ends_with("/comments")) {
        Action::Create
    } else {
        Action::Update
    }
}

/// Fills every `…_id` of an example body with a record of `ids` (`owner_id`: the actor).
fn fill_ids(value: &mut Value, ids: &HashMap<&'static str, String>, actor: &str, path: &str) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if key.ends_with("_id") && field.is_string() {
                    let chosen =
                        if key == "owner_id" { Some(actor.to_owned()) } else { alpha_id(ids, actor, path, key) };
                    if let Some(chosen) = chosen {
                        *field = Value::String(chosen);
                    }
                } else {
                    fill_ids(field, ids, actor, path);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| fill_ids(item, ids, actor, path)),
        _ => {}
    }
}

/// The role matrix against every route: for the manager, the sales rep and the support agent,
/// every operation of the served API description is called on records the admin owns (fresh
/// ones for each role), and, for the sales rep, on sales records the rep owns. An operation the
/// matrix (`crm_domain::permissions::reach`) does not let the role reach must answer 403
/// `forbidden`; one it does must not (and never 5xx). Both backends.
pub(super) async fn roles(config: &ReliabilityConfig, dir: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    for backend in Backend::BOTH {
        let name = backend.name();
        let database = Database::create(config, &dir.join(name), backend, "roles").await?;
        let server = database.serve(config, None).await?;
        let admin = Session::new(&server.base_url, "admin@roles.example").await?;
        let spec: Value = serde_json::from_str(&admin.send(Method::GET, "/api/v1/openapi.json", None).await?.1)?;
        let (mut probes, mut refused) = (0, 0);
        let mut broken = Vec::new();
        for role in [Role::Manager, Role::SalesRep, Role::SupportAgent] {
            let email = format!("{role}@roles.example");
            let user = admin
                .must(
                    Method::POST,
                    "/api/v1/users",
                    &json!({"name": format!("The {role}"), "email": email, "password": crate::api::PASSWORD, "role": role.as_str()}),
                )
                .await?;
            let token = crate::api::login(&admin.http, &admin.base, &email).await?;
            let actor = Session { http: admin.http.clone(), base: admin.base.clone(), token, user_id: id(&user)? };
            let theirs = seed(&admin, &format!("{role}-admin"), None).await?;
            let own = if role == Role::SalesRep { Some(seed(&actor, "rep-own", Some(&theirs)).await?) } else { None };
            for (path, item) in spec["paths"].as_object().into_iter().flatten() {
                for (method, operation) in item.as_object().into_iter().flatten() {
                    let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
                    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                        continue;
                    }
                    let Some(resource) = resource_of(&method, path) else { continue };
                    let action = action_of(&method, path);
                    let mut sets = vec![(&theirs, false)];
                    if let Some(own) = &own
                        && resource == Resource::SalesRecord
                        && (path.contains('{') || action == Action::Create)
                    {
                        sets.push((own, true));
                    }
                    for (ids, owned) in sets {
                        let mut concrete = path.clone();
                        for parameter in path.split('{').skip(1).filter_map(|p| p.split('}').next()) {
                            if let Some(value) = alpha_id(ids, &actor.user_id, path, parameter) {
                                concrete = concrete.replace(&format!("{{{parameter}}}"), &value);
                            }
                        }
                        let mut body = example_body(&spec, operation);
                        if let Some(body) = body.as_mut() {
                            fill_ids(body, ids, &actor.user_id, path);
                        }
                        // A create is of a record the actor will own.
                        let owner = owned || action == Action::Create || action == Action::Read;
                        let reaches = |action, owner| match reach(role, resource, action) {
                            Reach::All => true,
                            Reach::Own => owner,
                            Reach::Nothing => false,
                        };
                        // Quoting commits the deal: it also needs the right to change it (README).
                        let quoting = path == "/api/v1/quotes" && method == Method::POST;
                        // A public comment (the example's) needs the right to work tickets.
                        let public_comment = resource == Resource::TicketComment
                            && action == Action::Create
                            && body.as_ref().is_some_and(|b| b["visibility"] != "internal");
                        let works_tickets = reach(role, Resource::Ticket, Action::Update) == Reach::All;
                        let allowed = reaches(action, owner)
                            && (!quoting || reaches(Action::Update, owned))
                            && (!public_comment || works_tickets);
                        let (status, text) = actor.send(method.clone(), &concrete, body.as_ref()).await?;
                        probes += 1;
                        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        let forbidden = status == 403 && problem["code"] == "forbidden";
                        refused += usize::from(forbidden);
                        let whose = if owned { "own" } else { "the admin's" };
                        if allowed && (status == 403 || status >= 500) {
                            broken.push(format!("{role} {method} {path} on {whose}: {status}, the matrix allows it"));
                        } else if !allowed && !forbidden {
                            broken.push(format!(
                                "{role} {method} {path} on {whose}: {status} {}, the matrix forbids it",
                                text.chars().take(160).collect::<String>()
                            ));
                        }
                    }
                }
            }
        }
        outcome.figure(format!(
            "{name}: {probes} calls by manager, sales rep and support agent over every route: {refused} refused 403 as the matrix says; disagreements with the matrix: {}",
            broken.len()
        ));
        for problem in broken.iter().take(12) {
            outcome.promise(false, format!("{name}: {problem}"));
        }
        outcome.promise(broken.len() <= 12, format!("{name}: and {} more", broken.len().saturating_sub(12)));
        server.stop()?;
        database.drop_now(config).await?;
    }
    Ok(outcome)
}
