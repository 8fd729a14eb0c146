//! `crm-bench`: seeds a database in bulk, drives named scenarios against the real server and
//! against a minimal floor server on the same data, and writes the results (JSON and Markdown).
//!
//! ```text
//! crm-bench run --out bench-results/          # everything: SQLite and PostgreSQL, 10k and 1M
//! crm-bench run --smoke --crm target/debug/crm  # small data, two seconds a scenario (CI)
//! crm-bench seed --database-url sqlite:/tmp/b/crm.db --scale 100000
//! crm-bench floor ...                          # the floor server; `run` starts it itself
//! crm-bench reliability --crm target/debug/crm  # the reliability suite, bounded (`--full` for all)
//! ```

mod api;
mod driver;
mod error;
mod fixture;
mod floor;
mod process;
mod reliability;
mod report;
mod rng;
mod run;
mod scenarios;
mod seed;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::driver::Load;
use crate::error::{Result, failure};
use crate::run::{Backend, RunConfig};
use crate::scenarios::Scenario;

#[derive(Parser, Debug)]
#[command(name = "crm-bench", about = "Load benchmarks of the CRM API against the floor of its stack")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Seed, drive every scenario on every backend and scale, and write results.json and results.md.
    Run(RunArgs),
    /// Migrate a database, sign up an organisation through a started server and seed it.
    Seed(SeedArgs),
    /// Serve the floor (started by `run`; no authentication, middleware or conventions).
    Floor(FloorArgs),
    /// Probe the server under attack, crashes and signals; print a figure per check and fail
    /// on a broken promise.
    Reliability(ReliabilityArgs),
}

#[derive(clap::Args, Debug)]
struct ReliabilityArgs {
    /// The sizes and durations of the original probes (minutes); without it, a bounded run.
    #[arg(long)]
    full: bool,
    /// The server binary (default: `crm` next to this executable).
    #[arg(long)]
    crm: Option<PathBuf>,
    /// Where the databases and server logs go.
    #[arg(long, default_value = "target/reliability-work")]
    work_dir: PathBuf,
    /// Comma-separated check names (default: all).
    #[arg(long, value_delimiter = ',')]
    checks: Vec<String>,
    /// A PostgreSQL server URL (any database); checks on PostgreSQL create and drop their own.
    #[arg(long, env = "CRM_BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Small data and a couple of seconds a scenario: proves the harness works, measures nothing.
    #[arg(long)]
    smoke: bool,
    /// Where results.json and results.md go.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// Where the databases, their JWT folders and the server logs go while a run lasts.
    #[arg(long, default_value = "target/bench-work")]
    work_dir: PathBuf,
    /// The server binary (default: `crm` next to this executable).
    #[arg(long)]
    crm: Option<PathBuf>,
    /// Comma-separated: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// Comma-separated numbers of leads (and of opportunities). Default 10000,1000000; 3000 in smoke mode.
    #[arg(long, value_delimiter = ',')]
    scales: Vec<u64>,
    /// Comma-separated scenario names (default: all).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of warm-up before each measured window (default 2; 0.5 in smoke mode).
    #[arg(long)]
    warmup: Option<f64>,
    /// Measured seconds per scenario (default 10; 2 in smoke mode).
    #[arg(long)]
    duration: Option<f64>,
    /// Pages of 200 walked per status list to find deep cursors (default 25; 4 in smoke mode).
    #[arg(long)]
    deep_pages: Option<usize>,
    /// A PostgreSQL server URL (any database); the run creates and drops crm_bench_<pid>_<scale>.
    #[arg(long, env = "CRM_BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Keep the databases and logs after the run (under --work-dir).
    #[arg(long)]
    keep: bool,
    /// Measure again the databases a `--keep` run left under --work-dir, without seeding.
    #[arg(long)]
    reuse: bool,
    /// Make the floor read the caller's role before each request, as the server's `Caller`
    /// does: shows how much of the gap that query is.
    #[arg(long)]
    floor_principal: bool,
    /// KEY=VALUE for the server's environment, e.g. RUST_LOG=warn (repeatable; investigation aid).
    #[arg(long)]
    server_env: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct SeedArgs {
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value = "target/bench-seed")]
    data_dir: PathBuf,
    #[arg(long)]
    crm: Option<PathBuf>,
    #[arg(long, default_value_t = 10_000)]
    scale: u64,
    #[arg(long, default_value = "bench-admin@bench.example")]
    email: String,
}

#[derive(clap::Args, Debug)]
struct FloorArgs {
    #[arg(long)]
    bind: String,
    #[arg(long)]
    database_url: String,
    #[arg(long)]
    organization_id: String,
    /// The owner and creator of the leads the floor inserts.
    #[arg(long)]
    user_id: String,
    /// The server's default pool size (SQLite keeps it between 2 and 8).
    #[arg(long, default_value_t = 16)]
    max_connections: u32,
    /// Read the caller's role before each request, as the server does (an investigation aid).
    #[arg(long)]
    principal: bool,
}

fn default_crm(explicit: Option<PathBuf>) -> Result<PathBuf> {
    match explicit {
        Some(path) => Ok(path),
        None => {
            let exe = std::env::current_exe()?;
            let dir = exe.parent().ok_or_else(|| failure("the executable has no folder"))?;
            Ok(dir.join("crm"))
        }
    }
}

fn run_config(args: RunArgs) -> Result<RunConfig> {
    let backends = args
        .backends
        .iter()
        .map(|b| Backend::parse(b.trim()).ok_or_else(|| failure(format!("unknown backend {b}: sqlite or postgres"))))
        .collect::<Result<Vec<_>>>()?;
    let scenarios = if args.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios
            .iter()
            .map(|s| {
                Scenario::parse(s.trim()).ok_or_else(|| {
                    let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                    failure(format!("unknown scenario {s}; one of: {}", names.join(", ")))
                })
            })
            .collect::<Result<Vec<_>>>()?
    };
    let (scales, warmup, duration, deep_pages) =
        if args.smoke { (vec![3_000], 0.5, 2.0, 4) } else { (vec![10_000, 1_000_000], 2.0, 10.0, 25) };
    let seconds = |s: f64| Duration::from_secs_f64(s.max(0.0));
    let command_line =
        std::iter::once("crm-bench".to_owned()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    Ok(RunConfig {
        crm: default_crm(args.crm)?,
        out: args.out,
        work_dir: args.work_dir,
        backends,
        scales: if args.scales.is_empty() { scales } else { args.scales },
        scenarios,
        load: Load {
            concurrency: args.concurrency.max(1),
            warmup: seconds(args.warmup.unwrap_or(warmup)),
            duration: seconds(args.duration.unwrap_or(duration)),
        },
        deep_pages: args.deep_pages.unwrap_or(deep_pages),
        postgres_url: args.postgres_url,
        keep: args.keep,
        reuse: args.reuse,
        floor_principal: args.floor_principal,
        server_env: args
            .server_env
            .iter()
            .map(|pair| {
                pair.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or_else(|| failure(format!("--server-env {pair}: expected KEY=VALUE")))
            })
            .collect::<Result<Vec<_>>>()?,
        smoke: args.smoke,
        command_line,
    })
}

async fn main_result(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run::run(run_config(args)?).await,
        Command::Seed(args) => {
            let crm = default_crm(args.crm)?;
            run::seed_only(&crm, &args.database_url, &args.data_dir, args.scale, &args.email).await
        }
        Command::Reliability(args) => {
            reliability::run(reliability::ReliabilityConfig {
                crm: default_crm(args.crm)?,
                work_dir: args.work_dir,
                full: args.full,
                checks: args.checks,
                postgres_url: args.postgres_url,
            })
            .await
        }
        Command::Floor(args) => {
            let organization_id = run::parse_uuid(&args.organization_id)?;
            let user_id = run::parse_uuid(&args.user_id)?;
            floor::serve(&args.bind, &args.database_url, organization_id, user_id, args.max_connections, args.principal)
                .await
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match main_result(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crm-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
