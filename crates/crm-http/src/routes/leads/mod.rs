//! Leads: the reference resource every later one copies.

mod convert;
mod dto;
mod handlers;

pub(crate) use dto::archived_schema;
pub use dto::{CreateLeadRequest, LeadResponse, UpdateLeadRequest};
pub use handlers::{archive_lead, create_lead, get_lead, list_leads, restore_lead, update_lead};

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_leads)
        .service(create_lead)
        .service(get_lead)
        .service(update_lead)
        .service(archive_lead)
        .service(restore_lead)
        .service(convert::convert_lead);
}
