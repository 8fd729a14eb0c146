//! Invoices and their payments.

mod dto;
mod handlers;

pub use dto::{InvoiceResponse, PaymentReceipt};
pub use handlers::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_invoices)
        .service(create_invoice)
        .service(get_invoice)
        .service(update_invoice)
        .service(issue_invoice)
        .service(void_invoice)
        .service(create_payment)
        .service(list_payments)
        .service(invoice_order);
}
