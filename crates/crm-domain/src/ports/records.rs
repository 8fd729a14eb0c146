//! Reading and saving one record: the same two operations, with one contract, for every kind of
//! record the API changes through `PATCH`, archive and restore.

use async_trait::async_trait;
use uuid::Uuid;

use super::Store;
use crate::audit::{AuditAction, AuditContext, FieldChange};
use crate::error::RepoError;

/// The store's reads and saves of records of type `T`. The persistence crate implements it once
/// for every record stored as a row of its own table, from the table's declaration; a new kind of
/// record gets it by declaring its table and joining the `records` list of [`Store`].
#[async_trait]
pub trait RecordRepository<T>: Send + Sync {
    /// The organisation's record with this id, archived or not.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has none (a record of another organisation
    /// is not found either).
    async fn read_record(&self, organization_id: Uuid, id: Uuid) -> Result<T, RepoError>;

    /// The organisation's records among `ids`, archived or not, in one query, in no particular
    /// order; ids it does not hold are left out.
    async fn read_records(&self, organization_id: Uuid, ids: &[Uuid]) -> Result<Vec<T>, RepoError>;

    /// Stores `record` (already changed by the domain: its `version` one past `expected_version`)
    /// when its stored version is `expected_version`, with an audit event of `action` listing
    /// `changes`, in one transaction. Never writes its key, its organisation or its creation.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when it is gone; [`RepoError::VersionMismatch`] when another writer
    /// saved first; [`RepoError::MissingReference`] and [`RepoError::Duplicate`] as the record's
    /// own port documents for its links and unique fields.
    async fn write_record(
        &self,
        record: &T,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;
}

/// A kind of record the [`Store`] reads and saves through its [`RecordRepository`]; declared by
/// the `records` list of [`Store`].
pub trait StoredRecord: Sized + Send + Sync + 'static {
    /// The store's repository of this kind of record.
    fn repository<'s>(store: &'s (dyn Store + 's)) -> &'s (dyn RecordRepository<Self> + 's);
}

impl<'s> dyn Store + 's {
    /// The organisation's record of type `T` with this id: [`RecordRepository::read_record`].
    ///
    /// # Errors
    /// As [`RecordRepository::read_record`].
    pub async fn get<T: StoredRecord>(&self, organization_id: Uuid, id: Uuid) -> Result<T, RepoError> {
        T::repository(self).read_record(organization_id, id).await
    }

    /// The organisation's records of type `T` among `ids`: [`RecordRepository::read_records`].
    ///
    /// # Errors
    /// As [`RecordRepository::read_records`].
    pub async fn get_many<T: StoredRecord>(&self, organization_id: Uuid, ids: &[Uuid]) -> Result<Vec<T>, RepoError> {
        T::repository(self).read_records(organization_id, ids).await
    }

    /// Saves a changed record: [`RecordRepository::write_record`].
    ///
    /// # Errors
    /// As [`RecordRepository::write_record`].
    pub async fn save<T: StoredRecord>(
        &self,
        record: &T,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError> {
        T::repository(self).write_record(record, expected_version, action, changes, audit).await
    }
}
