//! Timing one phase: every operation into an HDR histogram, and around the phase the counters,
//! the disk size and the bytes written.
//!
//! An operation's latency is measured around that call alone. The phase's throughput is the
//! number of operations over the wall-clock time of the whole loop, so it also pays for making
//! keys (tens of nanoseconds) — the same for every engine.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;

use crate::engine::Engine;
use crate::memory;
use crate::report::{Latency, PhaseResult};

/// Slowest latency the histograms hold exactly: 100 s. Slower operations are recorded as 100 s.
const MAX_TRACKED_NS: u64 = 100_000_000_000;

/// A histogram of nanoseconds, 3 significant digits.
fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3).context("creating a latency histogram")
}

/// Collects the operations of one phase.
pub struct Recorder {
    /// Every operation.
    all: Histogram<u64>,
    /// Operations by kind, for mixed workloads.
    by_kind: BTreeMap<&'static str, Histogram<u64>>,
    /// Operations recorded.
    ops: u64,
    /// Key and value bytes asked to be written.
    user_bytes: u64,
    /// When the phase started.
    started: Instant,
    /// When the phase must stop, whatever it has left to do.
    deadline: Instant,
    /// When the last operation ended.
    last: Instant,
    /// Whether the deadline was reached.
    capped: bool,
}

impl Recorder {
    /// A recorder whose phase may run for `cap`.
    pub fn new(cap: Duration) -> Result<Self> {
        let now = Instant::now();
        Ok(Recorder {
            all: histogram()?,
            by_kind: BTreeMap::new(),
            ops: 0,
            user_bytes: 0,
            started: now,
            deadline: now + cap,
            last: now,
            capped: false,
        })
    }

    /// Runs one operation of `kind`, timing it.
    pub fn op<T>(&mut self, kind: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let out = f()?;
        let end = Instant::now();
        self.record(kind, end.duration_since(start), end)?;
        Ok(out)
    }

    /// Records an operation of `kind` that took `took` and ended at `end`.
    pub fn record(&mut self, kind: &'static str, took: Duration, end: Instant) -> Result<()> {
        let ns = u64::try_from(took.as_nanos())
            .unwrap_or(u64::MAX)
            .clamp(1, MAX_TRACKED_NS);
        self.all.record(ns).context("recording a latency")?;
        if !kind.is_empty() {
            let hist = match self.by_kind.entry(kind) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(histogram()?),
            };
            hist.record(ns).context("recording a latency")?;
        }
        self.ops += 1;
        self.last = end;
        Ok(())
    }

    /// Counts `bytes` of keys and values asked to be written.
    pub fn wrote(&mut self, bytes: usize) {
        self.user_bytes += bytes as u64;
    }

    /// Whether the phase has used up its time; once true, it stays true.
    pub fn out_of_time(&mut self) -> bool {
        if !self.capped && self.last >= self.deadline {
            self.capped = true;
        }
        self.capped
    }

    /// Operations recorded so far.
    pub fn ops(&self) -> u64 {
        self.ops
    }
}

/// Percentiles of a histogram.
fn latency(h: &Histogram<u64>) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
    Latency {
        count: h.len(),
        min: h.min(),
        mean: h.mean(),
        p50: h.value_at_quantile(0.50),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
    }
}

/// Names a phase for its result.
#[derive(Clone, Debug)]
pub struct PhaseName {
    /// Engine name.
    pub engine: String,
    /// Workload name.
    pub workload: String,
    /// `db_bench` or `ycsb`.
    pub suite: &'static str,
    /// Repeat number, from 1.
    pub repeat: u32,
    /// Operations planned.
    pub planned_ops: u64,
}

/// Runs `body` as one measured phase on `engine`, whose files are in `dir`.
///
/// The counters and the peak RSS are reset first; the disk size, the bytes written and the
/// peak RSS are read after `body` returns, outside the timed loop.
pub fn phase(
    name: PhaseName,
    engine: &mut dyn Engine,
    dir: &Path,
    cap: Duration,
    body: impl FnOnce(&mut dyn Engine, &mut Recorder) -> Result<()>,
) -> Result<PhaseResult> {
    engine.reset_stats();
    memory::reset_peak();
    let written_before = os_bytes_written();
    let mut rec = Recorder::new(cap)?;
    body(engine, &mut rec).with_context(|| format!("{} {}", name.engine, name.workload))?;
    let seconds = rec.last.duration_since(rec.started).as_secs_f64();
    let written_after = os_bytes_written();
    let peak_rss_bytes = memory::peak_rss_bytes();
    let stats = engine.stats();
    let ops = rec.ops;
    let os_bytes_written = written_before
        .zip(written_after)
        .map(|(before, after)| after.saturating_sub(before));
    let ratio = |bytes: u64| (rec.user_bytes > 0).then(|| bytes as f64 / rec.user_bytes as f64);
    Ok(PhaseResult {
        engine: name.engine,
        workload: name.workload,
        suite: name.suite.to_string(),
        repeat: name.repeat,
        planned_ops: name.planned_ops,
        ops,
        capped: rec.capped,
        seconds,
        ops_per_sec: if seconds > 0.0 {
            ops as f64 / seconds
        } else {
            0.0
        },
        latency_ns: latency(&rec.all),
        latency_by_kind_ns: rec
            .by_kind
            .iter()
            .map(|(kind, h)| ((*kind).to_string(), latency(h)))
            .collect(),
        stats_per_op: stats.as_ref().map(|s| {
            s.pairs()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v as f64 / ops.max(1) as f64))
                .collect()
        }),
        disk_bytes: dir_size(dir)?,
        peak_rss_bytes,
        user_bytes_written: rec.user_bytes,
        os_bytes_written,
        write_amp_os: os_bytes_written.and_then(ratio),
        write_amp_stats: stats
            .as_ref()
            .filter(|_| rec.user_bytes > 0)
            .map(|s| s.disk_bytes_written)
            .and_then(ratio),
    })
}

/// Bytes this process has passed to `write`-like system calls so far (`wchar` in
/// `/proc/self/io`), or `None` where that file does not exist.
pub fn os_bytes_written() -> Option<u64> {
    let text = fs::read_to_string("/proc/self/io").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The apparent size of every file under `dir`, recursively.
pub fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    let entries = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        // An engine's background threads delete files while this walks the directory: a file
        // listed a moment ago and gone now takes no space.
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("inspecting {}", entry.path().display()));
            }
        };
        if meta.is_dir() {
            total += dir_size(&entry.path())?;
        } else {
            total += meta.len();
        }
    }
    Ok(total)
}
