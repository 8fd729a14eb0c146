//! The `crm` binary: `crm serve` (the default), `crm migrate`, `crm openapi`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use crm::Server;
use crm_http::Settings;
use crm_http::telemetry::{self, LogFormat};

#[derive(Parser, Debug)]
#[command(name = "crm", version, about = "The CRM API server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    options: Options,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
struct Options {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CRM_BIND", default_value = "127.0.0.1:8080", global = true)]
    bind: String,
    /// sqlite:<path> or postgres://user@host/db. Default: SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Folder for the embedded database and the generated JWT secret.
    #[arg(long, env = "CRM_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// HS256 signing secret, at least 32 characters. Required with PostgreSQL.
    #[arg(long, env = "CRM_JWT_SECRET", hide_env_values = true, global = true)]
    jwt_secret: Option<String>,
    /// Whether anyone may create an organisation with POST /api/v1/auth/signup.
    #[arg(long, env = "CRM_ALLOW_SIGNUP", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    allow_signup: bool,
    /// Comma-separated browser origins allowed by CORS (`*` for any).
    #[arg(long, env = "CRM_CORS_ORIGINS", value_delimiter = ',', global = true)]
    cors_origins: Vec<String>,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    log_format: Format,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CRM_WORKERS", global = true)]
    workers: Option<usize>,
    /// Database connections per process.
    #[arg(long, env = "CRM_DB_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    db_max_connections: u32,
    /// Milliseconds a caller's role and active state may be reused by this process before they
    /// are read again; 0 reads them on every request. Changes made through this process apply
    /// at once whatever the value.
    #[arg(long, env = "CRM_PRINCIPAL_CACHE_MS", default_value_t = 1000, global = true)]
    principal_cache_ms: u64,
    /// Seconds between passes of upkeep of the SQLite lead search index (merging the segments
    /// that writes add); 0 turns it off. PostgreSQL needs none.
    #[arg(long, env = "CRM_SEARCH_UPKEEP_S", default_value_t = 10, global = true)]
    search_upkeep_s: u64,
    /// Threads that hash and check passwords (argon2id, about 19 MiB each): at most this many
    /// run at once. Default: one per core, at most four.
    #[arg(long, env = "CRM_PASSWORD_THREADS", global = true)]
    password_threads: Option<usize>,
    /// Milliseconds a login, signup or new user waits for a free hashing thread before it is
    /// answered 503 with Retry-After.
    #[arg(long, env = "CRM_PASSWORD_WAIT_MS", default_value_t = 1000, global = true)]
    password_wait_ms: u64,
    /// Milliseconds a request may take before it is answered 503 with Retry-After (reports:
    /// --report-timeout-ms).
    #[arg(long, env = "CRM_REQUEST_TIMEOUT_MS", default_value_t = 10_000, global = true)]
    request_timeout_ms: u64,
    /// Milliseconds a report may take; also PostgreSQL's statement_timeout.
    #[arg(long, env = "CRM_REPORT_TIMEOUT_MS", default_value_t = 30_000, global = true)]
    report_timeout_ms: u64,
    /// Milliseconds a statement waits for a lock another transaction holds before the request
    /// is answered 503 (PostgreSQL's lock_timeout, SQLite's busy timeout).
    #[arg(long, env = "CRM_DB_LOCK_TIMEOUT_MS", default_value_t = 2_000, global = true)]
    db_lock_timeout_ms: u64,
}

impl Options {
    fn settings(&self) -> Settings {
        let database_url = self
            .database_url
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("sqlite:{}", self.data_dir.join("crm.db").display()));
        Settings {
            bind: self.bind.clone(),
            database_url,
            jwt_secret: self.jwt_secret.clone().filter(|s| !s.is_empty()),
            allow_signup: self.allow_signup,
            cors_origins: self.cors_origins.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect(),
            data_dir: self.data_dir.clone(),
            workers: self.workers,
            max_db_connections: self.db_max_connections,
            principal_cache: std::time::Duration::from_millis(self.principal_cache_ms),
            search_upkeep: std::time::Duration::from_secs(self.search_upkeep_s),
            password_threads: self
                .password_threads
                .unwrap_or_else(crm_http::password::PasswordHashing::default_threads),
            password_wait: std::time::Duration::from_millis(self.password_wait_ms),
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms.max(1)),
            report_timeout: std::time::Duration::from_millis(self.report_timeout_ms.max(1)),
            lock_timeout: std::time::Duration::from_millis(self.db_lock_timeout_ms.max(1)),
            ..Settings::local_defaults()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, None | Some(Command::Serve)) {
        cap_malloc_arenas();
    }
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(error) => {
            eprintln!("crm: could not start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives every thread that allocates under contention its own heap arena, up to eight per
/// core, and memory freed in one arena is not reused by the others. The server runs a SQLite
/// worker thread per connection beside the HTTP workers, and under heavy searches its peak RSS
/// was a third higher than with two arenas (BENCHMARKS.md, finding 6). The limit can only be
/// set before the process starts, so unless `MALLOC_ARENA_MAX` is already set, the server
/// replaces itself, before any thread exists, with the same binary and arguments and
/// `MALLOC_ARENA_MAX=2`; the process id stays the same. Other C libraries ignore the variable.
#[cfg(target_os = "linux")]
fn cap_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(binary) = std::env::current_exe() else { return };
    let error =
        std::process::Command::new(binary).args(std::env::args_os().skip(1)).env("MALLOC_ARENA_MAX", "2").exec();
    // `exec` returns only when it failed; the server then runs with glibc's default.
    eprintln!("crm: could not restart with MALLOC_ARENA_MAX=2 ({error}); continuing without it");
}

#[cfg(not(target_os = "linux"))]
fn cap_malloc_arenas() {}

/// Writes `text` to standard output. A reader that stops early (`crm openapi | head`) closes the
/// pipe; that is not an error, and `print!` would panic on it.
fn print_to_stdout(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(format!("could not write the OpenAPI document: {error}")),
    }
}

async fn run(cli: Cli) -> ExitCode {
    telemetry::init(match cli.options.log_format {
        Format::Text => LogFormat::Text,
        Format::Json => LogFormat::Json,
    });
    let settings = cli.options.settings();
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => print_to_stdout(&crm_http::openapi_json()),
        Command::Migrate => match crm::migrate(&settings.database_url).await {
            Ok(summary) => {
                tracing::info!("{summary}");
                Ok(())
            }
            Err(error) => Err(crm_http::problem::error_chain(&error)),
        },
        Command::Serve => match Server::build(settings).await {
            Ok(app) => app.run_until_stopped().await.map_err(|e| e.to_string()),
            Err(error) => Err(crm_http::problem::error_chain(&error)),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("crm: {message}");
            ExitCode::FAILURE
        }
    }
}
