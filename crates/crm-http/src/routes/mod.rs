pub mod accounts;
pub mod audit;
pub mod auth;
pub mod contacts;
pub mod leads;
pub mod ops;
pub mod users;
