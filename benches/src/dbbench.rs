//! The db_bench-style phases, after RocksDB's `db_bench` tool: one store is filled, overwritten,
//! read and deleted from, in that order, and each step is measured on its own.
//!
//! | phase | what it does (`N` = `--keys`, `M` = `--ops`) |
//! | --- | --- |
//! | `fillseq` | `N` puts in ascending key order into a new, empty store |
//! | `fillrandom` | `N` puts in a random order into another new store, which the next phases use |
//! | `overwrite` | `M` puts of new values to uniformly random existing keys |
//! | `readrandom` | `M` gets of uniformly random existing keys (every one must be found) |
//! | `readmissing` | `M` gets of absent keys that sort between existing ones (none may be found) |
//! | `readseq` | one scan of the whole store; each entry is one operation |
//! | `seekrandom` | `M / 10` short scans: seek to a random existing key, read the next 100 entries |
//! | `deleterandom` | `M` deletes of uniformly random existing keys |
//!
//! Fills are never cut short, since every later phase relies on the full store; the others stop
//! at `--phase-seconds` (and say so) so that a slow stage cannot hold the whole run hostage.
//! Every read checks its answer: a bench that reads garbage fast measures nothing.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail, ensure};
use rkv_cli::load::{LoadSpec, Order, SplitMix64, key_order};

use crate::engine::{Engine, EngineSpec, Opened, Settings};
use crate::keys::{FILL_SEED, UPDATE_SEED, Values, missing_key, present_key};
use crate::measure::{PhaseName, phase};
use crate::report::PhaseResult;

/// The phases, in the order they run.
pub const PHASES: &[&str] = &[
    "fillseq",
    "fillrandom",
    "overwrite",
    "readrandom",
    "readmissing",
    "readseq",
    "seekrandom",
    "deleterandom",
];

/// Entries read by one `seekrandom` scan.
pub const SCAN_LENGTH: usize = 100;

/// The parameters shared by every workload of a run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Records the fills write.
    pub keys: u64,
    /// Operations per non-fill phase.
    pub ops: u64,
    /// Bytes per value.
    pub value_bytes: usize,
    /// Time limit of a non-fill phase.
    pub phase_cap: Duration,
    /// What every engine is opened with.
    pub settings: Settings,
    /// Seed of the random choices (key order, which keys to read).
    pub seed: u64,
}

/// Where results go as they are made.
pub type Sink<'a> = dyn FnMut(PhaseResult) -> Result<()> + 'a;

/// Opens `spec` in a new directory `dir` (removing what was there).
pub fn open_fresh(spec: &EngineSpec, dir: &Path, settings: &Settings) -> Result<Opened> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    (spec.open)(dir, settings)
}

/// Puts every record into `engine` in `order`, timed when `rec` is given.
fn fill(
    engine: &mut dyn Engine,
    cfg: &Config,
    order: Order,
    values: &Values,
    rec: Option<&mut crate::measure::Recorder>,
) -> Result<()> {
    let spec = LoadSpec {
        count: cfg.keys,
        value_size: cfg.value_bytes,
        seed: cfg.seed,
        order,
        values: Default::default(),
    };
    let mut key = Vec::with_capacity(16);
    match rec {
        Some(rec) => {
            for i in key_order(&spec)? {
                present_key(i, &mut key);
                let value = values.of(i);
                rec.op("put", || engine.put(&key, value))?;
                rec.wrote(key.len() + value.len());
            }
        }
        None => {
            for i in key_order(&spec)? {
                present_key(i, &mut key);
                engine.put(&key, values.of(i))?;
            }
        }
    }
    Ok(())
}

/// Runs the wanted db_bench phases of one engine once, handing each result to `sink`.
///
/// `wanted` says whether a phase is to be measured; a fill that is not wanted still runs,
/// untimed, when a later wanted phase needs its data. Stores live under `workdir`.
pub fn run(
    spec: &EngineSpec,
    cfg: &Config,
    repeat: u32,
    workdir: &Path,
    wanted: &dyn Fn(&str) -> bool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let fills = Values::new(FILL_SEED, cfg.value_bytes);
    let updates = Values::new(UPDATE_SEED, cfg.value_bytes);
    let name = |workload: &str, planned_ops: u64| PhaseName {
        engine: spec.name.to_string(),
        workload: workload.to_string(),
        suite: "db_bench",
        repeat,
        planned_ops,
    };
    let no_cap = Duration::from_secs(u64::MAX / 4);

    if wanted("fillseq") {
        let dir = workdir.join("fillseq");
        let mut opened = open_fresh(spec, &dir, &cfg.settings)?;
        let result = phase(
            name("fillseq", cfg.keys),
            opened.engine.as_mut(),
            &dir,
            no_cap,
            |engine, rec| fill(engine, cfg, Order::Seq, &fills, Some(rec)),
        )?;
        sink(result)?;
        drop(opened);
        std::fs::remove_dir_all(&dir)?;
    }

    if !PHASES[1..].iter().any(|p| wanted(p)) {
        return Ok(());
    }
    let dir = workdir.join("random");
    let mut opened = open_fresh(spec, &dir, &cfg.settings)?;
    let engine = opened.engine.as_mut();
    if wanted("fillrandom") {
        let result = phase(
            name("fillrandom", cfg.keys),
            engine,
            &dir,
            no_cap,
            |e, rec| fill(e, cfg, Order::Random, &fills, Some(rec)),
        )?;
        sink(result)?;
    } else {
        fill(engine, cfg, Order::Random, &fills, None)?;
    }

    let n = cfg.keys.max(1);
    let mut rng = SplitMix64::new(cfg.seed ^ 0xdb);
    let mut key = Vec::with_capacity(16);

    if wanted("overwrite") {
        let result = phase(
            name("overwrite", cfg.ops),
            engine,
            &dir,
            cfg.phase_cap,
            |e, rec| {
                for _ in 0..cfg.ops {
                    let i = rng.below(n);
                    present_key(i, &mut key);
                    let value = updates.of(i);
                    rec.op("put", || e.put(&key, value))?;
                    rec.wrote(key.len() + value.len());
                    if rec.out_of_time() {
                        break;
                    }
                }
                Ok(())
            },
        )?;
        sink(result)?;
    }

    if wanted("readrandom") {
        let result = phase(
            name("readrandom", cfg.ops),
            engine,
            &dir,
            cfg.phase_cap,
            |e, rec| {
                for _ in 0..cfg.ops {
                    let i = rng.below(n);
                    present_key(i, &mut key);
                    let found = rec.op("get", || e.get(&key))?;
                    match found {
                        Some(v) if v.len() == cfg.value_bytes => {}
                        Some(v) => bail!(
                            "key {} has a {}-byte value, expected {}",
                            String::from_utf8_lossy(&key),
                            v.len(),
                            cfg.value_bytes
                        ),
                        None => bail!("key {} was not found", String::from_utf8_lossy(&key)),
                    }
                    if rec.out_of_time() {
                        break;
                    }
                }
                Ok(())
            },
        )?;
        sink(result)?;
    }

    if wanted("readmissing") {
        let result = phase(
            name("readmissing", cfg.ops),
            engine,
            &dir,
            cfg.phase_cap,
            |e, rec| {
                for _ in 0..cfg.ops {
                    missing_key(rng.below(n), &mut key);
                    if rec.op("get", || e.get(&key))?.is_some() {
                        bail!("absent key {} was found", String::from_utf8_lossy(&key));
                    }
                    if rec.out_of_time() {
                        break;
                    }
                }
                Ok(())
            },
        )?;
        sink(result)?;
    }

    if wanted("readseq") {
        let result = phase(name("readseq", cfg.keys), engine, &dir, no_cap, |e, rec| {
            let mut last = std::time::Instant::now();
            let mut error = None;
            let seen = e.scan(None, None, usize::MAX, &mut |_, _| {
                let now = std::time::Instant::now();
                if let Err(err) = rec.record("next", now.duration_since(last), now) {
                    error.get_or_insert(err);
                }
                last = std::time::Instant::now();
            })?;
            if let Some(err) = error {
                return Err(err);
            }
            ensure!(
                seen as u64 == cfg.keys,
                "a full scan saw {seen} entries, the store holds {}",
                cfg.keys
            );
            Ok(())
        })?;
        sink(result)?;
    }

    if wanted("seekrandom") {
        let scans = (cfg.ops / 10).max(1);
        let result = phase(
            name("seekrandom", scans),
            engine,
            &dir,
            cfg.phase_cap,
            |e, rec| {
                for _ in 0..scans {
                    let i = rng.below(n);
                    present_key(i, &mut key);
                    let expected = SCAN_LENGTH.min((n - i) as usize);
                    let seen = rec.op("scan", || {
                        e.scan(Some(&key), None, SCAN_LENGTH, &mut |_, _| {})
                    })?;
                    ensure!(
                        seen == expected,
                        "a scan from record {i} saw {seen} entries, expected {expected}"
                    );
                    if rec.out_of_time() {
                        break;
                    }
                }
                Ok(())
            },
        )?;
        sink(result)?;
    }

    if wanted("deleterandom") {
        let result = phase(
            name("deleterandom", cfg.ops),
            engine,
            &dir,
            cfg.phase_cap,
            |e, rec| {
                for _ in 0..cfg.ops {
                    present_key(rng.below(n), &mut key);
                    rec.op("delete", || e.delete(&key))?;
                    rec.wrote(key.len());
                    if rec.out_of_time() {
                        break;
                    }
                }
                Ok(())
            },
        )?;
        sink(result)?;
    }

    drop(opened);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
