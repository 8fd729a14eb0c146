//! Invoices and payments.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditContext, FieldChange};
use crate::error::RepoError;
use crate::invoice::{Invoice, InvoiceQuery, Payment};
use crate::list::{Page, Window};

/// Invoices and payments. Inserting an invoice gives it the next number of the organisation's
/// invoice sequence in the same transaction, whatever number it carried: concurrent inserts never
/// share a number and a number is never reused.
///
/// Reading and saving one invoice: [`RecordRepository<Invoice>`](super::RecordRepository); a save answers
/// [`RepoError::MissingReference`] on `owner_id`.
#[async_trait]
pub trait InvoiceRepository: Send + Sync {
    /// Numbers and stores a new invoice; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `order_id` when the order already has an invoice that is not
    /// void; [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_invoice(&self, invoice: &Invoice, audit: &AuditContext) -> Result<Invoice, RepoError>;

    /// The order's invoice that is not void, if any.
    async fn find_invoice_of_order(&self, organization_id: Uuid, order_id: Uuid) -> Result<Option<Invoice>, RepoError>;

    async fn list_invoices(&self, organization_id: Uuid, query: &InvoiceQuery) -> Result<Page<Invoice>, RepoError>;

    /// Stores a payment and the invoice it changes (if still at `expected_version`) in one
    /// transaction, so that concurrent payments can never pass the total.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the invoice changed since read.
    async fn record_payment(
        &self,
        invoice: &Invoice,
        expected_version: i64,
        changes: &[FieldChange],
        payment: &Payment,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// One page of the invoice's payments, oldest first (by `paid_at`, then id). An invoice of
    /// another organisation has none.
    async fn list_payments(
        &self,
        organization_id: Uuid,
        invoice_id: Uuid,
        window: &Window,
    ) -> Result<Page<Payment>, RepoError>;
}
