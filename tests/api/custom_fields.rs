//! `custom_fields` hold arbitrary JSON values and give back, on every backend, exactly what the
//! API accepted: a property test sends generated values through create, read, list, update and
//! the audit trail.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::{Map, Value, json};

use crate::helpers::{Backend, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(arbitrary_custom_fields_read_back_as_accepted);

/// How many generated documents each backend round-trips.
const CASES: usize = 96;

/// Any finite 64-bit float: the extremes, subnormals and negative zero included.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(-0.0),
        Just(1e16),
        Just(-2.121_375_785_390_416e16),
        Just(1e19),
        Just(1e20),
    ]
}

/// Text without NUL, from the whole of Unicode (astral characters and controls included).
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>().prop_filter("no NUL", |c| *c != '\0'), 0..12)
        .prop_map(|chars| chars.into_iter().collect())
}

/// A JSON value nested at most four deep, the API's limit inside `custom_fields`.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn document() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map(text(), value(), 0..6).prop_map(|m| m.into_iter().collect())
}

/// The documented canonical form: a number without a fraction that fits in 64 bits is an
/// integer (worked out here independently of the server's code).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            let text = format!("{f:.0}");
            if f.fract() == 0.0 {
                if let Ok(i) = text.parse::<i64>() {
                    return json!(i);
                }
                if let Ok(u) = text.parse::<u64>() {
                    return json!(u);
                }
                if text == "-0" {
                    return json!(0);
                }
            }
            value.clone()
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect()),
        _ => value.clone(),
    }
}

async fn arbitrary_custom_fields_read_back_as_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let mut runner =
        TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(Config::default().rng_algorithm));
    let strategy = document();
    for case in 0..CASES {
        let fields = Value::Object(strategy.new_tree(&mut runner).unwrap().current());
        let expected = canonical(&fields);
        let created =
            app.post("/api/v1/leads", &admin.token, &json!({"last_name": "Prop", "custom_fields": fields})).await;
        if created.status.as_u16() == 422 {
            // Refused as a whole (too large): nothing was stored.
            assert_eq!(created.body["errors"][0]["code"], "too_large", "case {case}: {fields}");
            continue;
        }
        let created = created.expect(201).body;
        assert_eq!(created["custom_fields"], expected, "case {case}: created");
        let id = id_of(&created);
        let read = app.get(&format!("/api/v1/leads/{id}"), &admin.token).await.expect(200);
        assert_eq!(read.body["custom_fields"], expected, "case {case}: read");
        let etag = read.header("etag").unwrap_or_default().to_owned();
        // Updating something else keeps them; the audit trail reads back too.
        let updated = app
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/leads/{id}"),
                Some(&admin.token),
                Some(&json!({"title": "CTO"})),
                &[("if-match", &etag)],
            )
            .await
            .expect(200);
        assert_eq!(updated.body["custom_fields"], expected, "case {case}: updated");
        let audit =
            app.get(&format!("/api/v1/audit-events?entity_type=lead&entity_id={id}"), &admin.token).await.expect(200);
        let creation = audit.body["data"].as_array().and_then(|events| events.iter().find(|e| e["action"] == "create"));
        let audited = creation
            .and_then(|e| e["changes"].as_array())
            .and_then(|changes| changes.iter().find(|c| c["field"] == "custom_fields"))
            .map(|c| c["new"].clone());
        if expected.as_object().is_some_and(|m| !m.is_empty()) {
            assert_eq!(audited, Some(expected.clone()), "case {case}: audited");
        }
    }
    let listed = app.get("/api/v1/leads?limit=100", &admin.token).await.expect(200);
    assert!(listed.body["data"].as_array().is_some_and(|d| !d.is_empty()));
}
