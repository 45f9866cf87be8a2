//! The harness's output: one [`RunReport`] as JSON, read back by `cargo xtask bench`.
//!
//! The format is plain data with a version number ([`FORMAT`]). It lives in a crate of its own,
//! with nothing but `serde`, so that the harness (which builds every stage) and `cargo xtask
//! bench` (which must not, just to read a file) share one definition. xtask still checks the
//! version first: a `bench.json` from an older harness is refused, not misread.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the JSON format. Raise it whenever a field changes meaning or goes away.
pub const FORMAT: u32 = 1;

/// Everything one harness run measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunReport {
    /// [`FORMAT`].
    pub format: u32,
    /// What was asked for.
    pub config: RunConfig,
    /// Every engine that ran, in registry order, with the settings it really had.
    pub engines: Vec<EngineReport>,
    /// One entry per (repeat, engine, workload), in the order they ran.
    pub results: Vec<PhaseResult>,
}

/// The parameters of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig {
    /// Records loaded by the fills.
    pub keys: u64,
    /// Operations per read, write or YCSB phase (short scans: a tenth of it).
    pub ops: u64,
    /// Bytes per key.
    pub key_bytes: usize,
    /// Bytes per value.
    pub value_bytes: usize,
    /// Entries per short scan (`seekrandom`).
    pub scan_length: usize,
    /// Times the whole sequence ran for every engine.
    pub repeats: u32,
    /// Wall-clock limit of one phase, in seconds; a phase that reaches it stops early and is
    /// marked `capped`.
    pub phase_seconds: f64,
    /// The durability setting every engine ran with.
    pub sync: String,
    /// The memtable size given to our LSM stages.
    pub memtable_bytes: usize,
    /// The YCSB request distribution, if one was forced for every workload.
    pub ycsb_distribution: Option<String>,
    /// The `--filter` patterns, if any.
    pub filters: Vec<String>,
    /// The one block-cache budget of the equal-cache run, in bytes, if it ran.
    #[serde(default)]
    pub cache_budget_bytes: Option<u64>,
    /// How each phase's peak RSS was measured (per phase, or since the process started).
    #[serde(default)]
    pub peak_rss: Option<String>,
}

/// One engine and its settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EngineReport {
    /// Its name in tables.
    pub name: String,
    /// `stage` or `peer`.
    pub kind: String,
    /// `(name, value)` of every setting it ran with.
    pub settings: Vec<(String, String)>,
    /// `Some(budget)` for a row of the equal-cache run: the engine with its cache set to this
    /// many bytes, named `<engine>@<budget>`. `None` for an engine at its own defaults.
    #[serde(default)]
    pub cache_budget_bytes: Option<u64>,
}

/// Latency percentiles of one phase, in nanoseconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Latency {
    /// Operations recorded.
    pub count: u64,
    /// Fastest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Slowest.
    pub max: u64,
}

/// What one phase of one engine did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhaseResult {
    /// Engine name.
    pub engine: String,
    /// Workload name (`fillseq`, …, `ycsb-a`, …).
    pub workload: String,
    /// `db_bench` or `ycsb`.
    pub suite: String,
    /// Which repeat, from 1.
    pub repeat: u32,
    /// Operations the phase meant to do.
    pub planned_ops: u64,
    /// Operations it did (fewer when `capped`). For `readseq`, entries visited.
    pub ops: u64,
    /// Whether the phase stopped at the time limit.
    pub capped: bool,
    /// Wall-clock seconds of the timed loop.
    pub seconds: f64,
    /// `ops / seconds`.
    pub ops_per_sec: f64,
    /// Latency of every operation.
    pub latency_ns: Latency,
    /// Latency by operation kind (YCSB: read, update, insert, scan, read-modify-write).
    pub latency_by_kind_ns: BTreeMap<String, Latency>,
    /// Our stages' `Stats` counters divided by `ops` (`None` for peers).
    pub stats_per_op: Option<BTreeMap<String, f64>>,
    /// Apparent size of every file in the store's directory when the phase ended.
    pub disk_bytes: u64,
    /// The most memory the engine's process had resident during the phase (`VmHWM`), in bytes;
    /// how it was reset is [`RunConfig::peak_rss`]. `None` where the kernel does not say, and
    /// in reports written before it was measured.
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// Key and value bytes the phase asked to write.
    pub user_bytes_written: u64,
    /// Bytes the whole process passed to `write`-like system calls during the phase
    /// (`wchar` of `/proc/self/io`): the same ruler for every engine, background threads
    /// included. `None` where the kernel does not say.
    pub os_bytes_written: Option<u64>,
    /// `os_bytes_written / user_bytes_written`.
    pub write_amp_os: Option<f64>,
    /// The stage's own `disk_bytes_written / user_bytes_written` from its `Stats`.
    pub write_amp_stats: Option<f64>,
}
