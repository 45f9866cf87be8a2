//! Iterators that own what they read, and the filter that turns versions into a user's view.
//!
//! A scan must keep working while flushes and compactions replace tables and while writes go
//! into the memtable. So a scan holds `Arc`s of the memtables and tables it started with (the
//! files stay readable even after a compaction unlinks them). Nothing borrows the engine, so a
//! scan can live as long as its caller likes.
//!
//! - A run of tables is read by [`TableStream`]: it holds the current decoded block (an
//!   `Arc<Block>`, shared with the block cache) and walks its entries, then asks the table for
//!   the next block — one binary search per table, none per block.
//! - A memtable is read by [`Chunked`]: the skip list's iterators borrow the map, so each refill
//!   re-opens a short range read after the last key it returned.
//!
//! The merged stream holds every version of every key. [`Visible`] keeps, for each user key, the
//! newest version at or below the scan's sequence number, and hides it if it is a tombstone.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_02_sstables::{TableEntry, TableIter};
use rkv_contract::{Entry, Error, Result};

use crate::internal_key::{self, Seq};
use crate::memtable::Memtable;
use crate::version::TableHandle;

/// Entries fetched by the first refill: a short scan (the common case) reads one block per
/// source, not several.
const FIRST_CHUNK: usize = 8;
/// Each refill fetches twice as many as the one before, up to this many: a long scan then pays
/// one re-seek per this many entries.
const MAX_CHUNK: usize = 256;

/// What a chunked source reads from.
pub enum Run {
    /// A memtable.
    Memtable(Arc<Memtable>),
    /// Tables with disjoint, ascending key ranges (one L0 table, or a level's overlap).
    Tables(Vec<Arc<TableHandle>>),
}

/// A stream of `run` over `[start, end)` (internal keys), owning everything it reads.
pub fn stream(run: Run, start: Option<Vec<u8>>, end: Option<Vec<u8>>) -> TableIter<'static> {
    match run {
        Run::Memtable(memtable) => Box::new(Chunked::new(memtable, start, end)),
        Run::Tables(tables) => Box::new(TableStream::new(tables, start, end)),
    }
}

/// Streams a memtable over `[start, end)` (internal keys) in chunks.
pub struct Chunked {
    memtable: Arc<Memtable>,
    /// Where the next chunk starts.
    next: Bound<Vec<u8>>,
    end: Option<Vec<u8>>,
    buffer: VecDeque<TableEntry>,
    /// Entries the next refill fetches.
    chunk: usize,
    done: bool,
}

impl Chunked {
    /// A stream of `memtable` from `start` (inclusive) to `end` (exclusive).
    pub fn new(memtable: Arc<Memtable>, start: Option<Vec<u8>>, end: Option<Vec<u8>>) -> Self {
        Chunked {
            memtable,
            next: start.map_or(Bound::Unbounded, Bound::Included),
            end,
            buffer: VecDeque::new(),
            chunk: FIRST_CHUNK,
            done: false,
        }
    }

    fn refill(&mut self) {
        let want = self.chunk;
        self.chunk = (self.chunk * 2).min(MAX_CHUNK);
        let chunk = self.memtable.chunk(&self.next, self.end.as_deref(), want);
        self.done = chunk.len() < want;
        self.buffer.extend(chunk);
        if let Some((key, _)) = self.buffer.back() {
            self.next = Bound::Excluded(key.clone());
        }
    }
}

impl Iterator for Chunked {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            self.refill();
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// The entries of one decoded block, each possibly a reason the block is corrupt.
type BlockEntries = Box<dyn Iterator<Item = std::result::Result<TableEntry, String>> + Send>;

/// Streams a run of tables (disjoint, ascending) over `[start, end)`, block by block.
pub struct TableStream {
    tables: Vec<Arc<TableHandle>>,
    /// The table being read.
    table: usize,
    /// The next block to load from it; `None` until the table's first block is found.
    block: Option<usize>,
    /// The entries of the block being read.
    entries: Option<BlockEntries>,
    start: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    done: bool,
}

impl TableStream {
    /// A stream of `tables` from `start` (inclusive) to `end` (exclusive).
    pub fn new(
        tables: Vec<Arc<TableHandle>>,
        start: Option<Vec<u8>>,
        end: Option<Vec<u8>>,
    ) -> Self {
        TableStream {
            tables,
            table: 0,
            block: None,
            entries: None,
            start,
            end,
            done: false,
        }
    }

    /// Loads the next block into `entries`; `Ok(false)` when every table is exhausted.
    fn load_next_block(&mut self) -> Result<bool> {
        loop {
            let Some(handle) = self.tables.get(self.table) else {
                return Ok(false);
            };
            let table = &handle.table;
            let (block, first) = match self.block {
                Some(block) => (block, false),
                None => (
                    self.start.as_deref().map_or(0, |s| table.find_block(s)),
                    true,
                ),
            };
            if block >= table.block_count() {
                self.table += 1;
                self.block = None;
                continue;
            }
            self.block = Some(block + 1);
            // Only the table's first block can hold keys below `start`.
            let from = if first { self.start.as_deref() } else { None };
            let entries = table
                .data_block(block)?
                .shared_entries_from(from)
                .map_err(|what| table.block_corruption(block, what))?;
            self.entries = Some(Box::new(entries));
            return Ok(true);
        }
    }
}

impl Iterator for TableStream {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if let Some(entries) = self.entries.as_mut() {
                match entries.next() {
                    Some(Ok(entry)) => {
                        if self.end.as_ref().is_some_and(|end| entry.0 >= *end) {
                            self.done = true;
                            return None;
                        }
                        return Some(Ok(entry));
                    }
                    Some(Err(what)) => {
                        self.done = true;
                        let block = self.block.unwrap_or(1).saturating_sub(1);
                        return Some(Err(match self.tables.get(self.table) {
                            Some(handle) => handle.table.block_corruption(block, what),
                            None => Error::corruption("(scan)", 0, what),
                        }));
                    }
                    None => self.entries = None,
                }
            }
            match self.load_next_block() {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

// ANCHOR: visible
/// Turns a merged stream of versions into the live entries visible at `seq`.
pub struct Visible<I> {
    inner: I,
    seq: Seq,
    /// The escaped prefix of the last user key decided, so its older versions are skipped.
    last_prefix: Option<Vec<u8>>,
}

impl<I> Visible<I> {
    /// The view of `inner` at sequence number `seq`.
    pub fn new(inner: I, seq: Seq) -> Self {
        Visible {
            inner,
            seq,
            last_prefix: None,
        }
    }
}

impl<I: Iterator<Item = Result<TableEntry>>> Iterator for Visible<I> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (key, value) = match self.inner.next()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e)),
            };
            let Some(seq) = internal_key::seq_of(&key) else {
                return Some(Err(bad_key(&key)));
            };
            let prefix = internal_key::prefix_of(&key);
            if seq > self.seq || self.last_prefix.as_deref() == Some(prefix) {
                continue; // too new for this view, or an older version of a decided key
            }
            // Remember the decided key in the same buffer each time: no allocation per entry.
            let last = self.last_prefix.get_or_insert_with(Vec::new);
            last.clear();
            last.extend_from_slice(prefix);
            if let Value::Put(bytes) = value {
                let Some(user_key) = internal_key::into_user_key(key) else {
                    return Some(Err(bad_key(last)));
                };
                return Some(Ok((user_key, bytes)));
            }
        }
    }
}
// ANCHOR_END: visible

fn bad_key(key: &[u8]) -> Error {
    Error::corruption(
        "(merged scan)",
        0,
        format!("{} is not an internal key", key.escape_ascii()),
    )
}
