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
    (17, "report_totals_split", include_str!("../../../migrations/sqlite/0017_report_totals_split.sql")),
    (18, "idempotency_outcomes", include_str!("../../../migrations/sqlite/0018_idempotency_outcomes.sql")),
    (19, "activities", include_str!("../../../migrations/sqlite/0019_activities.sql")),
    (20, "interactions", include_str!("../../../migrations/sqlite/0020_interactions.sql")),
    (21, "attention", include_str!("../../../migrations/sqlite/0021_attention.sql")),
    (22, "activity_participants", include_str!("../../../migrations/sqlite/0022_activity_participants.sql")),
    (23, "timeline", include_str!("../../../migrations/sqlite/0023_timeline.sql")),
    (24, "overdue_reminders", include_str!("../../../migrations/sqlite/0024_overdue_reminders.sql")),
    (25, "activity_report", include_str!("../../../migrations/sqlite/0025_activity_report.sql")),
    (26, "sla_policies", include_str!("../../../migrations/sqlite/0026_sla_policies.sql")),
    (27, "tickets", include_str!("../../../migrations/sqlite/0027_tickets.sql")),
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
    (17, "report_totals_split", include_str!("../../../migrations/postgres/0017_report_totals_split.sql")),
    (18, "idempotency_outcomes", include_str!("../../../migrations/postgres/0018_idempotency_outcomes.sql")),
    (19, "activities", include_str!("../../../migrations/postgres/0019_activities.sql")),
    (20, "interactions", include_str!("../../../migrations/postgres/0020_interactions.sql")),
    (21, "attention", include_str!("../../../migrations/postgres/0021_attention.sql")),
    (22, "activity_participants", include_str!("../../../migrations/postgres/0022_activity_participants.sql")),
    (23, "timeline", include_str!("../../../migrations/postgres/0023_timeline.sql")),
    (24, "overdue_reminders", include_str!("../../../migrations/postgres/0024_overdue_reminders.sql")),
    (25, "activity_report", include_str!("../../../migrations/postgres/0025_activity_report.sql")),
    (26, "sla_policies", include_str!("../../../migrations/postgres/0026_sla_policies.sql")),
    (27, "tickets", include_str!("../../../migrations/postgres/0027_tickets.sql")),
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

/// What a run of the migrations did: how many it applied now, and the schema version after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationOutcome {
    pub applied_now: usize,
    pub schema_version: i64,
}

impl MigrationOutcome {
    fn after(list: &[(i64, &str, &str)], applied_before: i64) -> Self {
        let applied_before = usize::try_from(applied_before).unwrap_or(0);
        Self {
            applied_now: list.len().saturating_sub(applied_before),
            schema_version: list.last().map_or(0, |(version, _, _)| *version),
        }
    }
}

impl std::fmt::Display for MigrationOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.applied_now {
            0 => write!(f, "schema version {}, no migration to apply", self.schema_version),
            1 => write!(f, "1 migration applied, schema version {}", self.schema_version),
            n => write!(f, "{n} migrations applied, schema version {}", self.schema_version),
        }
    }
}

/// How many migrations sqlx's bookkeeping table records as applied; 0 before the first run,
/// when the table does not exist yet. `exists` is the dialect's test for the table.
async fn applied_count<'c, DB, E>(executor: E, exists: &'static str) -> Result<i64, ConnectError>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB> + Copy,
    bool: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    i64: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    (bool,): for<'r> sqlx::FromRow<'r, DB::Row>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let present: bool = sqlx::query_scalar(exists).fetch_one(executor).await.map_err(ConnectError::Connect)?;
    if !present {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(executor)
        .await
        .map_err(ConnectError::Connect)
}

pub(crate) async fn run_sqlite(pool: &SqlitePool) -> Result<MigrationOutcome, ConnectError> {
    let exists = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')";
    let before = applied_count(pool, exists).await?;
    migrator(SQLITE).run(pool).await.map_err(ConnectError::Migrate)?;
    Ok(MigrationOutcome::after(SQLITE, before))
}

pub(crate) async fn run_postgres(pool: &PgPool) -> Result<MigrationOutcome, ConnectError> {
    let before = applied_count(pool, "SELECT to_regclass('_sqlx_migrations') IS NOT NULL").await?;
    migrator(POSTGRES).run(pool).await.map_err(ConnectError::Migrate)?;
    Ok(MigrationOutcome::after(POSTGRES, before))
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
