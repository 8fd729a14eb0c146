//! Competitors: their products priced against ours, and the competitor report. Their place in
//! each deal (`/opportunities/{id}/competitors`) is a link of the deal's, in `opportunities`.

mod dto;
mod handlers;
mod product_dto;
mod products;
mod report;

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
        .service(report::competitor_report_of_deals);
}
