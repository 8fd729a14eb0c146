//! Schema helpers that build OpenAPI schemas from the domain's own allow-lists, so the spec and
//! the parser can never disagree about which values are allowed.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A string that must be one of `names`; `nullable` also allows `null`.
pub fn one_of(names: &[&str], nullable: bool) -> Object {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    let mut values: Vec<serde_json::Value> =
        names.iter().map(|n| serde_json::Value::from(*n)).collect();
    if nullable {
        values.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(schema_type)
        .enum_values(Some(values))
        .build()
}

/// A comma-separated filter such as `status=new,contacted`: any of `names`, each at most once.
pub fn any_of_list(names: &[&str]) -> Object {
    let alternatives = names.join("|");
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(format!("^({alternatives})(,({alternatives}))*$")))
        .description(Some(format!(
            "Comma-separated; any of: {}",
            names.join(", ")
        )))
        .examples([serde_json::Value::from(
            names.iter().take(2).copied().collect::<Vec<_>>().join(","),
        )])
        .build()
}

/// The `sort` parameter of a list: a field of `names`, optionally prefixed with `-`.
pub fn sort_param(names: &[&str]) -> Object {
    let alternatives = names.join("|");
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(format!("^-?({alternatives})$")))
        .description(Some(format!(
            "One of {}; prefix with - for descending",
            names.join(", ")
        )))
        .build()
}
