//! The YCSB core workloads A–F (Cooper et al., *Benchmarking Cloud Serving Systems with YCSB*,
//! SoCC 2010), on one store loaded with `--keys` records.
//!
//! | workload | mix | request distribution | models |
//! | --- | --- | --- | --- |
//! | A | 50 % read, 50 % update | zipfian | a session store recording recent actions |
//! | B | 95 % read, 5 % update | zipfian | photo tagging: mostly reads |
//! | C | 100 % read | zipfian | a user-profile cache |
//! | D | 95 % read, 5 % insert | latest | status updates: people read the newest |
//! | E | 95 % short scan, 5 % insert | zipfian (scan length uniform 1–100) | threaded conversations |
//! | F | 50 % read, 50 % read-modify-write | zipfian | a user database: read, change, write back |
//!
//! They run in YCSB's recommended order — load, A, B, C, F, D, E — on the same store, so that
//! the inserts of D and E come last. YCSB records are ten 100-byte fields; here a record is one
//! value of `--value-size` bytes, the same as in the db_bench phases. `--distribution` forces
//! one request distribution (say `uniform`) on every workload.

use std::path::Path;

use anyhow::{Result, bail};
use rkv_cli::load::Order;

use crate::dbbench::{Config, Sink, open_fresh};
use crate::distribution::{Chooser, Distribution};
use crate::engine::{Engine, EngineSpec};
use crate::keys::{FILL_SEED, UPDATE_SEED, Values, present_key};
use crate::measure::{PhaseName, Recorder, phase};

/// One core workload: percentages of each operation, and how records are chosen.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// `ycsb-a` … `ycsb-f`.
    pub name: &'static str,
    /// Percent of reads.
    pub read: u64,
    /// Percent of updates (a put to an existing record).
    pub update: u64,
    /// Percent of inserts (a put of a new record).
    pub insert: u64,
    /// Percent of short scans.
    pub scan: u64,
    /// Percent of read-modify-writes.
    pub read_modify_write: u64,
    /// YCSB's `requestdistribution` for this workload.
    pub distribution: Distribution,
}

/// The core workloads, in the order they run.
pub const WORKLOADS: &[Workload] = &[
    workload("ycsb-a", [50, 50, 0, 0, 0], Distribution::Zipfian),
    workload("ycsb-b", [95, 5, 0, 0, 0], Distribution::Zipfian),
    workload("ycsb-c", [100, 0, 0, 0, 0], Distribution::Zipfian),
    workload("ycsb-f", [50, 0, 0, 0, 50], Distribution::Zipfian),
    workload("ycsb-d", [95, 0, 5, 0, 0], Distribution::Latest),
    workload("ycsb-e", [0, 0, 5, 95, 0], Distribution::Zipfian),
];

/// The longest YCSB scan (workload E draws a length uniformly in `1..=MAX_SCAN`).
pub const MAX_SCAN: u64 = 100;

/// `[read, update, insert, scan, read_modify_write]` percentages.
const fn workload(name: &'static str, mix: [u64; 5], distribution: Distribution) -> Workload {
    Workload {
        name,
        read: mix[0],
        update: mix[1],
        insert: mix[2],
        scan: mix[3],
        read_modify_write: mix[4],
        distribution,
    }
}

/// The workloads' names, in the order they run.
pub fn names() -> impl Iterator<Item = &'static str> {
    WORKLOADS.iter().map(|w| w.name)
}

/// Reads record `i` and checks that it exists.
fn read(engine: &mut dyn Engine, key: &[u8]) -> Result<Vec<u8>> {
    match engine.get(key)? {
        Some(value) => Ok(value),
        None => bail!("record {} was not found", String::from_utf8_lossy(key)),
    }
}

/// Runs the wanted YCSB workloads of one engine once, handing each result to `sink`.
pub fn run(
    spec: &EngineSpec,
    cfg: &Config,
    repeat: u32,
    forced: Option<Distribution>,
    workdir: &Path,
    wanted: &dyn Fn(&str) -> bool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    if !names().any(wanted) {
        return Ok(());
    }
    let fills = Values::new(FILL_SEED, cfg.value_bytes);
    let updates = Values::new(UPDATE_SEED, cfg.value_bytes);
    let dir = workdir.join("ycsb");
    let mut opened = open_fresh(spec, &dir, &cfg.settings)?;
    let engine = opened.engine.as_mut();

    // The load phase: every record, in random order, untimed (fillrandom measures the same).
    let load = rkv_cli::load::LoadSpec {
        count: cfg.keys,
        value_size: cfg.value_bytes,
        seed: cfg.seed,
        order: Order::Random,
        values: Default::default(),
    };
    let mut key = Vec::with_capacity(16);
    for i in rkv_cli::load::key_order(&load)? {
        present_key(i, &mut key);
        engine.put(&key, fills.of(i))?;
    }

    let mut records = cfg.keys.max(1);
    for (index, w) in WORKLOADS.iter().enumerate() {
        if !wanted(w.name) {
            continue;
        }
        let distribution = forced.unwrap_or(w.distribution);
        let mut chooser = Chooser::new(distribution, records, cfg.seed ^ index as u64);
        let name = PhaseName {
            engine: spec.name.to_string(),
            workload: w.name.to_string(),
            suite: "ycsb",
            repeat,
            planned_ops: cfg.ops,
        };
        let result = phase(name, engine, &dir, cfg.phase_cap, |e, rec| {
            for _ in 0..cfg.ops {
                one_op(
                    e,
                    rec,
                    w,
                    &mut chooser,
                    &mut records,
                    &fills,
                    &updates,
                    &mut key,
                )?;
                if rec.out_of_time() {
                    break;
                }
            }
            Ok(())
        })?;
        sink(result)?;
    }
    drop(opened);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// One operation of workload `w`, chosen by its mix.
#[allow(clippy::too_many_arguments)]
fn one_op(
    e: &mut dyn Engine,
    rec: &mut Recorder,
    w: &Workload,
    chooser: &mut Chooser,
    records: &mut u64,
    fills: &Values,
    updates: &Values,
    key: &mut Vec<u8>,
) -> Result<()> {
    let dice = chooser.rng().below(100);
    if dice < w.read {
        present_key(chooser.next(*records), key);
        rec.op("read", || read(e, key))?;
    } else if dice < w.read + w.update {
        let i = chooser.next(*records);
        present_key(i, key);
        let value = updates.of(i);
        rec.op("update", || e.put(key, value))?;
        rec.wrote(key.len() + value.len());
    } else if dice < w.read + w.update + w.insert {
        let i = *records;
        present_key(i, key);
        let value = fills.of(i);
        rec.op("insert", || e.put(key, value))?;
        rec.wrote(key.len() + value.len());
        *records += 1;
    } else if dice < w.read + w.update + w.insert + w.scan {
        let start = chooser.next(*records);
        let length = 1 + chooser.rng().below(MAX_SCAN);
        present_key(start, key);
        rec.op("scan", || {
            e.scan(Some(key), None, length as usize, &mut |_, _| {})
        })?;
    } else {
        let i = chooser.next(*records);
        present_key(i, key);
        let value = updates.of(i);
        rec.op("read-modify-write", || {
            read(e, key)?;
            e.put(key, value)
        })?;
        rec.wrote(key.len() + value.len());
    }
    Ok(())
}
