//! Bloom filters: answering "is this key in that table?" without reading the table.
//!
//! A lookup for a key that a table does not hold still costs that table a block read (and a
//! decompression, and a checksum) before the block says "not here". In an LSM tree most tables
//! do *not* hold a given key — a key lives in at most one table per level — so a point lookup
//! pays for many such misses, and a lookup of a key that does not exist at all pays for every
//! level. A **bloom filter** per table removes almost all of them.
//!
//! ## The idea
//! A filter is an array of `m` bits, all zero at first, and `k` hash functions that each map a
//! key to one bit position. Adding a key sets its `k` bits. Asking about a key checks its `k`
//! bits: if any is zero, the key was certainly never added (**no false negatives**); if all are
//! one, the key was *probably* added — or other keys happened to set those bits (a **false
//! positive**).
//!
//! ```text
//!   add("apple")   h1 h2 h3 → bits 3, 9, 14
//!   add("melon")   h1 h2 h3 → bits 1, 9, 12
//!   bits:  0 1 0 1 0 0 0 0 0 1 0 0 1 0 1 0
//!   "grape"  → bits 1, 5, 12: bit 5 is 0      → certainly absent, read nothing
//!   "kiwi"   → bits 3, 12, 14: all 1          → maybe present (a false positive), read the table
//! ```
//!
//! ## How often it is wrong
//! After `n` keys have set `k` bits each, a given bit is still zero with probability
//! `(1 - 1/m)^(kn) ≈ e^(-kn/m)`. An absent key is a false positive when all its `k` bits are
//! one:
//!
//! ```text
//!   false-positive rate  ≈  (1 - e^(-k·n/m))^k
//! ```
//!
//! For a given number of bits per key `m/n`, this is smallest at `k = (m/n)·ln 2`, where half the
//! bits are set and the rate is about `0.6185^(m/n)`. With **10 bits per key**, `k = 6.93 → 7`
//! and the rate is `(1 - e^(-0.7))^7 ≈ 0.82 %` — under 1 % for 1.25 bytes per key, whatever the
//! size of the keys. Each extra bit per key divides the rate by about 1.6.
//!
//! ## Why a miss then touches no data block
//! The engine keeps every table's filter in memory (read once when the table is opened) and
//! asks it *before* the table's index or blocks: a "certainly absent" costs `k` bit tests and
//! no I/O at all, and only the ~1 % of false positives go on to read a block. `stats` counts the
//! tables skipped this way (`filter_skips`).
//!
//! ## One hash, `k` probes
//! Computing `k` independent hashes would cost `k` passes over the key. Kirsch and
//! Mitzenmacher ("Less Hashing, Same Performance", 2006) showed that `k` positions derived from
//! two hashes, `g_i = h1 + i·h2 (mod m)`, give the same false-positive rate asymptotically. We
//! take `h1` and `h2` as the two halves of one 64-bit hash ([`key_hash`]): FNV-1a 64 over the
//! key's bytes, then the 64-bit finalizer of MurmurHash3 (`fmix64`) so every output bit depends
//! on every input bit (FNV-1a alone avalanches poorly: a key's last byte reaches the hash
//! through a single multiplication and changes only some of its bits).
//!
//! The hash is part of the file format: a filter written with one hash is garbage to a reader
//! using another, so the hash never changes without a new filter-file version. (Rust's
//! `DefaultHasher` is unsuitable for the same reason: it is not promised to stay the same.)
//!
//! ## Simplifications
//! - LevelDB stores the filter inside the table file; here it is a sidecar file,
//!   `NNNNNN.filter` beside `NNNNNN.sst` (layout in [`write_filter_file`]), so lessons 05 and
//!   06's table format stays as it is. The engine writes and fsyncs both before the manifest
//!   names the table.
//! - One filter covers the whole table, and all of it stays in memory (RocksDB's "full filter";
//!   RocksDB can also partition filters and cache them with the blocks, for tables too large to
//!   keep every filter resident).
//! - RocksDB's filters are cache-line–blocked: all `k` probes of a key fall in one 64-byte
//!   line, one cache miss per lookup. Ours spread over the whole array: simpler, slightly slower.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use rkv_contract::{Error, IoContext, Result};

/// First eight bytes of a filter file.
pub const FILTER_MAGIC: [u8; 8] = *b"RKV-BLM\0";
/// The filter file format version this code writes and reads.
pub const FILTER_VERSION: u32 = 1;
/// Magic and version.
const FILTER_HEADER_LEN: usize = 12;
/// The CRC32 at the end of the file.
const FILTER_TRAILER_LEN: usize = 4;
/// The fewest and the most probes per key a filter may use.
const MIN_PROBES: u8 = 1;
const MAX_PROBES: u8 = 30;
/// The smallest filter: with very few keys, a tiny array would be mostly ones.
const MIN_BITS: usize = 64;

// ANCHOR: hash
/// FNV-1a, 64-bit: offset basis and prime from the FNV specification.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The 64-bit hash of `key` every filter uses: FNV-1a 64, then MurmurHash3's `fmix64`
/// finalizer. Part of the file format: it must never change.
pub fn key_hash(key: &[u8]) -> u64 {
    fmix64(fnv1a64(key))
}

/// FNV-1a, 64-bit: for each byte, xor it in, then multiply by the FNV prime.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &byte in bytes {
        h ^= u64::from(byte);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// MurmurHash3's 64-bit finalizer: xor-shifts and multiplications that spread every bit of
/// `h` over the whole word (the "avalanche").
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// The Kirsch–Mitzenmacher probe sequence of a hash: `h1, h1 + h2, h1 + 2·h2, …` (mod `m`),
/// with `h1` and `h2` the two halves of the 64-bit hash. `h2` is made odd so that it is never
/// zero (which would put every probe on the same bit).
fn probes(hash: u64, k: u8, m: u64) -> impl Iterator<Item = u64> {
    let h1 = hash & 0xffff_ffff;
    let h2 = (hash >> 32) | 1;
    (0..u64::from(k)).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % m)
}
// ANCHOR_END: hash

/// Probes per key for `bits_per_key`: `round(bits_per_key · ln 2)`, within `1..=30`.
pub fn probes_for(bits_per_key: usize) -> u8 {
    let k = (bits_per_key as f64 * std::f64::consts::LN_2).round();
    k.clamp(f64::from(MIN_PROBES), f64::from(MAX_PROBES)) as u8
}

/// A bloom filter over a set of keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BloomFilter {
    /// The bit array; bit `i` is bit `i % 8` of byte `i / 8`. Never empty.
    bits: Vec<u8>,
    /// Probes per key (`k`), in `1..=30`.
    k: u8,
}

impl BloomFilter {
    // ANCHOR: build
    /// A filter over the keys whose [`key_hash`]es are `key_hashes`, with `bits_per_key` bits
    /// for each (rounded up to whole bytes, at least 64 bits in all).
    pub fn build(key_hashes: &[u64], bits_per_key: usize) -> BloomFilter {
        let k = probes_for(bits_per_key);
        let wanted = key_hashes.len().saturating_mul(bits_per_key).max(MIN_BITS);
        let bytes = wanted.div_ceil(8);
        let mut bits = vec![0u8; bytes];
        let m = (bytes as u64) * 8;
        for &hash in key_hashes {
            for bit in probes(hash, k, m) {
                bits[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        BloomFilter { bits, k }
    }
    // ANCHOR_END: build

    /// A filter over `keys` (a convenience over [`BloomFilter::build`]).
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a [u8]>, bits_per_key: usize) -> Self {
        let hashes: Vec<u64> = keys.into_iter().map(key_hash).collect();
        BloomFilter::build(&hashes, bits_per_key)
    }

    // ANCHOR: may_contain
    /// `false` if `key` was certainly not added; `true` if it probably was.
    pub fn may_contain(&self, key: &[u8]) -> bool {
        self.may_contain_hash(key_hash(key))
    }

    /// [`BloomFilter::may_contain`] for a key whose [`key_hash`] is `hash`: a lookup that asks
    /// several tables' filters about one key hashes it once.
    pub fn may_contain_hash(&self, hash: u64) -> bool {
        let m = (self.bits.len() as u64) * 8;
        if m == 0 {
            return true; // a filter that knows nothing must not rule anything out
        }
        probes(hash, self.k, m).all(|bit| {
            let byte = self.bits.get((bit / 8) as usize).copied().unwrap_or(0xff);
            byte & (1 << (bit % 8)) != 0
        })
    }
    // ANCHOR_END: may_contain

    /// Probes per key (`k`).
    pub fn probes(&self) -> u8 {
        self.k
    }

    /// Size of the bit array in bits (`m`).
    pub fn bit_count(&self) -> u64 {
        (self.bits.len() as u64) * 8
    }

    /// The filter as bytes: `k u8 | bits`, the bit array being the rest.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.bits.len());
        out.push(self.k); // probes per key, 1..=30
        out.extend_from_slice(&self.bits); // the bit array, m/8 bytes
        out
    }

    /// Reads a filter written by [`BloomFilter::encode`]; says what is wrong with anything else.
    /// Allocates no more than `bytes.len()`.
    pub fn decode(bytes: &[u8]) -> std::result::Result<BloomFilter, String> {
        let (&k, bits) = bytes
            .split_first()
            .ok_or_else(|| "empty filter".to_string())?;
        if !(MIN_PROBES..=MAX_PROBES).contains(&k) {
            return Err(format!(
                "{k} probes per key, outside {MIN_PROBES}..={MAX_PROBES}"
            ));
        }
        if bits.is_empty() {
            return Err("a filter of zero bits".into());
        }
        Ok(BloomFilter {
            bits: bits.to_vec(),
            k,
        })
    }
}

/// Collects the hashes of a table's keys while the table is written, to build its filter.
#[derive(Debug, Default)]
pub struct FilterBuilder {
    /// One hash per distinct key, in the order added.
    hashes: Vec<u64>,
}

impl FilterBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        FilterBuilder::default()
    }

    /// Adds `key`. Keys arrive sorted, so a repeat of the previous key (another version of it)
    /// is dropped here and counts once in the filter's size.
    pub fn add(&mut self, key: &[u8]) {
        let hash = key_hash(key);
        if self.hashes.last() != Some(&hash) {
            self.hashes.push(hash);
        }
    }

    /// Distinct keys added so far (consecutive repeats count once).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// The filter over every key added, with `bits_per_key` bits per key.
    pub fn finish(&self, bits_per_key: usize) -> BloomFilter {
        BloomFilter::build(&self.hashes, bits_per_key)
    }
}

// ANCHOR: filter_file
/// Writes `filter` into `file` (created empty at `path`) as a filter file; returns its size.
/// The caller fsyncs it.
///
/// ```text
/// magic "RKV-BLM\0" (8) | version u32 LE (4) | k u8 (1) | bit array (m/8) | crc32 u32 LE (4)
/// ```
///
/// The CRC32 covers every byte before it.
pub fn write_filter_file(file: &mut File, path: &Path, filter: &BloomFilter) -> Result<u64> {
    let mut out = Vec::with_capacity(FILTER_HEADER_LEN + 1 + filter.bits.len() + 4);
    out.extend_from_slice(&FILTER_MAGIC);
    out.extend_from_slice(&FILTER_VERSION.to_le_bytes());
    out.extend_from_slice(&filter.encode());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    file.write_all(&out).at(path)?;
    file.flush().at(path)?;
    Ok(out.len() as u64)
}
// ANCHOR_END: filter_file

/// Reads the filter file at `path`. Another format is [`Error::Format`]; a damaged file is
/// [`Error::Corruption`].
pub fn read_filter_file(path: &Path) -> Result<BloomFilter> {
    let bytes = std::fs::read(path).at(path)?;
    let not_ours = |found: String| Error::Format {
        file: path.to_path_buf(),
        expected: format!("an rkv bloom filter (RKV-BLM version {FILTER_VERSION})"),
        found,
    };
    if bytes.len() < FILTER_MAGIC.len() || bytes[..FILTER_MAGIC.len()] != FILTER_MAGIC {
        return Err(not_ours(format!(
            "no RKV-BLM magic at the start of {} bytes",
            bytes.len()
        )));
    }
    let len = bytes.len();
    if len < FILTER_HEADER_LEN + 1 + FILTER_TRAILER_LEN {
        return Err(Error::corruption(
            path,
            0,
            format!("filter file truncated to {len} bytes"),
        ));
    }
    // The checksum first: a flipped bit anywhere — version included — is damage, not a format.
    let crc_at = len - FILTER_TRAILER_LEN;
    let stored = u32::from_le_bytes([
        bytes[crc_at],
        bytes[crc_at + 1],
        bytes[crc_at + 2],
        bytes[crc_at + 3],
    ]);
    let actual = crc32fast::hash(&bytes[..crc_at]);
    if stored != actual {
        return Err(Error::corruption(
            path,
            crc_at as u64,
            format!("checksum mismatch: stored {stored:08x}, computed {actual:08x}"),
        ));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != FILTER_VERSION {
        return Err(not_ours(format!("version {version}")));
    }
    BloomFilter::decode(&bytes[FILTER_HEADER_LEN..crc_at])
        .map_err(|what| Error::corruption(path, FILTER_HEADER_LEN as u64, what))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use super::*;
    use proptest::prelude::*;

    fn key(i: u32) -> Vec<u8> {
        format!("key{i:013}").into_bytes() // 16 bytes, like the benchmark's keys
    }

    #[test]
    fn probes_follow_bits_per_key() {
        assert_eq!(probes_for(0), 1);
        assert_eq!(probes_for(1), 1);
        assert_eq!(probes_for(10), 7);
        assert_eq!(probes_for(16), 11);
        assert_eq!(probes_for(100), 30);
        assert_eq!(probes_for(usize::MAX), 30);
    }

    #[test]
    fn known_hashes() {
        // Test vectors of the FNV specification.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(fmix64(0), 0);
        // The filter hash is part of the file format: pinned forever.
        assert_eq!(key_hash(b"rkv"), 0x9d31_5c04_d5b2_daea);
    }

    #[test]
    fn ten_bits_per_key_is_about_one_percent_false_positives() {
        let mut builder = FilterBuilder::new();
        for i in 0..100_000 {
            builder.add(&key(i));
        }
        let filter = builder.finish(10);
        assert_eq!(filter.probes(), 7);
        assert_eq!(filter.bit_count(), 1_000_000);
        for i in 0..100_000 {
            assert!(filter.may_contain(&key(i)), "false negative for key {i}");
        }
        let false_positives = (100_000..200_000)
            .filter(|&i| filter.may_contain(&key(i)))
            .count();
        let rate = false_positives as f64 / 100_000.0;
        assert!(rate < 0.02, "false-positive rate {rate}");
    }

    #[test]
    fn repeated_keys_count_once() {
        let mut builder = FilterBuilder::new();
        for _ in 0..5 {
            builder.add(b"same");
        }
        builder.add(b"other");
        assert_eq!(builder.len(), 2);
    }

    #[test]
    fn an_empty_filter_is_valid_and_rejects_everything() {
        let filter = FilterBuilder::new().finish(10);
        assert_eq!(filter.bit_count(), 64);
        assert!(!filter.may_contain(b"anything"));
        assert_eq!(BloomFilter::decode(&filter.encode()), Ok(filter));
    }

    #[test]
    fn decode_refuses_bad_probe_counts_and_empty_arrays() {
        assert!(BloomFilter::decode(&[]).is_err());
        assert!(BloomFilter::decode(&[7]).is_err());
        assert!(BloomFilter::decode(&[0, 0xff]).is_err());
        assert!(BloomFilter::decode(&[31, 0xff]).is_err());
        assert!(BloomFilter::decode(&[30, 0xff]).is_ok());
    }

    #[test]
    fn filter_file_round_trips_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("000001.filter");
        let filter = BloomFilter::from_keys(
            (0..500)
                .map(key)
                .collect::<Vec<_>>()
                .iter()
                .map(Vec::as_slice),
            10,
        );
        let mut file = File::create(&path).unwrap();
        let written = write_filter_file(&mut file, &path, &filter).unwrap();
        drop(file);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(written, bytes.len() as u64);
        assert_eq!(read_filter_file(&path).unwrap(), filter);

        // Every single flipped bit is refused: as corruption, or (in the magic) as a foreign file.
        for at in 0..bytes.len() {
            for bit in [0u8, 3, 7] {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << bit;
                std::fs::write(&path, &damaged).unwrap();
                match read_filter_file(&path) {
                    Err(Error::Corruption { offset, .. }) => assert!(offset < bytes.len() as u64),
                    Err(Error::Format { .. }) => assert!(at < FILTER_MAGIC.len()),
                    other => panic!("flip at {at}: {other:?}"),
                }
            }
        }
        // Every truncation too.
        for len in 0..bytes.len() {
            std::fs::write(&path, &bytes[..len]).unwrap();
            assert!(matches!(
                read_filter_file(&path),
                Err(Error::Corruption { .. } | Error::Format { .. })
            ));
        }
    }

    #[test]
    fn a_foreign_file_or_another_version_is_a_format_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("000002.filter");
        std::fs::write(&path, b"RKV-BLK\0 this is a block table, not a filter").unwrap();
        assert!(matches!(read_filter_file(&path), Err(Error::Format { .. })));

        let mut future = FILTER_MAGIC.to_vec();
        future.extend_from_slice(&2u32.to_le_bytes());
        future.extend_from_slice(&[7, 0xff, 0xff]);
        let crc = crc32fast::hash(&future);
        future.extend_from_slice(&crc.to_le_bytes());
        std::fs::write(&path, &future).unwrap();
        assert!(
            matches!(read_filter_file(&path), Err(Error::Format { found, .. }) if found == "version 2")
        );
    }

    proptest! {
        #[test]
        fn no_false_negatives(
            keys in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 0..300),
            bits_per_key in 0usize..24,
        ) {
            let mut sorted = keys.clone();
            sorted.sort();
            let mut builder = FilterBuilder::new();
            for k in &sorted {
                builder.add(k);
            }
            let filter = builder.finish(bits_per_key);
            for k in &keys {
                prop_assert!(filter.may_contain(k));
            }
            let decoded = BloomFilter::decode(&filter.encode()).unwrap();
            prop_assert_eq!(&decoded, &filter);
            for k in &keys {
                prop_assert!(decoded.may_contain(k));
            }
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            probe in prop::collection::vec(any::<u8>(), 0..16),
        ) {
            if let Ok(filter) = BloomFilter::decode(&bytes) {
                let _ = filter.may_contain(&probe);
                prop_assert_eq!(filter.encode(), bytes);
            }
        }

        #[test]
        fn reading_arbitrary_files_never_panics(
            body in prop::collection::vec(any::<u8>(), 0..64),
            with_magic in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.filter");
            let mut bytes = if with_magic { FILTER_MAGIC.to_vec() } else { Vec::new() };
            bytes.extend_from_slice(&body);
            std::fs::write(&path, &bytes).unwrap();
            let _ = read_filter_file(&path);
        }
    }
}
