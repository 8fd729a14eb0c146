//! The price book.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::error::RepoError;
use crate::list::Page;
use crate::product::{Product, ProductQuery};

/// Reading and saving one product: [`RecordRepository<Product>`](super::RecordRepository); a save answers
/// [`RepoError::Duplicate`] on `sku`.
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Stores a new product with its audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `sku` when another product of the organisation has it.
    async fn insert_product(&self, product: &Product, audit: &AuditContext) -> Result<(), RepoError>;

    /// The product of the organisation with this SKU, archived or not.
    async fn find_product_by_sku(&self, organization_id: Uuid, sku: &str) -> Result<Option<Product>, RepoError>;

    async fn list_products(&self, organization_id: Uuid, query: &ProductQuery) -> Result<Page<Product>, RepoError>;
}
