//! Entity tags and the preconditions that name them: `ETag`, `If-Match`, `If-None-Match`.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::problem::ApiError;

/// What an entity tag names: a record's stored version and, for a record whose representation
/// also follows from the date (a sent quote past its validity reads as expired, an issued invoice
/// past its due date as overdue), the state the date gives it. The tag then changes when the
/// date does, so that a cached copy is not revalidated with 304 once it reads otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    pub version: i64,
    pub dated: Option<&'static str>,
}

impl Tag {
    /// The tag of a record at `version` that the date put in state `dated` (lowercase letters).
    pub fn dated(version: i64, dated: Option<&'static str>) -> Self {
        Self { version, dated }
    }
}

impl From<i64> for Tag {
    fn from(version: i64) -> Self {
        Self { version, dated: None }
    }
}

/// The entity tag of a record: `"3"`, or `"3-expired"` for a state the date gave it.
pub fn etag(tag: impl Into<Tag>) -> String {
    let tag = tag.into();
    match tag.dated {
        None => format!("\"{}\"", tag.version),
        Some(state) => format!("\"{}-{state}\"", tag.version),
    }
}

/// What `If-Match` asks for. It compares stored versions only: a state that follows from the
/// date is not a change anyone could have lost.
pub enum IfMatch {
    Absent,
    Any,
    Versions(Vec<i64>),
}

/// One tag of an `If-Match` or `If-None-Match` list.
struct NamedTag {
    version: i64,
    dated: Option<String>,
}

/// Parses an entity-tag list exactly as the spec's pattern allows it: `*`, or one to five tags
/// (`"3"`, `"3-expired"`, `W/"3"` or a bare `3`) separated by commas with at most two spaces on
/// either side; `None` when malformed.
fn entity_tags(raw: &str) -> Option<EntityTags> {
    if raw == "*" {
        return Some(EntityTags::Any);
    }
    let parts: Vec<&str> = raw.split(',').collect();
    if parts.len() > 5 {
        return None;
    }
    let last = parts.len() - 1;
    let mut versions = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let lead = part.len() - part.trim_start_matches(' ').len();
        let trail = part.len() - part.trim_end_matches(' ').len();
        let lead_ok = if i == 0 { lead == 0 } else { lead <= 2 };
        let trail_ok = if i == last { trail == 0 } else { trail <= 2 };
        if !lead_ok || !trail_ok {
            return None;
        }
        let tag = part.trim_matches(' ');
        let (digits, dated) = match tag.strip_prefix("W/").unwrap_or(tag).strip_prefix('"') {
            Some(quoted) => {
                let opaque = quoted.strip_suffix('"')?;
                match opaque.split_once('-') {
                    Some((digits, state)) => {
                        let letters =
                            !state.is_empty() && state.len() <= 16 && state.bytes().all(|b| b.is_ascii_lowercase());
                        if !letters {
                            return None;
                        }
                        (digits, Some(state.to_owned()))
                    }
                    None => (opaque, None),
                }
            }
            // A bare version is accepted, but not a weak one without quotes.
            None if !tag.starts_with("W/") => (tag, None),
            None => return None,
        };
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        versions.push(NamedTag { version: digits.parse::<i64>().ok()?, dated });
    }
    Some(EntityTags::Tags(versions))
}

enum EntityTags {
    Any,
    Tags(Vec<NamedTag>),
}

fn header_text<'r>(req: &'r HttpRequest, name: header::HeaderName, label: &str) -> Result<Option<&'r str>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| {
            ApiError::bad_param(label, "invalid_header", "must be an entity tag returned in ETag, such as \"3\"")
        }),
    }
}

/// # Errors
/// 400 when `If-Match` is present but not `*` or a list of entity tags.
pub fn if_match(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let Some(raw) = header_text(req, header::IF_MATCH, "If-Match")? else { return Ok(IfMatch::Absent) };
    match entity_tags(raw) {
        Some(EntityTags::Any) => Ok(IfMatch::Any),
        Some(EntityTags::Tags(tags)) => Ok(IfMatch::Versions(tags.into_iter().map(|t| t.version).collect())),
        None => Err(ApiError::bad_param(
            "If-Match",
            "invalid_header",
            "must be an entity tag returned in ETag, such as \"3\"",
        )),
    }
}

impl IfMatch {
    /// # Errors
    /// 412 when the header names other versions than `current`.
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self {
            IfMatch::Versions(versions) if !versions.contains(&current) => {
                Err(ApiError::PreconditionFailed { current_version: Some(current) })
            }
            _ => Ok(()),
        }
    }

    pub fn is_present(&self) -> bool {
        !matches!(self, IfMatch::Absent)
    }
}

/// Whether `If-None-Match` already names `tag`, its version and its dated state both (a GET then
/// answers 304).
///
/// # Errors
/// 400 when the header is present but not `*` or a list of entity tags.
pub fn if_none_match_hits(req: &HttpRequest, tag: Tag) -> Result<bool, ApiError> {
    let Some(raw) = header_text(req, header::IF_NONE_MATCH, "If-None-Match")? else { return Ok(false) };
    match entity_tags(raw) {
        Some(EntityTags::Any) => Ok(true),
        Some(EntityTags::Tags(tags)) => {
            Ok(tags.iter().any(|t| t.version == tag.version && t.dated.as_deref() == tag.dated))
        }
        None => Err(ApiError::bad_param(
            "If-None-Match",
            "invalid_header",
            "must be an entity tag returned in ETag, such as \"3\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_must_be_quoted_versions() {
        let tags = |raw: &str| match entity_tags(raw) {
            Some(EntityTags::Tags(tags)) => Some(tags.into_iter().map(|t| (t.version, t.dated)).collect::<Vec<_>>()),
            _ => None,
        };
        assert_eq!(tags("\"3\""), Some(vec![(3, None)]));
        assert_eq!(tags("W/\"3\", \"4\""), Some(vec![(3, None), (4, None)]));
        assert!(matches!(entity_tags("*"), Some(EntityTags::Any)));
        assert_eq!(tags("\"1\",  \"2\""), Some(vec![(1, None), (2, None)]));
        assert_eq!(tags("3"), Some(vec![(3, None)]));
        assert_eq!(
            tags("\"3-expired\", W/\"4-overdue\""),
            Some(vec![(3, Some("expired".into())), (4, Some("overdue".into()))])
        );
        assert_eq!(etag(Tag::dated(3, Some("expired"))), "\"3-expired\"");
        assert_eq!(etag(3), "\"3\"");
        for bad in [
            "\"3-\"",
            "\"3-Expired\"",
            "\"3-exp1red\"",
            "\"-expired\"",
            "3-expired",
            "\"3-abcdefghijklmnopq\"",
            "W/3",
            "\"\"",
            "\"x\"",
            "",
            "\"3",
            "0000000000000000000000",
            " \"3\"",
            "\"1\",   \"2\"",
            "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"",
        ] {
            assert!(entity_tags(bad).is_none(), "{bad}");
        }
    }
}
