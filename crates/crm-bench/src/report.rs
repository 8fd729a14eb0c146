//! The report: `results.json` with every figure, and `results.md` with the tables and the
//! targets of the issue, each marked met or missed. A missed target never fails the run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::run::{Backend, Dataset, ResultRow, RunConfig};
use crate::scenarios::Scenario;

/// The machine the run measured on.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub memory_gib: f64,
    pub os: String,
}

impl Machine {
    fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let os = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |v| format!("Linux {}", v.trim()));
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            memory_gib: memory_kib / (1024.0 * 1024.0),
            os,
        }
    }
}

/// One target of the issue, checked.
#[derive(Debug, Serialize)]
pub struct Check {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct Settings {
    pub concurrency: usize,
    pub warmup_seconds: f64,
    pub duration_seconds: f64,
    pub deep_pages: usize,
    pub smoke: bool,
    pub floor_principal: bool,
    pub server_env: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub command: String,
    pub started_at: String,
    pub total_seconds: f64,
    pub machine: Machine,
    pub settings: Settings,
    pub datasets: Vec<Dataset>,
    pub rows: Vec<ResultRow>,
    pub ratios: Vec<Ratio>,
    pub checks: Vec<Check>,
}

/// The real server's throughput as a fraction of the floor's on the same request.
#[derive(Debug, Serialize)]
pub struct Ratio {
    pub backend: Backend,
    pub scale: u64,
    pub scenario: &'static str,
    pub ratio: f64,
}

fn find<'a>(
    rows: &'a [ResultRow],
    backend: Backend,
    scale: u64,
    scenario: &str,
    server: &str,
) -> Option<&'a ResultRow> {
    rows.iter().find(|r| r.backend == backend && r.scale == scale && r.scenario == scenario && r.server == server)
}

fn ratios(rows: &[ResultRow]) -> Vec<Ratio> {
    rows.iter()
        .filter(|r| r.server == "crm")
        .filter_map(|crm| {
            let floor = find(rows, crm.backend, crm.scale, crm.scenario, "floor")?;
            (floor.measurement.throughput > 0.0).then(|| Ratio {
                backend: crm.backend,
                scale: crm.scale,
                scenario: crm.scenario,
                ratio: crm.measurement.throughput / floor.measurement.throughput,
            })
        })
        .collect()
}

/// A scenario's p99 on one backend at the smallest and at the largest scale of the run.
struct Growth {
    backend: Backend,
    scenario: &'static str,
    from_ms: f64,
    to_ms: f64,
}

impl Growth {
    fn factor(&self) -> f64 {
        if self.from_ms > 0.0 { self.to_ms / self.from_ms } else { 0.0 }
    }

    /// The check that this growth meets `rule` (a target's text after the backend and scenario)
    /// when `met` says of its factor.
    fn check(&self, rule: &str, met: impl Fn(f64) -> bool) -> Check {
        Check {
            target: format!("{} {}: {rule}", self.backend.title(), self.scenario),
            measured: format!("{:.2} ms → {:.2} ms (× {:.2})", self.from_ms, self.to_ms, self.factor()),
            met: met(self.factor()),
        }
    }
}

/// The p99 growth of the real server's scenarios that `keep` picks, on each backend that ran
/// them at both scales.
fn growths(rows: &[ResultRow], small: u64, large: u64, keep: fn(Scenario) -> bool) -> Vec<Growth> {
    let mut found = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for scenario in Scenario::ALL.into_iter().filter(|s| keep(*s)) {
            if let (Some(a), Some(b)) =
                (find(rows, backend, small, scenario.name(), "crm"), find(rows, backend, large, scenario.name(), "crm"))
            {
                found.push(Growth {
                    backend,
                    scenario: scenario.name(),
                    from_ms: a.measurement.p99_ms,
                    to_ms: b.measurement.p99_ms,
                });
            }
        }
    }
    found
}

fn checks(rows: &[ResultRow], ratios: &[Ratio], scales: &[u64]) -> Vec<Check> {
    let mut checks = Vec::new();
    for ratio in ratios.iter().filter(|r| matches!(r.scenario, "get_lead" | "create_lead" | "create_activity")) {
        checks.push(Check {
            target: format!("{} {} at {}: ≥ 0.7 of the floor", ratio.backend.title(), ratio.scenario, ratio.scale),
            measured: format!("{:.2}", ratio.ratio),
            met: ratio.ratio >= 0.7,
        });
    }
    // A page of the biggest timeline costs what a page of an ordinary one does.
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for &scale in scales {
            if let (Some(ordinary), Some(big)) = (
                find(rows, backend, scale, "timeline_account", "crm"),
                find(rows, backend, scale, "timeline_big_account", "crm"),
            ) {
                let (a, b) = (ordinary.measurement.p99_ms, big.measurement.p99_ms);
                let factor = if a > 0.0 { b / a } else { 0.0 };
                checks.push(Check {
                    target: format!(
                        "{} timeline_big_account at {scale}: p99 ≤ 1.5 × timeline_account's",
                        backend.title()
                    ),
                    measured: format!("{a:.2} ms → {b:.2} ms (× {factor:.2})"),
                    met: factor <= 1.5,
                });
            }
        }
    }
    if let (Some(&small), Some(&large)) = (scales.iter().min(), scales.iter().max())
        && small != large
    {
        let flat = format!("p99 at {large} ≤ 1.5 × p99 at {small}");
        checks.extend(
            growths(rows, small, large, Scenario::should_scale_flat).iter().map(|g| g.check(&flat, |f| f <= 1.5)),
        );
        let data = large as f64 / small as f64;
        let per_hit = format!("hits grow × {data:.0}; p99 grows less (no work beyond the hits)");
        checks.extend(
            growths(rows, small, large, Scenario::grows_with_hits).iter().map(|g| g.check(&per_hit, |f| f < data)),
        );
    }
    let failing: Vec<String> = rows
        .iter()
        .filter(|r| r.measurement.errors > 0)
        .map(|r| format!("{} {} {} at {}: {}", r.backend.title(), r.server, r.scenario, r.scale, r.measurement.errors))
        .collect();
    checks.push(Check {
        target: "zero errors in every scenario".to_owned(),
        measured: if failing.is_empty() { "0".to_owned() } else { failing.join("; ") },
        met: failing.is_empty(),
    });
    let peak = rows
        .iter()
        .filter(|r| r.backend == Backend::Sqlite && r.server == "crm")
        .filter_map(|r| r.peak_rss_mib)
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))));
    if let Some(peak) = peak {
        checks.push(Check {
            target: "server peak RSS under load < 100 MiB on SQLite".to_owned(),
            measured: format!("{peak:.1} MiB"),
            met: peak < 100.0,
        });
    }
    checks
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    pub fn new(
        config: &RunConfig,
        started_at: DateTime<Utc>,
        total_seconds: f64,
        datasets: Vec<Dataset>,
        rows: Vec<ResultRow>,
    ) -> Self {
        let ratios = ratios(&rows);
        let checks = checks(&rows, &ratios, &config.scales);
        Report {
            command: config.command_line.clone(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            total_seconds,
            machine: Machine::read(),
            settings: Settings {
                concurrency: config.load.concurrency,
                warmup_seconds: config.load.warmup.as_secs_f64(),
                duration_seconds: config.load.duration.as_secs_f64(),
                deep_pages: config.deep_pages,
                smoke: config.smoke,
                floor_principal: config.floor_principal,
                server_env: config.server_env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            },
            datasets,
            rows,
            ratios,
            checks,
        }
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "Run {} ({:.0} s in all), `{}`.\n", self.started_at, self.total_seconds, self.command);
        let _ = writeln!(
            md,
            "Machine: {} cores ({}), {:.1} GiB of memory, {}. Load: {} concurrent connections, {:.0} s warm-up then {:.0} s measured per scenario.\n",
            m.cores,
            m.cpu,
            m.memory_gib,
            m.os,
            self.settings.concurrency,
            self.settings.warmup_seconds,
            self.settings.duration_seconds
        );
        if self.settings.floor_principal {
            md.push_str(
                "The floor read the caller's role before each request, as the server does (`--floor-principal`).\n\n",
            );
        }
        if !self.settings.server_env.is_empty() {
            let _ = writeln!(md, "The server ran with `{}`.\n", self.settings.server_env.join(" "));
        }
        md.push_str("| scenario | what each request does |\n|---|---|\n");
        for scenario in Scenario::ALL {
            let _ = writeln!(md, "| {} | {} |", scenario.name(), scenario.describe());
        }
        md.push('\n');
        for dataset in &self.datasets {
            let c = &dataset.seed.counts;
            let _ = writeln!(
                md,
                "### {}, {} leads\n\nSeeded in {:.1} s: {} leads, {} opportunities ({} stage changes), {} accounts, {} contacts, {} quotes, {} users, {} products.\n",
                dataset.backend.title(),
                thousands(dataset.scale),
                dataset.seed.seconds,
                thousands(c.leads),
                thousands(c.opportunities),
                thousands(dataset.seed.stage_history_rows),
                thousands(c.accounts),
                thousands(c.contacts),
                thousands(c.quotes),
                c.users,
                c.products
            );
            md.push_str("| scenario | server | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | peak RSS MiB | crm / floor |\n");
            md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for row in self.rows.iter().filter(|r| r.backend == dataset.backend && r.scale == dataset.scale) {
                let r = &row.measurement;
                let ratio = self
                    .ratios
                    .iter()
                    .find(|q| q.backend == row.backend && q.scale == row.scale && q.scenario == row.scenario)
                    .filter(|_| row.server == "crm")
                    .map_or(String::new(), |q| format!("{:.2}", q.ratio));
                let _ = writeln!(
                    md,
                    "| {}{} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
                    row.scenario,
                    if r.exhausted { " (ran out of leads)" } else { "" },
                    row.server,
                    r.throughput,
                    r.p50_ms,
                    r.p90_ms,
                    r.p99_ms,
                    r.max_ms,
                    r.errors,
                    row.peak_rss_mib.map_or(String::new(), |v| format!("{v:.1}")),
                    ratio
                );
            }
            md.push('\n');
        }
        md.push_str("### Targets\n\n| target | measured | |\n|---|---|---|\n");
        for check in &self.checks {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                check.target,
                check.measured,
                if check.met { "met" } else { "**missed**" }
            );
        }
        md
    }

    /// Writes `results.json` and `results.md` into `out`.
    pub fn write(&self, out: &Path) -> Result<(PathBuf, PathBuf)> {
        let json = out.join("results.json");
        let markdown = out.join("results.md");
        std::fs::write(&json, serde_json::to_string_pretty(self)?)?;
        std::fs::write(&markdown, self.markdown())?;
        Ok((json, markdown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn p99_growth_is_checked_per_kind_of_scenario() {
        let row = |scale: u64, scenario: &'static str, p99_ms: f64| crate::run::ResultRow {
            backend: Backend::Sqlite,
            scale,
            scenario,
            server: "crm",
            measurement: crate::driver::Measurement {
                requests: 1,
                errors: 0,
                seconds: 1.0,
                throughput: 1.0,
                p50_ms: p99_ms,
                p90_ms: p99_ms,
                p99_ms,
                max_ms: p99_ms,
                error_samples: Vec::new(),
                exhausted: false,
            },
            peak_rss_mib: None,
        };
        let rows = [
            row(10, "list_leads", 10.0),
            row(1000, "list_leads", 15.0),
            row(10, "search_one_hit", 10.0),
            row(1000, "search_one_hit", 15.2),
            row(10, "search_many_hits", 10.0),
            row(1000, "search_many_hits", 990.0),
        ];
        let checks = checks(&rows, &[], &[10, 1000]);
        let found: Vec<(&str, bool)> = checks.iter().map(|c| (c.measured.as_str(), c.met)).collect();
        assert_eq!(
            found[..3],
            [
                ("10.00 ms → 15.00 ms (× 1.50)", true),
                ("10.00 ms → 15.20 ms (× 1.52)", false),
                ("10.00 ms → 990.00 ms (× 99.00)", true),
            ]
        );
        assert!(checks[2].target.contains("hits grow × 100"), "{}", checks[2].target);
    }

    #[test]
    fn a_ratio_below_seven_tenths_misses_the_target() {
        let ratios = vec![
            Ratio { backend: Backend::Sqlite, scale: 10, scenario: "get_lead", ratio: 0.69 },
            Ratio { backend: Backend::Postgres, scale: 10, scenario: "create_lead", ratio: 0.7 },
        ];
        let checks = checks(&[], &ratios, &[10]);
        assert!(!checks[0].met);
        assert!(checks[1].met);
    }
}
