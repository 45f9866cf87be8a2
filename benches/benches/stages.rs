//! Criterion benchmarks: one group per workload, every engine a member of every group.
//!
//! ```text
//! cargo bench -p rkv-benches                    # every group, every stage
//! cargo bench -p rkv-benches -- readrandom      # one group
//! cargo bench -p rkv-benches -- --test          # run each benchmark once (CI smoke test)
//! RKV_BENCH_KEYS=100000 cargo bench -p rkv-benches
//! cargo bench -p rkv-benches --features peers   # with fjall, redb and sled
//! cargo bench -p rkv-benches --features rocksdb # and RocksDB (system library, ROCKSDB_LIB_DIR)
//! ```
//!
//! Settings, the same for every engine (see `rkv_benches::engine::Settings`):
//! - `RKV_BENCH_KEYS` records (default 10 000) of 16-byte keys and 100-byte values;
//! - `sync = never` (each write handed to the OS, not fsynced) for every engine;
//! - `memtable_bytes = 64 KiB` for our LSM stages, so 10 000 keys make about 18 tables;
//! - criterion: 10 samples, 0.5 s warm-up, 2 s measurement per benchmark (its own flags, such as
//!   `--measurement-time 5`, override these).
//!
//! What each group times, per operation (the time criterion shows is for one operation, except
//! `readseq`, where it is for one full scan and the throughput line gives entries per second):
//!
//! | group | timed | outside the timed part |
//! | --- | --- | --- |
//! | fillseq | one put, keys ascending, into a store holding fewer than `N` keys | opening a new store every `N` puts |
//! | fillrandom | the same, keys in a random order | the same |
//! | readrandom | one get of a random existing key | filling the store |
//! | readmissing | one get of an absent key between existing ones | filling the store |
//! | readseq | one scan of all `N` entries | filling the store |
//! | scan100 | one scan from a random existing key, 100 entries | filling the store |
//! | overwrite | one put of a new value to a random existing key | filling the store |
//! | delete | one delete of an existing key, in a random order, in batches of 1000 | filling the store; putting each batch's keys back |

use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use rkv_benches::engine::{Engine, EngineSpec, Opened, Settings};
use rkv_benches::keys::{
    DEFAULT_VALUE_BYTES, FILL_SEED, UPDATE_SEED, Values, missing_key, present_key,
};
use rkv_benches::registry;
use rkv_cli::load::{LoadSpec, Order, SplitMix64, key_order};
use tempfile::TempDir;

/// Records per store unless `RKV_BENCH_KEYS` says otherwise.
const DEFAULT_KEYS: u64 = 10_000;

/// How many pre-drawn random keys a read benchmark cycles through.
const KEY_SAMPLE: usize = 8192;

/// Entries per `scan100` scan.
const SHORT_SCAN: usize = 100;

/// Ends the benchmark with a one-line message: a broken store is not something to measure.
fn or_exit<T>(result: anyhow::Result<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => {
            eprintln!("error: {what}: {error:#}");
            std::process::exit(1);
        }
    }
}

/// Everything one benchmark needs.
struct Setup {
    /// Records per store.
    keys: u64,
    /// What every engine is opened with.
    settings: Settings,
    /// Fill values.
    fills: Values,
    /// Overwrite values.
    updates: Values,
}

impl Setup {
    fn from_env() -> Self {
        let keys = match std::env::var("RKV_BENCH_KEYS") {
            Ok(text) => match text.trim().parse::<u64>() {
                Ok(n) if n > 0 => n,
                _ => or_exit(
                    Err(anyhow::anyhow!("{text:?} is not a positive whole number")),
                    "RKV_BENCH_KEYS",
                ),
            },
            Err(_) => DEFAULT_KEYS,
        };
        Setup {
            keys,
            settings: Settings::default(),
            fills: Values::new(FILL_SEED, DEFAULT_VALUE_BYTES),
            updates: Values::new(UPDATE_SEED, DEFAULT_VALUE_BYTES),
        }
    }

    /// The record numbers in `order`.
    fn order(&self, order: Order) -> Vec<u64> {
        let spec = LoadSpec {
            count: self.keys,
            value_size: DEFAULT_VALUE_BYTES,
            seed: 42,
            order,
            values: Default::default(),
        };
        or_exit(key_order(&spec), "ordering keys").collect()
    }

    /// A new, empty store of `engine` in a temporary directory.
    fn open(&self, engine: &EngineSpec) -> (TempDir, Opened) {
        let dir = or_exit(
            tempfile::tempdir().map_err(Into::into),
            "creating a directory",
        );
        let opened = or_exit((engine.open)(dir.path(), &self.settings), engine.name);
        (dir, opened)
    }

    /// A store of `engine` holding every record, written in random order.
    fn filled(&self, engine: &EngineSpec) -> (TempDir, Opened) {
        let (dir, mut opened) = self.open(engine);
        let mut key = Vec::with_capacity(16);
        for i in self.order(Order::Random) {
            present_key(i, &mut key);
            or_exit(
                opened.engine.put(&key, self.fills.of(i)),
                "filling the store",
            );
        }
        (dir, opened)
    }

    /// `KEY_SAMPLE` keys made by `make` from random record numbers.
    fn sample(&self, make: fn(u64, &mut Vec<u8>)) -> Vec<Vec<u8>> {
        let mut rng = SplitMix64::new(7);
        (0..KEY_SAMPLE)
            .map(|_| {
                let mut key = Vec::with_capacity(16);
                make(rng.below(self.keys), &mut key);
                key
            })
            .collect()
    }
}

/// A group with the settings every group shares.
fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    elements: u64,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(elements));
    g
}

/// `fillseq` and `fillrandom`: puts into a store that is replaced by a new one every `N` puts.
fn fills(c: &mut Criterion, setup: &Setup, name: &str, order: Order) {
    let order = setup.order(order);
    let mut g = group(c, name, 1);
    for engine in registry::engines(true) {
        g.bench_function(engine.name, |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut done = 0u64;
                let mut key = Vec::with_capacity(16);
                while done < iters {
                    let (dir, mut opened) = setup.open(&engine);
                    let batch = (iters - done).min(setup.keys) as usize;
                    let start = Instant::now();
                    for &i in &order[..batch] {
                        present_key(i, &mut key);
                        or_exit(opened.engine.put(&key, setup.fills.of(i)), "put");
                    }
                    timed += start.elapsed();
                    done += batch as u64;
                    drop(opened);
                    drop(dir);
                }
                timed
            });
        });
    }
    g.finish();
}

/// A group whose every member runs `op` on its own filled store, built on first use (so a
/// filtered-out benchmark builds nothing).
fn on_filled_store(
    c: &mut Criterion,
    setup: &Setup,
    name: &str,
    elements: u64,
    mut op: impl FnMut(&mut dyn Engine, usize),
) {
    let mut g = group(c, name, elements);
    for engine in registry::engines(true) {
        let mut store: Option<(TempDir, Opened)> = None;
        let mut n = 0usize;
        g.bench_function(engine.name, |b| {
            let (_, opened) = store.get_or_insert_with(|| setup.filled(&engine));
            let engine = opened.engine.as_mut();
            b.iter(|| {
                n = n.wrapping_add(1);
                op(engine, n)
            });
        });
    }
    g.finish();
}

/// Deletes timed in one go before they are undone, in `delete`.
const DELETE_BATCH: usize = 1000;

/// `delete`: deletes of existing keys, in a random order, from a filled store. After every
/// batch of deletes the same keys are put back, untimed, so the store stays full and the next
/// batch again deletes keys that exist.
fn deletes(c: &mut Criterion, setup: &Setup) {
    let order = setup.order(Order::Random);
    let mut g = group(c, "delete", 1);
    for engine in registry::engines(true) {
        let mut store: Option<(TempDir, Opened)> = None;
        let mut cursor = 0usize;
        g.bench_function(engine.name, |b| {
            let (_, opened) = store.get_or_insert_with(|| setup.filled(&engine));
            let engine = opened.engine.as_mut();
            let mut key = Vec::with_capacity(16);
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let batch = ((iters - done) as usize)
                        .min(DELETE_BATCH)
                        .min(order.len() - cursor);
                    let keys = &order[cursor..cursor + batch];
                    let start = Instant::now();
                    for &i in keys {
                        present_key(i, &mut key);
                        or_exit(engine.delete(&key), "delete");
                    }
                    timed += start.elapsed();
                    for &i in keys {
                        present_key(i, &mut key);
                        or_exit(engine.put(&key, setup.fills.of(i)), "put");
                    }
                    done += batch as u64;
                    cursor = (cursor + batch) % order.len();
                }
                timed
            });
        });
    }
    g.finish();
}

fn stages(c: &mut Criterion) {
    let setup = Setup::from_env();
    let keys = setup.keys;
    fills(c, &setup, "fillseq", Order::Seq);
    fills(c, &setup, "fillrandom", Order::Random);

    let present = setup.sample(present_key);
    on_filled_store(c, &setup, "readrandom", 1, |e, n| {
        let key = &present[n % KEY_SAMPLE];
        let found = or_exit(e.get(key), "get");
        std::hint::black_box(found);
    });
    let missing = setup.sample(missing_key);
    on_filled_store(c, &setup, "readmissing", 1, |e, n| {
        let key = &missing[n % KEY_SAMPLE];
        let found = or_exit(e.get(key), "get");
        std::hint::black_box(found);
    });
    on_filled_store(c, &setup, "readseq", keys, |e, _| {
        let seen = or_exit(e.scan(None, None, usize::MAX, &mut |_, _| {}), "scan");
        std::hint::black_box(seen);
    });
    on_filled_store(c, &setup, "scan100", 1, |e, n| {
        let start = &present[n % KEY_SAMPLE];
        let mut bytes = 0;
        let seen = or_exit(
            e.scan(Some(start), None, SHORT_SCAN, &mut |k, v| {
                bytes += k.len() + v.len();
            }),
            "scan",
        );
        std::hint::black_box((seen, bytes));
    });
    let updates = &setup.updates;
    on_filled_store(c, &setup, "overwrite", 1, |e, n| {
        let key = &present[n % KEY_SAMPLE];
        or_exit(e.put(key, updates.of(n as u64)), "put");
    });
    deletes(c, &setup);
}

/// Short defaults, so that every group over every stage runs in a few minutes.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = stages
}
criterion_main!(benches);
