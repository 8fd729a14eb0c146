//! Competitors and their products.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditContext, FieldChange};
use crate::competitor::{Competitor, CompetitorProduct, CompetitorProductQuery, CompetitorQuery};
use crate::error::RepoError;
use crate::list::Page;

/// Reading and saving one competitor: [`RecordRepository<Competitor>`](super::RecordRepository).
#[async_trait]
pub trait CompetitorRepository: Send + Sync {
    /// Stores a new competitor with its create audit event.
    async fn insert_competitor(&self, competitor: &Competitor, audit: &AuditContext) -> Result<(), RepoError>;

    async fn list_competitors(
        &self,
        organization_id: Uuid,
        query: &CompetitorQuery,
    ) -> Result<Page<Competitor>, RepoError>;

    /// Stores a competitor's new product with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `competitor_id` or `compared_product_id` when that
    /// record is not in the organisation.
    async fn insert_competitor_product(
        &self,
        product: &CompetitorProduct,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the competitor has no such product in the organisation.
    async fn get_competitor_product(
        &self,
        organization_id: Uuid,
        competitor_id: Uuid,
        product_id: Uuid,
    ) -> Result<CompetitorProduct, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`]
    /// on `compared_product_id`.
    async fn update_competitor_product(
        &self,
        product: &CompetitorProduct,
        expected_version: i64,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Deletes a competitor's product for good, with a `delete` audit event listing `changes`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is no such product; [`RepoError::VersionMismatch`] when
    /// its version is not `expected_version`.
    async fn delete_competitor_product(
        &self,
        product: &CompetitorProduct,
        expected_version: i64,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_competitor_products(
        &self,
        organization_id: Uuid,
        query: &CompetitorProductQuery,
    ) -> Result<Page<CompetitorProduct>, RepoError>;
}
