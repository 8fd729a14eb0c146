//! Structured logs with tracing: human-readable by default, JSON with `CRM_LOG_FORMAT=json`.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The log filter when `RUST_LOG` is not set. actix-http's connection dispatcher logs a request it
/// cannot parse (a client's malformed bytes, already answered 400) or a peer that stops reading
/// at ERROR; neither is the server's fault, so its lines are off unless `RUST_LOG` asks for them.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,actix_http::h1::dispatcher=off";

/// Installs the global subscriber; `RUST_LOG` replaces [`DEFAULT_FILTER`].
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // Colours only on a terminal: a log file or a collector gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
