//! Iterators that own what they read, and the filter that turns versions into a user's view.
//!
//! A scan must keep working while flushes and compactions replace tables and while writes go
//! into the memtable. So a scan holds `Arc`s of the memtables and tables it started with (the
//! files stay readable even after a compaction unlinks them) and reads them in chunks: each
//! refill re-opens a short range read after the last key it returned. Nothing borrows the engine,
//! so a scan can live as long as its caller likes.
//!
//! The merged stream holds every version of every key. [`Visible`] keeps, for each user key, the
//! newest version at or below the scan's sequence number, and hides it if it is a tombstone.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_02_sstables::{Table, TableEntry};
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

/// Streams a [`Run`] over `[start, end)` (internal keys) in chunks.
pub struct Chunked {
    run: Run,
    /// Index of the table being read (for [`Run::Tables`]).
    table: usize,
    /// Where the next chunk starts.
    next: Bound<Vec<u8>>,
    end: Option<Vec<u8>>,
    buffer: VecDeque<TableEntry>,
    /// Entries the next refill fetches.
    chunk: usize,
    done: bool,
}

impl Chunked {
    /// A stream of `run` from `start` (inclusive) to `end` (exclusive).
    pub fn new(run: Run, start: Option<Vec<u8>>, end: Option<Vec<u8>>) -> Self {
        Chunked {
            run,
            table: 0,
            next: start.map_or(Bound::Unbounded, Bound::Included),
            end,
            buffer: VecDeque::new(),
            chunk: FIRST_CHUNK,
            done: false,
        }
    }

    fn refill(&mut self) -> Result<()> {
        let want = self.chunk;
        self.chunk = (self.chunk * 2).min(MAX_CHUNK);
        match &self.run {
            Run::Memtable(memtable) => {
                let chunk = memtable.chunk(&self.next, self.end.as_deref(), want);
                self.done = chunk.len() < want;
                self.buffer.extend(chunk);
            }
            Run::Tables(tables) => {
                while self.buffer.is_empty() {
                    let Some(handle) = tables.get(self.table) else {
                        self.done = true;
                        return Ok(());
                    };
                    let (from, skip) = match &self.next {
                        Bound::Included(key) => (Some(key.as_slice()), None),
                        Bound::Excluded(key) => (Some(key.as_slice()), Some(key.as_slice())),
                        Bound::Unbounded => (None, None),
                    };
                    let mut read = 0;
                    for entry in handle.table.range(from, self.end.as_deref())? {
                        let entry = entry?;
                        if skip == Some(entry.0.as_slice()) {
                            continue;
                        }
                        self.buffer.push_back(entry);
                        read += 1;
                        if read == want {
                            break;
                        }
                    }
                    if read < want {
                        self.table += 1; // this table is exhausted
                    }
                }
            }
        }
        if let Some((key, _)) = self.buffer.back() {
            self.next = Bound::Excluded(key.clone());
        }
        Ok(())
    }
}

impl Iterator for Chunked {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty()
            && !self.done
            && let Err(e) = self.refill()
        {
            self.done = true;
            return Some(Err(e));
        }
        self.buffer.pop_front().map(Ok)
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
