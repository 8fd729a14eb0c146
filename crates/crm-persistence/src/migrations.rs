//! The migrations, embedded in the binary and run at start. `migrations/sqlite/` and
//! `migrations/postgres/` hold the same versions; the tests below fail when a file is added to a
//! folder but not to these lists, or to one folder but not the other.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{PgPool, SqlSafeStr, SqlitePool};

use crate::ConnectError;

/// (version, description, SQL) of every SQLite migration, in order.
pub const SQLITE: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../../../migrations/sqlite/0001_foundation.sql")),
    (2, "accounts", include_str!("../../../migrations/sqlite/0002_accounts.sql")),
    (3, "contacts", include_str!("../../../migrations/sqlite/0003_contacts.sql")),
    (4, "opportunities", include_str!("../../../migrations/sqlite/0004_opportunities.sql")),
    (5, "lead_conversion", include_str!("../../../migrations/sqlite/0005_lead_conversion.sql")),
    (6, "opportunity_contacts", include_str!("../../../migrations/sqlite/0006_opportunity_contacts.sql")),
    (7, "products", include_str!("../../../migrations/sqlite/0007_products.sql")),
    (8, "competitors", include_str!("../../../migrations/sqlite/0008_competitors.sql")),
    (9, "quotes_orders_invoices", include_str!("../../../migrations/sqlite/0009_quotes_orders_invoices.sql")),
    (10, "product_custom_fields", include_str!("../../../migrations/sqlite/0010_product_custom_fields.sql")),
    (11, "report_indexes", include_str!("../../../migrations/sqlite/0011_report_indexes.sql")),
    (12, "lead_search", include_str!("../../../migrations/sqlite/0012_lead_search.sql")),
    (13, "report_totals", include_str!("../../../migrations/sqlite/0013_report_totals.sql")),
    (14, "lead_search_merging", include_str!("../../../migrations/sqlite/0014_lead_search_merging.sql")),
    (15, "email_lookup", include_str!("../../../migrations/sqlite/0015_email_lookup.sql")),
    (16, "lead_search_text", include_str!("../../../migrations/sqlite/0016_lead_search_text.sql")),
];

/// (version, description, SQL) of every PostgreSQL migration, in order.
pub const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../../../migrations/postgres/0001_foundation.sql")),
    (2, "accounts", include_str!("../../../migrations/postgres/0002_accounts.sql")),
    (3, "contacts", include_str!("../../../migrations/postgres/0003_contacts.sql")),
    (4, "opportunities", include_str!("../../../migrations/postgres/0004_opportunities.sql")),
    (5, "lead_conversion", include_str!("../../../migrations/postgres/0005_lead_conversion.sql")),
    (6, "opportunity_contacts", include_str!("../../../migrations/postgres/0006_opportunity_contacts.sql")),
    (7, "products", include_str!("../../../migrations/postgres/0007_products.sql")),
    (8, "competitors", include_str!("../../../migrations/postgres/0008_competitors.sql")),
    (9, "quotes_orders_invoices", include_str!("../../../migrations/postgres/0009_quotes_orders_invoices.sql")),
    (10, "product_custom_fields", include_str!("../../../migrations/postgres/0010_product_custom_fields.sql")),
    (11, "report_indexes", include_str!("../../../migrations/postgres/0011_report_indexes.sql")),
    (12, "lead_search", include_str!("../../../migrations/postgres/0012_lead_search.sql")),
    (13, "report_totals", include_str!("../../../migrations/postgres/0013_report_totals.sql")),
    (14, "lead_search_merging", include_str!("../../../migrations/postgres/0014_lead_search_merging.sql")),
    (15, "email_lookup", include_str!("../../../migrations/postgres/0015_email_lookup.sql")),
    (16, "lead_search_text", include_str!("../../../migrations/postgres/0016_lead_search_text.sql")),
];

fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = list
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

pub(crate) async fn run_sqlite(pool: &SqlitePool) -> Result<(), ConnectError> {
    migrator(SQLITE).run(pool).await.map_err(ConnectError::Migrate)
}

pub(crate) async fn run_postgres(pool: &PgPool) -> Result<(), ConnectError> {
    migrator(POSTGRES).run(pool).await.map_err(ConnectError::Migrate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions_in(folder: &str) -> Vec<(i64, String)> {
        let dir = format!("{}/../../migrations/{folder}", env!("CARGO_MANIFEST_DIR"));
        let mut found: Vec<(i64, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .map(|name| {
                let (number, rest) = name.split_once('_').unwrap_or_else(|| panic!("{name} lacks a version prefix"));
                let version = number.parse().unwrap_or_else(|_| panic!("{name} lacks a numeric version"));
                (version, rest.trim_end_matches(".sql").to_owned())
            })
            .collect();
        found.sort();
        found
    }

    fn listed(list: &[(i64, &str, &str)]) -> Vec<(i64, String)> {
        list.iter().map(|(v, d, _)| (*v, (*d).to_owned())).collect()
    }

    #[test]
    fn both_backends_hold_the_same_migration_versions() {
        assert_eq!(versions_in("sqlite"), versions_in("postgres"));
    }

    #[test]
    fn every_migration_file_is_embedded() {
        assert_eq!(listed(SQLITE), versions_in("sqlite"));
        assert_eq!(listed(POSTGRES), versions_in("postgres"));
    }
}
