//! What a read sees: the memtables and tables of one moment, and the sequence number that
//! bounds them.
//!
//! A reader takes a [`Picture`] under the state lock — long enough to clone three `Arc`s and
//! read one number — and then reads without any lock at all: writes go to the memtable (whose
//! entries newer than the picture's sequence number it skips), and a flush or a compaction swaps
//! in a new version without touching the one the picture holds. A point read asks the sources
//! newest first and stops at the first answer; a scan merges them all.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rkv_01_basic_store::Value;
use rkv_contract::{Result, Stats};

use crate::bloom;
use crate::cursor::Cursor;
use crate::internal_key::{self, Seq};
use crate::iter::Scan;
use crate::memtable::Memtable;
use crate::state::Shared;
use crate::version::Version;

/// What a read sees: memtables, tables, and the sequence number that bounds them.
#[derive(Clone, Debug)]
pub(crate) struct Picture {
    /// The memtable receiving writes at that moment.
    pub mem: Arc<Memtable>,
    /// The memtable being flushed at that moment, if any.
    pub imm: Option<Arc<Memtable>>,
    /// The live tables at that moment.
    pub version: Arc<Version>,
    /// The last sequence number published then: later writes are invisible.
    pub seq: Seq,
}

impl Picture {
    // ANCHOR: picture
    /// A consistent picture for a reader.
    pub(crate) fn of(shared: &Shared) -> Result<Picture> {
        let state = shared.state()?;
        Ok(Picture {
            mem: state.mem.clone(),
            imm: state.imm.clone(),
            version: state.version.clone(),
            seq: shared.last_seq.load(Ordering::Acquire),
        })
    }
    // ANCHOR_END: picture

    // ANCHOR: get
    /// The value of `key` in this picture.
    pub(crate) fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Vec<u8>>> {
        // One seek key for every level (the newest version of `key` at or below `seq`),
        // and one filter hash for the memtables' and the tables' filters.
        let seek = internal_key::encode(key, self.seq);
        let hash = bloom::key_hash(internal_key::prefix_of(&seek));
        let found = match self.mem.get_at(&seek, hash) {
            Some(value) => Some(value),
            None => match self.imm.as_ref().and_then(|imm| imm.get_at(&seek, hash)) {
                Some(value) => Some(value),
                None => self.version.get_at(key, &seek, hash, stats)?,
            },
        };
        Ok(match found {
            Some(Value::Put(bytes)) => Some(bytes),
            _ => None,
        })
    }
    // ANCHOR_END: get

    // ANCHOR: scan
    /// The live entries with `start <= key < end` in this picture, streamed.
    pub(crate) fn scan(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Scan {
        if matches!((start, end), (Some(s), Some(e)) if s >= e) {
            return Scan::new(Ok(Vec::new()), self.seq);
        }
        let from = start.map(internal_key::scan_start);
        let to = end.map(internal_key::scan_end);
        let (from, to) = (from.as_deref(), to.as_deref());
        let mut sources = vec![Cursor::memtable(self.mem.clone(), from, to)];
        if let Some(imm) = &self.imm {
            sources.push(Cursor::memtable(imm.clone(), from, to));
        }
        let tables = || -> Result<Vec<Cursor>> {
            for level in 0..self.version.levels.len() {
                let overlapping = self.version.overlapping(level, start, end);
                if level == 0 {
                    for table in overlapping {
                        sources.push(Cursor::tables(vec![table], from, to)?);
                    }
                } else if !overlapping.is_empty() {
                    sources.push(Cursor::tables(overlapping, from, to)?);
                }
            }
            Ok(sources)
        };
        Scan::new(tables(), self.seq)
    }
    // ANCHOR_END: scan
}
