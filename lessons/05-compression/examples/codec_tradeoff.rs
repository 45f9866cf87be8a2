//! The trade of lesson 05, measured: the same entries written as one block table per
//! configuration, then read back.
//!
//! ```text
//! cargo run --release -p rkv-05-compression --example codec_tradeoff
//! cargo run --release -p rkv-05-compression --example codec_tradeoff -- --count 20000
//! ```
//!
//! Two data sets of `--count` entries (default 100 000), both with `load`'s 16-byte keys
//! `key0000000000000`, `key0000000000001`, …:
//!
//! - **load values**: the 100-byte values of `load --count N` (seed 42): printable characters
//!   drawn at random from 92, so about 6.5 bits of information per 8-bit byte and no repetition
//!   for a codec to find;
//! - **repetitive text**: 100-byte records such as
//!   `user=0000042;city=Paris;country=France;…;visits=042;ok`, where only a few digits change
//!   from one entry to the next — the kind of data real stores hold.
//!
//! Each data set is written as one table with each configuration — no prefix compression and no
//! codec (`restart_interval=1`, `none`), prefix compression only (`16`, `none`), prefix + LZ4 and
//! prefix + zstd — through the [`Table`] trait directly, into a temporary directory. For each it
//! reports the file size, its ratio to the bytes of keys and values, the time to write the table,
//! the time to `get` every key once in a shuffled order, and the time of a full scan. Times are
//! the best of three runs; the file stays in the page cache, so reads measure CPU (search,
//! decompression, copying), not the disk. Every value read is checked against the one written.
//!
//! The output is a Markdown table, pasted as is into the book's lesson 05 chapter.

use std::error::Error;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use rkv_01_basic_store::Value;
use rkv_02_sstables::{Table, TableEntry};
use rkv_05_compression::{Bare, BlockOptions, BlockTable, Codec};
use rkv_cli::load::{self, LoadSpec, Order};
use rkv_contract::Stats;

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// Runs of each timing; the best is reported.
const RUNS: usize = 3;

/// One configuration of the table.
struct Config {
    /// Its name in the table.
    name: &'static str,
    /// A full key every this many entries (1: no prefix compression).
    restart_interval: usize,
    /// The block codec.
    codec: Codec,
}

const CONFIGS: [Config; 4] = [
    Config {
        name: "none",
        restart_interval: 1,
        codec: Codec::None,
    },
    Config {
        name: "prefix only",
        restart_interval: 16,
        codec: Codec::None,
    },
    Config {
        name: "prefix + LZ4",
        restart_interval: 16,
        codec: Codec::Lz4,
    },
    Config {
        name: "prefix + zstd",
        restart_interval: 16,
        codec: Codec::Zstd,
    },
];

/// The 100-byte repetitive-text value of entry `i` (for `i` below ten million).
fn repetitive_value(i: u64) -> Vec<u8> {
    format!(
        "user={i:07};city=Paris;country=France;plan=free;status=active;lang=en;\
         tz=Europe/Paris;visits={:03};ok",
        i % 997
    )
    .into_bytes()
}

/// What one configuration measured on one data set.
struct Measured {
    file_bytes: u64,
    data_bytes: u64,
    write: Duration,
    get_all: Duration,
    scan: Duration,
    /// Counters of one round of gets over every key.
    get_stats: Stats,
}

fn main() -> BoxResult<()> {
    let count = parse_count()?;
    let dir = tempfile::tempdir()?;
    let spec = LoadSpec {
        count,
        value_size: 100,
        seed: 42,
        order: Order::Random,
        values: Default::default(),
    };
    // The shuffled order in which the gets ask for the keys: the same for every configuration.
    let get_order: Vec<usize> = load::key_order(&spec)?.map(|i| i as usize).collect();

    // Each data set's name, how its values are made, and whether to show one (a `load` value
    // may hold a backtick, which would break the Markdown).
    type MakeValue = Box<dyn Fn(u64) -> Vec<u8>>;
    let data_sets: [(&str, MakeValue, bool); 2] = [
        (
            "load values (random printable bytes)",
            Box::new(move |i| load::value(spec.seed, i, spec.value_size)),
            false,
        ),
        ("repetitive text", Box::new(repetitive_value), true),
    ];

    println!(
        "{count} entries, 16-byte keys, 100-byte values; 4 KiB blocks; best of {RUNS} runs; \
         rkv-05-compression, release build."
    );
    for (name, value, show) in &data_sets {
        let entries: Vec<TableEntry> = (0..count)
            .map(|i| (load::key(i), Value::Put(value(i))))
            .collect();
        println!();
        if *show {
            println!("**{name}**, e.g. `{}`", String::from_utf8_lossy(&value(42)));
        } else {
            println!("**{name}**");
        }
        println!();
        println!(
            "| configuration | file bytes | file / (key+value bytes) | write | get every key \
             (per get) | full scan | key comparisons per get | bytes read per get | bytes \
             decompressed per get |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for config in &CONFIGS {
            let path = dir
                .path()
                .join(format!("{}-{}.sst", config.codec, config.restart_interval));
            let m = measure(&path, &entries, &get_order, config)?;
            let gets = count.max(1) as f64;
            println!(
                "| {} | {} | {:.2} | {} | {} ({:.2} µs) | {} | {:.1} | {:.0} | {:.0} |",
                config.name,
                m.file_bytes,
                m.file_bytes as f64 / m.data_bytes.max(1) as f64,
                millis(m.write),
                millis(m.get_all),
                m.get_all.as_secs_f64() * 1e6 / gets,
                millis(m.scan),
                m.get_stats.key_comparisons as f64 / gets,
                m.get_stats.bytes_read as f64 / gets,
                m.get_stats.bytes_decompressed as f64 / gets,
            );
        }
    }
    Ok(())
}

/// `--count N`, or the default of 100 000.
fn parse_count() -> BoxResult<u64> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(100_000),
        [flag, n] if flag == "--count" => Ok(n.parse()?),
        _ => Err("usage: codec_tradeoff [--count N]".into()),
    }
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Writes `entries` as a table at `path` with `config`, reads it back, and times both.
fn measure(
    path: &Path,
    entries: &[TableEntry],
    get_order: &[usize],
    config: &Config,
) -> BoxResult<Measured> {
    let options = BlockOptions {
        restart_interval: config.restart_interval,
        compression: config.codec,
        ..BlockOptions::default()
    };
    let mut write = Duration::MAX;
    let mut summary = None;
    for _ in 0..RUNS {
        let mut file = File::create(path)?;
        let mut stream = entries.iter().map(|entry| Ok(entry.clone()));
        let start = Instant::now();
        let written = BlockTable::<Bare>::write(&mut file, path, &mut stream, &options)?;
        write = write.min(start.elapsed());
        summary = Some(written);
    }
    let summary = summary.ok_or("no run")?;

    let table = BlockTable::<Bare>::open(path, &options)?;
    let mut get_all = Duration::MAX;
    let mut get_stats = Stats::default();
    for _ in 0..RUNS {
        let mut stats = Stats::default();
        let start = Instant::now();
        for &i in get_order {
            let (key, want) = &entries[i];
            let got = table.get(key, &mut stats)?;
            if got.as_ref() != Some(want) {
                return Err(
                    format!("{}: wrong answer for {}", config.name, key.escape_ascii()).into(),
                );
            }
        }
        get_all = get_all.min(start.elapsed());
        get_stats = stats;
    }

    let mut scan = Duration::MAX;
    for _ in 0..RUNS {
        let start = Instant::now();
        let mut seen = 0usize;
        for entry in table.range(None, None)? {
            let (key, _) = entry?;
            if key != entries[seen].0 {
                return Err(format!("{}: scan out of step at entry {seen}", config.name).into());
            }
            seen += 1;
        }
        scan = scan.min(start.elapsed());
        if seen != entries.len() {
            return Err(format!("{}: scan saw {seen} entries", config.name).into());
        }
    }

    Ok(Measured {
        file_bytes: summary.file_bytes,
        data_bytes: summary.data_bytes,
        write,
        get_all,
        scan,
        get_stats,
    })
}
