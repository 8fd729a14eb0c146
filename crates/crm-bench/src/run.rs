//! One run: for each backend and scale, a fresh database is migrated by `crm migrate`, an
//! organisation is signed up through the API and seeded in bulk, and every scenario is driven
//! against a freshly started server (and, where it has one, against the floor first).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::driver::{Load, Measurement, drive};
use crate::error::{Result, failure};
use crate::process::{Served, migrate, start_floor, start_server};
use crate::rng::mix;
use crate::scenarios::{Fixture, Scenario, Shared, Target};
use crate::seed::{SeedReport, Tenant, seed};
use crate::{api, fixture};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    pub fn parse(name: &str) -> Option<Backend> {
        match name {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub crm: PathBuf,
    pub out: PathBuf,
    pub work_dir: PathBuf,
    pub backends: Vec<Backend>,
    pub scales: Vec<u64>,
    pub scenarios: Vec<Scenario>,
    pub load: Load,
    pub deep_pages: usize,
    pub postgres_url: String,
    pub keep: bool,
    /// Measure the databases an earlier `--keep` run left, instead of seeding new ones.
    pub reuse: bool,
    pub floor_principal: bool,
    pub server_env: Vec<(String, String)>,
    pub smoke: bool,
    pub command_line: String,
}

/// One measured scenario on one server.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ResultRow {
    pub backend: Backend,
    pub scale: u64,
    pub scenario: &'static str,
    /// `crm` or `floor`.
    pub server: &'static str,
    #[serde(flatten)]
    pub measurement: Measurement,
    pub peak_rss_mib: Option<f64>,
}

/// One seeded database.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Dataset {
    pub backend: Backend,
    pub scale: u64,
    pub seed: SeedReport,
    pub deep_cursors: usize,
    pub convertible_leads: usize,
}

/// Where a dataset lives and how to remove it.
struct Database {
    url: String,
    dir: PathBuf,
    postgres_name: Option<String>,
}

pub fn server_url(admin_url: &str, database: &str) -> Result<String> {
    let (base, _) = admin_url.rsplit_once('/').ok_or_else(|| failure(format!("not a database URL: {admin_url}")))?;
    Ok(format!("{base}/{database}"))
}

async fn create_database(config: &RunConfig, backend: Backend, scale: u64) -> Result<Database> {
    let label = format!("{}-{scale}", backend.name());
    let dir = config.work_dir.join(&label);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    match backend {
        Backend::Sqlite => {
            Ok(Database { url: format!("sqlite:{}", dir.join("crm.db").display()), dir, postgres_name: None })
        }
        Backend::Postgres => {
            let name = format!("crm_bench_{}_{scale}", std::process::id());
            let mut admin = PgConnection::connect(&config.postgres_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut admin)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
            admin.close().await?;
            Ok(Database { url: server_url(&config.postgres_url, &name)?, dir, postgres_name: Some(name) })
        }
    }
}

async fn drop_database(config: &RunConfig, database: &Database) -> Result<()> {
    if config.keep || config.reuse {
        return Ok(());
    }
    if let Some(name) = &database.postgres_name {
        let mut admin = PgConnection::connect(&config.postgres_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
    }
    std::fs::remove_dir_all(&database.dir)?;
    Ok(())
}

fn mib(bytes: Option<u64>) -> Option<f64> {
    bytes.map(|b| b as f64 / (1024.0 * 1024.0))
}

/// A measured scenario as one line on standard error.
fn announce(row: &ResultRow) {
    let m = &row.measurement;
    eprintln!(
        "  {:<16} {:<5} {:>9.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  errors {:>4}  rss {:>6.1} MiB{}",
        row.scenario,
        row.server,
        m.throughput,
        m.p50_ms,
        m.p99_ms,
        m.max_ms,
        m.errors,
        row.peak_rss_mib.unwrap_or(0.0),
        if m.exhausted { "  (ran out of leads)" } else { "" }
    );
    for sample in &m.error_samples {
        eprintln!("      error: {sample}");
    }
}

struct DatasetContext<'a> {
    config: &'a RunConfig,
    backend: Backend,
    scale: u64,
    database: &'a Database,
    client: &'a reqwest::Client,
    email: String,
}

impl DatasetContext<'_> {
    fn log(&self, name: &str) -> PathBuf {
        self.database.dir.join(name)
    }

    async fn server(&self, name: &str) -> Result<Served> {
        start_server(
            &self.config.crm,
            &self.database.url,
            &self.database.dir,
            &self.log(name),
            &self.config.server_env,
            self.client,
        )
        .await
    }

    async fn measure(
        &self,
        scenario: Scenario,
        served: Served,
        token: Option<String>,
        fixture: &Arc<Fixture>,
    ) -> Result<ResultRow> {
        let server = if token.is_some() { "crm" } else { "floor" };
        let shared = Arc::new(Shared {
            client: self.client.clone(),
            target: Target { base_url: served.base_url.clone(), token },
            fixture: fixture.clone(),
            nonce: format!("{server}{}", chrono::Utc::now().timestamp_micros()),
        });
        let seed = mix(scenario as u64 ^ self.scale);
        let measurement = drive(shared, scenario, self.config.load, seed).await?;
        let peak_rss_mib = mib(served.peak_rss_bytes());
        served.stop()?;
        let row = ResultRow {
            backend: self.backend,
            scale: self.scale,
            scenario: scenario.name(),
            server,
            measurement,
            peak_rss_mib,
        };
        announce(&row);
        Ok(row)
    }
}

/// What `--keep` leaves beside a seeded database, so that `--reuse` can measure it again.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    url: String,
    postgres_name: Option<String>,
    email: String,
    tenant: Tenant,
    seed: SeedReport,
}

/// A database seeded by an earlier run with `--keep`, when `--reuse` asks for it.
fn kept(config: &RunConfig, backend: Backend, scale: u64) -> Result<Option<(Database, Kept)>> {
    let dir = config.work_dir.join(format!("{}-{scale}", backend.name()));
    let path = dir.join("dataset.json");
    if !config.reuse || !path.exists() {
        return Ok(None);
    }
    let kept: Kept = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    eprintln!("  reusing {} (seeded by an earlier run)", kept.url);
    Ok(Some((Database { url: kept.url.clone(), dir, postgres_name: kept.postgres_name.clone() }, kept)))
}

async fn fresh(config: &RunConfig, backend: Backend, scale: u64, client: &reqwest::Client) -> Result<(Database, Kept)> {
    let database = create_database(config, backend, scale).await?;
    let email = format!("bench-admin-{}-{scale}@bench.example", std::process::id());
    let seeded = async {
        migrate(&config.crm, &database.url, &database.dir)?;
        let log = database.dir.join("signup.log");
        let served = start_server(&config.crm, &database.url, &database.dir, &log, &[], client).await?;
        let tenant: Tenant = api::signup(client, &served.base_url, &email).await?;
        served.stop()?;
        let seed_report = seed(&database.url, tenant, scale).await?;
        eprintln!("  seeded in {:.1}s", seed_report.seconds);
        Ok::<_, crate::error::BenchError>((tenant, seed_report))
    }
    .await;
    let (tenant, seed) = match seeded {
        Ok(done) => done,
        Err(error) => {
            let _ = drop_database(config, &database).await;
            return Err(error);
        }
    };
    let kept = Kept { url: database.url.clone(), postgres_name: database.postgres_name.clone(), email, tenant, seed };
    if config.keep {
        std::fs::write(database.dir.join("dataset.json"), serde_json::to_string_pretty(&kept)?)?;
    }
    Ok((database, kept))
}

async fn run_dataset(
    config: &RunConfig,
    backend: Backend,
    scale: u64,
    client: &reqwest::Client,
    rows: &mut Vec<ResultRow>,
) -> Result<Dataset> {
    eprintln!("\n== {} at {scale} leads", backend.title());
    let (database, kept) = match kept(config, backend, scale)? {
        Some(reused) => reused,
        None => fresh(config, backend, scale, client).await?,
    };
    let tenant = kept.tenant;
    let outcome = async {
        let context = DatasetContext { config, backend, scale, database: &database, client, email: kept.email.clone() };
        let mut fixture = fixture::sample(&database.url, tenant, config.load.concurrency).await?;
        let served = context.server("setup.log").await?;
        let token = api::login(client, &served.base_url, &context.email).await?;
        let target = Target { base_url: served.base_url.clone(), token: Some(token) };
        fixture.deep_cursors = fixture::walk_deep_cursors(client, &target, config.deep_pages).await?;
        served.stop()?;
        let dataset = Dataset {
            backend,
            scale,
            seed: kept.seed.clone(),
            deep_cursors: fixture.deep_cursors.len(),
            convertible_leads: fixture.convert_pool.len(),
        };
        let fixture = Arc::new(fixture);

        for scenario in &config.scenarios {
            if scenario.has_floor() {
                let floor = start_floor(
                    &database.url,
                    tenant.organization_id,
                    tenant.admin_id,
                    &context.log(&format!("floor-{}.log", scenario.name())),
                    config.floor_principal,
                    client,
                )
                .await?;
                rows.push(context.measure(*scenario, floor, None, &fixture).await?);
            }
            let served = context.server(&format!("crm-{}.log", scenario.name())).await?;
            let token = api::login(client, &served.base_url, &context.email).await?;
            rows.push(context.measure(*scenario, served, Some(token), &fixture).await?);
        }
        Ok::<Dataset, crate::error::BenchError>(dataset)
    }
    .await;
    let cleanup = drop_database(config, &database).await;
    let dataset = outcome?;
    cleanup?;
    Ok(dataset)
}

/// Runs everything `config` names and writes the reports; fails when any request failed.
pub async fn run(config: RunConfig) -> Result<()> {
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    if !config.crm.exists() {
        return Err(failure(format!("no server binary at {}; build it or pass --crm", config.crm.display())));
    }
    std::fs::create_dir_all(&config.out)?;
    std::fs::create_dir_all(&config.work_dir)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(config.load.concurrency * 2)
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let mut rows = Vec::new();
    let mut datasets = Vec::new();
    for backend in &config.backends {
        for scale in &config.scales {
            datasets.push(run_dataset(&config, *backend, *scale, &client, &mut rows).await?);
        }
    }
    let report = crate::report::Report::new(&config, started_at, started.elapsed().as_secs_f64(), datasets, rows);
    let (json_path, markdown_path) = report.write(&config.out)?;
    eprintln!("\nwrote {} and {}", json_path.display(), markdown_path.display());
    let errors: u64 = report.rows.iter().map(|r| r.measurement.errors).sum();
    if errors > 0 {
        return Err(failure(format!("{errors} requests failed; see the error samples above")));
    }
    Ok(())
}

/// `crm-bench seed`: a migrated, signed-up and seeded database to look at by hand.
pub async fn seed_only(crm: &Path, database_url: &str, data_dir: &Path, scale: u64, email: &str) -> Result<()> {
    std::fs::create_dir_all(data_dir)?;
    migrate(crm, database_url, data_dir)?;
    let client = reqwest::Client::new();
    let served = start_server(crm, database_url, data_dir, &data_dir.join("signup.log"), &[], &client).await?;
    let tenant = api::signup(&client, &served.base_url, email).await?;
    served.stop()?;
    let report = seed(database_url, tenant, scale).await?;
    println!(
        "organization {}  admin {} ({email}, password {:?})  seeded in {:.1}s",
        tenant.organization_id,
        tenant.admin_id,
        api::PASSWORD,
        report.seconds
    );
    Ok(())
}

pub fn parse_uuid(text: &str) -> Result<Uuid> {
    Ok(Uuid::parse_str(text)?)
}
