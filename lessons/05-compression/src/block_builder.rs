//! Building a data block: prefix-compressed keys with restart points.
//!
//! Neighbouring keys in a sorted table share long prefixes (`user:000123:name`,
//! `user:000123:email`, …). So each entry stores only how many bytes it shares with the previous
//! key and the bytes that differ. To find a key without decoding the block from its start, every
//! `restart_interval`-th entry is a *restart point*: it stores its key in full, and the block ends
//! with the offsets of all restart points, so a reader can binary-search them.
//!
//! ```text
//! entry:    shared varint | unshared varint | value_len varint | kind u8 | key[shared..] | value
//! trailer:  restart offset u32 × count | count u32           (little-endian)
//! ```
//!
//! `kind` is 1 for a value and 2 for a tombstone (whose `value_len` is 0).

use rkv_01_basic_store::Value;

use crate::varint;

/// Entry kind byte of a value.
pub const KIND_PUT: u8 = 1;
/// Entry kind byte of a tombstone.
pub const KIND_DELETE: u8 = 2;

// ANCHOR: builder
/// Accumulates sorted entries into one block.
#[derive(Debug)]
pub struct BlockBuilder {
    /// Encoded entries so far.
    buf: Vec<u8>,
    /// Offsets of the restart points in `buf`.
    restarts: Vec<u32>,
    /// A full key every this many entries.
    restart_interval: usize,
    /// Entries since the last restart point.
    since_restart: usize,
    /// The previous key, to compute the shared prefix.
    last_key: Vec<u8>,
}

impl BlockBuilder {
    /// An empty block with a restart point every `restart_interval` entries (at least 1).
    pub fn new(restart_interval: usize) -> Self {
        BlockBuilder {
            buf: Vec::new(),
            restarts: Vec::new(),
            restart_interval: restart_interval.max(1),
            since_restart: 0,
            last_key: Vec::new(),
        }
    }

    /// Appends an entry; `key` must sort after every key added before.
    pub fn add(&mut self, key: &[u8], value: &Value) {
        let shared = if self.since_restart.is_multiple_of(self.restart_interval) {
            // A restart point: store the whole key so a reader can start here.
            self.restarts.push(self.buf.len() as u32);
            self.since_restart = 0;
            0
        } else {
            key.iter()
                .zip(&self.last_key)
                .take_while(|(a, b)| a == b)
                .count()
        };
        let (kind, bytes) = match value {
            Value::Put(bytes) => (KIND_PUT, bytes.as_slice()),
            Value::Tombstone => (KIND_DELETE, &[][..]),
        };
        varint::put(&mut self.buf, shared as u64);
        varint::put(&mut self.buf, (key.len() - shared) as u64);
        varint::put(&mut self.buf, bytes.len() as u64);
        self.buf.push(kind);
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(bytes);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.since_restart += 1;
    }
    // ANCHOR_END: builder

    /// Bytes the block would have if finished now.
    pub fn size_estimate(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    /// True when no entry was added.
    pub fn is_empty(&self) -> bool {
        self.restarts.is_empty()
    }

    /// The last key added.
    pub fn last_key(&self) -> &[u8] {
        &self.last_key
    }

    // ANCHOR: finish
    /// The finished block's bytes; the builder is empty again afterwards.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut block = std::mem::take(&mut self.buf);
        for restart in &self.restarts {
            block.extend_from_slice(&restart.to_le_bytes());
        }
        block.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.restarts.clear();
        self.since_restart = 0;
        self.last_key.clear();
        block
    }
    // ANCHOR_END: finish
}
