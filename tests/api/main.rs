//! The black-box suite: the real application on port 0, a fresh database per test, on SQLite
//! and, with the `postgres-tests` feature, on PostgreSQL (`CRM_TEST_POSTGRES_URL`).
//!
//! This crate is test code through and through: its helpers unwrap as freely as its tests, which
//! clippy's `allow-unwrap-in-tests` (clippy.toml) covers only inside `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod activities;
mod activity_report;
mod attention;
mod audit;
mod auth;
mod binary;
mod closed_sale;
mod competitor_report;
mod competitors;
mod contacts;
mod contracts;
mod contracts_competitors;
mod contracts_documents;
mod contracts_sales;
mod conventions;
mod conversion;
mod crash;
mod custom_fields;
mod deadlines;
mod deal_contacts;
mod first_run;
mod follow_up;
mod helpers;
mod leads;
mod opportunities;
mod products;
mod reports;
#[cfg(feature = "postgres-tests")]
mod resilience;
mod schema_valid;
mod shutdown;
mod sla;
mod spec;
mod tenancy;
mod tickets;
mod timeline;
mod users;
