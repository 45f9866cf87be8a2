//! A bloom filter for the memtable, filled as keys are inserted.
//!
//! A `get` looks in the memtable first, and in a random-read workload the key is almost never
//! there: a memtable holds the last few megabytes of writes, the store holds the rest. Yet the
//! skip-list search walks about twenty nodes, each a separate allocation, each a likely cache
//! miss. This filter answers "certainly not here" with one memory access.
//!
//! It differs from the tables' filters ([`crate::bloom`]) in two ways, both because it lives in
//! memory only and is written while it is read:
//! - **Blocked**: all of a key's bits lie in one 64-bit word, so a lookup touches one cache line.
//!   (A blocked filter needs a few more bits per key for the same false-positive rate; memory
//!   is cheap here, cache misses are not.)
//! - **Concurrent**: the words are atomics and an insert sets its bits with `fetch_or`, so
//!   writers never lock and readers see a bit as soon as it is set. A key's bits are set before
//!   its entry is inserted in the skip list, so a reader that finds the entry could also have
//!   found its bits.
//!
//! It is sized when the memtable is made, at one bit per eight bytes of the memtable's budget —
//! about sixteen bits per key for 100-byte values (128 KiB for an 8 MiB memtable). Smaller
//! values mean more keys per byte and a worse filter, never a wrong answer.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bits set per key, each chosen by six bits of the hash.
const BITS_PER_KEY: u32 = 6;

/// A fixed-size blocked bloom filter with lock-free inserts.
#[derive(Debug)]
pub struct MemFilter {
    /// The filter words; a power of two of them.
    words: Box<[AtomicU64]>,
}

impl MemFilter {
    /// A filter for a memtable of `budget_bytes`.
    pub fn new(budget_bytes: usize) -> Self {
        let words = (budget_bytes / 512).clamp(1, 1 << 24).next_power_of_two();
        MemFilter {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    // ANCHOR: filter
    /// The word of `hash` and the bits it sets there.
    fn place(&self, hash: u64) -> (usize, u64) {
        let word = ((hash >> 40) as usize) & (self.words.len() - 1);
        let mut mask = 0u64;
        for i in 0..BITS_PER_KEY {
            mask |= 1 << ((hash >> (6 * i)) & 63);
        }
        (word, mask)
    }

    /// Records a key by its hash (`bloom::key_hash` of its escaped user key).
    pub fn insert(&self, hash: u64) {
        let (word, mask) = self.place(hash);
        self.words[word].fetch_or(mask, Ordering::Release);
    }

    /// False only if no key with this hash was inserted.
    pub fn may_contain(&self, hash: u64) -> bool {
        let (word, mask) = self.place(hash);
        self.words[word].load(Ordering::Acquire) & mask == mask
    }
    // ANCHOR_END: filter
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bloom::key_hash;

    #[test]
    fn never_forgets_a_key_and_rarely_claims_one() {
        // 4 000 entries of 128 bytes: 1 024 words, 64 Ki bits, 16 bits per key.
        let filter = MemFilter::new(4000 * 128);
        for i in 0..4000u32 {
            filter.insert(key_hash(format!("present {i}").as_bytes()));
        }
        for i in 0..4000u32 {
            assert!(filter.may_contain(key_hash(format!("present {i}").as_bytes())));
        }
        let false_positives = (0..10_000u32)
            .filter(|i| filter.may_contain(key_hash(format!("absent {i}").as_bytes())))
            .count();
        // A blocked filter at 16 bits per key with 6 bits each: about 1 %; 3 % is a clear failure.
        assert!(false_positives < 300, "{false_positives} of 10 000");
    }

    #[test]
    fn a_tiny_budget_still_works() {
        let filter = MemFilter::new(0);
        filter.insert(key_hash(b"k"));
        assert!(filter.may_contain(key_hash(b"k")));
    }
}
