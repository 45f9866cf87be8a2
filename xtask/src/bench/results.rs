//! Reading what the benchmarks wrote: the harness's JSON report and criterion's estimates.
//!
//! The report's shapes come from the `rkv-bench-report` crate, which the harness writes with:
//! one definition, and only `serde` to build. The format number is still checked, so a
//! `bench.json` written by an older harness is an error, not a wrong table.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};

/// The format of the harness report this module reads.
pub const HARNESS_FORMAT: u32 = rkv_bench_report::FORMAT;

/// The harness's report.
pub use rkv_bench_report::RunReport as HarnessReport;
pub use rkv_bench_report::{EngineReport, PhaseResult};

/// Reads and checks the harness report at `path`.
pub fn read_harness(path: &Path) -> Result<(HarnessReport, serde_json::Value)> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let raw: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let report: HarnessReport = serde_json::from_value(raw.clone())
        .with_context(|| format!("reading the fields of {}", path.display()))?;
    ensure!(
        report.format == HARNESS_FORMAT,
        "{} is in format {}, this xtask reads format {HARNESS_FORMAT}: rebuild both",
        path.display(),
        report.format
    );
    Ok((report, raw))
}

/// One workload of one engine over all repeats.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Engine.
    pub engine: String,
    /// Workload.
    pub workload: String,
    /// `db_bench` or `ycsb`.
    pub suite: String,
    /// Repeats that ran.
    pub repeats: usize,
    /// Median operations per second over the repeats.
    pub median_ops_per_sec: f64,
    /// Slowest repeat.
    pub min_ops_per_sec: f64,
    /// Fastest repeat.
    pub max_ops_per_sec: f64,
    /// Whether any repeat was cut short by the time limit.
    pub capped: bool,
    /// The repeat whose throughput is the median: its latency, counters and sizes are shown.
    pub median: PhaseResult,
}

/// Groups the results by engine and workload, keeping the order they first appear in.
pub fn summarize(report: &HarnessReport) -> Vec<Summary> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&PhaseResult>> = BTreeMap::new();
    for r in &report.results {
        let id = (r.engine.clone(), r.workload.clone());
        if !groups.contains_key(&id) {
            order.push(id.clone());
        }
        groups.entry(id).or_default().push(r);
    }
    order
        .into_iter()
        .filter_map(|id| {
            let mut runs = groups.remove(&id)?;
            runs.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
            let median = runs[runs.len() / 2];
            Some(Summary {
                engine: id.0,
                workload: id.1,
                suite: median.suite.clone(),
                repeats: runs.len(),
                median_ops_per_sec: median.ops_per_sec,
                min_ops_per_sec: runs[0].ops_per_sec,
                max_ops_per_sec: runs[runs.len() - 1].ops_per_sec,
                capped: runs.iter().any(|r| r.capped),
                median: median.clone(),
            })
        })
        .collect()
}

/// One criterion benchmark's estimate of the time per operation.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CriterionEstimate {
    /// The group: the workload.
    pub group: String,
    /// The member: the engine.
    pub engine: String,
    /// Elements per iteration (1, or the number of keys for a full scan).
    pub elements: u64,
    /// Mean time per iteration, in nanoseconds.
    pub mean_ns: f64,
    /// Lower bound of its confidence interval.
    pub lower_ns: f64,
    /// Upper bound of its confidence interval.
    pub upper_ns: f64,
    /// The interval's confidence level, e.g. 0.95.
    pub confidence: f64,
}

/// What criterion's files look like (only the parts read here).
#[derive(Deserialize)]
struct BenchmarkFile {
    group_id: String,
    function_id: Option<String>,
    throughput: Option<BTreeMap<String, u64>>,
}

#[derive(Deserialize)]
struct EstimatesFile {
    mean: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    confidence_level: f64,
    lower_bound: f64,
    upper_bound: f64,
}

/// Every estimate criterion wrote under `dir` (`target/criterion`) since `since`: older files
/// belong to earlier runs and are left out.
pub fn read_criterion(dir: &Path, since: SystemTime) -> Result<Vec<CriterionEstimate>> {
    let mut found = Vec::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    let mut files = Vec::new();
    collect_named(dir, "estimates.json", &mut files)?;
    files.sort();
    for estimates in files {
        let Some(new_dir) = estimates.parent().filter(|p| p.ends_with("new")) else {
            continue;
        };
        let fresh = fs::metadata(&estimates)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        if !fresh {
            continue;
        }
        let bench_path = new_dir.join("benchmark.json");
        let bench: BenchmarkFile = serde_json::from_str(
            &fs::read_to_string(&bench_path)
                .with_context(|| format!("reading {}", bench_path.display()))?,
        )
        .with_context(|| format!("parsing {}", bench_path.display()))?;
        let est: EstimatesFile = serde_json::from_str(
            &fs::read_to_string(&estimates)
                .with_context(|| format!("reading {}", estimates.display()))?,
        )
        .with_context(|| format!("parsing {}", estimates.display()))?;
        found.push(CriterionEstimate {
            group: bench.group_id,
            engine: bench.function_id.unwrap_or_default(),
            elements: bench
                .throughput
                .and_then(|t| t.get("Elements").copied())
                .unwrap_or(1),
            mean_ns: est.mean.point_estimate,
            lower_ns: est.mean.confidence_interval.lower_bound,
            upper_ns: est.mean.confidence_interval.upper_bound,
            confidence: est.mean.confidence_interval.confidence_level,
        });
    }
    Ok(found)
}

/// Every file called `name` under `dir`.
fn collect_named(dir: &Path, name: &str, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_named(&path, name, out)?;
        } else if path.file_name().is_some_and(|n| n == name) {
            out.push(path);
        }
    }
    Ok(())
}
