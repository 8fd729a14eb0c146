//! Orders: the closed sale, created by accepting a quote.

mod dto;
mod handlers;

pub use dto::OrderResponse;
pub use handlers::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_orders)
        .service(create_order)
        .service(get_order)
        .service(update_order)
        .service(confirm_order)
        .service(fulfill_order)
        .service(deliver_order)
        .service(cancel_order);
}
