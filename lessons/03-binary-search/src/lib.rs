//! # Lesson 03 — binary search
//!
//! Lesson 02 put the data on disk in sorted tables, and then searched each table the way you
//! would search an unsorted list: from the first record, one comparison per record, until the
//! key turns up or is passed. On a table of 100 000 keys a `get` in the middle costs 50 000 key
//! comparisons and reads 6 MB. The records were sorted all along; the table just gave no way to
//! jump to the middle of them, because records have different lengths and record number `i`
//! could be anywhere in the file.
//!
//! This lesson adds that way. Every table now ends with an **offsets array** — the byte offset
//! of each record, in key order — and a footer that says where the array starts. Open a table
//! and its array is in memory; record `i` is one positioned read away; and a lookup is a
//! **binary search**: compare with the middle record, keep the half that can hold the key,
//! repeat. A table of `n` records takes at most `⌊log₂ n⌋ + 1` comparisons — 17 for 100 000 —
//! and each step reads only a record's fixed part and key, never its value.
//!
//! ```text
//!   lesson 02:  get k ──► record 0, record 1, record 2, … until key >= k     O(n) reads
//!   lesson 03:  get k ──► offsets[n/2] ──► offsets[n/4 or 3n/4] ──► …         O(log n) reads
//!                         (key only)       (key only)               value once, at the end
//! ```
//!
//! Nothing else changes. The LSM orchestration of lesson 02 — memtable, log, flush, the
//! `TABLES` list, merges, compaction, recovery — is generic over the table format, and this
//! crate only plugs a new one into it:
//!
//! - [`indexed_table`] — [`IndexedTable`]: the file layout (byte by byte in its docs), writing
//!   it, and opening it, which checks the offsets array before trusting it;
//! - [`search`] — the binary search itself, over any sorted sequence that can be probed by
//!   position (lesson 05 reuses it for its blocks);
//! - [`records`] — record `i` of the file through the offsets array, and the two kinds of read
//!   the search makes (a key; one whole record);
//! - [`cursor`] — reading a run of records in order, for scans and compaction;
//! - this file — [`Store`], which is lesson 02's [`LsmStore`] over [`IndexedTable`].
//!
//! Tables written by lesson 02 and tables written here have different magic numbers: each
//! lesson refuses the other's with [`Error::Format`](rkv_contract::Error::Format).
//!
//! ## What this stage cannot do yet
//! - **A miss still asks every table.** Binary search makes each probe cheap, but a `get` for a
//!   key that is in no table probes all of them, newest to oldest: fifty tables, fifty searches.
//!   Lesson 04 tries probing them in parallel; lesson 07 answers properly, with bloom filters
//!   that skip a table without reading it and compaction that keeps the number of tables small.
//! - **The whole index lives in memory.** Eight bytes per entry: fine for a table of 100 000
//!   keys, not for a billion. Lesson 05 groups records into blocks and keeps one index entry per
//!   block — a sparse index — and a lookup then reads one block instead of ~35 small pieces.
//! - **Changed bytes go unnoticed where no length or offset is involved.** Open checks that the
//!   offsets array is sane and every read checks its lengths, but a flipped bit inside a key or
//!   a value is read back as it is. Lesson 06 adds checksums.

pub mod cursor;
pub mod indexed_table;
pub mod records;
pub mod search;

pub use indexed_table::IndexedTable;
pub use search::{Position, binary_search};

use rkv_02_sstables::{LsmOptions, LsmStore, NewestFirst, NoOptions};

// ANCHOR: store
/// Lesson 03's store: lesson 02's LSM orchestration over indexed tables, searched newest first.
pub type Store = LsmStore<IndexedTable, NewestFirst>;

/// Lesson 03's options: the same as lesson 02's (the indexed table has no options of its own).
pub type Options = LsmOptions<NoOptions>;
// ANCHOR_END: store
