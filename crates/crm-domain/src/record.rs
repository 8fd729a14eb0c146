//! What every stored record shares: a version, an update time, an archive state. Archiving and
//! restoring are written once here for every resource.

use chrono::{DateTime, Utc};

use crate::audit::{AuditValue, FieldChange};

/// A record with optimistic versioning and soft deletion.
pub trait Record: Clone {
    fn version(&self) -> i64;
    fn archived_at(&self) -> Option<DateTime<Utc>>;
    /// Marks a change at `now`: the version grows by one.
    fn touch(&mut self, now: DateTime<Utc>);
    fn set_archived_at(&mut self, at: Option<DateTime<Utc>>);
}

/// Implements [`Record`] for a record struct with `version`, `updated_at` and `archived_at`
/// fields: the version grows by one with each change.
macro_rules! impl_record {
    ($record:ty) => {
        impl $crate::record::Record for $record {
            fn version(&self) -> i64 {
                self.version
            }
            fn archived_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.archived_at
            }
            fn touch(&mut self, now: chrono::DateTime<chrono::Utc>) {
                self.version += 1;
                self.updated_at = now;
            }
            fn set_archived_at(&mut self, at: Option<chrono::DateTime<chrono::Utc>>) {
                self.archived_at = at;
            }
        }
    };
}
pub(crate) use impl_record;

/// Why an archive or a restore is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("the record is archived; restore it first")]
    Archived,
    #[error("the record is not archived")]
    NotArchived,
}

impl ArchiveError {
    pub fn code(self) -> &'static str {
        match self {
            ArchiveError::Archived => "archived",
            ArchiveError::NotArchived => "not_archived",
        }
    }
}

/// Timestamps in audit values use the API's format: microseconds and `Z`.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The record archived at `now`, with its audit change.
///
/// # Errors
/// [`ArchiveError::Archived`] when it already is.
pub fn archive<T: Record>(record: &T, now: DateTime<Utc>) -> Result<(T, Vec<FieldChange>), ArchiveError> {
    if record.archived_at().is_some() {
        return Err(ArchiveError::Archived);
    }
    let mut next = record.clone();
    next.set_archived_at(Some(now));
    next.touch(now);
    Ok((next, vec![FieldChange::new("archived_at", AuditValue::Null, AuditValue::text(rfc3339(now)))]))
}

/// The record brought back from the archive, with its audit change.
///
/// # Errors
/// [`ArchiveError::NotArchived`] when it is not archived.
pub fn restore<T: Record>(record: &T, now: DateTime<Utc>) -> Result<(T, Vec<FieldChange>), ArchiveError> {
    let Some(archived_at) = record.archived_at() else {
        return Err(ArchiveError::NotArchived);
    };
    let mut next = record.clone();
    next.set_archived_at(None);
    next.touch(now);
    Ok((next, vec![FieldChange::new("archived_at", AuditValue::text(rfc3339(archived_at)), AuditValue::Null)]))
}

/// Collects the changes of a patch: `set` writes a new value into a field when it differs and
/// records the old and new values.
pub struct Changes(pub Vec<FieldChange>);

impl Changes {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn set<T: Clone + PartialEq>(
        &mut self,
        field: &str,
        slot: &mut T,
        value: &Option<T>,
        audit: impl Fn(&T) -> AuditValue,
    ) {
        if let Some(value) = value
            && value != slot
        {
            self.0.push(FieldChange::new(field, audit(slot), audit(value)));
            *slot = value.clone();
        }
    }
}

impl Default for Changes {
    fn default() -> Self {
        Self::new()
    }
}
