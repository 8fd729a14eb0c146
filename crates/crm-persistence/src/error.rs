//! The one place where `sqlx::Error` becomes a domain `RepoError`, by `ErrorKind`, never by a
//! backend's own error code.

use crm_domain::RepoError;
use sqlx::error::ErrorKind;

/// What a statement's constraint violations mean in API terms.
#[derive(Clone, Copy, Default)]
pub(crate) struct Violations {
    /// The API field a unique-key violation is about.
    pub unique: Option<&'static str>,
    /// The API field a foreign-key violation is about.
    pub foreign_key: Option<&'static str>,
}

pub(crate) const NO_VIOLATIONS: Violations = Violations { unique: None, foreign_key: None };

pub(crate) fn map(error: sqlx::Error, violations: Violations) -> RepoError {
    match &error {
        sqlx::Error::RowNotFound => RepoError::NotFound,
        // A broken or refused connection (a protocol error is what a connection cut mid-handshake
        // looks like) means the database is unreachable, not that the request is wrong.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => RepoError::Unavailable(Box::new(error)),
        sqlx::Error::Database(db) => match (db.kind(), violations) {
            (ErrorKind::UniqueViolation, Violations { unique: Some(field), .. }) => RepoError::Duplicate { field },
            (ErrorKind::ForeignKeyViolation, Violations { foreign_key: Some(field), .. }) => {
                RepoError::MissingReference { field }
            }
            _ if is_busy(db.as_ref()) => RepoError::Unavailable(Box::new(error)),
            _ => RepoError::Internal(Box::new(error)),
        },
        _ => RepoError::Internal(Box::new(error)),
    }
}

/// A locked SQLite database, a PostgreSQL statement cancelled by its lock or statement timeout,
/// a PostgreSQL server shutting down, or a keyed write whose claim a retry took over (the
/// fence of migration 0018: the retry answers for it): worth a retry, not a bug.
fn is_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    let message = db.message();
    message.contains("database is locked")
        || message.contains("canceling statement due to lock timeout")
        || message.contains("canceling statement due to statement timeout")
        || message.contains("terminating connection")
        || message.contains("shutting down")
        || message.contains("idempotency claim was taken over")
}

pub(crate) fn plain(error: sqlx::Error) -> RepoError {
    map(error, NO_VIOLATIONS)
}

pub(crate) fn corrupt(what: &str) -> RepoError {
    RepoError::Internal(format!("stored row holds an invalid {what}").into())
}

/// After an `UPDATE ... WHERE version = $n` touched no row: tells a stale version (the row is
/// there at another version) from a missing row. Used inside the write transaction.
macro_rules! stale_or_missing {
    ($conn:expr, $table:expr, $organization_id:expr, $id:expr) => {{
        let current: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT version FROM {} WHERE organization_id = $1 AND id = $2",
            $table
        )))
        .bind($organization_id)
        .bind($id)
        .fetch_optional($conn)
        .await
        .map_err($crate::error::plain)?;
        match current {
            Some((current,)) => crm_domain::RepoError::VersionMismatch { current },
            None => crm_domain::RepoError::NotFound,
        }
    }};
}
pub(crate) use stale_or_missing;

/// The error of an update of an organisation's settings row (`table`, keyed by
/// `organization_id`) that matched no row: [`crm_domain::RepoError::VersionMismatch`] with the
/// stored version, or `NotFound` when the organisation has no row. Returns from the caller.
macro_rules! stale_settings {
    ($conn:expr, $table:expr, $organization_id:expr) => {{
        let current: Option<(i64,)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT version FROM {} WHERE organization_id = $1", $table)))
                .bind($organization_id)
                .fetch_optional($conn)
                .await
                .map_err($crate::error::plain)?;
        match current {
            Some((current,)) => crm_domain::RepoError::VersionMismatch { current },
            None => crm_domain::RepoError::NotFound,
        }
    }};
}
pub(crate) use stale_settings;
