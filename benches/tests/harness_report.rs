//! The harness's report, end to end: a tiny run of the real binary, which starts one process per
//! engine, must name the equal-cache rows, give each phase a peak RSS where Linux reports one,
//! and leave out the engines that have no cache to set. Nothing here is timed.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use rkv_benches::report::RunReport;

/// Runs the harness with `args` plus a tiny workload, and reads its report.
fn run_harness(dir: &Path, args: &[&str]) -> Result<RunReport> {
    let out = dir.join("report.json");
    let run = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["--keys", "200", "--ops", "50", "--repeats", "1"])
        .args(["--phase-seconds", "5", "--filter", "readrandom"])
        .args(args)
        .arg("--workdir")
        .arg(dir.join("work"))
        .arg("--out")
        .arg(&out)
        .output()
        .context("starting the harness")?;
    ensure!(
        run.status.success(),
        "the harness failed ({}): {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).context("reading the harness's report")?;
    serde_json::from_str(&text).context("parsing the harness's report")
}

#[test]
fn every_engine_reports_and_only_engines_with_a_cache_get_an_equal_cache_row() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = run_harness(dir.path(), &["--equal-cache", "1048576"]).expect("a report");

    let names: Vec<&str> = report.engines.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"01-basic-store"), "{names:?}");
    assert!(names.contains(&"07-engine"), "{names:?}");
    // Lesson 07 has a block cache; lesson 01 has none, so it runs once.
    let budgeted = report
        .engines
        .iter()
        .find(|e| e.name == "07-engine@1MiB")
        .expect("lesson 07 ran at the equal budget");
    assert_eq!(budgeted.cache_budget_bytes, Some(1 << 20));
    assert!(
        budgeted
            .settings
            .iter()
            .any(|(name, value)| name == "block_cache_bytes" && value == "1 MiB"),
        "{:?}",
        budgeted.settings
    );
    assert!(!names.contains(&"01-basic-store@1MiB"), "{names:?}");
    assert_eq!(report.config.cache_budget_bytes, Some(1 << 20));

    // One readrandom result per engine, named as its row, each with a peak RSS when the
    // kernel keeps one.
    let linux = Path::new("/proc/self/status").exists();
    for engine in &report.engines {
        let results: Vec<_> = report
            .results
            .iter()
            .filter(|r| r.engine == engine.name)
            .collect();
        assert_eq!(results.len(), 1, "{}: {results:?}", engine.name);
        assert_eq!(results[0].workload, "readrandom");
        assert_eq!(results[0].ops, 50);
        if linux {
            let peak = results[0].peak_rss_bytes.expect("a peak RSS on Linux");
            assert!(peak > 0, "{}: peak {peak}", engine.name);
        }
    }
}

#[test]
fn without_equal_cache_every_engine_runs_once_at_its_defaults() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = run_harness(dir.path(), &[]).expect("a report");
    assert!(
        report
            .engines
            .iter()
            .all(|e| e.cache_budget_bytes.is_none())
    );
    assert!(report.engines.iter().all(|e| !e.name.contains('@')));
    assert_eq!(report.config.cache_budget_bytes, None);
}
