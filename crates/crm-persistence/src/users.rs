use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::list::Page;
use crm_domain::ports::{RecordRepository, UserQuery, UserRepository, UserSortField};
use crm_domain::timeline::About;
use crm_domain::user::{Principal, User, UserCredentials, user_creation_changes};
use crm_domain::value::Email;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, map, plain};
use crate::rows::{CredentialsRow, USER_COLUMNS, UserRow};

/// Inserts a user row; shared by signup and by admins adding users.
macro_rules! insert_user_row {
    ($conn:expr, $user:expr, $password_hash:expr) => {
        sqlx::query(
            "INSERT INTO users (organization_id, id, name, email, password_hash, role, active, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind($user.organization_id)
        .bind($user.id)
        .bind($user.name.as_str())
        .bind($user.email.as_str())
        .bind($password_hash)
        .bind($user.role.as_str())
        .bind($user.active)
        .bind($user.created_at)
        .bind($user.updated_at)
        .bind($user.version)
        .execute($conn)
        .await
    };
}
pub(crate) use insert_user_row;

fn sort_expr(field: UserSortField) -> &'static str {
    match field {
        UserSortField::CreatedAt => "created_at",
        UserSortField::Name => "name",
        UserSortField::Email => "email",
    }
}

macro_rules! impl_users {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl UserRepository for $Store {
            async fn insert_user(&self, user: &User, password_hash: &str, audit: &AuditContext) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                insert_user_row!(tx.conn(), user, password_hash)
                    .map_err(|e| map(e, Violations { unique: Some("email"), foreign_key: None }))?;
                write_audit!(tx.conn(), audit, AuditAction::Create, "user", user.id, &user_creation_changes(user), user.created_at, About::NONE)?;
                tx.commit().await
            }

            async fn find_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, RepoError> {
                let row: Option<CredentialsRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"
                )))
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.map(|row| row.into_parts().map(|(user, password_hash)| UserCredentials { user, password_hash })).transpose()
            }

            async fn find_principal(&self, organization_id: Uuid, user_id: Uuid) -> Result<Option<Principal>, RepoError> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT role FROM users WHERE organization_id = $1 AND id = $2 AND active = TRUE")
                        .bind(organization_id)
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(plain)?;
                row.map(|(role,)| {
                    crm_domain::permissions::Role::parse("role", &role)
                        .map(|role| Principal { user_id, organization_id, role })
                        .map_err(|_| crate::error::corrupt("role"))
                })
                .transpose()
            }

            async fn list_users(&self, organization_id: Uuid, query: &UserQuery) -> Result<Page<User>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {USER_COLUMNS} FROM users WHERE organization_id = "));
                qb.push_bind(organization_id);
                let roles: Vec<&'static str> = query.roles.iter().map(|r| r.as_str()).collect();
                crate::list::push_any_text(&mut qb, "role", &roles);
                if let Some(active) = query.active {
                    qb.push(" AND active = ").push_bind(active);
                }
                crate::list::push_search(&mut qb, &["name", "email"], query.search.as_deref());
                crate::list::push_keyset_page(&mut qb, sort_expr(query.sort.field), query.sort.direction, query.window.after.as_ref(), query.window.limit);
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let users = rows.into_iter().map(User::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(users, query.window.limit, |u| u.position(field)))
            }
        }

        /// Users are not a `table!` record (their password hash is written apart), so their
        /// reads and saves are written here; a save of a deactivated user revokes its refresh
        /// tokens in the same transaction.
        #[async_trait]
        impl RecordRepository<User> for $Store {
            async fn read_record(&self, organization_id: Uuid, user_id: Uuid) -> Result<User, RepoError> {
                let row: UserRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(user_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn read_records(&self, organization_id: Uuid, ids: &[Uuid]) -> Result<Vec<User>, RepoError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {USER_COLUMNS} FROM users WHERE organization_id = "));
                qb.push_bind(organization_id);
                crate::list::push_any_id(&mut qb, "id", ids);
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                rows.into_iter().map(User::try_from).collect()
            }

            async fn write_record(&self, user: &User, expected_version: i64, action: AuditAction, changes: &[FieldChange], audit: &AuditContext) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE users SET name = $3, role = $4, active = $5, updated_at = $6, version = $7 \
                     WHERE organization_id = $1 AND id = $2 AND version = $8",
                )
                .bind(user.organization_id)
                .bind(user.id)
                .bind(user.name.as_str())
                .bind(user.role.as_str())
                .bind(user.active)
                .bind(user.updated_at)
                .bind(user.version)
                .bind(expected_version)
                .execute(tx.conn())
                .await
                .map_err(plain)?
                .rows_affected();
                if updated == 0 {
                    return Err(crate::error::stale_or_missing!(tx.conn(), "users", user.organization_id, user.id));
                }
                if !user.active {
                    sqlx::query("UPDATE refresh_tokens SET revoked_at = $3 WHERE organization_id = $1 AND user_id = $2 AND revoked_at IS NULL")
                        .bind(user.organization_id)
                        .bind(user.id)
                        .bind(user.updated_at)
                        .execute(tx.conn())
                        .await
                        .map_err(plain)?;
                }
                write_audit!(tx.conn(), audit, action, "user", user.id, changes, user.updated_at, About::NONE)?;
                tx.commit().await
            }
        }
    };
}

impl_users!(SqliteStore, sqlx::Sqlite);
impl_users!(PgStore, sqlx::Postgres);
