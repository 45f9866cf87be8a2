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
//! The store is lesson 02's [`LsmStore`](rkv_02_sstables::LsmStore) with this table plugged in,
//! and it keeps everything else lessons 03 and 04 taught: the block index is searched with
//! lesson 03's binary search, and the tables are probed with lesson 04's
//! [`Parallel`] lookup (which stays on the caller's thread for one or two tables). Only the
//! table format changes, so lesson 05's numbers against lesson 04 show what the format changes
//! and nothing else. `--set compression=none|lz4|zstd`, `--set block_bytes=N` and
//! `--set restart_interval=N` (1 turns prefix compression off) tune it; `inspect` shows each
//! table's size on disk against the bytes of keys and values it holds.
//!
//! ## What this stage cannot do yet
//! A flipped bit on disk goes unnoticed: a damaged block may decompress into the wrong bytes and
//! return a wrong value, or fail with a confusing error. Lesson 06 puts a checksum on every block
//! (through the [`Frame`] seam defined here) and on every log record. And every lookup reads,
//! decompresses and decodes its block again, even the same block twice in a row: lesson 07
//! keeps decoded blocks in memory, in a table reader built on this crate's pieces
//! ([`BlockTable::read_data_block`], [`block::Block`]).

pub mod block;
pub mod block_builder;
pub mod block_handle;
pub mod block_index;
pub mod block_table;
pub mod codec;
pub mod frame;
pub mod options;
pub mod varint;

pub use block_handle::BlockHandle;
pub use block_table::BlockTable;
pub use codec::Codec;
pub use frame::{Bare, Frame};
pub use options::BlockOptions;

use rkv_02_sstables::LsmOptions;
use rkv_04_parallel_search::Parallel;

// ANCHOR: store
/// Lesson 05's store: block tables without checksums, searched as lesson 04 searches.
pub type Store = rkv_02_sstables::LsmStore<BlockTable<Bare>, Parallel>;

/// Lesson 05's options.
pub type Options = LsmOptions<BlockOptions>;
// ANCHOR_END: store

// ANCHOR: tiny_options
/// Options under which every path of the format runs in a few writes: a flush every few
/// puts, blocks of a handful of entries, a restart point every third one. Lessons 05 and 06
/// run the conformance suite with them (and `TINY_CLI_ARGS` for the crash test's binary).
pub fn tiny_options() -> Options {
    let mut options = Options {
        memtable_bytes: 512,
        ..Default::default()
    };
    options.table.block_bytes = 64;
    options.table.restart_interval = 3;
    options
}

/// Command-line settings close to [`tiny_options`] for the crash test's child process: small
/// tables of small blocks, compressed.
pub const TINY_CLI_ARGS: &[&str] = &[
    "--set",
    "memtable_bytes=2048",
    "--set",
    "block_bytes=256",
    "--set",
    "compression=zstd",
];
// ANCHOR_END: tiny_options
