//! `cargo xtask bench`: run the benchmarks of every stage and of the peer engines, and write a
//! report — under `target/`, or, with `--book`, into the book.
//!
//! 1. Reads the machine (CPU, cores, memory, load), `rustc -V`, the commit and the date, and
//!    warns when the machine is already busy. Looks for the system RocksDB library (see
//!    [`rocksdb`]).
//! 2. Runs the harness (`cargo run --release -p rkv-benches --features peers --bin harness`):
//!    the db_bench phases and YCSB A–F on every stage and on fjall, redb and sled (and RocksDB
//!    when its library is installed), repeated, each engine in a process of its own so that its
//!    peak memory is its own; then, at one equal cache budget (`--equal-cache`, 8 MiB by
//!    default), again every engine that has a cache.
//! 3. Unless `--quick`: runs criterion (`cargo bench -p rkv-benches --bench stages`), which
//!    adds a confidence interval per workload and engine.
//! 4. Writes `bench-table.md`, `bench-stage-<stage>.md` (one per stage, for its chapter),
//!    `bench-throughput.svg`, `bench-p99.svg` and `bench.json` (every raw number and the
//!    machine). A casual run writes them, with an `index.html` that shows them together, into
//!    `target/rkv-bench/report/` and leaves the tree as it was; `--book` writes them into
//!    `book/src/generated/`, where the book's committed pages — the reference run at a million
//!    keys — live, so that regenerating those is always a choice.
//!
//! `--rerender` measures nothing and writes the pages again from the last `bench.json`, for work
//! on the page's layout.

mod chart;
mod html;
mod machine;
mod results;
mod rocksdb;
mod table;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};

use machine::Machine;
use results::{CriterionEstimate, HarnessReport, Summary};

/// What to run, as the command line asked.
#[derive(Clone, Debug)]
pub struct Options {
    /// A smoke run: small, short, no criterion.
    pub quick: bool,
    /// Records per store.
    pub keys: Option<u64>,
    /// Operations per phase.
    pub ops: Option<u64>,
    /// Repeats of the harness sequence.
    pub repeats: Option<u32>,
    /// Time limit of one harness phase, in seconds.
    pub phase_seconds: Option<f64>,
    /// The equal-cache run's budget in MiB; 0 skips it.
    pub equal_cache_mib: u64,
    /// Write the book's pages instead of a report under `target/`.
    pub book: bool,
    /// `WORKLOAD/ENGINE` substrings to keep.
    pub filters: Vec<String>,
    /// Durability for every engine.
    pub sync: String,
    /// Skip criterion even without `--quick`.
    pub no_criterion: bool,
}

/// The default budget of the equal-cache run, in MiB: RocksDB's default block cache, the
/// smallest of the defaults (lesson 07: 256 MiB, fjall: 32 MiB, sled and redb: 1 GiB), so that
/// no engine gets more cache than it would on its own.
pub const EQUAL_CACHE_MIB: u64 = 8;

/// The numbers a run uses once defaults are filled in.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Plan {
    keys: u64,
    ops: u64,
    repeats: u32,
    phase_seconds: f64,
    criterion: bool,
}

impl Plan {
    fn new(o: &Options) -> Plan {
        // --quick: small and short, for CI and a first look (about a minute on 2 cores once built);
        // the default: about 11 minutes of measuring (the README has the measured times).
        let (keys, ops, repeats, phase_seconds) = if o.quick {
            (10_000, 2_000, 3, 1.0)
        } else {
            (50_000, 10_000, 3, 1.5)
        };
        let keys = o.keys.unwrap_or(keys).max(1);
        Plan {
            keys,
            ops: o.ops.unwrap_or(ops.min(keys)).max(1),
            repeats: o.repeats.unwrap_or(repeats).max(1),
            phase_seconds: o.phase_seconds.unwrap_or(phase_seconds),
            criterion: !o.quick && !o.no_criterion,
        }
    }
}

/// The command as a reader would type it again.
fn command_line(o: &Options) -> String {
    let mut parts = vec!["cargo xtask bench".to_string()];
    if o.quick {
        parts.push("--quick".into());
    }
    if let Some(k) = o.keys {
        parts.push(format!("--keys {k}"));
    }
    if let Some(n) = o.ops {
        parts.push(format!("--ops {n}"));
    }
    if let Some(r) = o.repeats {
        parts.push(format!("--repeats {r}"));
    }
    if let Some(s) = o.phase_seconds {
        parts.push(format!("--phase-seconds {s}"));
    }
    if o.equal_cache_mib != EQUAL_CACHE_MIB {
        parts.push(format!("--equal-cache {}", o.equal_cache_mib));
    }
    if o.book {
        parts.push("--book".into());
    }
    if o.sync != "never" {
        parts.push(format!("--sync {}", o.sync));
    }
    if o.no_criterion {
        parts.push("--no-criterion".into());
    }
    for f in &o.filters {
        parts.push(format!("--filter {f}"));
    }
    parts.join(" ")
}

/// `cargo`, as the one running xtask.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd`, failing with `what` if it does not succeed.
fn run_step(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {what}"))?;
    ensure!(status.success(), "{what} failed ({status})");
    Ok(())
}

/// The workspace's target directory, as cargo resolves it (`CARGO_TARGET_DIR` included).
fn target_dir(root: &Path) -> Result<PathBuf> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    ensure!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    meta.get("target_directory")
        .and_then(|t| t.as_str())
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

/// Where a run's pages go: the book's generated pages with `--book`, else the report directory
/// under the target directory.
fn pages_dir(root: &Path, book: bool) -> Result<PathBuf> {
    Ok(if book {
        root.join("book/src/generated")
    } else {
        target_dir(root)?.join("rkv-bench").join("report")
    })
}

/// Runs the benchmarks and writes the report (or, with `--book`, the book's pages).
pub fn run(root: &Path, options: &Options) -> Result<()> {
    let plan = Plan::new(options);
    ensure!(
        options.sync == "never" || options.sync == "always",
        "--sync must be never or always"
    );
    let started = Instant::now();
    let started_at = SystemTime::now();
    let rocksdb = rocksdb::detect();
    if let Err(why) = &rocksdb {
        eprintln!("note: {why}.");
    }
    let (features, peer_env) = match &rocksdb {
        Ok(env) => ("rocksdb", env.clone()),
        Err(_) => ("peers", Vec::new()),
    };
    let mut machine = Machine::read(root);
    if let Some(warning) = machine.busy_warning() {
        eprintln!("warning: {warning}");
    }
    let target = target_dir(root)?;
    let work_dir = target.join("rkv-bench");
    let raw_path = work_dir.join("harness.json");
    let steps = if plan.criterion { 2 } else { 1 };

    eprintln!(
        "==> [1/{steps}] harness: db_bench phases and YCSB A–F, {} keys, {} ops per phase, {} repeats, \
         every stage and peer{} (building rkv-benches in release mode first)",
        plan.keys,
        plan.ops,
        plan.repeats,
        match options.equal_cache_mib {
            0 => String::new(),
            mib => format!(", then every engine with a cache at {mib} MiB"),
        }
    );
    let mut harness = cargo();
    harness.current_dir(root).args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "rkv-benches",
        "--features",
        features,
        "--bin",
        "harness",
    ]);
    harness
        .arg("--")
        .arg("--peers")
        .args(["--keys", &plan.keys.to_string()])
        .args(["--ops", &plan.ops.to_string()])
        .args(["--repeats", &plan.repeats.to_string()])
        .args(["--phase-seconds", &plan.phase_seconds.to_string()])
        .args(["--sync", &options.sync])
        .arg("--workdir")
        .arg(work_dir.join("data"))
        .arg("--out")
        .arg(&raw_path);
    if options.equal_cache_mib > 0 {
        harness.args([
            "--equal-cache",
            &(options.equal_cache_mib << 20).to_string(),
        ]);
    }
    for f in &options.filters {
        harness.args(["--filter", f]);
    }
    harness.envs(peer_env.iter().map(|(k, v)| (k, v)));
    if raw_path.exists() {
        fs::remove_file(&raw_path).with_context(|| format!("removing {}", raw_path.display()))?;
    }
    run_step(harness, "the harness")?;
    let _ = fs::remove_dir_all(work_dir.join("data"));
    eprintln!("    done in {:.0} s", started.elapsed().as_secs_f64());

    let criterion = if plan.criterion {
        eprintln!(
            "==> [2/2] criterion: every workload group, every engine at its defaults ({} keys)",
            plan.keys
        );
        let criterion_started = SystemTime::now();
        let mut bench = cargo();
        bench.current_dir(root).args([
            "bench",
            "-p",
            "rkv-benches",
            "--features",
            features,
            "--bench",
            "stages",
        ]);
        bench.env("RKV_BENCH_KEYS", plan.keys.to_string());
        bench.envs(peer_env.iter().map(|(k, v)| (k, v)));
        if !options.filters.is_empty() {
            let pattern: Vec<String> = options.filters.iter().map(|f| regex::escape(f)).collect();
            bench.arg("--").arg(pattern.join("|"));
        }
        run_step(bench, "cargo bench")?;
        Some(results::read_criterion(
            &target.join("criterion"),
            criterion_started,
        )?)
    } else {
        None
    };
    machine.load_after = machine::load_average();

    let (report, raw) = results::read_harness(&raw_path)?;
    let summaries = results::summarize(&report);
    ensure!(!summaries.is_empty(), "the harness measured nothing");
    let dir = pages_dir(root, options.book)?;
    write_outputs(
        &dir,
        !options.book,
        &command_line(options),
        &machine,
        &plan,
        &report,
        raw,
        &summaries,
        criterion.as_deref(),
        started_at,
    )?;
    if let Some(warning) = machine.busy_warning() {
        eprintln!("warning: {warning}");
    }
    if let Err(why) = &rocksdb {
        eprintln!("note: {why}.");
    }
    say_where(root, &dir, options.book, started.elapsed().as_secs_f64());
    Ok(())
}

/// Prints where the pages went, as a path from the workspace root where it is under it.
fn say_where(root: &Path, dir: &Path, book: bool, seconds: f64) {
    let shown = dir.strip_prefix(root).unwrap_or(dir).display();
    if book {
        eprintln!(
            "bench: wrote the book's benchmark pages in {shown} in {seconds:.0} s \
             (`cargo xtask book` builds the book with them; `git diff {shown}` shows what changed)"
        );
    } else {
        eprintln!(
            "bench: wrote the report in {seconds:.0} s: open {shown}/index.html \
             (bench-table.md, bench.json and the charts are beside it; the book's pages are \
             unchanged: `--book` writes those)"
        );
    }
}

/// Writes the pages again from the `bench.json` of the last run, measuring nothing: for work on
/// the page's layout. The numbers, the machine and the date stay those of that run.
pub fn rerender(root: &Path, book: bool) -> Result<()> {
    let dir = pages_dir(root, book)?;
    let path = dir.join("bench.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let saved: SavedRun =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let report: HarnessReport = serde_json::from_value(saved.harness.clone())
        .with_context(|| format!("reading the harness report in {}", path.display()))?;
    ensure!(
        report.format == results::HARNESS_FORMAT,
        "{} holds harness format {}, this xtask reads format {}",
        path.display(),
        report.format,
        results::HARNESS_FORMAT
    );
    let summaries = results::summarize(&report);
    write_outputs(
        &dir,
        !book,
        &saved.command,
        &saved.machine,
        &saved.plan,
        &report,
        saved.harness,
        &summaries,
        saved.criterion.as_deref(),
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(saved.started_unix),
    )?;
    eprintln!(
        "bench: rewrote the pages in {} from bench.json",
        dir.strip_prefix(root).unwrap_or(&dir).display()
    );
    Ok(())
}

/// `bench.json` as read back by [`rerender`].
#[derive(Deserialize)]
struct SavedRun {
    command: String,
    machine: Machine,
    plan: Plan,
    started_unix: u64,
    criterion: Option<Vec<CriterionEstimate>>,
    harness: serde_json::Value,
}

/// `bench.json`: everything the page was made from.
#[derive(Serialize)]
struct BenchJson<'a> {
    /// The command that made it.
    command: &'a str,
    /// Machine, compiler, commit, date.
    machine: &'a Machine,
    /// Defaults filled in.
    plan: &'a Plan,
    /// The busy warning, if any.
    warning: Option<String>,
    /// Seconds since the epoch when the run started.
    started_unix: u64,
    /// Per engine and workload, over the repeats.
    summary: &'a [Summary],
    /// Criterion's estimates, when it ran.
    criterion: Option<&'a [CriterionEstimate]>,
    /// The harness report as it wrote it: every repeat of every phase.
    harness: serde_json::Value,
}

/// Writes every generated file into `dir`, replacing the previous run's; with `with_html`, also
/// the `index.html` that shows them together.
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    dir: &Path,
    with_html: bool,
    command: &str,
    machine: &Machine,
    plan: &Plan,
    report: &HarnessReport,
    raw: serde_json::Value,
    summaries: &[Summary],
    criterion: Option<&[CriterionEstimate]>,
    started_at: SystemTime,
) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Stage pages of stages that are gone (or filtered out) must not linger.
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("bench-stage-") && name.ends_with(".md") {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    let inputs = table::Inputs {
        command,
        machine,
        report,
        summaries,
        criterion,
    };
    let write = |name: &str, text: &str| -> Result<()> {
        let path = dir.join(name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    let bench_table = inputs.bench_table();
    write("bench-table.md", &bench_table)?;
    if with_html {
        let intro = format!(
            "Made by `{command}`. How the numbers are made, and what each column means, is in \
             the book's *Benchmarks* chapter (`book/src/benchmarks.md`). The charts show every \
             engine at its own defaults; the tables also show the equal-cache rows \
             (`<engine>@<budget>`)."
        );
        write("index.html", &html::page(&intro, &bench_table))?;
    }
    for engine in report
        .engines
        .iter()
        .filter(|e| e.kind == "stage" && e.cache_budget_bytes.is_none())
    {
        write(
            &format!("bench-stage-{}.md", engine.name),
            &inputs.stage_table(&engine.name),
        )?;
    }
    // The charts show every engine at its own defaults; the equal-cache rows are in the tables.
    let engines: Vec<(String, bool)> = report
        .engines
        .iter()
        .filter(|e| e.cache_budget_bytes.is_none())
        .map(|e| (e.name.clone(), e.kind == "peer"))
        .collect();
    let mut workloads: Vec<String> = Vec::new();
    for s in summaries {
        if !workloads.contains(&s.workload) {
            workloads.push(s.workload.clone());
        }
    }
    chart::draw(
        &dir.join("bench-throughput.svg"),
        chart::Quantity::Throughput,
        &engines,
        &workloads,
        summaries,
    )?;
    chart::draw(
        &dir.join("bench-p99.svg"),
        chart::Quantity::P99,
        &engines,
        &workloads,
        summaries,
    )?;
    let json = BenchJson {
        command,
        machine,
        plan,
        warning: machine.busy_warning(),
        started_unix: started_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        summary: summaries,
        criterion,
        harness: raw,
    };
    write(
        "bench.json",
        &(serde_json::to_string_pretty(&json).context("encoding bench.json")? + "\n"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            quick: true,
            keys: None,
            ops: None,
            repeats: None,
            phase_seconds: None,
            equal_cache_mib: EQUAL_CACHE_MIB,
            book: false,
            filters: vec![],
            sync: "never".into(),
            no_criterion: false,
        }
    }

    #[test]
    fn quick_runs_no_criterion_and_ops_never_exceed_keys() {
        let mut o = options();
        o.keys = Some(500);
        let plan = Plan::new(&o);
        assert!(!plan.criterion);
        assert_eq!((plan.keys, plan.ops), (500, 500));
        o.quick = false;
        assert!(Plan::new(&o).criterion);
    }

    #[test]
    fn the_command_line_is_reproduced() {
        let mut o = options();
        o.keys = Some(2000);
        o.filters = vec!["ycsb".into()];
        assert_eq!(
            command_line(&o),
            "cargo xtask bench --quick --keys 2000 --filter ycsb"
        );
        o.book = true;
        o.equal_cache_mib = 32;
        assert_eq!(
            command_line(&o),
            "cargo xtask bench --quick --keys 2000 --equal-cache 32 --book --filter ycsb"
        );
    }
}
