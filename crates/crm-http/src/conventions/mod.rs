//! The conventions every resource shares, written once: opaque keyset cursors and list
//! parameters (`lists`), ETag / If-Match / If-None-Match (`preconditions`), timestamps. A
//! resource plugs in its allow-lists and types.

mod lists;
mod preconditions;

pub use lists::*;
pub use preconditions::*;

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the precision both databases store (microseconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// RFC 3339 with microseconds and `Z`, the one timestamp format of the API.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn optional_timestamp(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(timestamp)
}

/// An instant a body gives: RFC 3339 with any offset, kept in UTC at the precision both
/// databases store (microseconds), so that what was accepted reads back the same.
///
/// # Errors
/// `invalid_timestamp` on `field`.
pub fn parse_instant(field: &str, raw: &str) -> Result<DateTime<Utc>, crm_domain::FieldError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(6))
        .map_err(|_| crm_domain::FieldError::new(field, "invalid_timestamp", "must be an RFC 3339 timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microseconds_and_z() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789+02:00").map(|t| t.with_timezone(&Utc));
        assert_eq!(at.map(|t| timestamp(t.trunc_subsecs(6))).ok(), Some("2026-01-02T01:04:05.123456Z".to_owned()));
    }
}
