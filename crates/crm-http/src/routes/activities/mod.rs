//! Activities: every interaction with a customer (the failed attempts too) and what is planned
//! next, with reminders.

mod dto;
mod handlers;
mod reminders;

pub use dto::{ActivityResponse, nullable_kind_schema};
pub use handlers::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_activities)
        .service(create_activity)
        .service(get_activity)
        .service(update_activity)
        .service(complete_activity)
        .service(cancel_activity)
        .service(reschedule_activity)
        .service(snooze_activity)
        .service(archive_activity)
        .service(restore_activity)
        .service(reminders::my_reminders);
}
