//! The price book.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditAction, AuditContext, FieldChange};
use crate::error::RepoError;
use crate::list::Page;
use crate::product::{Product, ProductQuery};

#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Stores a new product with its audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `sku` when another product of the organisation has it.
    async fn insert_product(&self, product: &Product, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such product.
    async fn get_product(&self, organization_id: Uuid, product_id: Uuid) -> Result<Product, RepoError>;

    /// The organisation's products among `product_ids`, archived or not, in one query; ids it
    /// does not hold are left out.
    async fn get_products(&self, organization_id: Uuid, product_ids: &[Uuid]) -> Result<Vec<Product>, RepoError>;

    /// The product of the organisation with this SKU, archived or not.
    async fn find_product_by_sku(&self, organization_id: Uuid, sku: &str) -> Result<Option<Product>, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::Duplicate`] on `sku`.
    async fn update_product(
        &self,
        product: &Product,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_products(&self, organization_id: Uuid, query: &ProductQuery) -> Result<Page<Product>, RepoError>;
}
