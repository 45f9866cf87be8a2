//! Binary search over anything sorted that can be probed by position.
//!
//! The offsets array turns "record number `i`" into a byte offset, so a lookup can do what a
//! person does with a dictionary: open it in the middle, see whether the word there comes before
//! or after the one sought, and throw away the half that cannot hold it. Each step halves the
//! candidates, so `n` records take at most `⌊log₂ n⌋ + 1` steps — 17 for 100 000 keys, where
//! lesson 02 needed up to 100 000.
//!
//! The search itself knows nothing of tables: it asks a `probe` how the key at position `i`
//! compares with the one sought. Here the probe reads record `i`'s key from the file
//! ([`IndexedTable::search`](crate::IndexedTable::search)); lesson 05 reuses the same function
//! over the last keys of its blocks. Every step counts one key comparison in [`Stats`].

use std::cmp::Ordering;

use rkv_contract::Stats;

/// Where a binary search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Position `i` holds the key.
    Hit(usize),
    /// No position holds the key; positions before `i` have smaller keys, positions from `i`
    /// on larger ones (so `i` is where the key would be inserted).
    Miss(usize),
}

impl Position {
    /// The first position whose key is not smaller than the one searched for.
    pub fn index(self) -> usize {
        match self {
            Position::Hit(i) | Position::Miss(i) => i,
        }
    }
}

// ANCHOR: search
/// Finds a key among `len` sorted positions: `probe(i, stats)` says how the key at position `i`
/// compares with the one sought (`Less` if it is smaller). At most `⌊log₂ len⌋ + 1` probes, each
/// counted as one key comparison; a probe that fails ends the search with its error.
pub fn binary_search<E>(
    len: usize,
    stats: &mut Stats,
    mut probe: impl FnMut(usize, &mut Stats) -> Result<Ordering, E>,
) -> Result<Position, E> {
    // Invariant: every position before `low` has a smaller key than the one sought, every
    // position from `high` on a larger one. The candidates `low..high` start as everything and
    // halve with every comparison.
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low) / 2;
        stats.key_comparisons += 1;
        match probe(middle, stats)? {
            Ordering::Less => low = middle + 1,
            Ordering::Greater => high = middle,
            Ordering::Equal => return Ok(Position::Hit(middle)),
        }
    }
    Ok(Position::Miss(low))
}
// ANCHOR_END: search

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn finds_what_a_linear_search_finds(
            keys in prop::collection::btree_set(any::<u16>(), 0..200),
            sought in any::<u16>(),
        ) {
            let keys: Vec<u16> = keys.into_iter().collect();
            let mut stats = Stats::default();
            let found = binary_search(keys.len(), &mut stats, |i, _| {
                Ok::<_, ()>(keys[i].cmp(&sought))
            });
            let want = match keys.iter().position(|&k| k >= sought) {
                Some(i) if keys[i] == sought => Position::Hit(i),
                Some(i) => Position::Miss(i),
                None => Position::Miss(keys.len()),
            };
            prop_assert_eq!(found, Ok(want));
            let bound = usize::BITS - keys.len().leading_zeros(); // ⌊log₂ n⌋ + 1, 0 for n = 0
            prop_assert!(stats.key_comparisons <= u64::from(bound));
        }
    }

    #[test]
    fn a_failed_probe_ends_the_search() {
        let found = binary_search(10, &mut Stats::default(), |i, _| {
            if i == 5 {
                Err("record 5 is damaged")
            } else {
                Ok(Ordering::Less)
            }
        });
        assert_eq!(found, Err("record 5 is damaged"));
    }
}
