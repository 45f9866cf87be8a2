//! Write batches: several puts and deletes applied atomically.
//!
//! A batch is encoded as one write-ahead-log record, so after a crash either the whole record
//! passes its checksum and every write in it is replayed, or it is a torn tail and none is. Its
//! writes get consecutive sequence numbers, starting at the number stored with the record.
//!
//! ```text
//! count u32 LE | count × ( kind u8 (1 put, 2 delete) | key_len varint | key
//!                          | for a put: value_len varint | value )
//! ```
//!
//! A log record's value holds at most 16 MiB (the contract's value limit, which lesson 06's log
//! enforces), but one put may already carry a 16 MiB value plus its key. So an encoded batch is
//! cut into *parts* of at most 16 MiB, each one log record whose key says where it belongs:
//!
//! ```text
//! record key:   first sequence number u64 BE | part index u32 BE | part count u32 BE
//! record value: the part's bytes
//! ```
//!
//! The parts of a batch are appended back to back in one group, so a crash can only cut off the
//! last parts; replay applies a batch only once it has all of its parts ([`Reassembly`]).

use rkv_01_basic_store::Value;
use rkv_05_compression::varint;
use rkv_contract::{MAX_KEY_BYTES, MAX_VALUE_BYTES, Result, check_key, check_value};

/// The largest encoded batch.
pub const MAX_BATCH_BYTES: usize = 64 << 20;
/// The largest part of a batch in one log record.
pub const MAX_PART_BYTES: usize = MAX_VALUE_BYTES;

/// Puts and deletes to apply together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    /// The writes, in order; a later write to the same key wins.
    pub(crate) writes: Vec<(Vec<u8>, Value)>,
    /// Bytes of keys and values, for the size limit and the stats.
    pub(crate) bytes: usize,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put of `value` to `key`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<&mut Self> {
        check_key(key)?;
        check_value(value)?;
        self.push(key, Value::Put(value.to_vec()))
    }

    /// Adds a delete of `key`.
    pub fn delete(&mut self, key: &[u8]) -> Result<&mut Self> {
        check_key(key)?;
        self.push(key, Value::Tombstone)
    }

    fn push(&mut self, key: &[u8], value: Value) -> Result<&mut Self> {
        let added = key.len() + value.as_live().map_or(0, <[u8]>::len);
        // 16 bytes of headroom per write for kinds and lengths.
        if self.bytes + added + 16 * (self.writes.len() + 1) > MAX_BATCH_BYTES {
            return Err(rkv_contract::Error::invalid(
                format!("batch would hold {} bytes", self.bytes + added),
                format!("at most {MAX_BATCH_BYTES} bytes in one batch"),
            ));
        }
        self.bytes += added;
        self.writes.push((key.to_vec(), value));
        Ok(self)
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// True when the batch holds no write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Key and value bytes in the batch.
    pub fn user_bytes(&self) -> usize {
        self.bytes
    }

    /// The encoding stored in a log record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes + 4 + 12 * self.writes.len());
        out.extend_from_slice(&(self.writes.len() as u32).to_le_bytes());
        for (key, value) in &self.writes {
            match value {
                Value::Put(bytes) => {
                    out.push(1);
                    varint::put(&mut out, key.len() as u64);
                    out.extend_from_slice(key);
                    varint::put(&mut out, bytes.len() as u64);
                    out.extend_from_slice(bytes);
                }
                Value::Tombstone => {
                    out.push(2);
                    varint::put(&mut out, key.len() as u64);
                    out.extend_from_slice(key);
                }
            }
        }
        out
    }

    /// Decodes a batch; the error says what is wrong (the caller names the file and offset).
    pub fn decode(bytes: &[u8]) -> std::result::Result<WriteBatch, String> {
        let count_bytes: [u8; 4] = bytes
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or("batch shorter than its count")?;
        let count = u32::from_le_bytes(count_bytes) as usize;
        let mut at = 4;
        let mut batch = WriteBatch::new();
        let take = |at: &mut usize, limit: usize| -> std::result::Result<Vec<u8>, String> {
            let (len, used) = varint::get(&bytes[*at..]).ok_or("truncated length")?;
            let len = usize::try_from(len).map_err(|_| "length overflow")?;
            if len > limit {
                return Err(format!("length {len} above the limit {limit}"));
            }
            let start = *at + used;
            let end = start
                .checked_add(len)
                .filter(|&e| e <= bytes.len())
                .ok_or("truncated bytes")?;
            *at = end;
            Ok(bytes[start..end].to_vec())
        };
        for _ in 0..count {
            let kind = *bytes.get(at).ok_or("truncated kind")?;
            at += 1;
            let key = take(&mut at, MAX_KEY_BYTES)?;
            let value = match kind {
                1 => Value::Put(take(&mut at, MAX_VALUE_BYTES)?),
                2 => Value::Tombstone,
                other => return Err(format!("unknown write kind {other}")),
            };
            batch.bytes += key.len() + value.as_live().map_or(0, <[u8]>::len);
            batch.writes.push((key, value));
        }
        if at != bytes.len() {
            return Err(format!("{} bytes after the last write", bytes.len() - at));
        }
        Ok(batch)
    }
}

// ANCHOR: records
/// The log records (key, value) that hold `encoded`, the batch starting at sequence `first`.
pub fn records(first: u64, encoded: Vec<u8>) -> Vec<(Vec<u8>, Value)> {
    let key = |index: u32, count: u32| {
        let mut key = Vec::with_capacity(16);
        key.extend_from_slice(&first.to_be_bytes());
        key.extend_from_slice(&index.to_be_bytes());
        key.extend_from_slice(&count.to_be_bytes());
        key
    };
    if encoded.len() <= MAX_PART_BYTES {
        // The common case: one part, the encoded batch itself (moved, not copied).
        return vec![(key(0, 1), Value::Put(encoded))];
    }
    let count = encoded.len().div_ceil(MAX_PART_BYTES) as u32;
    encoded
        .chunks(MAX_PART_BYTES)
        .enumerate()
        .map(|(index, part)| (key(index as u32, count), Value::Put(part.to_vec())))
        .collect()
}
// ANCHOR_END: records

/// Collects the parts of batches during replay.
#[derive(Debug, Default)]
pub struct Reassembly {
    /// The batch being collected: its first sequence number, parts so far, part count.
    pending: Option<(u64, Vec<u8>, u32, u32)>,
}

impl Reassembly {
    /// Feeds one record; returns a whole batch and its first sequence number once complete.
    pub fn feed(
        &mut self,
        key: &[u8],
        part: Vec<u8>,
    ) -> std::result::Result<Option<(u64, WriteBatch)>, String> {
        if key.len() != 16 {
            return Err(format!("record key of {} bytes, expected 16", key.len()));
        }
        let word = |at: usize| u32::from_be_bytes([key[at], key[at + 1], key[at + 2], key[at + 3]]);
        let mut first = [0u8; 8];
        first.copy_from_slice(&key[..8]);
        let (first, index, count) = (u64::from_be_bytes(first), word(8), word(12));
        if count == 0 || index >= count || count as usize > MAX_BATCH_BYTES / MAX_PART_BYTES + 1 {
            return Err(format!("part {index} of {count}"));
        }
        let (seq, mut bytes, seen) = match self.pending.take() {
            None if index == 0 => (first, Vec::new(), 0),
            Some((seq, bytes, seen, expected))
                if seq == first && seen == index && expected == count =>
            {
                (seq, bytes, seen)
            }
            _ => {
                return Err(format!(
                    "part {index} of {count} of batch {first} out of order"
                ));
            }
        };
        bytes.extend_from_slice(&part);
        if seen + 1 < count {
            self.pending = Some((seq, bytes, seen + 1, count));
            return Ok(None);
        }
        Ok(Some((seq, WriteBatch::decode(&bytes)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(writes in prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..10), prop::option::of(prop::collection::vec(any::<u8>(), 0..10))), 0..20)) {
            let mut batch = WriteBatch::new();
            for (k, v) in &writes {
                match v {
                    Some(v) => { batch.put(k, v).unwrap(); }
                    None => { batch.delete(k).unwrap(); }
                }
            }
            prop_assert_eq!(WriteBatch::decode(&batch.encode()).unwrap(), batch);
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = WriteBatch::decode(&bytes);
        }
    }

    #[test]
    fn a_batch_larger_than_a_record_travels_in_parts() {
        let mut batch = WriteBatch::new();
        batch
            .put(
                &vec![b'k'; rkv_contract::MAX_KEY_BYTES],
                &vec![7; MAX_VALUE_BYTES],
            )
            .unwrap();
        batch.put(b"small", b"v").unwrap();
        let records: Vec<(Vec<u8>, Vec<u8>)> = records(42, batch.encode())
            .into_iter()
            .map(|(key, value)| (key, value.as_live().unwrap_or_default().to_vec()))
            .collect();
        assert_eq!(records.len(), 2);
        let mut reassembly = Reassembly::default();
        assert_eq!(
            reassembly
                .feed(&records[0].0, records[0].1.clone())
                .unwrap(),
            None
        );
        let (first, decoded) = reassembly
            .feed(&records[1].0, records[1].1.clone())
            .unwrap()
            .unwrap();
        assert_eq!((first, decoded), (42, batch));
        // A second part without its first is refused.
        assert!(
            Reassembly::default()
                .feed(&records[1].0, records[1].1.clone())
                .is_err()
        );
    }

    #[test]
    fn a_huge_count_with_no_bytes_is_an_error_not_an_allocation() {
        assert!(WriteBatch::decode(&u32::MAX.to_le_bytes()).is_err());
    }
}
