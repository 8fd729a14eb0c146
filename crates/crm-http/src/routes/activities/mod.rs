//! Activities: every interaction with a customer (the failed attempts too) and what is planned
//! next, with reminders.

mod dto;
mod handlers;
mod reminders;
mod report;

pub use dto::{ActivityResponse, next_activity_schema, nullable_kind_schema};

/// The interaction filter of a lead, contact, account or deal list, from its four parameters.
///
/// # Errors
/// 400 naming the parameter.
pub fn interaction_filter(
    last_before: Option<&str>,
    last_after: Option<&str>,
    no_interaction: Option<&str>,
    next_activity: Option<&str>,
) -> Result<crm_domain::activity::InteractionFilter, crate::problem::ApiError> {
    use crate::conventions::{parse_bool_param, parse_timestamp_param};
    Ok(crm_domain::activity::InteractionFilter {
        last_before: parse_timestamp_param("last_interaction_before", last_before)?,
        last_after: parse_timestamp_param("last_interaction_after", last_after)?,
        interacted: parse_bool_param("no_interaction", no_interaction)?.map(|none| !none),
        planned: match next_activity {
            None => None,
            Some("none") => Some(false),
            Some("any") => Some(true),
            Some(_) => {
                return Err(crate::problem::ApiError::bad_param(
                    "next_activity",
                    "invalid_value",
                    "must be one of: none, any",
                ));
            }
        },
    })
}
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
        .service(reminders::my_reminders)
        .service(report::activity_report);
}
