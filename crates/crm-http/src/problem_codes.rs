//! The registry of problem codes: every `code` a problem document can carry, with its HTTP status
//! and when it is answered. `ApiError` takes a [`ProblemCode`], never free text, so the server
//! cannot emit a code that is not here; the spec's `Problem.code` enum and the error table of
//! docs/api-conventions.md are generated from this list (tests keep both in step).

macro_rules! problem_codes {
    ($($variant:ident = ($code:literal, $status:literal, $when:literal),)+) => {
        /// A stable machine code of a problem document; clients branch on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $($variant,)+
        }

        impl ProblemCode {
            /// Every code, in the order of the documentation's table.
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $code,)+
                }
            }

            /// The HTTP status a problem with this code is answered with.
            pub const fn status(self) -> u16 {
                match self {
                    $(ProblemCode::$variant => $status,)+
                }
            }

            /// When the code is answered, for the documentation.
            pub const fn when(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $when,)+
                }
            }
        }
    };
}

problem_codes! {
    MalformedJson = ("malformed_json", 400, "The body is not well-formed JSON."),
    UnreadableBody = ("unreadable_body", 400, "The body could not be read (for example, the connection broke while it was sent)."),
    InvalidParameter = ("invalid_parameter", 400, "A query parameter is unknown or invalid, a cursor is not one the server issued, or a header (`If-Match`, `If-None-Match`, `Idempotency-Key`) is malformed; `errors` names it."),
    InvalidPathParameter = ("invalid_path_parameter", 400, "A path id is not a UUID."),
    Unauthorized = ("unauthorized", 401, "The access token is missing, invalid or expired, or its user is deactivated; or a login or refresh failed. The answer carries `WWW-Authenticate: Bearer`."),
    Forbidden = ("forbidden", 403, "The caller's role may not do this, or signup is disabled on the server."),
    NotFound = ("not_found", 404, "The caller's organisation has no such record (a record of another organisation answers exactly like a missing one), or no route matches the path."),
    MethodNotAllowed = ("method_not_allowed", 405, "The path exists, but not for this method; `Allow` lists the methods it accepts."),
    Duplicate = ("duplicate", 409, "Another record already holds a unique value (a contact's email, a product's SKU); `existing_id` names it."),
    EmailTaken = ("email_taken", 409, "Signup or a new user with an email that a user already has."),
    SelfLockout = ("self_lockout", 409, "An admin tried to remove their own admin role or deactivate themselves."),
    IdempotencyInProgress = ("idempotency_in_progress", 409, "A request with the same `Idempotency-Key` is still running (`Retry-After` says when to try again)."),
    IdempotentRequestApplied = ("idempotent_request_applied", 409, "The request with this `Idempotency-Key` took effect, but its answer was lost when the server stopped, and this route's answer (several records) is not rebuilt: `Location` names the record to read instead of retrying."),
    IllegalStatusChange = ("illegal_status_change", 409, "A lead's status may not move this way; the detail lists the allowed next statuses."),
    LeadConverted = ("lead_converted", 409, "The lead is converted and refuses every change."),
    LeadArchived = ("lead_archived", 409, "The lead is archived: restore it first."),
    LeadNotArchived = ("lead_not_archived", 409, "Restore of a lead that is not archived."),
    AccountArchived = ("account_archived", 409, "The account is archived: restore it first."),
    AccountNotArchived = ("account_not_archived", 409, "Restore of an account that is not archived."),
    ContactArchived = ("contact_archived", 409, "The contact is archived: restore it first."),
    ContactNotArchived = ("contact_not_archived", 409, "Restore of a contact that is not archived."),
    OpportunityArchived = ("opportunity_archived", 409, "The opportunity is archived: restore it first."),
    OpportunityNotArchived = ("opportunity_not_archived", 409, "Restore of an opportunity that is not archived."),
    OpportunityClosed = ("opportunity_closed", 409, "The opportunity is closed and refuses edits; reopen it first."),
    OpportunityNotClosed = ("opportunity_not_closed", 409, "Reopen of an opportunity that is not closed."),
    OpportunityNotOpen = ("opportunity_not_open", 409, "A quote needs an open opportunity, and accepting one needs the opportunity still open."),
    CloseThroughEndpoint = ("close_through_endpoint", 409, "A `PATCH` tried to move an opportunity to a closed stage; use `POST /opportunities/{id}/close`."),
    AmountRequired = ("amount_required", 409, "An opportunity closes won only with an amount."),
    LostToCompetitor = ("lost_to_competitor", 409, "The deal was closed lost to this competitor, which stays in the deal until it is reopened."),
    ProductArchived = ("product_archived", 409, "The product is archived: restore it first."),
    ProductNotArchived = ("product_not_archived", 409, "Restore of a product that is not archived."),
    CompetitorArchived = ("competitor_archived", 409, "The competitor is archived: it takes no products, edits or deals until restored."),
    CompetitorNotArchived = ("competitor_not_archived", 409, "Restore of a competitor that is not archived."),
    QuoteArchived = ("quote_archived", 409, "The quote is archived: restore it first."),
    QuoteNotArchived = ("quote_not_archived", 409, "Restore of a quote that is not archived."),
    QuoteNotDraft = ("quote_not_draft", 409, "Only a draft quote may be edited or sent."),
    QuoteNotSent = ("quote_not_sent", 409, "Only a sent quote may be accepted or rejected."),
    QuoteExpired = ("quote_expired", 409, "The quote is past its `valid_until` day and cannot be accepted; sending needs a `valid_until` not passed."),
    QuoteEmpty = ("quote_empty", 409, "A quote is sent only with at least one line."),
    WrongOpportunity = ("wrong_opportunity", 409, "The quote belongs to another opportunity than the one named."),
    InvalidTransition = ("invalid_transition", 409, "An order or a ticket may not take this step from its status; the detail lists the allowed next steps."),
    OrderShipped = ("order_shipped", 409, "The order is fulfilled or delivered: its shipping address no longer changes."),
    OrderCancelled = ("order_cancelled", 409, "The order is cancelled: it takes no step and no invoice."),
    AlreadyInvoiced = ("already_invoiced", 409, "The order already has an invoice that is not void; `existing_id` names it."),
    InvoiceNotDraft = ("invoice_not_draft", 409, "Only a draft invoice may be edited or issued."),
    InvoiceEmpty = ("invoice_empty", 409, "An invoice is issued only with at least one line."),
    InvoiceNotIssued = ("invoice_not_issued", 409, "Payments are recorded only on an issued invoice."),
    InvoiceHasPayments = ("invoice_has_payments", 409, "An invoice with payments cannot be voided."),
    InvoiceVoid = ("invoice_void", 409, "The invoice is void and takes no change."),
    TicketClosed = ("ticket_closed", 409, "The ticket is closed (by `close`, or by the end of its reopen window): it takes no change except an internal comment."),
    ReopenWindowPassed = ("reopen_window_passed", 409, "The ticket was solved longer ago than the organisation's reopen window: it is closed; open a new ticket."),
    CommentRedacted = ("comment_redacted", 409, "The comment is already redacted."),
    TooManyOpportunities = ("too_many_opportunities", 409, "The ticket already handed 50 deals to sales."),
    TicketArchived = ("ticket_archived", 409, "The ticket is archived: restore it first."),
    TicketNotArchived = ("ticket_not_archived", 409, "Restore of a ticket that is not archived."),
    SlaNotComputable = ("sla_not_computable", 409, "The SLA policy's business calendar leaves no business time to count a deadline on (holidays covering years on end)."),
    Overpayment = ("overpayment", 409, "The payment is above the invoice's balance due; nothing is recorded."),
    ActivityArchived = ("activity_archived", 409, "The activity is archived: restore it first."),
    ActivityNotArchived = ("activity_not_archived", 409, "Restore of an activity that is not archived."),
    ActivityNotPlanned = ("activity_not_planned", 409, "Only a planned activity is completed, cancelled, rescheduled or snoozed, or has its kind, due date or reminder changed."),
    PreconditionFailed = ("precondition_failed", 412, "`If-Match` names a version that is no longer current; nothing changed."),
    PayloadTooLarge = ("payload_too_large", 413, "The body is larger than 1 MiB."),
    UnsupportedMediaType = ("unsupported_media_type", 415, "The body was not sent as JSON, or with a `Content-Encoding` other than gzip."),
    ValidationFailed = ("validation_failed", 422, "The body is JSON, but fields are invalid, unknown, missing or of the wrong type; `errors` names each field with its own code."),
    IdempotencyKeyReused = ("idempotency_key_reused", 422, "The `Idempotency-Key` was used before with a different request."),
    AmountOverflow = ("amount_overflow", 422, "A report's sum does not fit in a 64-bit amount."),
    RateLimited = ("rate_limited", 429, "Too many attempts on an authentication endpoint; the answer carries `Retry-After`."),
    InternalError = ("internal_error", 500, "An unexpected error. The body gives no cause; it is logged under `request_id`, so quote that id in a report."),
    ServiceUnavailable = ("service_unavailable", 503, "The server cannot take the request now: the database cannot be reached or has no free connection, a statement waited too long for a lock, the request passed its deadline, or every password hashing thread is busy. The answer carries `Retry-After`."),
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error table of docs/api-conventions.md, one row per code, in registry order.
pub fn markdown_table() -> String {
    let mut table = String::from("| Status | `code` | When |\n|---|---|---|\n");
    for code in ProblemCode::ALL {
        table.push_str(&format!("| {} | `{}` | {} |\n", code.status(), code.as_str(), code.when()));
    }
    table
}

/// The schema of `Problem.code`: a string from the registry.
pub fn code_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(ProblemCode::ALL.iter().map(|c| c.as_str())))
        .description(Some("A stable machine code from the registry in the API conventions; clients branch on it, never on `title` or `detail`."))
        .examples([serde_json::json!("validation_failed")])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_spelled_once_in_snake_case_with_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ProblemCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code}");
            assert!((400..600).contains(&code.status()), "{code}");
        }
    }

    #[test]
    fn the_table_is_ordered_by_status() {
        let statuses: Vec<u16> = ProblemCode::ALL.iter().map(|c| c.status()).collect();
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(statuses, sorted);
    }
}

/// The code of each rule of the domain that a request can break. The matches are exhaustive, so
/// a new rule does not compile until it has its code here. Rules answered as a field of a 422
/// (`errors[]` carries the domain's own field code) are `validation_failed` at the top level.
mod rules {
    use crm_domain::account::AccountRuleError;
    use crm_domain::activity::ActivityRuleError;
    use crm_domain::competitor::CompetitorRuleError;
    use crm_domain::contact::ContactRuleError;
    use crm_domain::invoice::InvoiceRuleError;
    use crm_domain::lead::LeadRuleError;
    use crm_domain::opportunity::OpportunityRuleError;
    use crm_domain::order::OrderRuleError;
    use crm_domain::product::ProductRuleError;
    use crm_domain::quote::QuoteRuleError;
    use crm_domain::user::UserRuleError;

    use super::ProblemCode as P;

    impl From<&LeadRuleError> for P {
        fn from(rule: &LeadRuleError) -> Self {
            match rule {
                LeadRuleError::IllegalStatusChange { .. } => P::IllegalStatusChange,
                LeadRuleError::Converted => P::LeadConverted,
                LeadRuleError::Archived => P::LeadArchived,
                LeadRuleError::NotArchived => P::LeadNotArchived,
            }
        }
    }

    impl From<&ActivityRuleError> for P {
        fn from(rule: &ActivityRuleError) -> Self {
            match rule {
                ActivityRuleError::Archived => P::ActivityArchived,
                ActivityRuleError::NotPlanned => P::ActivityNotPlanned,
            }
        }
    }

    impl From<&AccountRuleError> for P {
        fn from(rule: &AccountRuleError) -> Self {
            match rule {
                AccountRuleError::Archived => P::AccountArchived,
                AccountRuleError::ParentCycle => P::ValidationFailed,
            }
        }
    }

    impl From<&ContactRuleError> for P {
        fn from(rule: &ContactRuleError) -> Self {
            match rule {
                ContactRuleError::Archived => P::ContactArchived,
            }
        }
    }

    impl From<&ProductRuleError> for P {
        fn from(rule: &ProductRuleError) -> Self {
            match rule {
                ProductRuleError::Archived => P::ProductArchived,
            }
        }
    }

    impl From<&UserRuleError> for P {
        fn from(rule: &UserRuleError) -> Self {
            match rule {
                UserRuleError::SelfLockout => P::SelfLockout,
            }
        }
    }

    impl From<&CompetitorRuleError> for P {
        fn from(rule: &CompetitorRuleError) -> Self {
            match rule {
                CompetitorRuleError::Archived => P::CompetitorArchived,
                CompetitorRuleError::OpportunityArchived => P::OpportunityArchived,
                CompetitorRuleError::LostTo => P::LostToCompetitor,
            }
        }
    }

    impl From<&OpportunityRuleError> for P {
        fn from(rule: &OpportunityRuleError) -> Self {
            match rule {
                OpportunityRuleError::NoBuyer | OpportunityRuleError::LostToNeedsLost => P::ValidationFailed,
                OpportunityRuleError::Archived => P::OpportunityArchived,
                OpportunityRuleError::Closed => P::OpportunityClosed,
                OpportunityRuleError::NotClosed => P::OpportunityNotClosed,
                OpportunityRuleError::CloseThroughEndpoint => P::CloseThroughEndpoint,
                OpportunityRuleError::AmountRequired => P::AmountRequired,
            }
        }
    }

    impl From<&QuoteRuleError> for P {
        fn from(rule: &QuoteRuleError) -> Self {
            match rule {
                QuoteRuleError::Archived => P::QuoteArchived,
                QuoteRuleError::NotDraft => P::QuoteNotDraft,
                QuoteRuleError::NotSent => P::QuoteNotSent,
                QuoteRuleError::Expired => P::QuoteExpired,
                QuoteRuleError::NoLines => P::QuoteEmpty,
                QuoteRuleError::OpportunityNotOpen => P::OpportunityNotOpen,
                QuoteRuleError::WrongOpportunity => P::WrongOpportunity,
            }
        }
    }

    impl From<&OrderRuleError> for P {
        fn from(rule: &OrderRuleError) -> Self {
            match rule {
                OrderRuleError::InvalidTransition => P::InvalidTransition,
                OrderRuleError::Shipped => P::OrderShipped,
                OrderRuleError::Cancelled => P::OrderCancelled,
                OrderRuleError::NoBuyer => P::ValidationFailed,
            }
        }
    }

    impl From<&InvoiceRuleError> for P {
        fn from(rule: &InvoiceRuleError) -> Self {
            match rule {
                InvoiceRuleError::NoBuyer | InvoiceRuleError::DueBeforeIssue | InvoiceRuleError::CurrencyMismatch => {
                    P::ValidationFailed
                }
                InvoiceRuleError::NotDraft => P::InvoiceNotDraft,
                InvoiceRuleError::Empty => P::InvoiceEmpty,
                InvoiceRuleError::NotIssued => P::InvoiceNotIssued,
                InvoiceRuleError::Overpayment(_) => P::Overpayment,
                InvoiceRuleError::HasPayments => P::InvoiceHasPayments,
                InvoiceRuleError::AlreadyVoid => P::InvoiceVoid,
                InvoiceRuleError::OrderCancelled => P::OrderCancelled,
            }
        }
    }
}
