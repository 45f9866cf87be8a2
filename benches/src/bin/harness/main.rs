//! `harness`: the db_bench phases and the YCSB workloads, run against every stage (and, built
//! with `--features peers` and run with `--peers`, against real engines), written out as JSON.
//!
//! ```text
//! cargo run --release -p rkv-benches --bin harness -- --keys 100000 --out bench.json
//! ```
//!
//! Every engine runs the whole sequence once per repeat, and the repeats take turns (repeat 1 of
//! every engine, then repeat 2 of every engine, …), so that a noisy minute on the machine does
//! not land on one engine only. Each engine's sequence runs in a process of its own (this
//! program again, see [`child`]), so that the peak memory of a phase is that engine's alone.
//! With `--equal-cache BYTES`, every engine that has a cache runs a second time with its cache
//! set to that budget (see [`rkv_benches::variant`]). Progress goes to stderr; with
//! `--json-lines` every phase's result is also printed to stdout as one line of JSON as soon as
//! it is known.

mod args;
mod child;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rkv_benches::dbbench::{self, Config};
use rkv_benches::distribution::Distribution;
use rkv_benches::engine::Settings;
use rkv_benches::keys::KEY_BYTES;
use rkv_benches::memory;
use rkv_benches::registry::{self, HAS_PEERS};
use rkv_benches::report::{EngineReport, FORMAT, PhaseResult, RunConfig, RunReport};
use rkv_benches::variant::Variant;

use args::{Args, all_workloads, selected_by};

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    if args.peers && !HAS_PEERS {
        bail!(
            "--peers needs the peer engines, which this build does not have: \
             build with `--features peers` (or run `cargo xtask bench`)"
        );
    }
    anyhow::ensure!(args.repeats > 0, "--repeats must be at least 1");
    anyhow::ensure!(args.keys > 0, "--keys must be at least 1");
    anyhow::ensure!(
        args.phase_seconds > 0.0 && args.phase_seconds.is_finite(),
        "--phase-seconds must be a positive number"
    );
    let cfg = Config {
        keys: args.keys,
        ops: args.ops.unwrap_or(args.keys.min(10_000)).max(1),
        value_bytes: args.value_size,
        phase_cap: Duration::from_secs_f64(args.phase_seconds),
        settings: Settings {
            sync: args.sync,
            memtable_bytes: args.memtable_bytes,
            cache_bytes: None,
        },
        seed: args.seed,
    };
    if let Some(engine) = &args.child.child_engine {
        return child::run_one(&args, &cfg, engine);
    }
    let workdir_holder;
    let workdir = match &args.workdir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => {
            workdir_holder = tempfile::tempdir().context("creating a temporary directory")?;
            workdir_holder.path().to_path_buf()
        }
    };

    // Every engine's settings, durability first, before anything is measured; and which of
    // them have a cache to run at the equal budget.
    let mut variants: Vec<(Variant, EngineReport)> = Vec::new();
    let mut budgeted: Vec<(Variant, EngineReport)> = Vec::new();
    for spec in registry::engines(args.peers) {
        let plain = Variant::default_of(spec);
        let (report, _) = probe(&plain, &cfg.settings, &workdir)?;
        variants.push((plain, report));
        if let Some(budget) = args.equal_cache {
            let variant = Variant {
                spec,
                cache_bytes: Some(budget),
            };
            let (report, honoured) = probe(&variant, &cfg.settings, &workdir)?;
            if honoured {
                budgeted.push((variant, report));
            }
        }
    }
    variants.extend(budgeted);
    let selected: Vec<(Variant, EngineReport, Vec<&'static str>)> = variants
        .into_iter()
        .map(|(variant, report)| {
            let workloads = all_workloads()
                .into_iter()
                .filter(|w| selected_by(&args.filter, &report.name, w))
                .collect::<Vec<_>>();
            (variant, report, workloads)
        })
        .filter(|(_, _, w)| !w.is_empty())
        .collect();
    if args.list {
        for (_, report, workloads) in &selected {
            println!("{} ({}): {}", report.name, report.kind, workloads.join(" "));
        }
        return Ok(());
    }
    if selected.is_empty() {
        bail!(
            "--filter {:?} matches no workload of any engine",
            args.filter
        );
    }
    for (_, report, _) in &selected {
        let shown: Vec<String> = report
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        eprintln!(
            "{:>18} ({}): {}",
            report.name,
            report.kind,
            shown.join(", ")
        );
    }
    let peak_scope = memory::reset_peak();
    eprintln!(
        "keys={} ops={} value_size={} repeats={} phase_seconds={} workdir={}\npeak RSS: {}",
        cfg.keys,
        cfg.ops,
        cfg.value_bytes,
        args.repeats,
        args.phase_seconds,
        workdir.display(),
        peak_scope.describe()
    );

    let steps: usize =
        selected.iter().map(|(_, _, w)| w.len()).sum::<usize>() * args.repeats as usize;
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .context("progress template")?
            .progress_chars("=> "),
    );
    let mut results: Vec<PhaseResult> = Vec::new();
    for repeat in 1..=args.repeats {
        for (variant, report, _) in &selected {
            bar.set_message(format!(
                "repeat {repeat}/{} · {}",
                args.repeats, report.name
            ));
            let mut sink = |result: PhaseResult| -> Result<()> {
                let line = format!(
                    "{:>18} {:<13} {:>12.0} ops/s  p50 {:>9}  p99 {:>9}  peak RSS {:>9}{}",
                    result.engine,
                    result.workload,
                    result.ops_per_sec,
                    nanos(result.latency_ns.p50),
                    nanos(result.latency_ns.p99),
                    result
                        .peak_rss_bytes
                        .map_or_else(|| "—".to_string(), |b| format!("{} MiB", b >> 20)),
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
            child::spawn(&args, variant, repeat, &workdir, &mut sink)
                .with_context(|| format!("{} (repeat {repeat})", report.name))?;
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
            ycsb_distribution: args
                .distribution
                .map(|d| Distribution::from(d).name().to_string()),
            filters: args.filter.clone(),
            cache_budget_bytes: args.equal_cache,
            peak_rss: Some(peak_scope.describe().to_string()),
        },
        engines: selected.into_iter().map(|(_, report, _)| report).collect(),
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

/// Opens `variant` once in a scratch directory under `workdir` to learn the settings it really
/// runs with, and whether it took the cache budget.
fn probe(variant: &Variant, base: &Settings, workdir: &Path) -> Result<(EngineReport, bool)> {
    let name = variant.name();
    let settings = Settings {
        cache_bytes: variant.cache_bytes,
        ..base.clone()
    };
    let dir = workdir.join(format!("{name}-probe"));
    let opened = dbbench::open_fresh(&variant.spec, &dir, &settings)
        .with_context(|| format!("opening {name}"))?;
    let report = EngineReport {
        name,
        kind: variant.spec.kind.to_string(),
        settings: opened.settings,
        cache_budget_bytes: variant.cache_bytes,
    };
    let honoured = opened.honours_cache_budget;
    drop(opened.engine);
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok((report, honoured))
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
