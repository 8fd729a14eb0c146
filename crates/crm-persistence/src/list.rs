//! Shared list machinery: filters, keyset conditions and ordering appended to a query builder.
//! Written once, generic over the backend, used by every list query.

use chrono::{DateTime, Utc};
use crm_domain::list::{KeysetPosition, SortDirection, SortValue};
use sqlx::{Database, Encode, QueryBuilder, Type};

use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};

/// Names the index a list must read where the planner would pick another. SQLite, which runs
/// without `ANALYZE` statistics here, prefers an index that gives the list's order over one that
/// finds a few rows by equality, and walks every row of the organisation to find one email;
/// `INDEXED BY` tells it. PostgreSQL plans from the statistics autovacuum keeps.
pub(crate) trait IndexHint {
    /// ` INDEXED BY index` on SQLite, nothing on PostgreSQL.
    fn indexed_by(index: &str) -> String;
}

impl IndexHint for SqliteStore {
    fn indexed_by(index: &str) -> String {
        format!(" INDEXED BY {index}")
    }
}

impl IndexHint for PgStore {
    fn indexed_by(_index: &str) -> String {
        String::new()
    }
}

/// The `FROM` of a list: `table`, read through `index` when `hinted` (a filter that `index` serves
/// and that finds few rows).
pub(crate) fn from_table<S: IndexHint>(table: &str, index: &str, hinted: bool) -> String {
    if hinted { format!("{table}{}", S::indexed_by(index)) } else { table.to_owned() }
}

/// The archive condition of a list: active records only, all of them, or archived only.
pub(crate) fn archived_condition(filter: crm_domain::lead::ArchivedFilter) -> &'static str {
    match filter {
        crm_domain::lead::ArchivedFilter::Exclude => " AND archived_at IS NULL",
        crm_domain::lead::ArchivedFilter::Include => "",
        crm_domain::lead::ArchivedFilter::Only => " AND archived_at IS NOT NULL",
    }
}

/// `AND (c1 OR c2 …)`, one condition per item written by `condition`, for a non-empty list: a
/// filter whose values are not a plain `IN` (a state the date gives a record).
pub(crate) fn push_any_of<DB: Database, T>(
    qb: &mut QueryBuilder<DB>,
    items: &[T],
    mut condition: impl FnMut(&mut QueryBuilder<DB>, &T),
) {
    if items.is_empty() {
        return;
    }
    qb.push(" AND (");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        condition(qb, item);
    }
    qb.push(")");
}

/// `AND column IN ($a, $b, ...)` for a non-empty set of texts.
pub(crate) fn push_any_text<DB>(qb: &mut QueryBuilder<DB>, column: &str, values: &[&str])
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    if values.is_empty() {
        return;
    }
    qb.push(format_args!(" AND {column} IN ("));
    let mut separated = qb.separated(", ");
    for value in values {
        separated.push_bind((*value).to_owned());
    }
    qb.push(")");
}

/// `AND column IN ($a, ...)` for a non-empty set of ids.
pub(crate) fn push_any_id<DB>(qb: &mut QueryBuilder<DB>, column: &str, values: &[Uuid])
where
    DB: Database,
    for<'t> Uuid: Encode<'t, DB> + Type<DB>,
{
    if values.is_empty() {
        return;
    }
    qb.push(format_args!(" AND {column} IN ("));
    let mut separated = qb.separated(", ");
    for value in values {
        separated.push_bind(*value);
    }
    qb.push(")");
}

/// The `LIKE` pattern for a case-insensitive substring search of `needle`, with `\` escaping.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `AND (lower(a) LIKE $p ESCAPE '\' OR lower(b) LIKE $p ...)`.
pub(crate) fn push_search<DB>(qb: &mut QueryBuilder<DB>, columns: &[&str], needle: Option<&str>)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let Some(needle) = needle else { return };
    let pattern = contains_pattern(needle);
    qb.push(" AND (");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push(format_args!("lower({column}) LIKE "));
        qb.push_bind(pattern.clone());
        qb.push(" ESCAPE '\\'");
    }
    qb.push(")");
}

fn push_sort_value<DB>(qb: &mut QueryBuilder<DB>, value: &SortValue)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    match value {
        SortValue::Text(text) => qb.push_bind(text.clone()),
        SortValue::Timestamp(at) => qb.push_bind(*at),
        SortValue::Integer(n) => qb.push_bind(*n),
    };
}

/// The keyset condition (rows strictly after `after` in `(expr, id)` order), then
/// `ORDER BY expr, id` in `direction` and `LIMIT limit + 1` (the extra row tells whether
/// another page follows).
pub(crate) fn push_keyset_page<DB>(
    qb: &mut QueryBuilder<DB>,
    sort_expr: &str,
    direction: SortDirection,
    after: Option<&KeysetPosition>,
    limit: u32,
) where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
    for<'t> Uuid: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let comparison = match direction {
        SortDirection::Ascending => ">",
        SortDirection::Descending => "<",
    };
    if let Some(position) = after {
        qb.push(format_args!(" AND ({sort_expr}, id) {comparison} ("));
        push_sort_value(qb, &position.value);
        qb.push(", ");
        qb.push_bind(position.id);
        qb.push(")");
    }
    push_order(qb, sort_expr, direction);
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(limit) + 1);
}

/// ` ORDER BY <sort_expr> <direction>, id <direction>`: the order of a keyset page.
pub(crate) fn push_order<DB: Database>(qb: &mut QueryBuilder<DB>, sort_expr: &str, direction: SortDirection) {
    let order = match direction {
        SortDirection::Ascending => "ASC",
        SortDirection::Descending => "DESC",
    };
    qb.push(format_args!(" ORDER BY {sort_expr} {order}, id {order}"));
}

/// The order of a list sorted by `last_interaction_at`: never NULL, a record never reached at
/// 0001-01-01T00:00:00Z (`crm_domain::activity::NEVER_REACHED`, which both backends write as
/// this text), before every real interaction. Migration 0020 indexes it as written, and the
/// interaction filters compare it too, so that one index serves them and the order.
pub(crate) const LAST_INTERACTION_ORDER: &str = "COALESCE(last_interaction_at, '0001-01-01T00:00:00+00:00')";

/// The order of accounts and contacts by when they are due for attention: never NULL, a
/// customer without an expectation at 9999-12-31T23:59:59Z (`crm_domain::attention::NEVER_DUE`),
/// after every due date. Migration 0021 indexes it as written.
pub(crate) const ATTENTION_ORDER: &str = "COALESCE(attention_due_at, '9999-12-31T23:59:59+00:00')";

/// `attention=overdue`: the customers due for attention before `now`, one range of the
/// attention index.
pub(crate) fn push_attention_overdue<DB>(qb: &mut QueryBuilder<DB>, now: Option<DateTime<Utc>>)
where
    DB: Database,
    for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
{
    if let Some(now) = now {
        qb.push(format_args!(" AND {ATTENTION_ORDER} < ")).push_bind(now.min(crm_domain::attention::NEVER_DUE));
    }
}

/// The conditions of an [`InteractionFilter`](crm_domain::activity::InteractionFilter) on a
/// table with the interaction columns of migration 0020.
pub(crate) fn push_interactions<DB>(qb: &mut QueryBuilder<DB>, filter: &crm_domain::activity::InteractionFilter)
where
    DB: Database,
    for<'t> chrono::DateTime<chrono::Utc>: Encode<'t, DB> + Type<DB>,
{
    let never = crm_domain::activity::NEVER_REACHED;
    if let Some(before) = filter.last_before {
        qb.push(format_args!(" AND {LAST_INTERACTION_ORDER} > ")).push_bind(never);
        qb.push(format_args!(" AND {LAST_INTERACTION_ORDER} < ")).push_bind(before);
    }
    if let Some(after) = filter.last_after {
        qb.push(format_args!(" AND {LAST_INTERACTION_ORDER} > ")).push_bind(after.max(never));
    }
    match filter.interacted {
        Some(true) => qb.push(format_args!(" AND {LAST_INTERACTION_ORDER} > ")).push_bind(never),
        Some(false) => qb.push(" AND last_interaction_at IS NULL"),
        None => qb,
    };
    match filter.planned {
        Some(true) => qb.push(" AND next_activity_at IS NOT NULL"),
        Some(false) => qb.push(" AND next_activity_at IS NULL"),
        None => qb,
    };
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("Ada"), "%ada%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
