//! Opportunities: deals moving through the pipeline, with their stage history, and the links a
//! deal owns: its contacts with their buying roles and the competitors it is contested by.

mod closing;
mod competitors;
mod contacts;
mod dto;
mod handlers;
mod history;

pub use dto::{OpportunityResponse, date_param_schema, date_schema, open_stage_schema, parse_date};
pub use handlers::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_opportunities)
        .service(create_opportunity)
        .service(get_opportunity)
        .service(update_opportunity)
        .service(archive_opportunity)
        .service(restore_opportunity)
        .service(closing::close_opportunity)
        .service(closing::reopen_opportunity)
        .service(history::opportunity_stage_history)
        .service(list_account_opportunities)
        .service(contacts::list_contact_roles)
        .service(contacts::put_contact_role)
        .service(contacts::delete_contact_role)
        .service(competitors::list_deal_competitors)
        .service(competitors::put_deal_competitor)
        .service(competitors::delete_deal_competitor);
}
