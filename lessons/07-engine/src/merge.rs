//! The merge of a scan's sources into one ordered stream of internal keys, without copies.
//!
//! Lesson 02 merged owned iterators through a binary heap: every entry of every source was
//! copied out, pushed and popped. Here the sources are [`Cursor`]s that lend their current
//! entry, and the merge only decides *which* cursor is current. The plain way to decide is
//! still a heap of the current keys ([`crate::heap_merge`], which the tests hold this merge
//! to); this one uses a *tournament tree* (Knuth's "tree of losers"), measured against the heap
//! by the example `merge_speed`:
//!
//! - the sources are the leaves of a complete binary tree; every inner node remembers the
//!   source that *lost* the match played there, and the root slot holds the overall winner —
//!   the source with the smallest key;
//! - after the winner moves on, only the matches on its path to the root are replayed: one key
//!   comparison per level, `log2(sources)` in all (three for a scan of eight sources), where a
//!   binary heap needs up to two per level.
//!
//! Merges are where a scan spends its time once nothing is copied: right after a load, level 0
//! holds several tables that each span the whole key range, so the winner changes on almost
//! every step. So the matches compare **abbreviated keys** ([`crate::abbreviated`]): the merge
//! picks, once, the prefix that the sources' first keys and the tables' last keys share, and
//! keeps beside the tree each source's current key as the next eight bytes after that prefix,
//! one `u64`. A match is then one integer
//! comparison on a small array, which the compiler can turn into a conditional move instead of a
//! branch the processor mispredicts half the time; only equal abbreviations (two versions of one
//! key, or a key that grew past the prefix) compare the keys themselves, eight bytes at a time
//! ([`compare`]). Internal keys are unique (each carries its sequence number); should two
//! sources hold the same key anyway, the earlier source (the newer data) wins.

use std::cmp::Ordering;

use crate::abbreviated::{abbreviate_under, common_prefix, compare};
use rkv_01_basic_store::Value;
use rkv_02_sstables::TableEntry;
use rkv_contract::Result;

use crate::cursor::Cursor;

/// True when source `a`'s current key comes before source `b`'s; each is `(source, key)`, the
/// key `None` for an exhausted or empty source, which comes after everything. Equal keys: the
/// earlier source (the newer data) first.
fn precedes((a, a_key): (usize, Option<&[u8]>), (b, b_key): (usize, Option<&[u8]>)) -> bool {
    match (a_key, b_key) {
        (Some(x), Some(y)) => match compare(x, y) {
            Ordering::Less => true,
            Ordering::Equal => a < b,
            Ordering::Greater => false,
        },
        (valid, _) => valid.is_some(),
    }
}

/// The prefix shared by every source's current key and known last key: every key between them
/// shares it too. Without any known last key (only growing memtables), the empty prefix: the
/// first keys alone would give a prefix the later keys leave. A memtable may also grow past the
/// others' range while the scan runs; its new keys abbreviate to 0 or `u64::MAX` and compare in
/// full.
fn shared_prefix(sources: &[Cursor]) -> Vec<u8> {
    let mut prefix: Option<&[u8]> = None;
    let mut knows_an_end = false;
    for source in sources {
        let last = source.last_key_hint();
        knows_an_end |= last.is_some();
        for key in [source.current_key(), last].into_iter().flatten() {
            prefix = Some(match prefix {
                Some(prefix) => &prefix[..common_prefix(prefix, key)],
                None => key,
            });
        }
    }
    match prefix {
        Some(prefix) if knows_an_end => prefix.to_vec(),
        _ => Vec::new(),
    }
}

/// A source's current key abbreviated after `prefix`; `u64::MAX` once it is exhausted.
fn abbreviation_of(prefix: &[u8], key: Option<&[u8]>) -> u64 {
    key.map_or(u64::MAX, |key| abbreviate_under(prefix, key))
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
    /// The prefix the abbreviations are taken after.
    prefix: Vec<u8>,
    /// Each leaf's current key, abbreviated after `prefix`; `u64::MAX` for an exhausted or
    /// empty one (which a key may also have: equal abbreviations always compare the keys).
    abbreviations: Vec<u64>,
}

impl Merged {
    /// The merge of `sources`, on the smallest entry among them.
    pub fn new(sources: Vec<Cursor>) -> Self {
        let prefix = shared_prefix(&sources);
        Self::abbreviating_after(sources, prefix)
    }

    /// The merge of `sources`, abbreviating keys after `prefix` (any prefix gives the same
    /// order; the shared one makes equal abbreviations rare).
    pub(crate) fn abbreviating_after(sources: Vec<Cursor>, prefix: Vec<u8>) -> Self {
        let leaves = sources.len().max(1).next_power_of_two();
        let mut abbreviations = vec![u64::MAX; leaves];
        for (abbreviation, source) in abbreviations.iter_mut().zip(&sources) {
            *abbreviation = abbreviation_of(&prefix, source.current_key());
        }
        let mut merged = Merged {
            sources,
            tree: vec![0; leaves],
            leaves,
            prefix,
            abbreviations,
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
        let abbreviation = |i: usize| self.abbreviations.get(i).copied().unwrap_or(u64::MAX);
        let (x, y) = (abbreviation(a), abbreviation(b));
        if x != y {
            return x < y;
        }
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
        let advanced_key = source.current_key();
        let mut winner_abbreviation = abbreviation_of(&self.prefix, advanced_key);
        let winner_is_live = advanced_key.is_some();
        if let Some(slot) = self.abbreviations.get_mut(winner) {
            *slot = winner_abbreviation;
        }
        // Replay the matches on the path from the winner's leaf to the root. A match reads two
        // numbers; the keys only when those are equal.
        let sources = &self.sources;
        let current = |i: usize| sources.get(i).and_then(Cursor::current_key);
        let mut node = (self.leaves + winner) / 2;
        while node >= 1 {
            let waiting = self.tree[node];
            let waiting_abbreviation = self.abbreviations.get(waiting).copied().unwrap_or(u64::MAX);
            let waiting_wins = if waiting_abbreviation == winner_abbreviation {
                precedes((waiting, current(waiting)), (winner, current(winner)))
            } else {
                waiting_abbreviation < winner_abbreviation
            };
            // Both outcomes written the same way, so that this compiles to selects, not jumps.
            self.tree[node] = if waiting_wins { winner } else { waiting };
            winner = if waiting_wins { waiting } else { winner };
            winner_abbreviation = if waiting_wins {
                waiting_abbreviation
            } else {
                winner_abbreviation
            };
            node /= 2;
        }
        self.tree[0] = winner;
        Ok(winner_is_live || current(winner).is_some())
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
    use crate::heap_merge::HeapMerged;
    use crate::internal_key;
    use crate::memtable::Memtable;

    proptest! {
        #[test]
        fn merges_any_number_of_sources_into_one_ordered_stream(
            // (user key, seq, which source, tombstone?)
            writes in prop::collection::vec((prop::collection::vec(0u8..4, 0..4), 1u64..50, 0usize..11, any::<bool>()), 0..120),
            sources in 1usize..11,
            prefix in prop::collection::vec(0u8..4, 0..4),
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
            let tables: Vec<Arc<Memtable>> = tables.into_iter().map(Arc::new).collect();
            let cursors = || tables.iter().map(|t| Cursor::memtable(t.clone(), None, None)).collect();
            let want: Vec<TableEntry> = want.into_iter().collect();
            let got: Vec<TableEntry> = Merged::new(cursors()).into_entries().collect::<Result<_>>().unwrap();
            prop_assert_eq!(&got, &want);
            // The plain heap merge gives the same stream.
            let mut heap = HeapMerged::new(cursors());
            let mut plain = Vec::new();
            while let Some((key, value)) = heap.entry() {
                plain.push((key.to_vec(), value.map_or(Value::Tombstone, |v| Value::Put(v.to_vec()))));
                heap.advance().unwrap();
            }
            prop_assert_eq!(&plain, &want);
            // A prefix the keys do not share: abbreviations of 0 and u64::MAX, ties everywhere.
            let merged = Merged::abbreviating_after(cursors(), prefix);
            let got: Vec<TableEntry> = merged.into_entries().collect::<Result<_>>().unwrap();
            prop_assert_eq!(&got, &want);
        }
    }
}
