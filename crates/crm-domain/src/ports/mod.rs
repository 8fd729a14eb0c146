//! The repository ports: what the application needs from storage. The persistence crate
//! implements each of them for SQLite and PostgreSQL; the contract tests hold both to the
//! behaviour documented here.
//!
//! Every method that touches tenant data takes the caller's `organization_id` and never sees a
//! row of another organisation: such a row answers [`crate::RepoError::NotFound`] exactly as a missing
//! one. Every method may also return [`crate::RepoError::Unavailable`] (no connection within the pool's
//! timeout, database down) and [`crate::RepoError::Internal`].
//!
//! One module per resource; [`Store`] combines every port into the one object the application holds.

mod accounts;
mod activities;
mod attention;
mod audit;
mod competitors;
mod contacts;
mod conversion;
mod deal_competitors;
mod health;
mod idempotency;
mod invoices;
mod leads;
mod opportunities;
mod orders;
mod organizations;
mod products;
mod quotes;
mod records;
mod refresh_tokens;
mod reports;
mod sla;
mod tickets;
mod timeline;
mod users;

pub use accounts::*;
pub use activities::*;
pub use attention::*;
pub use audit::*;
pub use competitors::*;
pub use contacts::*;
pub use conversion::*;
pub use deal_competitors::*;
pub use health::*;
pub use idempotency::*;
pub use invoices::*;
pub use leads::*;
pub use opportunities::*;
pub use orders::*;
pub use organizations::*;
pub use products::*;
pub use quotes::*;
pub use records::*;
pub use refresh_tokens::*;
pub use reports::*;
pub use sla::*;
pub use tickets::*;
pub use timeline::*;
pub use users::*;

/// Declares [`Store`] as a [`RecordRepository`] of every record listed and every port listed,
/// implements it for whatever implements them all, and makes each record a [`StoredRecord`].
macro_rules! store {
    (records: $($record:ty),+ ; ports: $($port:path),+ $(,)?) => {
        /// Everything the application needs from storage, as one object.
        pub trait Store: $(RecordRepository<$record> +)+ $($port +)+ {}

        impl<T> Store for T where T: $(RecordRepository<$record> +)+ $($port +)+ {}

        $(
            impl StoredRecord for $record {
                fn repository<'s>(store: &'s (dyn Store + 's)) -> &'s (dyn RecordRepository<Self> + 's) {
                    store
                }
            }
        )+
    };
}

// A new kind of record joins `records`, and its port joins `ports`, once each.
store!(
    records:
        crate::user::User,
        crate::lead::Lead,
        crate::account::Account,
        crate::contact::Contact,
        crate::opportunity::Opportunity,
        crate::product::Product,
        crate::competitor::Competitor,
        crate::quote::Quote,
        crate::order::Order,
        crate::invoice::Invoice,
        crate::activity::Activity,
        crate::ticket::Ticket;
    ports:
        OrganizationRepository,
        UserRepository,
        RefreshTokenRepository,
        IdempotencyRepository,
        AuditRepository,
        LeadRepository,
        AccountRepository,
        ContactRepository,
        OpportunityRepository,
        ConversionRepository,
        ReportRepository,
        ProductRepository,
        CompetitorRepository,
        DealCompetitorRepository,
        QuoteRepository,
        OrderRepository,
        InvoiceRepository,
        ActivityRepository,
        ActivityReportRepository,
        AttentionRepository,
        SlaRepository,
        TicketRepository,
        TicketReportRepository,
        TimelineRepository,
        HealthCheck,
);
