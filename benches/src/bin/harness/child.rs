//! One process per engine: the harness starts itself once per engine and repeat, and the child
//! runs that engine's whole sequence and prints each phase's result as a line of JSON.
//!
//! Why a process each: the peak resident memory the report shows must be one engine's own. In
//! one long process, what an engine allocated and its allocator kept after it closed would be
//! counted against every engine after it, and background threads that outlive a close would
//! compete with the next engine for the CPU. A fresh process starts every engine from the same
//! few MiB, and the bytes-written counter of `/proc/self/io` is then that engine's alone too.
//! Starting a process costs milliseconds, and nothing is timed across it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use clap::ValueEnum;
use rkv_benches::dbbench::{self, Config, Sink};
use rkv_benches::distribution::Distribution;
use rkv_benches::registry;
use rkv_benches::report::PhaseResult;
use rkv_benches::variant::Variant;
use rkv_benches::ycsb;

use crate::args::{Args, all_workloads, selected_by};

/// Runs `variant`'s sequence once in a child process, handing each result to `sink` as the child
/// prints it.
pub fn spawn(
    args: &Args,
    variant: &Variant,
    repeat: u32,
    workdir: &Path,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let exe = std::env::current_exe().context("finding the harness's own executable")?;
    let mut cmd = Command::new(exe);
    cmd.args(["--keys", &args.keys.to_string()])
        .args(["--value-size", &args.value_size.to_string()])
        .args(["--phase-seconds", &args.phase_seconds.to_string()])
        .args(["--sync", &args.sync.to_string()])
        .args(["--memtable-bytes", &args.memtable_bytes.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .arg("--workdir")
        .arg(workdir)
        .args(["--child-engine", variant.spec.name])
        .args(["--child-repeat", &repeat.to_string()]);
    if let Some(ops) = args.ops {
        cmd.args(["--ops", &ops.to_string()]);
    }
    if let Some(value) = args.distribution.and_then(|d| d.to_possible_value()) {
        cmd.args(["--distribution", value.get_name()]);
    }
    if args.peers {
        cmd.arg("--peers");
    }
    if let Some(bytes) = variant.cache_bytes {
        cmd.args(["--child-cache", &bytes.to_string()]);
    }
    for f in &args.filter {
        cmd.args(["--filter", f]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the engine's process")?;
    let stdout = child
        .stdout
        .take()
        .context("the engine's process has no stdout")?;
    let read = || -> Result<()> {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading the engine's process")?;
            let result: PhaseResult = serde_json::from_str(&line)
                .with_context(|| format!("the engine's process printed {line:?}"))?;
            sink(result)?;
        }
        Ok(())
    };
    if let Err(error) = read() {
        let _ = child.kill();
        let _ = child.wait();
        return Err(error);
    }
    let status = child.wait().context("waiting for the engine's process")?;
    ensure!(
        status.success(),
        "the engine's process failed ({status}); its error is above"
    );
    Ok(())
}

/// The child's side: runs `engine` once with the child's cache budget, printing every result to
/// stdout as one line of JSON.
pub fn run_one(args: &Args, cfg: &Config, engine: &str) -> Result<()> {
    let Some(spec) = registry::engines(args.peers)
        .into_iter()
        .find(|e| e.name == engine)
    else {
        bail!("no engine is called {engine:?} in this build");
    };
    let variant = Variant {
        spec,
        cache_bytes: args.child.child_cache,
    };
    let name = variant.name();
    let mut cfg = cfg.clone();
    cfg.settings.cache_bytes = variant.cache_bytes;
    let workloads: Vec<&str> = all_workloads()
        .into_iter()
        .filter(|w| selected_by(&args.filter, &name, w))
        .collect();
    let is_wanted = |w: &str| workloads.contains(&w);
    let mut stdout = std::io::stdout().lock();
    let mut sink = |mut result: PhaseResult| -> Result<()> {
        result.engine.clone_from(&name);
        writeln!(stdout, "{}", serde_json::to_string(&result)?)?;
        stdout.flush()?;
        Ok(())
    };
    let repeat = args.child.child_repeat;
    let forced = args.distribution.map(Distribution::from);
    let dir = args
        .workdir
        .as_ref()
        .context("a child process needs --workdir")?
        .join(&name);
    dbbench::run(&spec, &cfg, repeat, &dir, &is_wanted, &mut sink)?;
    ycsb::run(&spec, &cfg, repeat, forced, &dir, &is_wanted, &mut sink)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
