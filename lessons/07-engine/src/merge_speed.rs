//! What the tournament merge buys over the plain one, measured: both merge the same sources,
//! and each pass is timed. `cargo run --release -p rkv-07-engine --example merge_speed` prints
//! the result.
//!
//! The sources are what a scan meets right after a bulk load: several sources that each span
//! the whole key range, so that the next entry comes from a different source on almost every
//! step. Each is a frozen memtable (lesson 07's flush makes that copy of every full memtable)
//! holding the benchmark's keys (`key` and 13 digits), each key in a source drawn at random. A frozen memtable's cursor steps through one contiguous array, so the time
//! measured is mostly the merge's own: choosing the next source, not reading it. A scan over
//! tables adds the cost of decoding blocks, the same for both merges.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rkv_01_basic_store::Value;
use rkv_cli::load::{SplitMix64, key_into};
use rkv_contract::Result;

use crate::cursor::Cursor;
use crate::heap_merge::{HeapMerged, MergedStream};
use crate::memtable::Memtable;
use crate::merge::Merged;

/// One pass of one merge over all the sources.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pass {
    /// Entries the merge yielded.
    pub entries: u64,
    /// Wall time from building the merge to its last entry.
    pub time: Duration,
}

impl Pass {
    /// Entries per second.
    pub fn rate(&self) -> f64 {
        self.entries as f64 / self.time.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// One round: a pass of each merge over the same sources.
#[derive(Clone, Copy, Debug)]
pub struct Round {
    /// The plain merge ([`crate::heap_merge`]).
    pub heap: Pass,
    /// The tournament tree comparing whole keys: the scans' merge with abbreviations that
    /// always tie.
    pub tree: Pass,
    /// The tournament tree on abbreviated keys ([`crate::merge`]), the one scans use.
    pub tournament: Pass,
}

/// `entries` keys spread over `sources` frozen memtables, merged `rounds` times by each merge
/// (taking turns to go first).
pub fn measure_merges(sources: usize, entries: u64, rounds: usize) -> Result<Vec<Round>> {
    let memtables = spread_over(sources.max(1), entries);
    let cursors = || -> Vec<Cursor> {
        memtables
            .iter()
            .map(|m| Cursor::memtable(m.clone(), None, None))
            .collect()
    };
    (0..rounds)
        .map(|round| {
            let mut passes = [Pass::default(); 3];
            for turn in 0..passes.len() {
                let which = (round + turn) % passes.len();
                passes[which] = match which {
                    0 => timed(|| HeapMerged::new(cursors()))?,
                    // A prefix no key starts with: every key abbreviates to 0, so every match
                    // compares the keys themselves.
                    1 => timed(|| Merged::abbreviating_after(cursors(), vec![u8::MAX]))?,
                    _ => timed(|| Merged::new(cursors()))?,
                };
            }
            let [heap, tree, tournament] = passes;
            Ok(Round {
                heap,
                tree,
                tournament,
            })
        })
        .collect()
}

/// One pass: the merge `start` builds, walked to its end.
fn timed<M: MergedStream>(start: impl FnOnce() -> M) -> Result<Pass> {
    let started = Instant::now();
    let mut merge = start();
    let entries = drain(&mut merge)?;
    Ok(Pass {
        entries,
        time: started.elapsed(),
    })
}

/// Walks `merge` to its end, looking at every entry's bytes as a scan's caller would; the
/// number of entries.
fn drain(merge: &mut impl MergedStream) -> Result<u64> {
    let mut entries = 0;
    let mut more = merge.current().is_some();
    while more {
        if let Some((key, value)) = merge.current() {
            black_box((key, value));
            entries += 1;
        }
        more = merge.step()?;
    }
    Ok(entries)
}

/// `entries` of the benchmark's keys spread over `sources` memtables, each frozen; values of
/// eight bytes (the merge lends them, so their size does not matter to it).
fn spread_over(sources: usize, entries: u64) -> Vec<Arc<Memtable>> {
    let budget = usize::try_from(entries / sources as u64 * 40).unwrap_or(usize::MAX);
    let memtables: Vec<Memtable> = (0..sources).map(|_| Memtable::new(budget)).collect();
    let mut key = Vec::new();
    let mut random = SplitMix64::new(0x5eed);
    for i in 0..entries {
        key_into(i, &mut key);
        let source = random.below(sources as u64);
        if let Some(memtable) = memtables.get(source as usize) {
            memtable.insert(&key, i + 1, Value::Put(i.to_le_bytes().to_vec()));
        }
    }
    memtables
        .into_iter()
        .map(|memtable| {
            memtable.freeze();
            Arc::new(memtable)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use super::*;

    #[test]
    fn every_merge_yields_every_entry_in_every_round() {
        let rounds = measure_merges(5, 3_000, 2).unwrap();
        assert_eq!(rounds.len(), 2);
        for round in rounds {
            for pass in [round.heap, round.tree, round.tournament] {
                assert_eq!(pass.entries, 3_000);
            }
        }
    }
}
