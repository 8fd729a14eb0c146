//! Competitors: their products priced against ours, their place in each deal, and the
//! competitor report.

mod deals;
mod dto;
mod handlers;
mod product_dto;
mod products;
mod report;

pub use deals::{check_lost_to, unknown_competitor};
pub use dto::CompetitorResponse;
pub use handlers::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_competitors)
        .service(create_competitor)
        .service(get_competitor)
        .service(update_competitor)
        .service(archive_competitor)
        .service(restore_competitor)
        .service(products::list_competitor_products)
        .service(products::create_competitor_product)
        .service(products::get_competitor_product)
        .service(products::update_competitor_product)
        .service(products::delete_competitor_product)
        .service(deals::list_deal_competitors)
        .service(deals::put_deal_competitor)
        .service(deals::delete_deal_competitor)
        .service(report::competitor_report_of_deals);
}
