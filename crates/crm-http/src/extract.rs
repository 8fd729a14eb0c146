//! Extractors that answer problems instead of actix's plain-text errors: JSON bodies (with the
//! 1 MiB limit, the content type, and the path of a field that has the wrong type), path and
//! query parameters.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::web::{Bytes, PathConfig, QueryConfig};
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::problem::{ApiError, ProblemCode, ProblemField};

/// The largest request body the API accepts.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body of type `T`.
pub struct JsonBody<T>(pub T);

/// Whether the request declares a JSON body (`application/json` or `application/*+json`).
pub fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Refuses a body sent with a `Content-Encoding` other than none, `identity` or `gzip`: the HTTP
/// layer decodes gzip only, and would otherwise read any other encoding's bytes as they are.
///
/// # Errors
/// 415 naming the encoding.
pub fn check_body_encoding(req: &HttpRequest) -> Result<(), ApiError> {
    let mut values = req.headers().get_all(header::CONTENT_ENCODING).peekable();
    if values.peek().is_none() {
        return Ok(());
    }
    let codings: Vec<String> = values
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes()).split(',').map(|c| c.trim().to_ascii_lowercase()).collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    match codings.as_slice() {
        [] => Ok(()),
        [one] if one == "gzip" || one == "x-gzip" => Ok(()),
        _ => Err(ApiError::UnsupportedEncoding { encoding: codings.join(", ").chars().take(64).collect() }),
    }
}

/// Rewrites serde's wording so that Rust type names never reach a client.
fn public_message(message: &str) -> String {
    let cut = message.find(" at line ").map_or(message, |i| &message[..i]);
    // The uuid crate's own wording ("UUID parsing failed: invalid length: expected length 32 for
    // simple format, found 3") names its internals; a client needs to know what to send.
    if let Some(i) = cut.find("UUID parsing failed") {
        return format!("{}must be a UUID such as 0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", &cut[..i]);
    }
    let mut out = String::with_capacity(cut.len());
    let mut rest = cut;
    while let Some(i) = rest.find("struct ") {
        out.push_str(&rest[..i]);
        out.push_str("an object");
        let after = &rest[i + "struct ".len()..];
        let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out.replace("enum ", "one of the allowed values for ")
}

/// JSON Schema counts `100.0` as an integer, so a client generated from the spec may send one where
/// the API takes an integer; serde would refuse it. Every number with no fraction that fits in 64
/// bits (signed, or unsigned above) becomes an integer, `custom_fields` included: PostgreSQL gives
/// `1e16` back as `10000000000000000` and `-0.0` as `0.0`, so this one canonical form is what both
/// databases store and read back unchanged.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
            {
                // In range and without a fraction: the conversions are exact.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&float) {
                    *value = serde_json::Value::from(float as i64);
                } else if (0.0..18_446_744_073_709_551_616.0).contains(&float) {
                    *value = serde_json::Value::from(float as u64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// Parses a JSON body: 400 when it is not JSON at all, 422 naming the field when a field has the
/// wrong type or is unknown.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
        code: ProblemCode::MalformedJson,
        detail: format!("the body is not valid JSON: {}", public_message(&e.to_string())),
        errors: None,
    })?;
    // Every body of this API is an object; serde would otherwise read a struct from an array.
    if !value.is_object() {
        return Err(ApiError::Validation {
            detail: Some("the body must be a JSON object".to_owned()),
            errors: crm_domain::ValidationErrors(vec![crm_domain::FieldError::new(
                "",
                "invalid_type",
                "must be a JSON object",
            )]),
        });
    }
    integral_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize::<_, T>(value).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let message = public_message(&error.inner().to_string());
        let code = if message.starts_with("missing field") {
            "required"
        } else if message.starts_with("unknown field") {
            "unknown_field"
        } else {
            "invalid_type"
        };
        let field = if field.is_empty() {
            // A missing or unknown field is reported at the object; name it when serde quotes it.
            message.split('`').nth(1).map(str::to_owned).unwrap_or_default()
        } else {
            field
        };
        ApiError::Validation {
            detail: Some(if field.is_empty() { message.clone() } else { format!("{field}: {message}") }),
            errors: crm_domain::ValidationErrors(vec![crm_domain::FieldError::new(field, code, message)]),
        }
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let encoding = check_body_encoding(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            if declared_length.is_some_and(|n| n > BODY_LIMIT) {
                return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
            }
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
            encoding?;
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge { limit: BODY_LIMIT }
                } else {
                    ApiError::BadRequest {
                        code: ProblemCode::UnreadableBody,
                        detail: "the request body could not be read".to_owned(),
                        errors: None,
                    }
                }
            })?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// A body that may be left out: an empty body, or the JSON `null` (what a client sends for an
/// optional body it has no value for), is `T::default()`; anything else must be a JSON object.
///
/// # Errors
/// 415 when a non-empty body is not declared as JSON; the errors of [`parse_json`].
pub fn parse_optional_json<T: DeserializeOwned + Default>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if !is_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    check_body_encoding(req)?;
    if body.trim_ascii() == b"null" {
        return Ok(T::default());
    }
    parse_json(body)
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Makes a nested body type read from a JSON object only. Serde's derive would also read a
/// struct from an array of its fields in order (`"amount": [100, "EUR"]`), which the spec does
/// not allow. The type derives with `#[serde(remote = "Self")]`, which turns the derived code
/// into inherent functions; this writes the trait impls around them: `Deserialize` asks for a map
/// and reads the fields from it with the derived code (so an error still names its path,
/// `billing_address.country`), and, with `serialize`, `Serialize` delegates as it is.
macro_rules! object_only {
    ($t:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$t, A::Error> {
                        <$t>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    };
    ($t:ty, serialize) => {
        $crate::extract::object_only!($t);
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                <$t>::serialize(self, serializer)
            }
        }
    };
}
pub(crate) use object_only;

pub fn path_config() -> PathConfig {
    PathConfig::default().error_handler(|error: PathError, req: &HttpRequest| {
        let field = req.match_info().iter().find(|(_, v)| uuid::Uuid::parse_str(v).is_err()).map(|(k, _)| k.to_owned());
        let field = field.unwrap_or_else(|| "id".to_owned());
        tracing::debug!(error = %error, "bad path parameter");
        ApiError::BadRequest {
            code: ProblemCode::InvalidPathParameter,
            detail: format!("{field}: must be a UUID"),
            errors: Some(vec![ProblemField {
                field,
                code: "invalid_uuid".to_owned(),
                message: "must be a UUID".to_owned(),
            }]),
        }
        .into()
    })
}

pub fn query_config() -> QueryConfig {
    QueryConfig::default().error_handler(|error: QueryPayloadError, _req: &HttpRequest| {
        let message = match &error {
            QueryPayloadError::Deserialize(e) => public_message(&e.to_string()),
            _ => "the query string could not be parsed".to_owned(),
        };
        let field = message.split('`').nth(1).unwrap_or("query").to_owned();
        ApiError::BadRequest {
            code: ProblemCode::InvalidParameter,
            detail: message.clone(),
            errors: Some(vec![ProblemField { field, code: "invalid_parameter".to_owned(), message }]),
        }
        .into()
    })
}

fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// A `custom_fields` object as the domain keeps it: at most 16 KiB serialised and without NUL
/// characters, which PostgreSQL cannot store in JSON.
pub fn custom_fields(
    errors: &mut crm_domain::ValidationErrors,
    map: serde_json::Map<String, serde_json::Value>,
) -> Option<crm_domain::value::CustomFields> {
    let deepest = map.values().map(nesting).max().unwrap_or(0);
    let value = serde_json::Value::Object(map);
    if deepest > crm_domain::value::CustomFields::MAX_NESTING {
        errors.push(crm_domain::FieldError::new(
            "custom_fields",
            "too_deep",
            format!(
                "objects and arrays may nest at most {} deep inside custom_fields",
                crm_domain::value::CustomFields::MAX_NESTING
            ),
        ));
        return None;
    }
    if has_nul(&value) {
        errors.push(crm_domain::FieldError::new(
            "custom_fields",
            "invalid_characters",
            "must not contain NUL characters",
        ));
        return None;
    }
    errors.collect(crm_domain::value::CustomFields::parse("custom_fields", value.to_string()))
}

/// How deep objects and arrays nest in `value`: 0 for a scalar, 1 for `[1]` or `{}`.
fn nesting(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}

/// A record's `custom_fields` as the JSON object it answers with.
pub fn custom_fields_value(fields: &crm_domain::value::CustomFields) -> serde_json::Value {
    serde_json::from_str(fields.as_json_text()).unwrap_or_else(|_| serde_json::json!({}))
}

/// Parses an optional create field.
pub fn opt<T>(
    errors: &mut crm_domain::ValidationErrors,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, crm_domain::FieldError>,
) -> Option<T> {
    raw.and_then(|raw| errors.collect(parse(raw)))
}

/// Parses a nullable PATCH field: absent stays (`None`), `null` clears (`Some(None)`).
pub fn nullable<T>(
    errors: &mut crm_domain::ValidationErrors,
    raw: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, crm_domain::FieldError>,
) -> Option<Option<T>> {
    match raw {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => errors.collect(parse(&raw)).map(Some),
    }
}

/// Parses a PATCH field that may change but not be cleared: `null` is a `required` error.
pub fn required<R, T>(
    errors: &mut crm_domain::ValidationErrors,
    field: &str,
    raw: Option<Option<R>>,
    parse: impl FnOnce(R, &mut crm_domain::ValidationErrors) -> Option<T>,
) -> Option<T> {
    match raw {
        None => None,
        Some(None) => {
            errors.push(crm_domain::FieldError::new(field, "required", "cannot be null"));
            None
        }
        Some(Some(raw)) => parse(raw, errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_wording_loses_type_names_and_positions() {
        assert_eq!(
            public_message("invalid type: sequence, expected struct LeadCreate at line 1 column 2"),
            "invalid type: sequence, expected an object"
        );
    }

    #[test]
    fn a_bad_uuid_is_described_not_the_parser_quoted() {
        assert_eq!(
            public_message(
                "UUID parsing failed: invalid length: expected length 32 for simple format, found 3 at line 1 column 20"
            ),
            "must be a UUID such as 0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80"
        );
    }

    #[test]
    fn integral_numbers_become_integers_custom_fields_included() {
        let mut value = serde_json::json!({
            "amount": 100.0, "quantity": 2.5, "lines": [{"unit_price": 1999.0}], "big": 1e300,
            "custom_fields": {"score": 7.0, "e16": -2.121375785390416e16, "u": 1e19, "zero": -0.0, "x": [1e20, 0.5]}
        });
        integral_numbers_as_integers(&mut value);
        assert_eq!(value["amount"].as_i64(), Some(100));
        assert_eq!(value["quantity"].as_f64(), Some(2.5));
        assert_eq!(value["lines"][0]["unit_price"].as_i64(), Some(1999));
        assert!(value["big"].is_f64(), "out of the 64-bit range: left as it is");
        let fields = &value["custom_fields"];
        assert_eq!(fields["score"].as_i64(), Some(7));
        assert_eq!(fields["e16"].as_i64(), Some(-21_213_757_853_904_160));
        assert_eq!(fields["u"].as_u64(), Some(10_000_000_000_000_000_000));
        assert_eq!(fields["zero"].to_string(), "0", "no negative zero");
        assert!(fields["x"][0].is_f64(), "beyond 64 bits: a float");
        assert_eq!(fields["x"][1].as_f64(), Some(0.5));
    }
}
