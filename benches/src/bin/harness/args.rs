//! The harness's command line, and the two questions every process of it asks of it: which
//! workloads exist, and which of them `--filter` keeps.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, ValueEnum};
use rkv_benches::dbbench::PHASES;
use rkv_benches::distribution::Distribution;
use rkv_benches::engine::DEFAULT_MEMTABLE_BYTES;
use rkv_benches::keys::DEFAULT_VALUE_BYTES;
use rkv_benches::ycsb;
use rkv_contract::SyncMode;

/// Runs the db_bench phases and YCSB workloads against every rkv stage.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Args {
    /// Records each fill writes (16-byte keys).
    #[arg(long, env = "RKV_BENCH_KEYS", default_value_t = 10_000)]
    pub keys: u64,
    /// Operations per read/write/YCSB phase [default: the smaller of --keys and 10000].
    #[arg(long)]
    pub ops: Option<u64>,
    /// Bytes per value.
    #[arg(long, default_value_t = DEFAULT_VALUE_BYTES)]
    pub value_size: usize,
    /// How many times every engine runs the whole sequence.
    #[arg(long, default_value_t = 3)]
    pub repeats: u32,
    /// Wall-clock limit of a non-fill phase, in seconds; a phase that reaches it stops early
    /// and is marked as capped.
    #[arg(long, default_value_t = 5.0)]
    pub phase_seconds: f64,
    /// Durability of every write, for every engine: never (handed to the OS) or always (fsync).
    #[arg(long, default_value = "never", value_parser = parse_sync)]
    pub sync: SyncMode,
    /// Memtable size of our LSM stages, in bytes.
    #[arg(long, default_value_t = DEFAULT_MEMTABLE_BYTES)]
    pub memtable_bytes: usize,
    /// Also run the peer engines (needs a build with `--features peers`, and `--features
    /// rocksdb` for RocksDB).
    #[arg(long)]
    pub peers: bool,
    /// Run every engine that has a cache a second time, with its cache set to this many bytes
    /// (rows named `<engine>@<budget>`).
    #[arg(long, value_name = "BYTES")]
    pub equal_cache: Option<u64>,
    /// Run only the WORKLOAD/ENGINE pairs containing this text (repeatable), e.g.
    /// `readrandom`, `02-sstables`, `ycsb-a/01`.
    #[arg(long, value_name = "TEXT")]
    pub filter: Vec<String>,
    /// Force one YCSB request distribution on every workload.
    #[arg(long)]
    pub distribution: Option<DistributionArg>,
    /// Where the stores are created [default: a temporary directory].
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Write the whole report to this JSON file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print every phase's result to stdout as a line of JSON.
    #[arg(long)]
    pub json_lines: bool,
    /// Seed of the key order and of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// List the engines and workloads, then exit.
    #[arg(long)]
    pub list: bool,
    /// Internal: run one engine's sequence in this process and print its results as JSON
    /// lines (the harness starts itself this way, once per engine and repeat).
    #[command(flatten)]
    pub child: ChildArgs,
}

/// `--distribution` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DistributionArg {
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

/// Whether `--filter` keeps `workload` of `engine`: no filter keeps everything.
pub fn selected_by(filters: &[String], engine: &str, workload: &str) -> bool {
    let id = format!("{workload}/{engine}");
    filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str()))
}

/// Every workload name, db_bench first.
pub fn all_workloads() -> Vec<&'static str> {
    PHASES.iter().copied().chain(ycsb::names()).collect()
}

/// The hidden flags of a child process.
#[derive(Debug, ClapArgs)]
pub struct ChildArgs {
    /// Run only this engine, once, and print JSON lines (set by the harness itself).
    #[arg(long, hide = true, value_name = "ENGINE")]
    pub child_engine: Option<String>,
    /// The repeat number the child's results carry.
    #[arg(long, hide = true, default_value_t = 1)]
    pub child_repeat: u32,
    /// The child's cache budget, for an equal-cache row.
    #[arg(long, hide = true)]
    pub child_cache: Option<u64>,
}
