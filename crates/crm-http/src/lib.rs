//! The HTTP face of the CRM: the actix-web application, its DTOs, authentication, the shared
//! conventions and the OpenAPI document. [`Application::build`] is the one startup path for the
//! binary and for the tests.

pub mod auth;
pub mod clock;
pub mod conventions;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod password;
pub mod problem;
pub mod problem_codes;
pub mod rate_limit;
pub mod resource;
pub mod respond;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod spec_links;
pub mod state;
pub mod telemetry;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use utoipa::Modify;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{TokenService, load_or_create_secret};
use crate::openapi::{ApiDoc, Conventions, RouteTable};
use crate::problem::ApiError;
pub use crate::settings::Settings;
use crate::state::AppState;
use crm_domain::ports::Store;

/// The store the application serves, opened by the composition root (the `crm` crate).
pub struct Backend {
    pub store: Arc<dyn Store>,
    /// Whether the JWT secret must come from the settings: a database that several processes
    /// share (PostgreSQL) cannot use a secret generated in one process's data folder.
    pub shared_by_processes: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("CRM_JWT_SECRET must be set (at least 32 characters) when the database is PostgreSQL")]
    MissingSecret,
    #[error("CRM_JWT_SECRET must be at least 32 characters")]
    WeakSecret,
    #[error("could not keep the generated JWT secret in the data folder")]
    Secret(#[source] std::io::Error),
    #[error("could not serialise the OpenAPI document: {0}")]
    Spec(String),
    #[error("could not record this process in the database: {0}")]
    Heartbeat(String),
    #[error("could not listen on {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
}

/// Registers every API route under `/api/v1` and the probes; used for serving and for the spec.
fn api_routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.service(
        scope::scope("/api/v1")
            .configure(routes::auth::routes)
            .configure(routes::users::routes)
            .configure(routes::leads::routes)
            .configure(routes::accounts::routes)
            .configure(routes::contacts::routes)
            .configure(routes::opportunities::routes)
            .configure(routes::reports::routes)
            .configure(routes::products::routes)
            .configure(routes::competitors::routes)
            .configure(routes::quotes::routes)
            .configure(routes::orders::routes)
            .configure(routes::invoices::routes)
            .configure(routes::activities::routes)
            .configure(routes::attention::routes)
            .configure(routes::sla::routes)
            .configure(routes::tickets::routes)
            .configure(routes::timeline::routes)
            .configure(routes::audit::routes),
    )
    .service(routes::ops::health)
    .service(routes::ops::ready)
}

/// The OpenAPI document the server serves at `/api/v1/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) =
        api_routes(App::new().into_utoipa_app().openapi(<ApiDoc as utoipa::OpenApi>::openapi())).split_for_parts();
    Conventions.modify(&mut document);
    document
}

/// The spec as pretty JSON with a trailing newline, as committed under openapi/.
pub fn openapi_json() -> String {
    let mut text = openapi_document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// Where the OpenAPI document is served.
const SPEC_PATH: &str = "/api/v1/openapi.json";

/// The OpenAPI document as JSON, serialised once at startup.
struct SpecJson(web::Bytes);

async fn serve_spec(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(spec.0.clone())
}

/// Answers a path the API does not route: 405 with `Allow` when the path exists under another
/// method, else 404.
async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    match routes.allowed(req.path()) {
        Some(allow) if !allow.is_empty() => Err(ApiError::MethodNotAllowed { allow }),
        _ => Err(ApiError::NotFound { detail: format!("no route matches {}", req.path()) }),
    }
}

/// Every method the API routes (a test compares this with the spec's), and OPTIONS for preflights.
pub const CORS_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(CORS_METHODS)
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            idempotency::IDEMPOTENCY_KEY_HEADER,
            middleware::REQUEST_ID_HEADER,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            middleware::REQUEST_ID_HEADER,
            idempotency::IDEMPOTENT_REPLAYED_HEADER,
        ])
        .max_age(3600);
    for origin in origins {
        if origin == "*" {
            cors = cors.allow_any_origin();
        } else {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}

/// Records every `idempotency::HEARTBEAT` that this process is alive, and frees the claims its
/// failed requests could not.
async fn beat(
    store: Arc<dyn crm_domain::ports::Store>,
    instance_id: uuid::Uuid,
    unreleased: Arc<idempotency::UnreleasedClaims>,
) {
    let mut interval = tokio::time::interval(idempotency::HEARTBEAT);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = store.beat(instance_id, conventions::now()).await {
            tracing::warn!(error = %error, "could not record this process's heartbeat");
            continue;
        }
        if !unreleased.is_empty() {
            unreleased.retry(&*store).await;
        }
    }
}

/// A built server, listening, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    store: Arc<dyn Store>,
    search_upkeep: Duration,
    instance_id: uuid::Uuid,
    unreleased: Arc<idempotency::UnreleasedClaims>,
}

impl Application {
    /// Binds the listener and assembles the server over `backend`'s store (opened and migrated
    /// by the caller, who closes it after [`Application::run_until_stopped`]).
    ///
    /// # Errors
    /// [`StartupError`] when the secret or the address is unusable, or the store does not answer.
    pub async fn build(settings: Settings, backend: Backend) -> Result<Self, StartupError> {
        let secret = match (&settings.jwt_secret, backend.shared_by_processes) {
            (Some(secret), _) if secret.len() < 32 => return Err(StartupError::WeakSecret),
            (Some(secret), _) => secret.as_bytes().to_vec(),
            (None, false) => load_or_create_secret(&settings.data_dir).map_err(StartupError::Secret)?,
            (None, true) => return Err(StartupError::MissingSecret),
        };
        let store = backend.store;
        // This process's heartbeat, beaten before it serves: its idempotency claims are taken over
        // only once it falls silent.
        let instance_id = uuid::Uuid::now_v7();
        store.beat(instance_id, conventions::now()).await.map_err(|e| StartupError::Heartbeat(e.to_string()))?;
        let unreleased = Arc::new(idempotency::UnreleasedClaims::default());
        let state = web::Data::new(AppState {
            store: store.clone(),
            tokens: TokenService::new(&secret),
            allow_signup: settings.allow_signup,
            auth_limits: rate_limit::AuthLimits::default(),
            principals: crate::auth::PrincipalCache::new(settings.principal_cache),
            passwords: crate::password::PasswordHashing::new(settings.password_threads, settings.password_wait),
            deadlines: middleware::Deadlines { request: settings.request_timeout, report: settings.report_timeout },
            instance_id,
            unreleased: unreleased.clone(),
            clock: settings.clock.clone(),
        });
        // The document is built once, kept as its JSON text and a route table, and dropped:
        // as a structure it is tens of megabytes, and Swagger UI would clone it into every worker.
        let document = openapi_document();
        let route_table = web::Data::new(RouteTable::from_document(&document));
        let spec = web::Data::new(SpecJson(web::Bytes::from(
            serde_json::to_vec(&document).map_err(|e| StartupError::Spec(e.to_string()))?,
        )));
        drop(document);
        let conventions_page = web::Data::new(pages::ConventionsPage::render());
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|source| StartupError::Bind { address: settings.bind.clone(), source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address: settings.bind.clone(), source })?
            .port();
        let origins = settings.cors_origins.clone();
        let mut server = HttpServer::new(move || {
            let (app, _) = api_routes(
                App::new()
                    .app_data(state.clone())
                    .app_data(route_table.clone())
                    .app_data(extract::path_config())
                    .app_data(extract::query_config())
                    .app_data(web::PayloadConfig::new(extract::BODY_LIMIT))
                    // Before the /api/v1 scope, which would otherwise claim the spec's path.
                    .app_data(spec.clone())
                    .app_data(conventions_page.clone())
                    .service(web::resource(SPEC_PATH).route(web::get().to(serve_spec)))
                    .service(web::resource(pages::CONVENTIONS_PATH).route(web::get().to(pages::conventions)))
                    .service(web::resource(["/", "/swagger-ui"]).route(web::get().to(pages::to_swagger_ui)))
                    .service(SwaggerUi::new("/swagger-ui/{_:.*}").config(utoipa_swagger_ui::Config::from(SPEC_PATH)))
                    .into_utoipa_app(),
            )
            .split_for_parts();
            app.default_service(web::to(fallback))
                .wrap(from_fn(middleware::deadline))
                .wrap(from_fn(idempotency::idempotency))
                .wrap(from_fn(middleware::request_id))
                .wrap(cors(&origins))
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind { address: settings.bind.clone(), source })?
        .shutdown_timeout(settings.shutdown_timeout_seconds)
        // actix stops at once on SIGINT and SIGQUIT, dropping in-flight requests; the server
        // listens for its signals itself (see `run_until_stopped`).
        .disable_signals();
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let server = server.run();
        let base = format!("http://{}:{port}", host_of(&settings.bind));
        tracing::info!(port, "listening on {base}/api/v1; Swagger UI at {base}{}", pages::SWAGGER_UI);
        Ok(Self { port, server, store, search_upkeep: settings.search_upkeep, instance_id, unreleased })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT (Ctrl-C) and lets in-flight requests finish (up to the
    /// shutdown timeout). The store stays open: its owner closes it.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let purge_store = self.store.clone();
        let purge = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(3600));
            loop {
                interval.tick().await;
                let cutoff = conventions::now() - chrono::Duration::hours(24);
                match purge_store.purge_idempotency_keys(cutoff).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(deleted = n, "purged expired idempotency records")
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(error = %error, "could not purge idempotency records")
                    }
                }
            }
        });
        let heartbeat = tokio::spawn(beat(self.store.clone(), self.instance_id, self.unreleased.clone()));
        let upkeep = (!self.search_upkeep.is_zero())
            .then(|| tokio::spawn(keep_lead_search_tidy(self.store.clone(), self.search_upkeep)));
        let handle = self.server.handle();
        let signals = tokio::spawn(async move {
            let signal = shutdown_signal().await;
            tracing::info!("{signal} received: finishing in-flight requests, then stopping");
            handle.stop(true).await;
        });
        let result = self.server.await;
        signals.abort();
        purge.abort();
        heartbeat.abort();
        if let Some(upkeep) = upkeep {
            upkeep.abort();
        }
        // In-flight requests have finished: this process holds no claim any more.
        if let Err(error) = self.store.retire_instance(self.instance_id).await {
            tracing::warn!(error = %error, "could not retire this process's heartbeat");
        }
        tracing::info!("stopped");
        result
    }
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM, both of which stop the server gracefully, and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut interrupt), Ok(mut terminate)) => tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            },
            _ => {
                tracing::warn!("could not listen for SIGINT and SIGTERM; the server stops only when killed");
                std::future::pending().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Every `every`, runs steps of upkeep of the lead search index until one finds nothing to do.
/// The process's other writes run between steps.
async fn keep_lead_search_tidy(store: Arc<dyn Store>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let mut steps = 0_u32;
        loop {
            match store.tidy_lead_search().await {
                Ok(true) => {
                    steps += 1;
                    tokio::task::yield_now().await;
                }
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(error = %error, "could not tidy the lead search index");
                    break;
                }
            }
        }
        if steps > 0 {
            tracing::debug!(steps, "tidied the lead search index");
        }
    }
}

fn host_of(bind: &str) -> &str {
    match bind.rsplit_once(':') {
        Some(("0.0.0.0", _)) | Some(("[::]", _)) => "localhost",
        Some((host, _)) => host,
        None => bind,
    }
}

/// The version of this build (the workspace's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
