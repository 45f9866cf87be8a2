//! # Lesson 02 — SSTables
//!
//! Lesson 01 kept everything in memory and let its log grow forever. This lesson moves data to
//! disk. When the memtable holds more than a threshold of bytes (`--set memtable_bytes=N`,
//! default 4 MiB), it is written out, sorted, as an immutable **SSTable** (sorted string table),
//! and the log that protected it is deleted. Memory stays bounded; the log stays short.
//!
//! ```text
//!   put ──► log ──► memtable ──(full)──► 000007.sst   (newest)
//!                                        000004.sst
//!                                        000002.sst   (oldest)
//!   get ──► memtable, then tables newest to oldest: the first that knows the key wins
//!   scan ─► a k-way merge of the memtable and every table, newest wins, tombstones hidden
//! ```
//!
//! A delete can no longer just remove a key — an older table may still hold a value for it. So a
//! delete writes a **tombstone**, which shadows older values like any newer value would, and a
//! read that meets it answers "absent". `compact` merges all tables into one and finally drops
//! overwritten values and tombstones.
//!
//! The pieces:
//! - [`store`] — [`LsmStore`], the orchestration: flush, retire logs, merge, compact, recover.
//!   It is written once, here, and is generic over the parts later lessons replace:
//! - [`table`] — the [`Table`] trait, the seam for table formats; [`scan_table`] is this
//!   lesson's format: sorted records and a footer, **no index** ([`table_ends`] checks the
//!   header and the footer, for lesson 03's format too);
//! - [`lookup`] — the [`Lookup`] trait, the seam for search strategies; [`NewestFirst`] here;
//! - [`journal`] — the [`Journal`] trait, the seam for the log format and for how `TABLES` is
//!   protected on disk (lesson 01's log, and no protection, here);
//! - [`merge`] — the streaming k-way merge iterator;
//! - [`table_list`] — the `TABLES` file that makes flushes and compactions atomic.
//!
//! ## What this stage cannot do yet
//! A `get` that misses the memtable reads each table **from its first record** until it finds the
//! key. On a table of 100 000 keys that is tens of thousands of key comparisons per lookup —
//! run `get` then `stats` in the shell and see. Lesson 03 gives every table an index so that a
//! lookup is a binary search. And nothing merges tables except an explicit `compact`, so reads
//! get slower as tables pile up; lesson 04 tries parallelism, lesson 07 does it properly.

pub mod journal;
pub mod lookup;
pub mod merge;
pub mod options;
pub mod scan_table;
pub mod store;
pub mod table;
pub mod table_ends;
pub mod table_list;

pub use journal::Journal;
pub use lookup::{Lookup, NewestFirst};
pub use options::LsmOptions;
pub use scan_table::ScanTable;
pub use store::LsmStore;
pub use table::{NoOptions, Table, TableEntry, TableIter, TableOptions, TableSummary};

/// Lesson 02's store: the LSM orchestration over index-less tables, searched newest first.
pub type Store = LsmStore<ScanTable, NewestFirst>;

/// Lesson 02's options.
pub type Options = LsmOptions<NoOptions>;
