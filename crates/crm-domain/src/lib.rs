//! The CRM's domain: entities, value types that parse rather than validate, state machines,
//! business rules and the repository ports the persistence crate implements.
//!
//! This crate does no IO and knows nothing of HTTP, JSON or SQL. The HTTP crate turns requests
//! into the commands defined here; the persistence crate stores what these types describe.

pub mod account;
pub mod activity;
pub mod activity_report;
pub mod address;
pub mod attention;
pub mod audit;
pub mod competitor;
pub mod competitor_report;
pub mod contact;
pub mod conversion;
pub mod error;
pub mod invoice;
pub mod lead;
pub mod lines;
pub mod list;
pub mod money;
pub mod opportunity;
pub mod order;
pub mod permissions;
pub mod ports;
pub mod product;
pub mod quote;
pub mod record;
pub mod reports;
pub mod sla;
pub mod sla_settings;
pub mod ticket;
pub mod ticket_report;
pub mod timeline;
pub mod user;
pub mod value;

pub use error::{FieldError, RepoError, ValidationErrors};
