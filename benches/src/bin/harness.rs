//! `harness`: the db_bench phases and the YCSB workloads, run against every stage (and, built
//! with `--features peers` and run with `--peers`, against real engines), written out as JSON.
//!
//! ```text
//! cargo run --release -p rkv-benches --bin harness -- --keys 100000 --out bench.json
//! ```
//!
//! Every engine runs the whole sequence once per repeat, and the repeats take turns (repeat 1 of
//! every engine, then repeat 2 of every engine, …), so that a noisy minute on the machine does
//! not land on one engine only. Progress goes to stderr; with `--json-lines` every phase's result
//! is also printed to stdout as one line of JSON as soon as it is known.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rkv_benches::dbbench::{self, Config, PHASES};
use rkv_benches::distribution::Distribution;
use rkv_benches::engine::{DEFAULT_MEMTABLE_BYTES, EngineSpec, Settings};
use rkv_benches::keys::{DEFAULT_VALUE_BYTES, KEY_BYTES};
use rkv_benches::registry::{self, HAS_PEERS};
use rkv_benches::report::{EngineReport, FORMAT, PhaseResult, RunConfig, RunReport};
use rkv_benches::ycsb;
use rkv_contract::SyncMode;

/// Runs the db_bench phases and YCSB workloads against every rkv stage.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
struct Args {
    /// Records each fill writes (16-byte keys).
    #[arg(long, env = "RKV_BENCH_KEYS", default_value_t = 10_000)]
    keys: u64,
    /// Operations per read/write/YCSB phase [default: the smaller of --keys and 10000].
    #[arg(long)]
    ops: Option<u64>,
    /// Bytes per value.
    #[arg(long, default_value_t = DEFAULT_VALUE_BYTES)]
    value_size: usize,
    /// How many times every engine runs the whole sequence.
    #[arg(long, default_value_t = 3)]
    repeats: u32,
    /// Wall-clock limit of a non-fill phase, in seconds; a phase that reaches it stops early
    /// and is marked as capped.
    #[arg(long, default_value_t = 5.0)]
    phase_seconds: f64,
    /// Durability of every write, for every engine: never (handed to the OS) or always (fsync).
    #[arg(long, default_value = "never", value_parser = parse_sync)]
    sync: SyncMode,
    /// Memtable size of our LSM stages, in bytes.
    #[arg(long, default_value_t = DEFAULT_MEMTABLE_BYTES)]
    memtable_bytes: usize,
    /// Also run the peer engines (needs a build with `--features peers`).
    #[arg(long)]
    peers: bool,
    /// Run only the WORKLOAD/ENGINE pairs containing this text (repeatable), e.g.
    /// `readrandom`, `02-sstables`, `ycsb-a/01`.
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Force one YCSB request distribution on every workload.
    #[arg(long)]
    distribution: Option<DistributionArg>,
    /// Where the stores are created [default: a temporary directory].
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// Write the whole report to this JSON file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print every phase's result to stdout as a line of JSON.
    #[arg(long)]
    json_lines: bool,
    /// Seed of the key order and of every random choice.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// List the engines and workloads, then exit.
    #[arg(long)]
    list: bool,
}

/// `--distribution` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum DistributionArg {
    Uniform,
    Zipfian,
    Latest,
}

impl From<DistributionArg> for Distribution {
    fn from(d: DistributionArg) -> Self {
        match d {
            DistributionArg::Uniform => Distribution::Uniform,
            DistributionArg::Zipfian => Distribution::Zipfian,
            DistributionArg::Latest => Distribution::Latest,
        }
    }
}

fn parse_sync(s: &str) -> Result<SyncMode, String> {
    s.parse().map_err(|e: rkv_contract::Error| e.to_string())
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Every workload name, db_bench first.
fn all_workloads() -> Vec<&'static str> {
    PHASES.iter().copied().chain(ycsb::names()).collect()
}

fn run(args: Args) -> Result<()> {
    if args.peers && !HAS_PEERS {
        bail!(
            "--peers needs the peer engines, which this build does not have: \
             build with `--features peers` (or run `cargo xtask bench --peers`)"
        );
    }
    anyhow::ensure!(args.repeats > 0, "--repeats must be at least 1");
    anyhow::ensure!(args.keys > 0, "--keys must be at least 1");
    anyhow::ensure!(
        args.phase_seconds > 0.0 && args.phase_seconds.is_finite(),
        "--phase-seconds must be a positive number"
    );
    let engines = registry::engines(args.peers);
    let wanted = |engine: &str, workload: &str| {
        let id = format!("{workload}/{engine}");
        args.filter.is_empty() || args.filter.iter().any(|f| id.contains(f.as_str()))
    };
    let selected: Vec<(EngineSpec, Vec<&'static str>)> = engines
        .iter()
        .map(|e| {
            let workloads = all_workloads()
                .into_iter()
                .filter(|w| wanted(e.name, w))
                .collect::<Vec<_>>();
            (*e, workloads)
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    if args.list {
        for (engine, workloads) in &selected {
            println!("{} ({}): {}", engine.name, engine.kind, workloads.join(" "));
        }
        return Ok(());
    }
    if selected.is_empty() {
        bail!(
            "--filter {:?} matches no workload of any engine",
            args.filter
        );
    }

    let settings = Settings {
        sync: args.sync,
        memtable_bytes: args.memtable_bytes,
    };
    let cfg = Config {
        keys: args.keys,
        ops: args.ops.unwrap_or(args.keys.min(10_000)).max(1),
        value_bytes: args.value_size,
        phase_cap: Duration::from_secs_f64(args.phase_seconds),
        settings: settings.clone(),
        seed: args.seed,
    };
    let temp;
    let workdir = match &args.workdir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_path_buf()
        }
    };

    // Every engine's settings, durability first, before anything is measured.
    let mut engine_reports = Vec::new();
    for (engine, _) in &selected {
        let dir = workdir.join(format!("{}-probe", engine.name));
        let opened = dbbench::open_fresh(engine, &dir, &settings)
            .with_context(|| format!("opening {}", engine.name))?;
        let shown: Vec<String> = opened
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        eprintln!(
            "{:>18} ({}): {}",
            engine.name,
            engine.kind,
            shown.join(", ")
        );
        engine_reports.push(EngineReport {
            name: engine.name.to_string(),
            kind: engine.kind.to_string(),
            settings: opened.settings,
        });
        drop(opened.engine);
        std::fs::remove_dir_all(&dir)?;
    }
    eprintln!(
        "keys={} ops={} value_size={} repeats={} phase_seconds={} workdir={}",
        cfg.keys,
        cfg.ops,
        cfg.value_bytes,
        args.repeats,
        args.phase_seconds,
        workdir.display()
    );

    let steps: usize = selected.iter().map(|(_, w)| w.len()).sum::<usize>() * args.repeats as usize;
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .context("progress template")?
            .progress_chars("=> "),
    );
    let mut results: Vec<PhaseResult> = Vec::new();
    let forced = args.distribution.map(Distribution::from);
    for repeat in 1..=args.repeats {
        for (engine, workloads) in &selected {
            bar.set_message(format!(
                "repeat {repeat}/{} · {}",
                args.repeats, engine.name
            ));
            let is_wanted = |w: &str| workloads.contains(&w);
            let mut sink = |result: PhaseResult| -> Result<()> {
                let line = format!(
                    "{:>18} {:<13} {:>12.0} ops/s  p50 {:>9}  p99 {:>9}{}",
                    result.engine,
                    result.workload,
                    result.ops_per_sec,
                    nanos(result.latency_ns.p50),
                    nanos(result.latency_ns.p99),
                    if result.capped { "  (capped)" } else { "" }
                );
                if bar.is_hidden() {
                    eprintln!("[{}/{steps}] {line}", bar.position() + 1);
                } else {
                    bar.println(line);
                }
                bar.inc(1);
                if args.json_lines {
                    println!("{}", serde_json::to_string(&result)?);
                }
                results.push(result);
                Ok(())
            };
            let dir = workdir.join(engine.name);
            dbbench::run(engine, &cfg, repeat, &dir, &is_wanted, &mut sink)
                .with_context(|| format!("{} (repeat {repeat})", engine.name))?;
            ycsb::run(engine, &cfg, repeat, forced, &dir, &is_wanted, &mut sink)
                .with_context(|| format!("{} (repeat {repeat})", engine.name))?;
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    bar.finish_and_clear();

    let report = RunReport {
        format: FORMAT,
        config: RunConfig {
            keys: cfg.keys,
            ops: cfg.ops,
            key_bytes: KEY_BYTES,
            value_bytes: cfg.value_bytes,
            scan_length: dbbench::SCAN_LENGTH,
            repeats: args.repeats,
            phase_seconds: args.phase_seconds,
            sync: args.sync.to_string(),
            memtable_bytes: args.memtable_bytes,
            ycsb_distribution: forced.map(|d| d.name().to_string()),
            filters: args.filter.clone(),
        },
        engines: engine_reports,
        results,
    };
    if let Some(out) = &args.out {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(out, json).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// A duration in nanoseconds, in the unit that suits it.
fn nanos(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}
