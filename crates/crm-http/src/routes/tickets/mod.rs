//! Support tickets: requests handled against the organisation's SLA policy.

mod comments;
mod dto;
mod handlers;
mod report;
mod sales;

pub use comments::*;
pub use dto::TicketResponse;
pub use handlers::*;
pub use report::*;
pub use sales::*;

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(list_tickets)
        .service(create_ticket)
        .service(get_ticket)
        .service(update_ticket)
        .service(archive_ticket)
        .service(restore_ticket)
        .service(start_ticket)
        .service(wait_ticket)
        .service(hold_ticket)
        .service(resume_ticket)
        .service(solve_ticket)
        .service(reopen_ticket)
        .service(close_ticket)
        .service(list_ticket_comments)
        .service(create_ticket_comment)
        .service(redact_ticket_comment)
        .service(create_ticket_opportunity)
        .service(ticket_report);
}
