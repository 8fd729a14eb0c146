//! Opportunities: deals moving through the pipeline, with their stage history.

mod contacts;
mod dto;
mod handlers;

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
        .service(close_opportunity)
        .service(reopen_opportunity)
        .service(opportunity_stage_history)
        .service(list_account_opportunities)
        .service(contacts::list_contact_roles)
        .service(contacts::put_contact_role)
        .service(contacts::delete_contact_role);
}
