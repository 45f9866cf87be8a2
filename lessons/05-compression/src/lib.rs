//! # Lesson 05 — compression
//!
//! Lessons 02–04 store every key in full and every value as it came. Real data repeats itself:
//! sorted keys share long prefixes, and values are often text. This lesson changes the table
//! format to one built from **blocks**, and makes each block small twice over:
//!
//! 1. **Prefix compression** (written by hand — it is the lesson): inside a block, a key stores
//!    only the bytes that differ from the key before it. Every 16th key (the *restart interval*)
//!    is stored in full, and the block ends with the offsets of those *restart points*, so a
//!    reader can still binary-search a block ([`block_builder`], [`block`]).
//! 2. **A block codec**: each ~4 KiB block is then compressed as a whole with LZ4 or zstd (or
//!    left raw), and the codec is recorded in the block ([`codec`]).
//!
//! ```text
//!  ┌──────────┬──────────┬─────┬─────────────┬────────┐
//!  │ block 0  │ block 1  │  …  │ index block │ footer │      one table file
//!  └──────────┴──────────┴─────┴─────────────┴────────┘
//!  get(k): binary-search the index (in memory) → read one block → decompress
//!          → binary-search its restart points → scan at most 16 entries
//! ```
//!
//! A block is also the unit of reading, so a lookup reads one block (4 KiB, compressed) instead
//! of lesson 03's handful of scattered small reads, and the index holds one entry per block
//! instead of one per key. [`block_table`] has the layout byte by byte.
//!
//! The store is lesson 02's [`LsmStore`] with this table plugged in, searched newest first as in
//! lesson 03. Lesson 04 measured that parallel probes pay only with many tables and cold caches;
//! keeping the simple lookup here means that lesson 05's numbers against lesson 04 show what
//! compression changes and nothing else. `--set compression=none|lz4|zstd`, `--set block_bytes=N` and
//! `--set restart_interval=N` (1 turns prefix compression off) tune it; `inspect` shows each
//! table's size on disk against the bytes of keys and values it holds.
//!
//! ## What this stage cannot do yet
//! A flipped bit on disk goes unnoticed: a damaged block may decompress into the wrong bytes and
//! return a wrong value, or fail with a confusing error. Lesson 06 puts a checksum on every block
//! (through the [`Frame`] seam defined here) and on every log record.

pub mod abbreviated;
pub mod block;
pub mod block_builder;
pub mod block_cache;
pub mod block_index;
pub mod block_table;
pub mod codec;
pub mod frame;
pub mod options;
pub mod prefetch;
pub mod varint;

pub use block_cache::BlockCache;
pub use block_table::{BlockHandle, BlockTable};
pub use codec::Codec;
pub use frame::{Bare, Frame};
pub use options::BlockOptions;

use rkv_02_sstables::{LsmOptions, LsmStore, NewestFirst};

// ANCHOR: store
/// Lesson 05's store: block tables without checksums.
pub type Store = LsmStore<BlockTable<Bare>, NewestFirst>;

/// Lesson 05's options.
pub type Options = LsmOptions<BlockOptions>;
// ANCHOR_END: store
