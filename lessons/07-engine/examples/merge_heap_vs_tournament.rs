//! The plain heap merge against the engine's tournament tree, on the same sources.
//!
//! ```text
//! cargo run --release -p rkv-07-engine --example merge_heap_vs_tournament
//! ```
//!
//! Eight frozen memtables (contiguous copies, so the sources cost little themselves) each hold
//! an eighth of a million random keys — what level 0 looks like right after a load: every source
//! spans the whole key range, so the winner changes on almost every step. Each round walks the
//! whole merge once with each merge, the two taking turns; the best round of each is printed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rkv_01_basic_store::Value;
use rkv_07_engine::cursor::Cursor;
use rkv_07_engine::heap_merge::HeapMerged;
use rkv_07_engine::memtable::Memtable;
use rkv_07_engine::merge::Merged;

const KEYS: u64 = 1_000_000;
const SOURCES: u64 = 8;
const ROUNDS: usize = 7;

/// A permutation of `0..KEYS` (a multiplicative one: the multiplier is odd and coprime to KEYS).
fn shuffled(i: u64) -> u64 {
    (i * 999_983) % KEYS
}

/// What the walk needs of a merge.
trait Merge {
    /// The current entry's key length, if there is a current entry.
    fn key_len(&self) -> Option<usize>;
    /// Moves on to the next entry.
    fn step(&mut self) -> rkv_contract::Result<bool>;
}

impl Merge for HeapMerged {
    fn key_len(&self) -> Option<usize> {
        self.entry().map(|(key, _)| key.len())
    }
    fn step(&mut self) -> rkv_contract::Result<bool> {
        self.advance()
    }
}

impl Merge for Merged {
    fn key_len(&self) -> Option<usize> {
        self.entry().map(|(key, _)| key.len())
    }
    fn step(&mut self) -> rkv_contract::Result<bool> {
        self.advance()
    }
}

/// How long it takes to make a merge and walk it to the end.
fn walk<M: Merge>(make: impl FnOnce() -> M) -> rkv_contract::Result<Duration> {
    let started = Instant::now();
    let mut merge = make();
    let mut seen = 0;
    while let Some(len) = merge.key_len() {
        seen += len;
        merge.step()?;
    }
    std::hint::black_box(seen);
    Ok(started.elapsed())
}

fn main() -> rkv_contract::Result<()> {
    let sources: Vec<Arc<Memtable>> = (0..SOURCES)
        .map(|_| Arc::new(Memtable::new(usize::MAX)))
        .collect();
    for i in 0..KEYS {
        let key = format!("key{:013}", shuffled(i));
        let source = &sources[(i % SOURCES) as usize];
        source.insert(key.as_bytes(), i + 1, Value::Put(vec![b'v'; 100]));
    }
    for source in &sources {
        source.freeze();
    }
    let cursors = || -> Vec<Cursor> {
        sources
            .iter()
            .map(|source| Cursor::memtable(source.clone(), None, None))
            .collect()
    };
    let (mut heap_best, mut tree_best) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        heap_best = heap_best.min(walk(|| HeapMerged::new(cursors()))?);
        tree_best = tree_best.min(walk(|| Merged::new(cursors()))?);
    }
    let rate = |d: Duration| KEYS as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{KEYS} entries from {SOURCES} sources, best of {ROUNDS} rounds:\n  \
         binary heap      {:>7.1} ms  {:>5.2} M entries/s\n  \
         tournament tree  {:>7.1} ms  {:>5.2} M entries/s",
        heap_best.as_secs_f64() * 1e3,
        rate(heap_best),
        tree_best.as_secs_f64() * 1e3,
        rate(tree_best),
    );
    Ok(())
}
