//! One way to map a record to its table. A resource declares its table once with [`table!`]: the
//! columns a change may write, each with its row type and how it is read from the record. That
//! one list produces the row struct (read by name on both backends), the column list, the
//! `INSERT`, the versioned `UPDATE`, the `SELECT` by organisation and id, and the binder, so none
//! of them can drift from another. The key (`organization_id`, `id`) and the creation
//! (`created_at`, `created_by`) are written by the `INSERT` alone: an `UPDATE` never touches them.
//!
//! The statements are run by the generic functions of each backend (`impl_table_ops!`): `insert_record` (with its audit event, in one trip), `insert_row` and
//! `update_record` (in the caller's transaction), `fetch_page` (the end of every list), and the
//! domain's `RecordRepository` of every [`Table`] (`read_record`, and `write_record`: a
//! versioned update with its audit event, in one transaction), so that a record's own port
//! declares only what is its own.

use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::list::{KeysetPosition, Page, SortDirection, Window};
use crm_domain::ports::RecordRepository;
use crm_domain::timeline::Concerns;
use sqlx::{Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

use crate::audit::{AuditedInsertSql, bind_audit, write_audit};
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, map, plain};

/// A query of either backend that takes its parameters in order; a value is encoded when it is
/// bound, so it may be borrowed from the record.
pub(crate) trait Binder: Sized {
    fn push<'t, T>(self, value: T) -> Self
    where
        T: Encode<'t, Sqlite> + Type<Sqlite> + Encode<'t, Postgres> + Type<Postgres>;
}

impl Binder for sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments> {
    fn push<'t, T>(self, value: T) -> Self
    where
        T: Encode<'t, Sqlite> + Type<Sqlite> + Encode<'t, Postgres> + Type<Postgres>,
    {
        self.bind(value)
    }
}

impl Binder for sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
    fn push<'t, T>(self, value: T) -> Self
    where
        T: Encode<'t, Sqlite> + Type<Sqlite> + Encode<'t, Postgres> + Type<Postgres>,
    {
        self.bind(value)
    }
}

/// The statements of one table, generated from its column list.
pub(crate) struct TableSql {
    /// Every column: the key, the fields, the creation.
    pub columns: String,
    /// `UPDATE t SET (fields) = ($3, …) WHERE organization_id = $1 AND id = $2 AND version = $n`:
    /// the key, the fields, the expected version.
    pub update: String,
    /// `SELECT columns FROM t WHERE organization_id = $1 AND id = $2`.
    pub select: String,
    /// `INSERT INTO t (columns) VALUES ($1, …)`: the key, the fields, the creation.
    pub insert: String,
    /// The insert and the audit event of the creation, in one trip ([`AuditedInsertSql`]).
    pub audited_insert_sqlite: String,
    pub audited_insert_postgres: String,
}

impl TableSql {
    pub fn new(table: &str, fields: &[&str]) -> Self {
        let placeholders =
            |range: std::ops::Range<usize>| range.map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let fields_list = fields.join(", ");
        let columns = format!("organization_id, id, {fields_list}, created_at, created_by");
        let n = fields.len();
        let insert = format!("INSERT INTO {table} ({columns}) VALUES ({})", placeholders(1..n + 5));
        Self {
            audited_insert_sqlite: <SqliteStore as AuditedInsertSql>::audited_insert(&insert, n + 4),
            audited_insert_postgres: <PgStore as AuditedInsertSql>::audited_insert(&insert, n + 4),
            insert,
            update: format!(
                "UPDATE {table} SET ({fields_list}) = ({}) WHERE organization_id = $1 AND id = $2 AND version = ${}",
                placeholders(3..n + 3),
                n + 3
            ),
            select: format!("SELECT {columns} FROM {table} WHERE organization_id = $1 AND id = $2"),
            columns,
        }
    }
}

/// A record stored as one row of one table; written by [`table!`].
pub(crate) trait Table: Concerns + Sized + Send + Sync {
    /// The row as both backends read it.
    type Row: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + TryInto<Self, Error = RepoError>
        + Send
        + Unpin;
    /// The table's name.
    const TABLE: &'static str;
    /// The audit trail's `entity_type` for it.
    const ENTITY: &'static str;
    /// What a unique or foreign-key violation of a write means.
    const VIOLATIONS: Violations;

    fn sql() -> &'static TableSql;
    fn organization_id(&self) -> Uuid;
    fn id(&self) -> Uuid;
    fn created(&self) -> (DateTime<Utc>, Uuid);
    /// The time of the record's last change, when its audit event happened.
    fn updated_at(&self) -> DateTime<Utc>;
    /// Binds the fields, in the column list's order.
    ///
    /// # Errors
    /// [`RepoError::Internal`] when a field cannot be encoded (custom fields that are not JSON).
    fn bind_fields<B: Binder>(&self, query: B) -> Result<B, RepoError>;

    /// Binds an insert's parameters.
    ///
    /// # Errors
    /// As [`Table::bind_fields`].
    fn bind_insert<B: Binder>(&self, query: B) -> Result<B, RepoError> {
        let (created_at, created_by) = self.created();
        Ok(self.bind_fields(query.push(self.organization_id()).push(self.id()))?.push(created_at).push(created_by))
    }

    /// Binds an update's parameters.
    ///
    /// # Errors
    /// As [`Table::bind_fields`].
    fn bind_update<B: Binder>(&self, query: B, expected_version: i64) -> Result<B, RepoError> {
        Ok(self.bind_fields(query.push(self.organization_id()).push(self.id()))?.push(expected_version))
    }
}

/// Declares a record's table:
///
/// ```text
/// table! {
///     Lead => LeadRow in "leads", entity "lead", violations OWNER_VIOLATIONS, |lead| {
///         first_name: Option<String> = lead.first_name.as_ref().map(|v| v.as_str()),
///         …
///     }
/// }
/// ```
///
/// Each field is a column a change may write: its name, its type in the row struct, and the
/// value to bind, read from the record (`?` may be used). The key and creation columns are added.
macro_rules! table {
    ($record:ty => $row:ident in $table:literal, entity $entity:literal, violations $violations:expr, |$r:ident| {
        $($field:ident : $ty:ty = $bind:expr),+ $(,)?
    }) => {
        $crate::rows::rows! {
            pub(crate) struct $row {
                organization_id: uuid::Uuid,
                id: uuid::Uuid,
                $($field: $ty,)+
                created_at: chrono::DateTime<chrono::Utc>,
                created_by: uuid::Uuid,
            }
        }

        impl $crate::table::Table for $record {
            type Row = $row;
            const TABLE: &'static str = $table;
            const ENTITY: &'static str = $entity;
            const VIOLATIONS: $crate::error::Violations = $violations;

            fn sql() -> &'static $crate::table::TableSql {
                static SQL: std::sync::LazyLock<$crate::table::TableSql> =
                    std::sync::LazyLock::new(|| $crate::table::TableSql::new($table, &[$(stringify!($field)),+]));
                &SQL
            }

            fn organization_id(&self) -> uuid::Uuid {
                self.organization_id
            }

            fn id(&self) -> uuid::Uuid {
                self.id
            }

            fn created(&self) -> (chrono::DateTime<chrono::Utc>, uuid::Uuid) {
                (self.created_at, self.created_by)
            }

            fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.updated_at
            }

            fn bind_fields<B: $crate::table::Binder>(&self, query: B) -> Result<B, crm_domain::RepoError> {
                let $r = self;
                Ok(query $(.push($bind))+)
            }
        }
    };
}
pub(crate) use table;

/// The generic reads and writes of a [`Table`], for one backend.
macro_rules! impl_table_ops {
    ($Store:ident, $Db:ty, $audited_insert:ident) => {
        impl $Store {
            /// One page of a list of `T` from a query of its columns and conditions: the keyset
            /// condition and order by `sort_sql` (then id), `window.limit + 1` rows, and the page
            /// they make.
            ///
            /// # Errors
            /// [`RepoError::Internal`] for a row that does not convert.
            pub(crate) async fn fetch_page<T: Table>(
                &self,
                mut query: sqlx::QueryBuilder<$Db>,
                sort_sql: &str,
                direction: SortDirection,
                window: &Window,
                position: impl Fn(&T) -> KeysetPosition,
            ) -> Result<Page<T>, RepoError> {
                crate::list::push_keyset_page(&mut query, sort_sql, direction, window.after.as_ref(), window.limit);
                let rows: Vec<T::Row> = query.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(TryInto::try_into).collect::<Result<Vec<T>, _>>()?;
                Ok(Page::from_overfetch(items, window.limit, position))
            }

            /// Stores a new record and the audit event of its creation in one trip.
            ///
            /// # Errors
            /// What `T::VIOLATIONS` names.
            pub(crate) async fn insert_record<T: Table>(
                &self,
                record: &T,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let (created_at, _) = record.created();
                let query = record.bind_insert(sqlx::query(sqlx::AssertSqlSafe(T::sql().$audited_insert.as_str())))?;
                let query = bind_audit!(
                    query,
                    audit,
                    AuditAction::Create,
                    T::ENTITY,
                    record.id(),
                    changes,
                    created_at,
                    record.about()
                );
                self.run_audited_insert(query).await.map_err(|e| map(e, T::VIOLATIONS))
            }

            /// Stores a new record on `conn`, in the caller's transaction, which writes the audit
            /// event.
            ///
            /// # Errors
            /// What `T::VIOLATIONS` names.
            pub(crate) async fn insert_row<T: Table>(
                conn: &mut <$Db as sqlx::Database>::Connection,
                record: &T,
            ) -> Result<(), RepoError> {
                record
                    .bind_insert(sqlx::query(sqlx::AssertSqlSafe(T::sql().insert.as_str())))?
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| map(e, T::VIOLATIONS))?;
                Ok(())
            }

            /// Writes a changed record on `conn` when its stored version is `expected_version`.
            ///
            /// # Errors
            /// [`RepoError::VersionMismatch`] when the version moved on, [`RepoError::NotFound`]
            /// when the record is gone; what `T::VIOLATIONS` names.
            pub(crate) async fn update_record<T: Table>(
                conn: &mut <$Db as sqlx::Database>::Connection,
                record: &T,
                expected_version: i64,
            ) -> Result<(), RepoError> {
                let updated = record
                    .bind_update(sqlx::query(sqlx::AssertSqlSafe(T::sql().update.as_str())), expected_version)?
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| map(e, T::VIOLATIONS))?
                    .rows_affected();
                if updated > 0 {
                    return Ok(());
                }
                Err(crate::error::stale_or_missing!(&mut *conn, T::TABLE, record.organization_id(), record.id()))
            }
        }

        /// Every record declared with [`table!`] is read and saved by these: the domain's
        /// `RecordRepository` of it comes with its table.
        #[async_trait::async_trait]
        impl<T: Table> RecordRepository<T> for $Store {
            async fn read_record(&self, organization_id: Uuid, id: Uuid) -> Result<T, RepoError> {
                let row: T::Row = sqlx::query_as(sqlx::AssertSqlSafe(T::sql().select.as_str()))
                    .bind(organization_id)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(plain)?;
                row.try_into()
            }

            async fn read_records(&self, organization_id: Uuid, ids: &[Uuid]) -> Result<Vec<T>, RepoError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = sqlx::QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM {} WHERE organization_id = ",
                    T::sql().columns,
                    T::TABLE
                ));
                qb.push_bind(organization_id);
                crate::list::push_any_id(&mut qb, "id", ids);
                let rows: Vec<T::Row> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn write_record(
                &self,
                record: &T,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                Self::update_record(tx.conn(), record, expected_version).await?;
                write_audit!(
                    tx.conn(),
                    audit,
                    action,
                    T::ENTITY,
                    record.id(),
                    changes,
                    record.updated_at(),
                    record.about()
                )?;
                tx.commit().await
            }
        }
    };
}

impl_table_ops!(SqliteStore, Sqlite, audited_insert_sqlite);
impl_table_ops!(PgStore, Postgres, audited_insert_postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_come_from_one_column_list() {
        let sql = TableSql::new("things", &["name", "version"]);
        assert_eq!(sql.columns, "organization_id, id, name, version, created_at, created_by");
        assert_eq!(
            sql.audited_insert_postgres,
            format!(
                "WITH created AS (INSERT INTO things (organization_id, id, name, version, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)) {}",
                crate::audit::audit_insert_sql(7)
            )
        );
        assert_eq!(
            sql.update,
            "UPDATE things SET (name, version) = ($3, $4) WHERE organization_id = $1 AND id = $2 AND version = $5"
        );
        assert_eq!(
            sql.select,
            "SELECT organization_id, id, name, version, created_at, created_by FROM things WHERE organization_id = $1 AND id = $2"
        );
    }
}
