pub mod accounts;
pub mod audit;
pub mod auth;
pub mod contacts;
pub mod leads;
pub mod opportunities;
pub mod ops;
pub mod users;
