//! Quotes, orders, invoices and payments.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditAction, AuditContext, FieldChange};
use crate::error::RepoError;
use crate::invoice::{Invoice, InvoiceQuery, Payment};
use crate::list::{Page, Window};
use crate::order::{Order, OrderQuery};
use crate::quote::{Acceptance, Quote, QuoteQuery};

/// Quotes, orders, invoices and payments. Inserting a document gives it the next number of the
/// organisation's sequence for its kind in the same transaction, whatever number the document
/// carried: concurrent inserts never share a number and a number is never reused.
#[async_trait]
pub trait DocumentRepository: Send + Sync {
    /// Numbers and stores a new quote with its audit event; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the organisation.
    async fn insert_quote(&self, quote: &Quote, audit: &AuditContext) -> Result<Quote, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such quote.
    async fn get_quote(&self, organization_id: Uuid, quote_id: Uuid) -> Result<Quote, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`] on `owner_id`.
    async fn update_quote(
        &self,
        quote: &Quote,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_quotes(&self, organization_id: Uuid, query: &QuoteQuery) -> Result<Page<Quote>, RepoError>;

    /// In one transaction: the accepted quote (if still at `quote_version`), the opportunity
    /// closed won (if still at `opportunity_version`) with its stage change, and the new order,
    /// numbered; answers the order as stored.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the quote or the opportunity changed since read.
    async fn accept_quote(
        &self,
        acceptance: &Acceptance,
        quote_version: i64,
        opportunity_version: i64,
        order: &Order,
        audit: &AuditContext,
    ) -> Result<Order, RepoError>;

    /// Numbers and stores an order of its own; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_order(&self, order: &Order, audit: &AuditContext) -> Result<Order, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such order.
    async fn get_order(&self, organization_id: Uuid, order_id: Uuid) -> Result<Order, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`] on `owner_id`.
    async fn update_order(
        &self,
        order: &Order,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_orders(&self, organization_id: Uuid, query: &OrderQuery) -> Result<Page<Order>, RepoError>;

    /// Numbers and stores a new invoice; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `order_id` when the order already has an invoice that is not
    /// void; [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_invoice(&self, invoice: &Invoice, audit: &AuditContext) -> Result<Invoice, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such invoice.
    async fn get_invoice(&self, organization_id: Uuid, invoice_id: Uuid) -> Result<Invoice, RepoError>;

    /// The order's invoice that is not void, if any.
    async fn find_invoice_of_order(&self, organization_id: Uuid, order_id: Uuid) -> Result<Option<Invoice>, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`] on `owner_id`.
    async fn update_invoice(
        &self,
        invoice: &Invoice,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

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
