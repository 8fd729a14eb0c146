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
mod refresh_tokens;
mod reports;
mod users;

pub use accounts::*;
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
pub use refresh_tokens::*;
pub use reports::*;
pub use users::*;

/// Declares [`Store`] as every port listed, and implements it for whatever implements them all.
macro_rules! store {
    ($($port:path),+ $(,)?) => {
        /// Everything the application needs from storage, as one object.
        pub trait Store: $($port +)+ {}

        impl<T> Store for T where T: $($port +)+ {}
    };
}

// A new resource's port joins here, once.
store!(
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
    HealthCheck,
);
