//! The merge of a scan's sources into one ordered stream of internal keys, without copies.
//!
//! Lesson 02 merged owned iterators through a binary heap: every entry of every source was
//! copied out, pushed and popped. Here the sources are [`Cursor`]s that lend their current
//! entry, and the merge only decides *which* cursor is current, with a *tournament tree*
//! (Knuth's "tree of losers"):
//!
//! - the sources are the leaves of a complete binary tree; every inner node remembers the
//!   source that *lost* the match played there, and the root slot holds the overall winner —
//!   the source with the smallest key;
//! - after the winner moves on, only the matches on its path to the root are replayed: one key
//!   comparison per level, `log2(sources)` in all (three for a scan of eight sources), where a
//!   binary heap needs up to two per level.
//!
//! Merges are where a scan spends its time once nothing is copied: after an overwrite, every
//! key has a newer version in one level and an older one in another, so the winner changes on
//! almost every step. Keys are compared eight bytes at a time ([`internal_key::compare`]).
//! Internal keys are unique (each carries its sequence number); should two sources hold the
//! same key anyway, the earlier source (the newer data) wins.

use std::cmp::Ordering;

use rkv_01_basic_store::Value;
use rkv_02_sstables::TableEntry;
use rkv_contract::Result;

use crate::cursor::Cursor;
use crate::internal_key;

/// True when source `a`'s current key comes before source `b`'s; each is `(source, key)`, the
/// key `None` for an exhausted or empty source, which comes after everything. Equal keys: the
/// earlier source (the newer data) first.
fn precedes((a, a_key): (usize, Option<&[u8]>), (b, b_key): (usize, Option<&[u8]>)) -> bool {
    match (a_key, b_key) {
        (Some(x), Some(y)) => match internal_key::compare(x, y) {
            Ordering::Less => true,
            Ordering::Equal => a < b,
            Ordering::Greater => false,
        },
        (valid, _) => valid.is_some(),
    }
}

// ANCHOR: merged
/// The sources' entries in ascending internal-key order, current entry lent out.
pub struct Merged {
    /// The sources, newest data first; an exhausted one stays, as an "infinite" key.
    sources: Vec<Cursor>,
    /// `tree[0]` is the winner; `tree[i]` (1 ≤ i < leaves) the loser of the match at node i,
    /// whose children are nodes 2i and 2i + 1. Leaf `leaves + s` is source `s`; leaves past the
    /// last source are empty and lose every match.
    tree: Vec<usize>,
    /// Leaves of the tree: the number of sources rounded up to a power of two.
    leaves: usize,
}

impl Merged {
    /// The merge of `sources`, on the smallest entry among them.
    pub fn new(sources: Vec<Cursor>) -> Self {
        let leaves = sources.len().max(1).next_power_of_two();
        let mut merged = Merged {
            sources,
            tree: vec![0; leaves],
            leaves,
        };
        // Play every match bottom-up: `winners[node]` is the winner below `node`.
        let mut winners = vec![0; 2 * leaves];
        for (leaf, winner) in winners[leaves..].iter_mut().enumerate() {
            *winner = leaf;
        }
        for node in (1..leaves).rev() {
            let (left, right) = (winners[2 * node], winners[2 * node + 1]);
            let (winner, loser) = if merged.beats(right, left) {
                (right, left)
            } else {
                (left, right)
            };
            winners[node] = winner;
            merged.tree[node] = loser;
        }
        merged.tree[0] = winners[1];
        merged
    }

    /// True when source `a`'s entry comes before source `b`'s (an exhausted or empty source
    /// comes after everything).
    fn beats(&self, a: usize, b: usize) -> bool {
        let current = |i: usize| self.sources.get(i).and_then(Cursor::current_key);
        precedes((a, current(a)), (b, current(b)))
    }

    fn winner(&self) -> Option<&Cursor> {
        self.tree.first().and_then(|&w| self.sources.get(w))
    }

    /// True while there is a current entry.
    pub fn valid(&self) -> bool {
        self.winner().is_some_and(Cursor::valid)
    }

    /// The current entry's internal key (empty when not valid).
    pub fn key(&self) -> &[u8] {
        self.winner().map_or(&[], Cursor::key)
    }

    /// The current entry — internal key and value (`None` for a tombstone) — if there is one.
    pub fn entry(&self) -> Option<(&[u8], Option<&[u8]>)> {
        self.winner().and_then(Cursor::entry)
    }

    /// The current entry's value; `None` for a tombstone (or when not valid).
    pub fn value(&self) -> Option<&[u8]> {
        self.winner().and_then(Cursor::value)
    }

    /// Moves to the next entry in order; `Ok(false)` once every source is exhausted.
    pub fn advance(&mut self) -> Result<bool> {
        let mut winner = self.tree.first().copied().unwrap_or(0);
        let Some(source) = self.sources.get_mut(winner) else {
            return Ok(false);
        };
        if !source.valid() {
            return Ok(false);
        }
        source.advance()?;
        // Replay the matches on the path from the winner's leaf to the root, holding on to the
        // current winner's key rather than asking its cursor again at every level.
        let sources = &self.sources;
        let current = |i: usize| sources.get(i).and_then(Cursor::current_key);
        let mut winner_key = current(winner);
        let mut node = (self.leaves + winner) / 2;
        while node >= 1 {
            let waiting = self.tree[node];
            let waiting_key = current(waiting);
            if precedes((waiting, waiting_key), (winner, winner_key)) {
                self.tree[node] = winner;
                (winner, winner_key) = (waiting, waiting_key);
            }
            node /= 2;
        }
        self.tree[0] = winner;
        Ok(winner_key.is_some())
    }

    /// The merge as an iterator of owned entries, for a consumer that keeps them (compaction
    /// hands them to a table writer).
    pub fn into_entries(self) -> Entries {
        Entries {
            merged: self,
            pending: None,
        }
    }
}
// ANCHOR_END: merged

/// [`Merged`] as owned entries; a failure ends the stream after it is returned.
pub struct Entries {
    merged: Merged,
    /// An error met while moving past the entry returned last: returned by the next call.
    pending: Option<rkv_contract::Error>,
}

impl Iterator for Entries {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            self.merged.sources.clear(); // the stream ends after its error
            return Some(Err(e));
        }
        if !self.merged.valid() {
            return None;
        }
        let value = self
            .merged
            .value()
            .map_or(Value::Tombstone, |v| Value::Put(v.to_vec()));
        let entry = (self.merged.key().to_vec(), value);
        if let Err(e) = self.merged.advance() {
            self.pending = Some(e);
        }
        Some(Ok(entry))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::memtable::Memtable;

    proptest! {
        #[test]
        fn merges_any_number_of_sources_into_one_ordered_stream(
            // (user key, seq, which source, tombstone?)
            writes in prop::collection::vec((prop::collection::vec(0u8..4, 0..4), 1u64..50, 0usize..11, any::<bool>()), 0..120),
            sources in 1usize..11,
        ) {
            let tables: Vec<Memtable> = (0..sources).map(|_| Memtable::new(1 << 20)).collect();
            let mut want = std::collections::BTreeMap::new();
            for (key, seq, source, tombstone) in &writes {
                let internal = internal_key::encode(key, *seq);
                if want.contains_key(&internal) {
                    continue; // one version per (key, seq), as in the engine
                }
                let value = if *tombstone { Value::Tombstone } else { Value::Put(seq.to_be_bytes().to_vec()) };
                tables[source % sources].insert(key, *seq, value.clone());
                want.insert(internal, value);
            }
            let cursors = tables.into_iter().map(|t| Cursor::memtable(Arc::new(t), None, None)).collect();
            let got: Vec<TableEntry> = Merged::new(cursors).into_entries().collect::<Result<_>>().unwrap();
            prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        }
    }
}
