//! Quotes: priced offers on an opportunity, numbered per organisation.

mod dto;
mod handlers;

pub(crate) use dto::sort_schema;
pub use dto::{AcceptedQuote, QuoteResponse};
pub use handlers::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_quotes)
        .service(create_quote)
        .service(get_quote)
        .service(update_quote)
        .service(archive_quote)
        .service(restore_quote)
        .service(send_quote)
        .service(accept_quote)
        .service(reject_quote);
}
