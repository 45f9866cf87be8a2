//! Keys and values: the same bytes for every engine and every run.
//!
//! The generators are the command line's `load` generators ([`rkv_cli::load`]): key number `n`
//! is `key` followed by `n` in 13 decimal digits (16 bytes, sorted like `n`), and its value is
//! `value_size` printable bytes fixed by a seed and `n`.
//!
//! A benchmark also needs keys that are *absent* but fall *between* present ones — a missing key
//! beyond the last one would be answered by any table's key range without a search. So record
//! `i` is stored under key number `2i`, and the missing key `i` is key number `2i + 1`.

use rkv_cli::load::{key_into, value_into};

/// Bytes of every key.
pub const KEY_BYTES: usize = 16;

/// The default value size: 100 bytes, as in RocksDB's db_bench.
pub const DEFAULT_VALUE_BYTES: usize = 100;

/// Seed of the values the fills write.
pub const FILL_SEED: u64 = 0x5eed;

/// Seed of the values overwrites and updates write, so that they differ from the fill's.
pub const UPDATE_SEED: u64 = 0x5eed + 1;

/// Writes the key of record `i` into `buf`.
pub fn present_key(i: u64, buf: &mut Vec<u8>) {
    key_into(i.saturating_mul(2), buf);
}

/// Writes a key that no record has, sorting just after record `i`'s, into `buf`.
pub fn missing_key(i: u64, buf: &mut Vec<u8>) {
    key_into(i.saturating_mul(2).saturating_add(1), buf);
}

/// Writes the `size`-byte value of record `i` under `seed` into `buf`.
pub fn value(seed: u64, i: u64, size: usize, buf: &mut Vec<u8>) {
    value_into(seed, i, size, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_fall_between_present_ones() {
        let (mut a, mut m, mut b) = (Vec::new(), Vec::new(), Vec::new());
        present_key(41, &mut a);
        missing_key(41, &mut m);
        present_key(42, &mut b);
        assert_eq!(a.len(), KEY_BYTES);
        assert_eq!(m.len(), KEY_BYTES);
        assert!(a < m && m < b);
    }
}

/// How many distinct values a [`Values`] pool holds.
pub const VALUE_POOL: usize = 1024;

/// Precomputed values, so that making a value costs nothing inside a timed loop.
///
/// Record `i` gets value `i mod 1024` of the pool: every value in any one table block differs
/// from its neighbours, as real data would, and nothing is spent generating bytes while the
/// clock runs.
#[derive(Clone, Debug)]
pub struct Values {
    /// The pool.
    pool: Vec<Vec<u8>>,
}

impl Values {
    /// A pool of `size`-byte values made from `seed`.
    pub fn new(seed: u64, size: usize) -> Self {
        let pool = (0..VALUE_POOL as u64)
            .map(|i| {
                let mut v = Vec::with_capacity(size);
                value(seed, i, size, &mut v);
                v
            })
            .collect();
        Values { pool }
    }

    /// The value of record `i`.
    pub fn of(&self, i: u64) -> &[u8] {
        &self.pool[(i % VALUE_POOL as u64) as usize]
    }
}
