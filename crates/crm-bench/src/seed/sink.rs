//! Where seed rows go: multi-row INSERTs in large transactions on SQLite, `COPY … FROM STDIN`
//! on PostgreSQL. Values are bound through sqlx on SQLite, so UUIDs, timestamps and dates are
//! stored exactly as the server stores them (16-byte BLOBs, RFC 3339 text, ISO dates).

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgConnection;
use sqlx::query_builder::Separated;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite};
use uuid::Uuid;

use super::Tenant;
use crate::error::Result;

/// One column value of a seed row.
#[derive(Clone, Debug)]
pub enum V {
    Null,
    Id(Uuid),
    Text(String),
    Static(&'static str),
    Int(i64),
    Bool(bool),
    Ts(DateTime<Utc>),
    Date(NaiveDate),
}

/// Sets every `target` record's `last_interaction_at`, `last_interaction_kind` and
/// `next_activity_at` from its activities through `link`, as migration 0020's trigger would have
/// one activity at a time (the latest done one, the earliest planned one, archived ones aside).
fn refresh_interactions_sql(target: &str, link: &str) -> String {
    format!(
        "WITH last AS (SELECT DISTINCT ON (organization_id, {link}) organization_id AS org, {link} AS rid, occurred_at, kind \
         FROM activities WHERE {link} IS NOT NULL AND status = 'done' AND archived_at IS NULL \
         ORDER BY organization_id, {link}, occurred_at DESC, id DESC), \
         next AS (SELECT organization_id AS org, {link} AS rid, MIN(due_at) AS next_at FROM activities \
         WHERE {link} IS NOT NULL AND status = 'planned' AND archived_at IS NULL GROUP BY organization_id, {link}) \
         UPDATE {target} AS r SET last_interaction_at = s.occurred_at, last_interaction_kind = s.kind, \
         next_activity_at = s.next_at \
         FROM (SELECT COALESCE(l.org, n.org) AS org, COALESCE(l.rid, n.rid) AS rid, l.occurred_at, l.kind, n.next_at \
         FROM last AS l FULL JOIN next AS n ON l.org = n.org AND l.rid = n.rid) AS s \
         WHERE r.organization_id = s.org AND r.id = s.rid"
    )
}

/// Sets every lead's `first_interaction_at` from its done activities, as migration 0025 does.
const FIRST_INTERACTIONS_SQL: &str = "UPDATE leads AS l SET first_interaction_at = f.first_at \
     FROM (SELECT organization_id, lead_id, MIN(occurred_at) AS first_at FROM activities \
     WHERE lead_id IS NOT NULL AND status = 'done' AND archived_at IS NULL GROUP BY organization_id, lead_id) AS f \
     WHERE l.organization_id = f.organization_id AND l.id = f.lead_id";

/// A connection that bulk-writes seed rows.
pub enum Sink {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// SQLite's limit on bound parameters per statement is 32,766.
const SQLITE_PARAMETERS_PER_STATEMENT: usize = 30_000;
/// Rows per SQLite transaction.
const SQLITE_ROWS_PER_TRANSACTION: u64 = 200_000;
/// Bytes of COPY data per message.
const COPY_CHUNK: usize = 1 << 20;

fn push_sqlite(b: &mut Separated<'_, Sqlite, &'static str>, value: V) {
    match value {
        V::Null => b.push_bind(None::<String>),
        V::Id(id) => b.push_bind(id),
        V::Text(s) => b.push_bind(s),
        V::Static(s) => b.push_bind(s),
        V::Int(n) => b.push_bind(n),
        V::Bool(v) => b.push_bind(v),
        V::Ts(t) => b.push_bind(t),
        V::Date(d) => b.push_bind(d),
    };
}

/// Appends a text for COPY's text format, escaping backslashes and separators.
fn push_copy_text(buf: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

fn push_copy(buf: &mut String, value: &V) {
    // Writing to a String cannot fail.
    let _ = match value {
        V::Null => write!(buf, "\\N"),
        V::Id(id) => write!(buf, "{}", id.hyphenated()),
        V::Text(s) => {
            push_copy_text(buf, s);
            Ok(())
        }
        V::Static(s) => {
            push_copy_text(buf, s);
            Ok(())
        }
        V::Int(n) => write!(buf, "{n}"),
        V::Bool(v) => write!(buf, "{}", if *v { "t" } else { "f" }),
        V::Ts(t) => write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00")),
        V::Date(d) => write!(buf, "{}", d.format("%Y-%m-%d")),
    };
}

impl Sink {
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            // The seed is rebuilt when lost, so it writes without waiting for the disk and
            // without checking foreign keys (the generator computes every reference).
            let conn = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Off)
                .foreign_keys(false)
                .pragma("cache_size", "-262144")
                .connect()
                .await?;
            Ok(Sink::Sqlite(conn))
        } else {
            Ok(Sink::Postgres(PgConnection::connect(url).await?))
        }
    }

    /// The admin's password hash, given to the seeded users so that they can log in too.
    pub async fn admin_password_hash(&mut self, tenant: Tenant) -> Result<String> {
        const SQL: &str = "SELECT password_hash FROM users WHERE organization_id = $1 AND id = $2";
        let (hash,): (String,) = match self {
            Sink::Sqlite(conn) => {
                sqlx::query_as(SQL).bind(tenant.organization_id).bind(tenant.admin_id).fetch_one(conn).await?
            }
            Sink::Postgres(conn) => {
                sqlx::query_as(SQL).bind(tenant.organization_id).bind(tenant.admin_id).fetch_one(conn).await?
            }
        };
        Ok(hash)
    }

    /// Whether the schema has `table` (quotes exist from migration 0009 on).
    pub async fn has_table(&mut self, table: &str) -> Result<bool> {
        let found: Option<(i64,)> = match self {
            Sink::Sqlite(conn) => {
                sqlx::query_as("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1")
                    .bind(table)
                    .fetch_optional(conn)
                    .await?
            }
            Sink::Postgres(conn) => {
                sqlx::query_as("SELECT 1::BIGINT FROM information_schema.tables WHERE table_name = $1")
                    .bind(table)
                    .fetch_optional(conn)
                    .await?
            }
        };
        Ok(found.is_some())
    }

    /// Sets the organisation's quote counter past the seeded numbers, as the server's own
    /// numbering would have left it.
    /// Sets the organisation's document counter of `kind` past the seeded documents.
    pub async fn set_counter(&mut self, tenant: Tenant, kind: &str, last: u64) -> Result<()> {
        const SQL: &str = "INSERT INTO document_counters (organization_id, kind, last_value) VALUES ($1, $2, $3) \
             ON CONFLICT (organization_id, kind) DO UPDATE SET last_value = $3";
        let last = i64::try_from(last)?;
        match self {
            Sink::Sqlite(conn) => {
                sqlx::query(SQL).bind(tenant.organization_id).bind(kind).bind(last).execute(conn).await?;
            }
            Sink::Postgres(conn) => {
                sqlx::query(SQL).bind(tenant.organization_id).bind(kind).bind(last).execute(conn).await?;
            }
        }
        Ok(())
    }

    /// Writes every row of `rows` into `table`; answers how many.
    pub async fn write(&mut self, table: &str, columns: &[&str], rows: impl Iterator<Item = Vec<V>>) -> Result<u64> {
        match self {
            Sink::Sqlite(conn) => write_sqlite(conn, table, columns, rows).await,
            Sink::Postgres(conn) => {
                // The trigger that keeps the report totals (migrations 0013 and 0017) costs about half a
                // millisecond per row, ten minutes for a million deals. A bulk load turns it off
                // and has the database recompute the totals once, as the migration does.
                let totals = table == "opportunities"
                    && sqlx::query_scalar::<_, bool>("SELECT to_regprocedure('rebuild_report_totals()') IS NOT NULL")
                        .fetch_one(&mut *conn)
                        .await?;
                if totals {
                    sqlx::query("ALTER TABLE opportunities DISABLE TRIGGER opportunities_report_totals")
                        .execute(&mut *conn)
                        .await?;
                }
                // Likewise the triggers that keep each record's last and next interaction
                // (migration 0020, four dynamic queries per activity) and each lead's first one
                // (0025): the load turns them off and sets the columns once, set-based, by the
                // triggers' own rules.
                let interactions = table == "activities";
                if interactions {
                    sqlx::query("ALTER TABLE activities DISABLE TRIGGER activities_interactions")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("ALTER TABLE activities DISABLE TRIGGER activities_first_interaction")
                        .execute(&mut *conn)
                        .await?;
                }
                // And the trigger that keeps each customer's open complaints (migration 0027): in
                // one `COPY` its count is planned on a table without statistics, a sequential
                // scan per complaint, quadratic in the tickets (over 12 minutes at 1,000,000). The
                // load turns it off and sets the counts once, set-based, by the trigger's rule.
                let complaints = table == "tickets";
                if complaints {
                    sqlx::query("ALTER TABLE tickets DISABLE TRIGGER tickets_open_complaints")
                        .execute(&mut *conn)
                        .await?;
                }
                let written = write_postgres(conn, table, columns, rows).await?;
                if complaints {
                    sqlx::query("ALTER TABLE tickets ENABLE TRIGGER tickets_open_complaints")
                        .execute(&mut *conn)
                        .await?;
                    for (target, link) in [("accounts", "account_id"), ("contacts", "contact_id")] {
                        sqlx::query(sqlx::AssertSqlSafe(open_complaints_sql(target, link))).execute(&mut *conn).await?;
                    }
                }
                if interactions {
                    sqlx::query("ALTER TABLE activities ENABLE TRIGGER activities_interactions")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("ALTER TABLE activities ENABLE TRIGGER activities_first_interaction")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(FIRST_INTERACTIONS_SQL).execute(&mut *conn).await?;
                    for (target, link) in [
                        ("leads", "lead_id"),
                        ("contacts", "contact_id"),
                        ("accounts", "account_id"),
                        ("opportunities", "opportunity_id"),
                    ] {
                        sqlx::query(sqlx::AssertSqlSafe(refresh_interactions_sql(target, link)))
                            .execute(&mut *conn)
                            .await?;
                    }
                }
                if totals {
                    sqlx::query("ALTER TABLE opportunities ENABLE TRIGGER opportunities_report_totals")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("SELECT rebuild_report_totals()").execute(&mut *conn).await?;
                }
                Ok(written)
            }
        }
    }

    /// Leaves the database as a server would find it after a bulk load: on SQLite the lead search
    /// index merged, as the server's upkeep (`CRM_SEARCH_UPKEEP_S`) would do within seconds, and
    /// the WAL folded back; on PostgreSQL vacuumed and analysed, which autovacuum would do soon
    /// after.
    pub async fn finish(self) -> Result<()> {
        match self {
            Sink::Sqlite(mut conn) => {
                if sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master WHERE name = 'leads_search'")
                    .fetch_one(&mut conn)
                    .await?
                    > 0
                {
                    while crm_persistence::merge_lead_search(&mut conn, 100_000).await? {}
                }
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
                conn.close().await?;
            }
            Sink::Postgres(mut conn) => {
                sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;
                conn.close().await?;
            }
        }
        Ok(())
    }
}

/// Sets every `target` record's open complaints from the tickets, as migration 0027's trigger
/// counts them (and moves its version, as the trigger does when the count changes).
fn open_complaints_sql(target: &str, link: &str) -> String {
    format!(
        "UPDATE {target} AS r SET open_complaints = c.n, version = r.version + 1 FROM \
         (SELECT organization_id, {link} AS id, COUNT(*) AS n FROM tickets WHERE category = 'complaint' \
         AND status IN ('new', 'open', 'pending', 'on_hold') AND archived_at IS NULL AND {link} IS NOT NULL \
         GROUP BY organization_id, {link}) AS c \
         WHERE r.organization_id = c.organization_id AND r.id = c.id AND r.open_complaints <> c.n"
    )
}

async fn insert_sqlite(conn: &mut SqliteConnection, head: &str, batch: &mut Vec<Vec<V>>) -> Result<()> {
    let mut qb = QueryBuilder::<Sqlite>::new(head);
    qb.push_values(batch.drain(..), |mut b, row| {
        for value in row {
            push_sqlite(&mut b, value);
        }
    });
    qb.build().execute(&mut *conn).await?;
    Ok(())
}

async fn write_sqlite(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<V>>,
) -> Result<u64> {
    let head = format!("INSERT INTO {table} ({}) ", columns.join(", "));
    let per_statement = (SQLITE_PARAMETERS_PER_STATEMENT / columns.len()).max(1);
    let mut batch = Vec::with_capacity(per_statement);
    let mut written = 0u64;
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    for row in rows {
        batch.push(row);
        written += 1;
        if batch.len() == per_statement {
            insert_sqlite(conn, &head, &mut batch).await?;
        }
        if written.is_multiple_of(SQLITE_ROWS_PER_TRANSACTION) {
            if !batch.is_empty() {
                insert_sqlite(conn, &head, &mut batch).await?;
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            sqlx::query("BEGIN").execute(&mut *conn).await?;
        }
    }
    if !batch.is_empty() {
        insert_sqlite(conn, &head, &mut batch).await?;
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(written)
}

async fn write_postgres(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<V>>,
) -> Result<u64> {
    let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut copy = conn.copy_in_raw(&statement).await?;
    let mut buf = String::with_capacity(COPY_CHUNK + 4096);
    let mut written = 0u64;
    for row in rows {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            push_copy(&mut buf, value);
        }
        buf.push('\n');
        written += 1;
        if buf.len() >= COPY_CHUNK {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            buf.reserve(COPY_CHUNK + 4096);
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await?;
    }
    copy.finish().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::{V, push_copy};

    fn copy_text(value: V) -> String {
        let mut buf = String::new();
        push_copy(&mut buf, &value);
        buf
    }

    #[test]
    fn copy_text_escapes_separators_and_spells_null() {
        assert_eq!(copy_text(V::Text("a\tb\nc\\d\re".to_owned())), "a\\tb\\nc\\\\d\\re");
        assert_eq!(copy_text(V::Null), "\\N");
        assert_eq!(copy_text(V::Bool(true)), "t");
    }

    #[test]
    fn copy_timestamps_are_utc_with_microseconds() {
        let at = chrono::DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap_or_default();
        assert_eq!(copy_text(V::Ts(at)), "2023-11-14 22:13:20.123456+00");
    }
}
