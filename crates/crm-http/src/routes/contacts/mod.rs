//! Contacts: the people the organisation deals with.

mod dto;
mod handlers;

pub use dto::{ContactResponse, CreateContactRequest, UpdateContactRequest};
pub use handlers::{
    archive_contact, create_contact, get_contact, list_account_contacts, list_contacts, restore_contact, update_contact,
};

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_contacts)
        .service(create_contact)
        .service(get_contact)
        .service(update_contact)
        .service(archive_contact)
        .service(restore_contact)
        .service(list_account_contacts);
}
