//! Typed helpers: a fresh application per test on a fresh database, and a small client.

use std::sync::OnceLock;

use crm::Server;
use crm_http::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    Postgres(String),
}

/// The PostgreSQL server the `postgres-tests` feature runs the suite against:
/// `CRM_TEST_POSTGRES_URL`, or the local server's `postgres` database.
#[cfg(feature = "postgres-tests")]
pub fn postgres_url() -> String {
    std::env::var("CRM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Runs each named `async fn name(backend: Backend)` on SQLite (`…::sqlite`) and, when the
/// `postgres-tests` feature is on, on PostgreSQL (`…::postgres`). Without the feature the
/// PostgreSQL tests do not exist, so none is counted as passed without having run; with it, a
/// test whose database does not answer fails.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[cfg(feature = "postgres-tests")]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres($crate::helpers::postgres_url())).await;
                }
            }
        )+
    };
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            crm_http::telemetry::init(crm_http::telemetry::LogFormat::Text);
        }
    });
}

/// A database URL of its own for one test.
pub async fn fresh_database_url(backend: &Backend) -> (String, Option<tempfile_dir::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile_dir::TempDir::new();
            (format!("sqlite:{}", dir.path().join("crm.db").display()), Some(dir))
        }
        Backend::Postgres(server) => {
            use sqlx::Connection;
            let name = format!("crm_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn =
                sqlx::PgConnection::connect(server).await.unwrap_or_else(|e| panic!("PostgreSQL at {server}: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("create database: {e}"));
            let _ = conn.close().await;
            let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
            (format!("{base}/{name}"), None)
        }
    }
}

/// A temporary folder removed when dropped (kept tiny to avoid a dependency).
pub mod tempfile_dir {
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("crm-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("temp dir: {e}"));
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The database this server uses; [`TestApp::spawn_beside`] starts another server on it.
    pub database_url: String,
    _dir: Option<std::sync::Arc<tempfile_dir::TempDir>>,
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts a problem response with `status` and `code`.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert_eq!(self.body["type"], format!("urn:crm:problem:{code}"));
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        assert_eq!(self.body["request_id"].as_str(), self.header("x-request-id"), "problem carries the request id");
        self
    }
}

/// A signed-up user with its tokens.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub refresh_token: String,
    pub user_id: String,
    pub organization_id: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        init_logs();
        let (database_url, dir) = fresh_database_url(&backend).await;
        Self::start(database_url, dir.map(std::sync::Arc::new), adjust).await
    }

    /// Another server on this one's database, as a second process of a deployment would be.
    pub async fn spawn_beside(&self, adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::start(self.database_url.clone(), self._dir.clone(), adjust).await
    }

    async fn start(
        database_url: String,
        dir: Option<std::sync::Arc<tempfile_dir::TempDir>>,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut settings = Settings {
            bind: "127.0.0.1:0".to_owned(),
            database_url: database_url.clone(),
            jwt_secret: Some(JWT_SECRET.to_owned()),
            workers: Some(2),
            max_db_connections: 5,
            shutdown_timeout_seconds: 1,
            data_dir: dir.as_ref().map_or_else(std::env::temp_dir, |d| d.path().to_path_buf()),
            ..Settings::local_defaults()
        };
        adjust(&mut settings);
        let app = Server::build(settings)
            .await
            .unwrap_or_else(|e| panic!("startup failed: {}", crm_http::problem::error_chain(&e)));
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        // Redirects are answers to check, not to follow.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"));
        Self { base, client, database_url, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with optional bearer token, JSON body and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("request failed: {e}"));
        read(response).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None, &[]).await
    }

    /// Signs up a new organisation whose admin has `email`.
    pub async fn signup(&self, organization: &str, email: &str) -> Session {
        let reply = self
            .send(Method::POST, "/api/v1/auth/signup", None, Some(&json!({
                "organization_name": organization, "name": "Admin of ".to_owned() + organization, "email": email, "password": PASSWORD
            })), &[])
            .await
            .expect(201);
        session(&reply.body)
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.send(Method::POST, "/api/v1/auth/login", None, Some(&json!({"email": email, "password": password})), &[])
            .await
    }

    /// Adds a user with `role` to the admin's organisation and logs it in.
    pub async fn add_user(&self, admin: &Session, email: &str, role: &str) -> Session {
        self.post(
            "/api/v1/users",
            &admin.token,
            &json!({"name": format!("User {email}"), "email": email, "password": PASSWORD, "role": role}),
        )
        .await
        .expect(201);
        session(&self.login(email, PASSWORD).await.expect(200).body)
    }

    pub async fn create_lead(&self, session: &Session, body: Value) -> Value {
        self.post("/api/v1/leads", &session.token, &body).await.expect(201).body
    }
}

pub fn session(body: &Value) -> Session {
    Session {
        token: body["access_token"].as_str().unwrap_or_default().to_owned(),
        refresh_token: body["refresh_token"].as_str().unwrap_or_default().to_owned(),
        user_id: body["user"]["id"].as_str().unwrap_or_default().to_owned(),
        organization_id: body["organization"]["id"].as_str().unwrap_or_default().to_owned(),
    }
}

pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

pub fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// Runs one SQL statement on the database of a test server, as an operator (or a crash) would.
pub async fn execute_sql(database_url: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}
