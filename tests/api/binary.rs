//! The `crm` server binary as a child process, for the tests that signal or kill it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::Backend;

/// Where a server keeps its data, so that a restarted process finds it again.
pub struct Storage {
    pub data_dir: crate::helpers::tempfile_dir::TempDir,
    /// `None`: SQLite in `data_dir`.
    pub database_url: Option<String>,
}

impl Storage {
    pub async fn fresh(backend: &Backend) -> Self {
        let data_dir = crate::helpers::tempfile_dir::TempDir::new();
        let database_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres(_) => Some(crate::helpers::fresh_database_url(backend).await.0),
        };
        Self { data_dir, database_url }
    }
}

/// A running server process and its base URLs.
pub struct Server {
    pub child: Child,
    pub root: String,
    pub base: String,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        // A test that failed halfway leaves no server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the binary on `storage`, listening on `port` (0: any free port), with `env` on top
    /// of the defaults, and waits until it listens.
    pub fn start(storage: &Storage, port: u16, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_crm"));
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(storage.data_dir.path())
            .env("RUST_LOG", "info")
            .env_remove("DATABASE_URL")
            .env_remove("CRM_JWT_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(url) = &storage.database_url {
            command.env("DATABASE_URL", url).env("CRM_JWT_SECRET", "a-test-secret-of-at-least-32-characters");
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap_or_else(|e| panic!("could not start the server: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (port_sender, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = port_sender.send(digits);
                }
            }
        });
        let port: u16 = port
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("the server did not start: {e}"))
            .parse()
            .unwrap();
        Self { child, root: format!("http://127.0.0.1:{port}"), base: format!("http://127.0.0.1:{port}/api/v1"), port }
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
