//! Lists: opaque keyset cursors bound to their sort, `limit`, and the parsing of filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use crm_domain::FieldError;
use crm_domain::list::{KeysetPosition, Page, Sort, SortField, SortValue, Window};
use uuid::Uuid;

use super::timestamp;
use crate::problem::ApiError;

/// Encodes where the next page starts. The cursor records the sort it belongs to, so it cannot be
/// replayed under another one. It is opaque to clients: the format may change.
pub fn encode_cursor(sort_wire: &str, position: &KeysetPosition) -> String {
    let value = match &position.value {
        SortValue::Text(text) => format!("s:{text}"),
        SortValue::Timestamp(at) => format!("t:{}", timestamp(*at)),
        SortValue::Integer(n) => format!("i:{n}"),
    };
    URL_SAFE_NO_PAD.encode(format!("1\n{sort_wire}\n{}\n{value}", position.id.simple()))
}

/// # Errors
/// 400 `invalid_parameter` on `cursor` when the text is not a cursor of this list and sort.
pub fn decode_cursor(raw: &str, sort_wire: &str) -> Result<KeysetPosition, ApiError> {
    let invalid = || {
        ApiError::bad_param(
            "cursor",
            "invalid_cursor",
            "is not a cursor returned by this list with this sort; start again without a cursor",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(4, '\n');
    let (Some("1"), Some(sort), Some(id), Some(value)) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if sort != sort_wire {
        return Err(ApiError::bad_param(
            "cursor",
            "cursor_sort_mismatch",
            format!("was issued for sort={sort}; repeat the same sort or start without a cursor"),
        ));
    }
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    if value.contains('\0') {
        return Err(invalid());
    }
    let value = if let Some(text) = value.strip_prefix("s:") {
        SortValue::Text(text.to_owned())
    } else if let Some(at) = value.strip_prefix("t:") {
        SortValue::Timestamp(DateTime::parse_from_rfc3339(at).map_err(|_| invalid())?.with_timezone(&Utc))
    } else if let Some(n) = value.strip_prefix("i:") {
        SortValue::Integer(n.parse().map_err(|_| invalid())?)
    } else {
        return Err(invalid());
    };
    Ok(KeysetPosition { value, id })
}

/// The parsed common list parameters.
pub struct ListParams<F> {
    pub sort: Sort<F>,
    pub window: Window,
}

/// `limit` as a number; its range is `Window::new`'s to check.
fn parse_limit(raw: Option<&str>) -> Result<Option<u32>, ApiError> {
    raw.map(|raw| {
        raw.trim()
            .parse::<u32>()
            .map_err(|_| ApiError::bad_param("limit", "out_of_range", "must be an integer between 1 and 200"))
    })
    .transpose()
}

/// Parses `sort` (defaulting to `default_sort`), `limit` and `cursor`.
///
/// # Errors
/// 400 naming the parameter.
pub fn list_params<F: SortField>(
    sort: Option<&str>,
    limit: Option<&str>,
    cursor: Option<&str>,
    default_sort: &str,
) -> Result<ListParams<F>, ApiError> {
    let sort = Sort::<F>::parse(sort.unwrap_or(default_sort)).map_err(field_to_bad_request)?;
    let limit = parse_limit(limit)?;
    // An empty cursor is the first page, as if none was given.
    let after = cursor.filter(|c| !c.is_empty()).map(|c| decode_cursor(c, &sort.to_wire())).transpose()?;
    // A cursor the server issued for this sort always holds a value of the field's kind.
    if after.as_ref().is_some_and(|position| position.value.kind() != sort.field.kind()) {
        return Err(ApiError::bad_param(
            "cursor",
            "invalid_cursor",
            "is not a cursor returned by this list with this sort; start again without a cursor",
        ));
    }
    let window = Window::new(limit, after).map_err(field_to_bad_request)?;
    Ok(ListParams { sort, window })
}

/// The query of a list in one fixed order (an opportunity's stage history, an invoice's
/// payments, the audit trail): only `limit` and `cursor`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size from 1 to 200; 50 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The window of a list read in one fixed `order` (its wire name, such as `-occurred_at`, which
/// the cursor carries).
///
/// # Errors
/// 400 naming `limit` or `cursor`.
pub fn fixed_order_window(limit: Option<&str>, cursor: Option<&str>, order: &str) -> Result<Window, ApiError> {
    let limit = parse_limit(limit)?;
    let after = cursor.filter(|c| !c.is_empty()).map(|c| decode_cursor(c, order)).transpose()?;
    Window::new(limit, after).map_err(field_to_bad_request)
}

/// A parameter error is a 400, not a 422: the request line itself is wrong.
pub fn field_to_bad_request(error: FieldError) -> ApiError {
    ApiError::bad_param(&error.field, error.code, error.message)
}

/// The most values one comma-separated filter takes.
pub const MAX_FILTER_VALUES: usize = 100;

/// Parses a comma-separated filter (`status=new,contacted`) with `parse` for each item, at most
/// [`MAX_FILTER_VALUES`] of them.
pub fn parse_any_of<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> Result<Vec<T>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    if raw.split(',').count() > MAX_FILTER_VALUES {
        return Err(ApiError::bad_param(
            field,
            "too_many_values",
            format!("takes at most {MAX_FILTER_VALUES} comma-separated values"),
        ));
    }
    raw.split(',').map(|item| parse(field, item.trim()).map_err(field_to_bad_request)).collect()
}

/// An optional single-id query parameter; 400 naming it when malformed.
pub fn parse_uuid_param(field: &str, raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    raw.map(|r| parse_uuid(field, r).map_err(field_to_bad_request)).transpose()
}

/// A UUID in its hyphenated form (the only one the spec allows).
pub fn parse_uuid(field: &str, raw: &str) -> Result<Uuid, FieldError> {
    let invalid =
        || FieldError::new(field, "invalid_uuid", "must be a UUID such as 0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80");
    let uuid = Uuid::try_parse(raw).map_err(|_| invalid())?;
    if uuid.hyphenated().to_string().eq_ignore_ascii_case(raw) { Ok(uuid) } else { Err(invalid()) }
}

/// Parses an RFC 3339 timestamp parameter.
pub fn parse_timestamp_param(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|raw| {
        DateTime::parse_from_rfc3339(raw.trim()).map(|at| at.with_timezone(&Utc)).map_err(|_| {
            ApiError::bad_param(
                field,
                "invalid_timestamp",
                "must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z",
            )
        })
    })
    .transpose()
}

pub fn parse_bool_param(field: &str, raw: Option<&str>) -> Result<Option<bool>, ApiError> {
    match raw {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_param(field, "invalid_value", "must be one of: true, false")),
    }
}

/// The search text of `q`: trimmed, 1 to 200 characters.
pub fn parse_search(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(text) if text.chars().count() > 200 => {
            Err(ApiError::bad_param("q", "too_long", "must be at most 200 characters"))
        }
        Some(text) if text.contains('\0') => {
            Err(ApiError::bad_param("q", "invalid_characters", "must not contain NUL characters"))
        }
        Some(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        _ => Ok(None),
    }
}

/// The most characters the `email` filter takes: its longest value, percent-encoded, stays far
/// under the 128 KiB that the HTTP server reads of a request's head.
pub const MAX_EMAIL_FILTER_CHARS: usize = 2000;

/// The `email` filter of lead and contact lists: comma-separated addresses, each lowercased.
///
/// # Errors
/// 400 when longer than [`MAX_EMAIL_FILTER_CHARS`], with more than [`MAX_FILTER_VALUES`] values,
/// or with a value that is not an email address.
pub fn parse_email_filter(raw: Option<&str>) -> Result<Vec<crm_domain::value::Email>, ApiError> {
    if raw.is_some_and(|text| text.chars().count() > MAX_EMAIL_FILTER_CHARS) {
        return Err(ApiError::bad_param(
            "email",
            "too_long",
            format!("must be at most {MAX_EMAIL_FILTER_CHARS} characters"),
        ));
    }
    parse_any_of("email", raw, crm_domain::value::Email::parse)
}

/// The `archived` list parameter: `false` (default) active records only, `true` archived ones
/// too, `only` archived ones only.
pub fn archived_filter(raw: Option<&str>) -> Result<crm_domain::lead::ArchivedFilter, ApiError> {
    use crm_domain::lead::ArchivedFilter;
    match raw {
        None | Some("false") => Ok(ArchivedFilter::Exclude),
        Some("true") => Ok(ArchivedFilter::Include),
        Some("only") => Ok(ArchivedFilter::Only),
        Some(_) => Err(ApiError::bad_param("archived", "invalid_value", "must be one of: true, false, only")),
    }
}

/// The next cursor of a page, if another page follows.
pub fn next_cursor<T, F: SortField>(page: &Page<T>, sort: Sort<F>) -> Option<String> {
    page.next.as_ref().map(|position| encode_cursor(&sort.to_wire(), position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_is_bound_to_its_sort() {
        let position = KeysetPosition { value: SortValue::Text("O'Brien, \n Ann".into()), id: Uuid::now_v7() };
        let cursor = encode_cursor("-last_name", &position);
        assert_eq!(decode_cursor(&cursor, "-last_name").ok(), Some(position));
        assert!(decode_cursor(&cursor, "last_name").is_err());
        assert!(decode_cursor("garbage!", "last_name").is_err());
    }
}
