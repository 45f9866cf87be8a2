//! The concurrent memtable: a lock-free skip list of internal keys.
//!
//! Lesson 01's `BTreeMap` needs `&mut` to insert, so readers and the writer would have to take
//! turns. A skip list can take inserts while any number of readers walk it, which is why real
//! engines use one; writing a correct lock-free skip list is a course of its own, so the engine
//! uses `crossbeam-skiplist`. Entries are never changed or removed once inserted — a newer write
//! is a new internal key with a higher sequence number — so a reader never sees a half-written
//! entry and a scan can walk the list while writes continue.
//!
//! We use the crate's lower-level `base::SkipList`, not its `SkipMap`: `SkipMap` hands out
//! entries that count references, so that an entry may outlive the read that found it — two
//! atomic read-modify-writes per entry, and a fresh epoch pin per step of an iterator. Our reads
//! copy what they need before they return, so each read pins the epoch once and borrows the
//! entries under that pin. (A full scan right after a 1 M-key load, which walks a full memtable
//! of ~60 000 entries, got about 2 % faster; most of that walk is the memory latency of
//! visiting nodes scattered over the heap, which no API changes.)

use std::ops::Bound;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_epoch as epoch;
use crossbeam_skiplist::base::SkipList;
use rkv_01_basic_store::Value;
use rkv_02_sstables::TableEntry;

use crate::bloom::key_hash;
use crate::internal_key::{self, Seq};
use crate::mem_filter::MemFilter;
use crate::mem_key::MemKey;

/// Sorted, versioned, concurrently readable write buffer.
#[derive(Debug)]
pub struct Memtable {
    /// Internal key → value or tombstone.
    map: SkipList<MemKey, Value>,
    /// Every user key inserted, so that most lookups of absent keys skip the skip list.
    filter: MemFilter,
    /// Approximate bytes held (internal keys plus values).
    bytes: AtomicUsize,
    /// Every entry in one sorted, contiguous copy, made once the memtable is immutable.
    frozen: OnceLock<Chunk>,
}

impl Memtable {
    /// An empty memtable meant to hold about `budget_bytes` (its filter is sized for that).
    pub fn new(budget_bytes: usize) -> Self {
        Memtable {
            map: SkipList::new(epoch::default_collector().clone()),
            filter: MemFilter::new(budget_bytes),
            bytes: AtomicUsize::new(0),
            frozen: OnceLock::new(),
        }
    }

    /// Inserts version `seq` of `user_key`.
    pub fn insert(&self, user_key: &[u8], seq: Seq, value: Value) {
        debug_assert!(self.frozen.get().is_none(), "insert into a frozen memtable");
        thread_local! {
            /// Where a writer thread encodes its keys: no allocation per insert.
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let key = SCRATCH.with_borrow_mut(|scratch| {
            internal_key::encode_into(user_key, seq, scratch);
            // The filter first: a reader that finds the entry must also find its bits.
            self.filter
                .insert(key_hash(internal_key::prefix_of(scratch)));
            MemKey::from(scratch.as_slice())
        });
        let added = key.as_slice().len() + value.as_live().map_or(0, <[u8]>::len);
        let guard = &epoch::pin();
        // The returned entry counts a reference to the new node: give it back at once.
        self.map.insert(key, value, guard).release(guard);
        self.bytes.fetch_add(added, Ordering::Relaxed);
    }

    // ANCHOR: get
    /// The newest version of `user_key` with a sequence number `<= seq`, if any.
    pub fn get(&self, user_key: &[u8], seq: Seq) -> Option<Value> {
        let seek = internal_key::encode(user_key, seq);
        self.get_at(&seek, key_hash(internal_key::prefix_of(&seek)))
    }

    /// [`Memtable::get`] for a seek key already encoded (`internal_key::encode(user_key, seq)`)
    /// whose filter hash (`bloom::key_hash` of its prefix) is `hash`.
    pub fn get_at(&self, seek: &[u8], hash: u64) -> Option<Value> {
        if !self.filter.may_contain(hash) {
            return None; // never inserted: no need to search
        }
        let guard = &epoch::pin();
        let entry = self.map.lower_bound(Bound::Included(seek), guard)?;
        // The first internal key at or after the seek key belongs to this user key only if it
        // has the same escaped prefix (the prefix is followed by exactly 8 sequence bytes).
        (internal_key::prefix_of(entry.key().as_slice()) == internal_key::prefix_of(seek))
            .then(|| entry.value().clone())
    }
    // ANCHOR_END: get

    /// Replaces `chunk`'s contents with up to `max` entries after `after`, below `end`
    /// (internal keys), in order.
    pub fn chunk_into(
        &self,
        after: &Bound<Vec<u8>>,
        end: Option<&[u8]>,
        max: usize,
        chunk: &mut Chunk,
    ) {
        let lower = match after {
            Bound::Included(key) => Bound::Included(key.as_slice()),
            Bound::Excluded(key) => Bound::Excluded(key.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        chunk.clear();
        let guard = &epoch::pin();
        for entry in self.map.range::<[u8], _>((lower, upper), guard).take(max) {
            chunk.push(entry.key().as_slice(), entry.value().as_live());
        }
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Entries (versions) held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    // ANCHOR: freeze
    /// Copies every entry, in order, into one contiguous [`Chunk`] kept with the memtable, and
    /// returns it. Only for a memtable no writer will touch again — the immutable one a flush
    /// is writing out (writers insert only under the log lock, which rotation also holds), or
    /// one rebuilt from the log before the engine starts.
    ///
    /// A skip list's nodes lie scattered over the heap, so walking one costs a cache miss per
    /// entry: a full scan that started right after a 1 M-key load spent a tenth of its time in
    /// the one full memtable then being flushed. The flush has to walk the skip list anyway to
    /// write the table, so it walks it once into this copy, writes the table from the copy, and
    /// scans that start (or refill) meanwhile read the copy: contiguous memory, found by binary
    /// search, no copying per entry. Point reads keep using the skip list.
    pub fn freeze(&self) -> &Chunk {
        self.frozen.get_or_init(|| {
            let mut all = Chunk::default();
            self.chunk_into(&Bound::Unbounded, None, usize::MAX, &mut all);
            all
        })
    }
    // ANCHOR_END: freeze

    /// The frozen copy, once [`Memtable::freeze`] has made it.
    pub fn frozen(&self) -> Option<&Chunk> {
        self.frozen.get()
    }

    /// Every entry in order, for a flush: freezes the memtable and copies the entries out of
    /// the frozen copy.
    pub fn entries(&self) -> impl Iterator<Item = TableEntry> + '_ {
        let frozen = self.freeze();
        (0..frozen.len()).filter_map(|i| {
            let (key, value) = frozen.entry(i)?;
            Some((
                key.to_vec(),
                value.map_or(Value::Tombstone, |v| Value::Put(v.to_vec())),
            ))
        })
    }
}

/// Entries copied out of a memtable into one reused buffer: a scan refills it again and again,
/// and with one allocation per key and value the copying cost more than the skip list walk.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Keys and values, back to back.
    bytes: Vec<u8>,
    /// Per entry: where its key starts, where its key ends (and its value starts), and where
    /// its value ends — `None` for a tombstone.
    entries: Vec<(usize, usize, Option<usize>)>,
}

impl Chunk {
    fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }

    fn push(&mut self, key: &[u8], value: Option<&[u8]>) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let key_end = self.bytes.len();
        let value_end = value.map(|v| {
            self.bytes.extend_from_slice(v);
            self.bytes.len()
        });
        self.entries.push((start, key_end, value_end));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the chunk holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The index of the first entry after `bound` (the entries are in key order, as a
    /// memtable gives them).
    pub fn first_after(&self, bound: &Bound<Vec<u8>>) -> usize {
        match bound {
            Bound::Unbounded => 0,
            Bound::Included(key) => self.count_below(|k| k < key.as_slice()),
            Bound::Excluded(key) => self.count_below(|k| k <= key.as_slice()),
        }
    }

    /// The index of the first entry at or above `end` (the length if there is none).
    pub fn first_at_or_above(&self, end: Option<&[u8]>) -> usize {
        match end {
            Some(end) => self.count_below(|k| k < end),
            None => self.len(),
        }
    }

    /// How many leading entries have keys for which `below` holds.
    fn count_below(&self, below: impl Fn(&[u8]) -> bool) -> usize {
        self.entries.partition_point(|&(start, key_end, _)| {
            self.bytes.get(start..key_end).is_some_and(&below)
        })
    }

    /// Entry `i`: its internal key and its value (`None` for a tombstone).
    pub fn entry(&self, i: usize) -> Option<(&[u8], Option<&[u8]>)> {
        let &(start, key_end, value_end) = self.entries.get(i)?;
        let key = self.bytes.get(start..key_end)?;
        let value = match value_end {
            Some(end) => Some(self.bytes.get(key_end..end)?),
            None => None,
        };
        Some((key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_sees_the_newest_version_at_or_below_the_snapshot() {
        let m = Memtable::new(1 << 10);
        m.insert(b"k", 5, Value::Put(b"five".to_vec()));
        m.insert(b"k", 9, Value::Tombstone);
        m.insert(b"k\0", 7, Value::Put(b"other".to_vec()));
        assert_eq!(m.get(b"k", 4), None);
        assert_eq!(m.get(b"k", 5), Some(Value::Put(b"five".to_vec())));
        assert_eq!(m.get(b"k", 8), Some(Value::Put(b"five".to_vec())));
        assert_eq!(m.get(b"k", 9), Some(Value::Tombstone));
        assert_eq!(m.get(b"", 100), None);
        assert_eq!(m.get(b"k\0", 100), Some(Value::Put(b"other".to_vec())));
    }

    #[test]
    fn entries_come_out_in_order_across_chunk_boundaries() {
        let m = Memtable::new(1 << 20);
        // 2 048 + 7: two full flush chunks and a short one; inserted out of order.
        let count = 2 * 1024 + 7;
        for i in (0..count).rev() {
            let key = format!("key{i:05}");
            let value = if i % 5 == 0 {
                Value::Tombstone
            } else {
                Value::Put(key.as_bytes().to_vec())
            };
            m.insert(key.as_bytes(), 1, value);
        }
        let got: Vec<TableEntry> = m.entries().collect();
        let want: Vec<TableEntry> = (0..count)
            .map(|i| {
                let key = format!("key{i:05}");
                let value = if i % 5 == 0 {
                    Value::Tombstone
                } else {
                    Value::Put(key.as_bytes().to_vec())
                };
                (internal_key::encode(key.as_bytes(), 1), value)
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(Memtable::new(1 << 10).entries().count(), 0);
    }

    #[test]
    fn a_chunk_holds_the_entries_of_its_range_in_order_and_is_reused() {
        let m = Memtable::new(1 << 10);
        for (i, key) in [b"a", b"b", b"c", b"d"].iter().enumerate() {
            let value = if i == 2 {
                Value::Tombstone
            } else {
                Value::Put(vec![b'0' + i as u8; i])
            };
            m.insert(*key, 1, value);
        }
        let mut chunk = Chunk::default();
        let after = Bound::Excluded(internal_key::encode(b"a", 1));
        m.chunk_into(&after, None, 2, &mut chunk);
        assert_eq!(chunk.len(), 2);
        assert_eq!(
            chunk.entry(0),
            Some((internal_key::encode(b"b", 1).as_slice(), Some(&b"1"[..])))
        );
        assert_eq!(
            chunk.entry(1),
            Some((internal_key::encode(b"c", 1).as_slice(), None))
        );
        assert_eq!(chunk.entry(2), None);
        let end = internal_key::scan_end(b"d");
        m.chunk_into(&Bound::Unbounded, Some(&end), 10, &mut chunk);
        let keys: Vec<_> = (0..chunk.len())
            .filter_map(|i| chunk.entry(i))
            .map(|(k, _)| k.to_vec())
            .collect();
        let want: Vec<_> = [b"a", b"b", b"c"]
            .iter()
            .map(|k| internal_key::encode(*k, 1))
            .collect();
        assert_eq!(keys, want);
        assert_eq!(chunk.entry(0).and_then(|(_, v)| v), Some(&b""[..]));
    }
}
