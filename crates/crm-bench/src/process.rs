//! Child processes: the real server (`crm serve`) and the floor (`crm-bench floor`), each on its
//! own port, so that the peak resident memory read from `/proc/<pid>/status` is theirs alone.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::{Result, failure};

/// The signing secret given to the server: the harness logs in through the API like a client.
pub const JWT_SECRET: &str = "crm-bench-secret-crm-bench-secret-0123456789";

/// A port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running child server; it is stopped when dropped.
pub struct Served {
    child: Child,
    pub base_url: String,
    pub log: PathBuf,
}

impl Served {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The peak resident set size so far (VmHWM), in bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// The resident set size now (VmRSS), in bytes.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Waits up to `timeout` for the child to exit on its own; its status, or `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<std::process::ExitStatus>> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if started.elapsed() > timeout {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `GET /ready` answers 2xx, or fails when the child exits or 60 seconds pass.
    async fn wait_ready(&mut self, client: &reqwest::Client) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(failure(format!("{} exited with {status}; see {}", self.base_url, self.log.display())));
            }
            if let Ok(response) = client.get(format!("{}/ready", self.base_url)).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(failure(format!("{} not ready after 60s; see {}", self.base_url, self.log.display())));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the child with SIGKILL, as a crash would, and waits for it to be gone.
    pub fn crash(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Stops the child with SIGTERM (the server then shuts down gracefully), SIGKILL after 10s.
    pub fn stop(mut self) -> Result<()> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

fn spawn(mut command: Command, log: &Path, base_url: String) -> Result<Served> {
    let out = File::options().create(true).append(true).open(log)?;
    let err = out.try_clone()?;
    let child = command.stdin(Stdio::null()).stdout(out).stderr(err).spawn()?;
    Ok(Served { child, base_url, log: log.to_path_buf() })
}

/// Runs `crm migrate` on the database and waits for it.
pub fn migrate(crm: &Path, database_url: &str, data_dir: &Path) -> Result<()> {
    let status = Command::new(crm)
        .arg("migrate")
        .arg("--database-url")
        .arg(database_url)
        .arg("--data-dir")
        .arg(data_dir)
        .env("CRM_JWT_SECRET", JWT_SECRET)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(failure(format!("{} migrate failed with {status}", crm.display())));
    }
    Ok(())
}

/// Starts `crm serve` on a free port and waits until it is ready. The server runs with its
/// defaults (log level and format, workers, pool size), as deployed; its log goes to `log`.
pub async fn start_server(
    crm: &Path,
    database_url: &str,
    data_dir: &Path,
    log: &Path,
    env: &[(String, String)],
    client: &reqwest::Client,
) -> Result<Served> {
    start_server_at(free_port()?, crm, database_url, data_dir, log, env, client).await
}

/// [`start_server`] on a given port: a restart where clients already point. The log is
/// appended to, so that one file tells the story of every restart.
pub async fn start_server_at(
    port: u16,
    crm: &Path,
    database_url: &str,
    data_dir: &Path,
    log: &Path,
    env: &[(String, String)],
    client: &reqwest::Client,
) -> Result<Served> {
    let mut command = Command::new(crm);
    command
        .arg("serve")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database-url")
        .arg(database_url)
        .arg("--data-dir")
        .arg(data_dir)
        .env("CRM_JWT_SECRET", JWT_SECRET)
        .env("CRM_ALLOW_SIGNUP", "true")
        .env_remove("CRM_CORS_ORIGINS")
        .env_remove("CRM_WORKERS")
        .env_remove("CRM_DB_MAX_CONNECTIONS")
        .envs(env.iter().map(|(k, v)| (k, v)));
    let mut served = spawn(command, log, format!("http://127.0.0.1:{port}"))?;
    served.wait_ready(client).await?;
    Ok(served)
}

/// Starts the floor (`crm-bench floor`, this same executable) on a free port.
pub async fn start_floor(
    database_url: &str,
    organization_id: Uuid,
    user_id: Uuid,
    log: &Path,
    principal: bool,
    client: &reqwest::Client,
) -> Result<Served> {
    let port = free_port()?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("floor")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database-url")
        .arg(database_url)
        .arg("--organization-id")
        .arg(organization_id.to_string())
        .arg("--user-id")
        .arg(user_id.to_string());
    if principal {
        command.arg("--principal");
    }
    let mut served = spawn(command, log, format!("http://127.0.0.1:{port}"))?;
    served.wait_ready(client).await?;
    Ok(served)
}
