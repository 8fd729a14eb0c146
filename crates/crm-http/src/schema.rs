//! Schema helpers that build OpenAPI schemas from the domain's own allow-lists, so the spec and
//! the parser can never disagree about which values are allowed.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A string that must be one of `names`; `nullable` also allows `null`.
pub fn one_of(names: &[&str], nullable: bool) -> Object {
    let schema_type =
        if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { SchemaType::Type(Type::String) };
    let mut values: Vec<serde_json::Value> = names.iter().map(|n| serde_json::Value::from(*n)).collect();
    if nullable {
        values.push(serde_json::Value::Null);
    }
    ObjectBuilder::new().schema_type(schema_type).enum_values(Some(values)).build()
}

/// A comma-separated filter such as `status=new,contacted`: any of `names`, each at most once.
pub fn any_of_list(names: &[&str]) -> Object {
    let alternatives = names.join("|");
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(format!("^({alternatives})(,({alternatives}))*$")))
        .description(Some(format!("Comma-separated; any of: {}", names.join(", "))))
        .examples([serde_json::Value::from(names.iter().take(2).copied().collect::<Vec<_>>().join(","))])
        .build()
}

/// The `sort` parameter of a list: a field of `names`, optionally prefixed with `-`.
pub fn sort_param(names: &[&str]) -> Object {
    let alternatives = names.join("|");
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(format!("^-?({alternatives})$")))
        .description(Some(format!("One of {}; prefix with - for descending", names.join(", "))))
        .build()
}

/// A text the domain accepts: not blank, no control characters but tab and newline.
pub const TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";

/// An email address the domain accepts (see `crm_domain::value::Email`).
pub const EMAIL_PATTERN: &str = "^[^\\s@\",<>\\u0000-\\u001F\\u007F-\\u009F]{1,64}@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$";

/// A comma-separated list of ids (`owner_id=…,…`), as query parameters take it.
pub fn uuid_list_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(UUID_LIST_PATTERN))
        .description(Some("Comma-separated ids; any of them matches"))
        .build()
}

/// The `email` filter of lead and contact lists: comma-separated addresses, at most
/// [`crate::conventions::MAX_EMAIL_FILTER_CHARS`] characters (the server refuses longer ones).
pub fn email_list_schema() -> Object {
    static PATTERN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        let one = EMAIL_PATTERN.trim_start_matches('^').trim_end_matches('$');
        let more = crate::conventions::MAX_FILTER_VALUES - 1;
        format!("^ *{one} *(, *{one} *){{0,{more}}}$")
    });
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .max_length(Some(crate::conventions::MAX_EMAIL_FILTER_CHARS))
        .pattern(Some(pattern.as_str()))
        .description(Some(format!(
            "Comma-separated email addresses, each matched exactly and without regard to case; at most {} of them and {} characters in all",
            crate::conventions::MAX_FILTER_VALUES,
            crate::conventions::MAX_EMAIL_FILTER_CHARS
        )))
        .build()
}

/// A calendar date `YYYY-MM-DD` from 1900-01-01 to 9999-12-31, the range the API takes (with
/// `format: date`, which rules out days a month does not have).
pub const DATE_PATTERN: &str = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// A date, or `null` when `nullable`.
pub fn date(nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Date)))
        .pattern(Some(DATE_PATTERN))
        .examples([serde_json::Value::from("2026-12-31")])
        .build()
}

/// Text with no NUL character, the one character neither backend stores in text.
pub const NO_NUL_PATTERN: &str = "^[^\\u0000]*$";

/// `q`: a substring to search for, at most 200 characters and no NUL.
pub fn search_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .max_length(Some(200))
        .pattern(Some(NO_NUL_PATTERN))
        .description(Some("Case-insensitive substring search"))
        .build()
}

/// The component of `custom_fields`: an object of JSON values nested at most
/// `CustomFields::MAX_NESTING` deep, with no NUL character in a key or a text (PostgreSQL's JSON
/// cannot hold one).
pub const CUSTOM_FIELDS_COMPONENT: &str = "CustomFields";

/// The name of the component of a custom field's value at `depth` (1 for the values of the
/// `custom_fields` object itself).
fn custom_field_value_name(depth: usize) -> String {
    format!("CustomFieldValue{depth}")
}

/// An object whose keys have no NUL and whose values are those of `depth`.
fn custom_fields_object(depth: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .property_names(Some(
            ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).pattern(Some(NO_NUL_PATTERN)),
        ))
        .additional_properties(Some(utoipa::openapi::Ref::from_schema_name(custom_field_value_name(depth))))
}

/// `CustomFields` and one `CustomFieldValue<depth>` per level: a value is a scalar, or (above the
/// deepest level) an object or an array of the next level's values. Spelled out level by level,
/// the schema has no self-reference, which TypeScript generators cannot type.
pub fn custom_fields_components() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, Schema};
    let deepest = crm_domain::value::CustomFields::MAX_NESTING + 1;
    let fields = custom_fields_object(1)
        .description(Some(format!(
            "Your own fields: a JSON object of at most {} bytes whose values are any JSON, with objects and arrays nested at most {} deep; no key or text may contain NUL. Numbers are 64-bit floats; one without a fraction that fits in 64 bits reads back as an integer (7.0 as 7). Keys read back sorted by code point.",
            crm_domain::value::CustomFields::MAX_BYTES,
            crm_domain::value::CustomFields::MAX_NESTING
        )))
        .examples([serde_json::json!({"region": "EMEA", "score": 7, "tags": ["vip"]})])
        .build();
    let mut components = vec![(CUSTOM_FIELDS_COMPONENT.to_owned(), RefOr::T(Schema::Object(fields)))];
    for depth in 1..=deepest {
        let mut value = OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).pattern(Some(NO_NUL_PATTERN)))
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Number)))
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Boolean)))
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)));
        if depth < deepest {
            value = value.item(custom_fields_object(depth + 1)).item(
                ArrayBuilder::new().items(utoipa::openapi::Ref::from_schema_name(custom_field_value_name(depth + 1))),
            );
        }
        let value = value.description(Some(format!("A value of custom_fields at depth {depth}"))).build();
        components.push((custom_field_value_name(depth), RefOr::T(Schema::OneOf(value))));
    }
    components
}

/// A record's `custom_fields`, as it answers them.
pub fn custom_fields() -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_schema_name(CUSTOM_FIELDS_COMPONENT)
}

/// `custom_fields` in a request: the object, or `null` for none.
pub fn optional_custom_fields() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{OneOfBuilder, Schema};
    utoipa::openapi::RefOr::T(Schema::OneOf(
        OneOfBuilder::new()
            .item(custom_fields())
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
            .build(),
    ))
}

/// Money whose amount is above zero (a payment): `MoneyDto` with an exclusive minimum of 0.
pub fn positive_money() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let all_of = utoipa::openapi::schema::AllOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name("MoneyDto"))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object)).property(
            "amount",
            ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer)).exclusive_minimum(Some(0)),
        ))
        .build();
    utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::AllOf(all_of))
}

/// One or more hyphenated UUIDs separated by commas.
pub const UUID_LIST_PATTERN: &str = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})*$";

/// An entity-tag list as `If-Match` and `If-None-Match` take it.
/// `*` or up to five tags (`"3"`, `W/"3"`, or a bare `3`, accepted because clients often drop the
/// quotes), with at most two spaces on either side of each comma.
pub const ETAG_LIST_PATTERN: &str = "^(\\*|((W/)?\"[0-9]{1,18}(-[a-z]{1,16})?\"|[0-9]{1,18})( {0,2}, {0,2}((W/)?\"[0-9]{1,18}(-[a-z]{1,16})?\"|[0-9]{1,18})){0,4})$";

fn string_type(nullable: bool) -> SchemaType {
    if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { SchemaType::Type(Type::String) }
}

/// A text field of at most `max` characters.
pub fn text(max: usize, nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(TEXT_PATTERN))
        .build()
}

pub fn email(nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .max_length(Some(254))
        .pattern(Some(EMAIL_PATTERN))
        .examples([serde_json::Value::from("ada@example.com")])
        .build()
}

/// Schema functions for `#[schema(schema_with = ...)]`, which takes a path without arguments.
pub mod fields {
    use utoipa::openapi::schema::Object;

    pub fn name() -> Object {
        super::text(200, false)
    }
    pub fn optional_name() -> Object {
        super::text(200, true)
    }
    pub fn optional_phone() -> Object {
        super::text(50, true)
    }
    pub fn optional_url() -> Object {
        super::text(2000, true)
    }
    pub fn optional_long_text() -> Object {
        super::text(10_000, true)
    }
    pub fn email() -> Object {
        super::email(false)
    }
    pub fn optional_email() -> Object {
        super::email(true)
    }
}

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters, spaces allowed inside.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]([ -~]{0,253}[!-~])?$";

/// Every assigned ISO 3166-1 alpha-2 code, found by asking the domain's parser about each pair of
/// capitals, so that the spec's list is exactly what the API accepts.
pub fn country_codes() -> Vec<String> {
    static CODES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CODES.get_or_init(find_country_codes).clone()
}

fn find_country_codes() -> Vec<String> {
    let mut codes = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let code = String::from_utf8_lossy(&[a, b]).into_owned();
            if crm_domain::address::CountryCode::parse("country", &code).is_ok() {
                codes.push(code);
            }
        }
    }
    codes
}

/// Every ISO 4217 code the API accepts, found the same way.
pub fn currency_codes() -> Vec<String> {
    static CODES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CODES.get_or_init(find_currency_codes).clone()
}

fn find_currency_codes() -> Vec<String> {
    let mut codes = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            for c in b'A'..=b'Z' {
                let code = String::from_utf8_lossy(&[a, b, c]).into_owned();
                if crm_domain::money::Currency::parse("currency", &code).is_ok() {
                    codes.push(code);
                }
            }
        }
    }
    codes
}

fn code_list(codes: Vec<String>, nullable: bool, example: &str) -> Object {
    let mut values: Vec<serde_json::Value> = codes.into_iter().map(serde_json::Value::from).collect();
    if nullable {
        values.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .enum_values(Some(values))
        .examples([serde_json::Value::from(example)])
        .build()
}

/// The name of the component that lists the currencies, which every currency field refers to, so
/// that a generated client has one `Currency` type for money, documents and reports alike.
pub const CURRENCY_COMPONENT: &str = "Currency";

/// The `Currency` component: every ISO 4217 code the API accepts.
pub fn currency_component() -> Object {
    let mut schema = code_list(currency_codes(), false, "EUR");
    schema.description = Some("An ISO 4217 currency code in capitals.".to_owned());
    schema
}

pub mod codes {
    use utoipa::openapi::schema::{Object, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::{Ref, RefOr};

    pub fn optional_country() -> Object {
        super::code_list(super::country_codes(), true, "FR")
    }
    /// A currency: the `Currency` component.
    pub fn currency() -> Ref {
        Ref::from_schema_name(super::CURRENCY_COMPONENT)
    }
    /// A currency or `null`.
    pub fn optional_currency() -> RefOr<Schema> {
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(currency())
                .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
                .build(),
        ))
    }
    /// A currency query parameter.
    pub fn optional_currency_param() -> Ref {
        currency()
    }
}
