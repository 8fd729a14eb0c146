//! Accounts: the businesses the organisation sells to.

mod dto;
mod handlers;

pub(crate) use dto::tags as parse_tags;
pub use dto::{AccountResponse, CreateAccountRequest, Tag, UpdateAccountRequest};
pub use handlers::{archive_account, create_account, get_account, list_accounts, restore_account, update_account};

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_accounts)
        .service(create_account)
        .service(get_account)
        .service(update_account)
        .service(archive_account)
        .service(restore_account);
}
