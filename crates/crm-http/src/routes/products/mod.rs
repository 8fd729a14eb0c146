//! Products: the price book.

mod dto;
mod handlers;

pub use dto::ProductResponse;
pub(crate) use dto::percent_schema;
pub use handlers::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_products)
        .service(create_product)
        .service(get_product)
        .service(update_product)
        .service(archive_product)
        .service(restore_product);
}
