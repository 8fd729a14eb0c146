//! The list convention every resource shares: a sort over an allow-listed field, keyset
//! pagination that never repeats or skips a record while others write, and pages of bounded size.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::FieldError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Ascending,
    Descending,
}

/// The value of the sort column at a page boundary. Nullable text columns sort as if null were
/// the empty text, so a position always holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Timestamp(DateTime<Utc>),
    Integer(i64),
}

/// The kind of a sort value, which a cursor must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Text,
    Timestamp,
    Integer,
}

impl SortValue {
    pub fn kind(&self) -> SortKind {
        match self {
            SortValue::Text(_) => SortKind::Text,
            SortValue::Timestamp(_) => SortKind::Timestamp,
            SortValue::Integer(_) => SortKind::Integer,
        }
    }
}

/// The last record of a page: the next page starts strictly after it in (sort value, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysetPosition {
    pub value: SortValue,
    pub id: Uuid,
}

/// A field a resource allows sorting by.
pub trait SortField: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// The field's name in the API.
    fn name(self) -> &'static str;
    /// Every allowed field, for error messages and the spec.
    fn allowed() -> &'static [&'static str];
    /// # Errors
    /// `invalid_value` naming `sort` when `name` is not allowed.
    fn parse(name: &str) -> Result<Self, FieldError>;
    /// The kind of value the field sorts by: timestamps for the `…_at` fields, text otherwise
    /// unless a field says so.
    fn kind(self) -> SortKind {
        if self.name().ends_with("_at") { SortKind::Timestamp } else { SortKind::Text }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub direction: SortDirection,
}

impl<F: SortField> Sort<F> {
    /// Parses `created_at` (ascending) or `-created_at` (descending).
    ///
    /// # Errors
    /// `invalid_value` on `sort` listing the allowed fields.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let (direction, name) = match raw.strip_prefix('-') {
            Some(rest) => (SortDirection::Descending, rest),
            None => (SortDirection::Ascending, raw),
        };
        let field = F::parse(name).map_err(|_| {
            FieldError::new(
                "sort",
                "invalid_value",
                format!("must be one of: {} (prefix with - for descending)", F::allowed().join(", ")),
            )
        })?;
        Ok(Self { field, direction })
    }

    /// The wire spelling, which a cursor records so that it cannot be replayed under another sort.
    pub fn to_wire(self) -> String {
        match self.direction {
            SortDirection::Ascending => self.field.name().to_owned(),
            SortDirection::Descending => format!("-{}", self.field.name()),
        }
    }
}

/// Which slice of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub limit: u32,
    pub after: Option<KeysetPosition>,
}

impl Window {
    /// # Errors
    /// `out_of_range` on `limit` unless 1 ≤ limit ≤ 200.
    pub fn new(limit: Option<u32>, after: Option<KeysetPosition>) -> Result<Self, FieldError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(FieldError::new("limit", "out_of_range", format!("must be between 1 and {MAX_LIMIT}")));
        }
        Ok(Self { limit, after })
    }
}

/// One page of records and where the next one starts, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<KeysetPosition>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in order: the extra row only says that
    /// another page exists.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, position_of: impl Fn(&T) -> KeysetPosition) -> Self {
        let limit = limit as usize;
        if rows.len() > limit {
            rows.truncate(limit);
            let next = rows.last().map(&position_of);
            Self { items: rows, next }
        } else {
            Self { items: rows, next: None }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_knows_whether_another_follows() {
        let position = |n: &u32| KeysetPosition { value: SortValue::Text(n.to_string()), id: Uuid::nil() };
        let full = Page::from_overfetch(vec![1, 2, 3], 2, position);
        assert_eq!(full.items, vec![1, 2]);
        assert_eq!(full.next.map(|p| p.value), Some(SortValue::Text("2".into())));
        let last = Page::from_overfetch(vec![1, 2], 2, position);
        assert_eq!(last.next, None);
    }

    #[test]
    fn the_limit_is_bounded() {
        assert_eq!(Window::new(None, None).map(|w| w.limit), Ok(50));
        assert!(Window::new(Some(0), None).is_err());
        assert!(Window::new(Some(201), None).is_err());
        assert!(Window::new(Some(200), None).is_ok());
    }
}
