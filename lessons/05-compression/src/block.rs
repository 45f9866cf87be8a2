//! Reading a data block: binary search over the restart points, then a short scan.
//!
//! The restart points are the only keys in a block that can be read without reading the entry
//! before them, so a lookup binary-searches them for the last one at or before the key, then
//! decodes forward — at most `restart_interval` entries — until it reaches or passes the key.
//!
//! Every length and offset comes from the file, so every one is checked before it is used: a
//! corrupt block gives an error message (turned into `Error::Corruption` with the file and the
//! block's offset by the caller), never a panic or an out-of-bounds read.

use std::sync::Arc;

use rkv_01_basic_store::Value;
use rkv_contract::Stats;

use crate::block_builder::{KIND_DELETE, KIND_PUT};
use crate::varint;

/// A decoded (decompressed) block, checked enough to be read safely.
///
/// Cloning one is cheap: the bytes are shared (an `Arc`), so a scan, or a cache of decoded
/// blocks in a later lesson, can hold copies of one block without copying its bytes.
#[derive(Clone, Debug)]
pub struct Block {
    /// The whole block, trailer included.
    data: Arc<[u8]>,
    /// Where the entries end and the restart offsets begin.
    entries_end: usize,
    /// Number of restart points.
    restarts: usize,
}

/// A reason a block is corrupt.
pub type BlockError = String;

/// One entry's place in a block: how much key it shares with its predecessor, where its key
/// suffix and its value (`None` for a tombstone) lie, and where the next entry starts.
struct RawEntry {
    shared: usize,
    suffix: std::ops::Range<usize>,
    value: Option<std::ops::Range<usize>>,
    next: usize,
}

impl Block {
    /// Checks the trailer of `data` and wraps it.
    pub fn new(data: Vec<u8>) -> Result<Block, BlockError> {
        let len = data.len();
        if len < 4 {
            return Err(format!("block of {len} bytes has no restart count"));
        }
        let restarts = read_u32(&data, len - 4) as usize;
        let entries_end = restarts
            .checked_mul(4)
            .and_then(|bytes| (len - 4).checked_sub(bytes))
            .ok_or_else(|| format!("{restarts} restart points do not fit in {len} bytes"))?;
        let block = Block {
            data: Arc::from(data),
            entries_end,
            restarts,
        };
        let mut previous = None;
        for i in 0..restarts {
            let offset = block.restart(i);
            if offset >= entries_end || previous.is_some_and(|p| offset <= p) {
                return Err(format!(
                    "restart point {i} at {offset} is out of order or range"
                ));
            }
            previous = Some(offset);
        }
        if (restarts == 0) != (entries_end == 0) || (restarts > 0 && block.restart(0) != 0) {
            return Err("restart points do not start at the first entry".into());
        }
        Ok(block)
    }

    /// Bytes of the decoded block: what it costs to keep it in memory.
    pub fn size(&self) -> usize {
        self.data.len()
    }

    /// The block's bytes: entries, then the restart offsets and their count.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Where the entries end (and the restart offsets begin).
    #[inline]
    pub fn entries_end(&self) -> usize {
        self.entries_end
    }

    /// Number of restart points.
    #[inline]
    pub fn restart_count(&self) -> usize {
        self.restarts
    }

    /// Where the entry of restart point `i` (`< restart_count()`) starts; checked by `new`.
    #[inline]
    pub fn restart(&self, i: usize) -> usize {
        read_u32(&self.data, self.entries_end + 4 * i) as usize
    }

    /// Decodes the lengths of the entry at `offset` without copying anything: the key suffix
    /// and the value stay where they are, as ranges of the block.
    #[inline]
    fn raw_entry(&self, offset: usize) -> Result<RawEntry, BlockError> {
        let bad = |what: &str| format!("entry at block offset {offset}: {what}");
        let entries = &self.data[..self.entries_end];
        let (shared, unshared, value_len, mut at) = match entries.get(offset..offset + 4) {
            // The common case: three lengths below 128, one byte each, then the kind.
            Some(&[a, b, c, _]) if (a | b | c) < 0x80 => {
                (usize::from(a), usize::from(b), usize::from(c), offset + 3)
            }
            _ => {
                let mut at = offset;
                let mut number = || -> Result<usize, BlockError> {
                    let (value, used) = entries
                        .get(at..)
                        .and_then(varint::get)
                        .ok_or_else(|| bad("truncated length"))?;
                    at += used;
                    usize::try_from(value).map_err(|_| bad("length too large"))
                };
                let shared = number()?;
                let unshared = number()?;
                let value_len = number()?;
                (shared, unshared, value_len, at)
            }
        };
        let kind = *entries.get(at).ok_or_else(|| bad("truncated kind"))?;
        at += 1;
        let suffix_end = at.checked_add(unshared).filter(|&e| e <= entries.len());
        let suffix_end = suffix_end.ok_or_else(|| bad("key runs past the entries"))?;
        let value_end = suffix_end
            .checked_add(value_len)
            .filter(|&e| e <= entries.len());
        let value_end = value_end.ok_or_else(|| bad("value runs past the entries"))?;
        let put = match kind {
            KIND_PUT => true,
            KIND_DELETE if value_len == 0 => false,
            _ => {
                return Err(bad(&format!(
                    "unknown kind {kind} or tombstone with a value"
                )));
            }
        };
        Ok(RawEntry {
            shared,
            suffix: at..suffix_end,
            value: put.then_some(suffix_end..value_end),
            next: value_end,
        })
    }

    /// Decodes the entry at `offset`, whose predecessor's key is in `key`; replaces `key` with
    /// this entry's key and returns the entry (its value still inside the block).
    fn entry(&self, offset: usize, key: &mut Vec<u8>) -> Result<RawEntry, BlockError> {
        let raw = self.raw_entry(offset)?;
        if raw.shared > key.len() {
            return Err(format!(
                "entry at block offset {offset}: shares more bytes than the previous key has"
            ));
        }
        key.truncate(raw.shared);
        key.extend_from_slice(&self.data[raw.suffix.clone()]);
        Ok(raw)
    }

    /// The value of a decoded entry, copied out of the block.
    fn value_of(&self, raw: &RawEntry) -> Value {
        match &raw.value {
            Some(range) => Value::Put(self.data[range.clone()].to_vec()),
            None => Value::Tombstone,
        }
    }

    /// The full key of the restart entry at `offset`, borrowed from the block: a restart entry
    /// shares nothing with its predecessor, so its whole key is its suffix.
    #[inline]
    fn restart_key(&self, offset: usize) -> Result<&[u8], BlockError> {
        let raw = self.raw_entry(offset)?;
        if raw.shared != 0 {
            return Err(format!(
                "restart entry at block offset {offset} shares {} bytes",
                raw.shared
            ));
        }
        Ok(&self.data[raw.suffix])
    }

    /// The index of the last restart point whose key is `<= target` (0 if none is).
    pub fn seek_restart(&self, target: &[u8], stats: &mut Stats) -> Result<usize, BlockError> {
        self.seek_restart_by(target, stats, |i| self.restart(i))
    }

    // ANCHOR: seek_restart
    /// [`Block::seek_restart`], finding restart point `i`'s entry at `restart(i)`: a reader
    /// that keeps some restart offsets elsewhere passes its own way to find them.
    pub fn seek_restart_by(
        &self,
        target: &[u8],
        stats: &mut Stats,
        restart: impl Fn(usize) -> usize,
    ) -> Result<usize, BlockError> {
        let (mut low, mut high) = (0, self.restarts);
        // Invariant: every restart before `low` has a key <= target (or low == 0); every restart
        // from `high` on has a key > target.
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            stats.key_comparisons += 1;
            if self.restart_key(restart(mid))? <= target {
                low = mid;
            } else {
                high = mid;
            }
        }
        Ok(low)
    }
    // ANCHOR_END: seek_restart

    // ANCHOR: get
    /// The state of `target` in this block, if the block mentions it.
    pub fn get(&self, target: &[u8], stats: &mut Stats) -> Result<Option<Value>, BlockError> {
        Ok(match self.seek(target, stats)? {
            Some((key, value)) if key == target => Some(value),
            _ => None,
        })
    }

    /// The first entry with a key `>= target`, if the block has one: the restart point to
    /// start from, then a scan of at most a restart interval of entries.
    pub fn seek(
        &self,
        target: &[u8],
        stats: &mut Stats,
    ) -> Result<Option<(Vec<u8>, Value)>, BlockError> {
        if self.restarts == 0 {
            return Ok(None);
        }
        let restart = self.seek_restart(target, stats)?;
        self.seek_from(self.restart(restart), target, stats)
    }
    // ANCHOR_END: get

    // ANCHOR: seek_from
    /// The first entry with a key `>= target`, scanning from the entry at `offset`, which must
    /// be a restart point's whose key is `<= target` (or the first entry).
    ///
    /// Entries are decoded in place, and their keys are never rebuilt: the scan keeps only
    /// `matched`, how many leading bytes the last key it passed (which was below `target`)
    /// shares with `target`. An entry that shares more than that with its predecessor also
    /// equals it at byte `matched`, where the predecessor was already below `target`: it is
    /// below too, passed without looking at its suffix. Otherwise its first `shared` bytes are
    /// `target`'s, and only its suffix is compared — usually one byte decides. The answer's key
    /// is `target`'s first `shared` bytes followed by its suffix.
    pub fn seek_from(
        &self,
        mut offset: usize,
        target: &[u8],
        stats: &mut Stats,
    ) -> Result<Option<(Vec<u8>, Value)>, BlockError> {
        let (mut matched, mut previous_len) = (0, 0);
        while offset < self.entries_end {
            let raw = self.raw_entry(offset)?;
            stats.records_read += 1;
            if raw.shared > previous_len {
                return Err(format!(
                    "entry at block offset {offset}: shares more bytes than the previous key has"
                ));
            }
            previous_len = raw.shared + raw.suffix.len();
            if raw.shared > matched {
                offset = raw.next; // equal to its predecessor where that one was below target
                continue;
            }
            let suffix = &self.data[raw.suffix.clone()];
            let rest = &target[raw.shared..];
            stats.key_comparisons += 1;
            if suffix < rest {
                matched = raw.shared + common_prefix(suffix, rest);
                offset = raw.next;
                continue;
            }
            let mut key = Vec::with_capacity(raw.shared + suffix.len());
            key.extend_from_slice(&target[..raw.shared]);
            key.extend_from_slice(suffix);
            return Ok(Some((key, self.value_of(&raw))));
        }
        Ok(None)
    }
    // ANCHOR_END: seek_from

    /// Every entry with key `>= start`, in order. Takes the block by value: a caller holding a
    /// block shared with a cache or a table passes a clone, which shares the bytes.
    pub fn entries_from(
        self,
        start: Option<&[u8]>,
    ) -> Result<impl Iterator<Item = Result<(Vec<u8>, Value), BlockError>> + use<>, BlockError>
    {
        Ok(OwnedEntries {
            cursor: BlockCursor::seek(self, start)?,
            pending: None,
        })
    }
}

// ANCHOR: cursor
/// A position in a block that lends out the entry it stands on instead of copying it.
///
/// Only the key is rebuilt (prefix compression means no key but a restart key lies whole in the
/// block); the value is a slice of the block. A reader that looks at each entry and moves on —
/// a merge, a scan handing slices to a callback — then copies nothing per entry.
pub struct BlockCursor {
    block: Block,
    /// The current entry's key.
    key: Vec<u8>,
    /// The current entry's value in the block; `None` for a tombstone.
    value: Option<std::ops::Range<usize>>,
    /// Where the entry after the current one starts.
    next: usize,
    /// False once the cursor has moved past the last entry.
    valid: bool,
}

impl BlockCursor {
    /// A cursor on the first entry with a key `>= start` (the first entry if `start` is
    /// `None`); not [`valid`](BlockCursor::valid) if there is none.
    pub fn seek(block: Block, start: Option<&[u8]>) -> Result<BlockCursor, BlockError> {
        let first = match start {
            Some(start) if block.restarts > 0 => {
                block.restart(block.seek_restart(start, &mut Stats::default())?)
            }
            _ => 0,
        };
        let mut cursor = BlockCursor {
            block,
            key: Vec::new(),
            value: None,
            next: first,
            valid: true,
        };
        cursor.advance()?;
        // Skip the few entries between the restart point and `start`.
        while let Some(start) = start
            && cursor.valid
            && cursor.key.as_slice() < start
        {
            cursor.advance()?;
        }
        Ok(cursor)
    }

    /// True while the cursor stands on an entry.
    #[inline]
    pub fn valid(&self) -> bool {
        self.valid
    }

    /// The current entry's key (empty once the cursor is not valid).
    #[inline]
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The current entry's value, borrowed from the block; `None` for a tombstone.
    #[inline]
    pub fn value(&self) -> Option<&[u8]> {
        self.value.clone().map(|range| &self.block.data[range])
    }

    /// Moves to the next entry; `Ok(false)` when there is none (the cursor is then not valid).
    #[inline]
    pub fn advance(&mut self) -> Result<bool, BlockError> {
        if !self.valid || self.next >= self.block.entries_end {
            self.valid = false;
            return Ok(false);
        }
        match self.block.entry(self.next, &mut self.key) {
            Ok(raw) => {
                self.next = raw.next;
                self.value = raw.value;
                Ok(true)
            }
            Err(e) => {
                self.valid = false;
                Err(e)
            }
        }
    }
}
// ANCHOR_END: cursor

/// Walks a block's entries in order, copying each out.
struct OwnedEntries {
    cursor: BlockCursor,
    /// The error found while moving past the entry returned last: returned by the next call.
    pending: Option<BlockError>,
}

impl Iterator for OwnedEntries {
    type Item = Result<(Vec<u8>, Value), BlockError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        if !self.cursor.valid() {
            return None;
        }
        let value = self
            .cursor
            .value()
            .map_or(Value::Tombstone, |v| Value::Put(v.to_vec()));
        let entry = (self.cursor.key.clone(), value);
        // After an error the cursor is no longer valid, so the stream ends after reporting it.
        if let Err(e) = self.cursor.advance() {
            self.pending = Some(e);
        }
        Some(Ok(entry))
    }
}

/// How many leading bytes `a` and `b` have in common (lesson 07's abbreviated keys use it too).
#[inline]
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn read_u32(data: &[u8], at: usize) -> u32 {
    let mut le = [0u8; 4];
    le.copy_from_slice(&data[at..at + 4]);
    u32::from_le_bytes(le)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block_builder::BlockBuilder;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn build(entries: &BTreeMap<Vec<u8>, Option<Vec<u8>>>, interval: usize) -> Block {
        let mut builder = BlockBuilder::new(interval);
        for (k, v) in entries {
            builder.add(k, &v.clone().map_or(Value::Tombstone, Value::Put));
        }
        Block::new(builder.finish()).unwrap()
    }

    #[test]
    fn shared_prefixes_are_stored_once() {
        let mut builder = BlockBuilder::new(16);
        for suffix in b'a'..=b'p' {
            let mut key = b"user:000123:field-".to_vec();
            key.push(suffix);
            builder.add(&key, &Value::Put(vec![]));
        }
        let block = builder.finish();
        // 16 keys of 19 bytes: the first in full, the others only their last byte; each entry
        // has 4 bytes of lengths and kind; the trailer is one restart offset and the count.
        assert_eq!(block.len(), (4 + 19) + 15 * (4 + 1) + 8);
    }

    proptest! {
        #[test]
        fn finds_every_key_and_no_other(
            entries in prop::collection::btree_map(
                prop::collection::vec(0u8..4, 0..6),
                prop::option::of(prop::collection::vec(any::<u8>(), 0..8)),
                0..60),
            probes in prop::collection::vec(prop::collection::vec(0u8..4, 0..6), 0..30),
            interval in 1usize..20,
        ) {
            let block = build(&entries, interval);
            let mut stats = Stats::default();
            for (k, v) in &entries {
                let want = v.clone().map_or(Value::Tombstone, Value::Put);
                prop_assert_eq!(block.get(k, &mut stats).unwrap(), Some(want));
            }
            for probe in &probes {
                let want = entries.get(probe).map(|v| v.clone().map_or(Value::Tombstone, Value::Put));
                prop_assert_eq!(block.get(probe, &mut stats).unwrap(), want);
                let first_at_or_after = entries
                    .range(probe.clone()..)
                    .next()
                    .map(|(k, v)| (k.clone(), v.clone().map_or(Value::Tombstone, Value::Put)));
                prop_assert_eq!(block.seek(probe, &mut stats).unwrap(), first_at_or_after);
                let from: Vec<_> = build(&entries, interval).entries_from(Some(probe)).unwrap()
                    .map(|e| e.unwrap().0).collect();
                let want: Vec<_> = entries.range(probe.clone()..).map(|(k, _)| k.clone()).collect();
                prop_assert_eq!(from, want);
                // The cursor lends the same entries, values included, without copying them.
                let mut cursor = BlockCursor::seek(build(&entries, interval), Some(probe)).unwrap();
                let mut lent = Vec::new();
                while cursor.valid() {
                    lent.push((cursor.key().to_vec(), cursor.value().map(<[u8]>::to_vec)));
                    cursor.advance().unwrap();
                }
                let want: Vec<_> = entries.range(probe.clone()..).map(|(k, v)| (k.clone(), v.clone())).collect();
                prop_assert_eq!(lent, want);
            }
        }

        #[test]
        fn garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..200), probe in prop::collection::vec(any::<u8>(), 0..4)) {
            if let Ok(block) = Block::new(data) {
                let _ = block.get(&probe, &mut Stats::default());
                if let Ok(iter) = block.entries_from(None) {
                    for _ in iter {}
                }
            }
        }
    }
}
