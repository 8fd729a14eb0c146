//! The harness's command line. Being an integration test, it also makes `cargo test --workspace`
//! build `target/debug/crm-bench`, which the CI's smoke run then uses.

use std::error::Error;
use std::process::Command;

#[test]
fn an_unknown_scenario_is_refused_before_anything_runs() -> Result<(), Box<dyn Error>> {
    let output = Command::new(env!("CARGO_BIN_EXE_crm-bench"))
        .args(["run", "--scenarios", "get_lead,teleport", "--crm", "/nonexistent/crm"])
        .output()?;

    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr)?;
    assert!(stderr.contains("unknown scenario teleport"), "{stderr}");
    assert!(stderr.contains("convert_lead"), "the error lists the scenarios: {stderr}");
    Ok(())
}

#[test]
fn a_missing_server_binary_is_named() -> Result<(), Box<dyn Error>> {
    let work = std::env::temp_dir().join(format!("crm-bench-cli-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_crm-bench"))
        .args(["run", "--smoke", "--backends", "sqlite", "--crm", "/nonexistent/crm"])
        .arg("--out")
        .arg(work.join("out"))
        .arg("--work-dir")
        .arg(work.join("work"))
        .output()?;

    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr)?;
    assert!(stderr.contains("no server binary at /nonexistent/crm"), "{stderr}");
    let _ = std::fs::remove_dir_all(work);
    Ok(())
}
