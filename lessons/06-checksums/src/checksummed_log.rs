//! The checksummed write-ahead log: lesson 01's records, each behind two CRCs.
//!
//! ## Layout
//!
//! All integers little-endian. The file header is lesson 01's with a new version, so each of the
//! two logs refuses the other's files with `Error::Format`:
//!
//! ```text
//! header:  magic "RKV-LOG\0" (8 bytes) | version u32 (= 2)
//! record:  header_crc u32 | record_crc u32 | lesson 01's record:
//!          kind u8 (1 = put, 2 = delete) | key_len u32 | value_len u32 | key | value
//!
//! header_crc = masked CRC-32 of kind, key_len and value_len (9 bytes)
//! record_crc = masked CRC-32 of lesson 01's whole record (kind through value)
//! ```
//!
//! ## Why two checksums
//!
//! Replay must tell a *torn tail* — the process died while appending the last record, so the
//! file ends inside it — from *corruption*. The only evidence of a torn tail is "the file ends
//! before the record does", and the record's end is computed from its length fields. If those
//! could be damaged, a flipped bit in the `value_len` of the tenth record of a thousand could
//! make it claim 16 MiB, run past the end of the file, look torn — and replay would drop, then
//! truncate away, 990 acknowledged writes. So the lengths get a checksum of their own, checked
//! before they are used for anything. Once `header_crc` matches, the lengths are the ones that
//! were written, and "the file ends before the record does" really means the write was cut short.
//!
//! ## The rule
//!
//! Killing a process (SIGKILL, a crash) cuts a log after some prefix of what it wrote: the
//! kernel has every byte `write` accepted, and the unaccepted rest is simply missing. It does not
//! change bytes. So, for the record at `offset`:
//!
//! | what replay finds | verdict |
//! |---|---|
//! | the file ends at `offset` | the end |
//! | the file ends inside the 17-byte record header | torn: drop it, truncate to `offset` |
//! | `header_crc` does not match | **corruption at `offset`** |
//! | header fine, the file ends inside the key or value | torn: drop it, truncate to `offset` |
//! | the whole record is there, `record_crc` does not match | **corruption at `offset`** |
//! | the whole record is there and matches | a record: apply it |
//!
//! A bad checksum is corruption even on the very last record, when the record ends exactly at
//! the end of the file: a cut-short write is *shorter*, never wrong, so a complete record with a
//! wrong checksum was damaged after it was written — and since it is complete, it may have been
//! acknowledged. Dropping it would silently lose a write the store promised to keep.

use std::io::{self, Read};
use std::path::Path;

use rkv_01_basic_store::wal::{self, RecordFormat, RecordRead};
use rkv_01_basic_store::{Log, Value};
use rkv_contract::{Error, IoContext, Result};

use crate::crc::{self, mask, masked_crc};

/// First eight bytes of every log file: lesson 01's magic.
pub const MAGIC: [u8; 8] = wal::MAGIC;
/// The log format this lesson writes (lesson 01 writes 1).
pub const VERSION: u32 = 2;
/// Version of the `TABLES` file a store with this log writes (lesson 02 writes 1).
pub const LIST_VERSION: u32 = VERSION;
/// Length of the file header: magic and version.
pub const HEADER_LEN: u64 = wal::HEADER_LEN;
/// Bytes of checksums in front of each lesson-01 record.
pub const CHECKSUMS_LEN: usize = 8;
/// Length of a record's fixed part: both checksums, kind and the two lengths.
pub const RECORD_HEADER_LEN: usize = CHECKSUMS_LEN + wal::RECORD_HEADER_LEN;

// ANCHOR: encode
/// Appends one checksummed record to `buf`: two checksums, then lesson 01's encoding.
pub fn encode_record(key: &[u8], value: &Value, buf: &mut Vec<u8>) {
    let start = buf.len();
    let body = start + CHECKSUMS_LEN;
    buf.extend_from_slice(&[0; CHECKSUMS_LEN]);
    wal::encode_record(key, value, buf);
    let header_crc = masked_crc(&buf[body..body + wal::RECORD_HEADER_LEN]);
    let record_crc = masked_crc(&buf[body..]);
    buf[start..start + 4].copy_from_slice(&header_crc.to_le_bytes());
    buf[start + 4..body].copy_from_slice(&record_crc.to_le_bytes());
}
// ANCHOR_END: encode

// ANCHOR: read_record
/// Decodes the record at `offset` of `path` from `reader`, following the rule in the module
/// documentation: [`RecordRead::Torn`] only when the input ends inside a record whose header
/// checked out (or inside the header itself), [`Error::Corruption`] naming `offset` for any
/// checksum that does not match.
pub fn read_record(reader: &mut impl Read, path: &Path, offset: u64) -> Result<RecordRead> {
    let mut head = Vec::with_capacity(RECORD_HEADER_LEN);
    let want = RECORD_HEADER_LEN as u64;
    match reader.by_ref().take(want).read_to_end(&mut head).at(path)? {
        0 => return Ok(RecordRead::End),
        n if n < RECORD_HEADER_LEN => return Ok(RecordRead::Torn),
        _ => {}
    }
    let stored_header_crc = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let stored_record_crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let fixed = &head[CHECKSUMS_LEN..];
    if masked_crc(fixed) != stored_header_crc {
        return Err(Error::corruption(
            path,
            offset,
            "log record header checksum mismatch",
        ));
    }
    // The lengths are the ones written. Lesson 01's decoder reads the rest (checking the lengths
    // against the contract's limits before it allocates), and every byte it consumes is hashed.
    let mut hashing = Hashing {
        inner: fixed.chain(reader),
        hasher: crc32fast::Hasher::new(),
    };
    match wal::read_record(&mut hashing, path, offset)? {
        RecordRead::Whole { key, value, len } => {
            if mask(hashing.hasher.finalize()) != stored_record_crc {
                return Err(Error::corruption(
                    path,
                    offset,
                    "log record checksum mismatch",
                ));
            }
            let len = len + CHECKSUMS_LEN as u64;
            Ok(RecordRead::Whole { key, value, len })
        }
        // The header was all there, so only the key or value can have been cut short.
        RecordRead::Torn | RecordRead::End => Ok(RecordRead::Torn),
    }
}
// ANCHOR_END: read_record

/// A reader that feeds every byte it passes on into a CRC.
struct Hashing<R> {
    /// Where the bytes come from.
    inner: R,
    /// The CRC of every byte read so far.
    hasher: crc32fast::Hasher,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }
}

// ANCHOR: journal
/// Lesson 06's record format for lesson 01's [`Log`]: everything else — the header, appending,
/// replay, cutting off a torn tail — is lesson 01's code, unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checksummed;

impl RecordFormat for Checksummed {
    const VERSION: u32 = VERSION;

    fn encode(key: &[u8], value: &Value, buf: &mut Vec<u8>) {
        encode_record(key, value, buf);
    }

    fn read(reader: &mut impl Read, path: &Path, offset: u64) -> Result<RecordRead> {
        read_record(reader, path, offset)
    }

    /// `TABLES` gets the same masked CRC-32 as a table block, over the whole file.
    fn seal(bytes: &mut Vec<u8>) {
        crc::seal(bytes, 0);
    }

    fn unseal(bytes: &[u8]) -> std::result::Result<&[u8], String> {
        crc::check(bytes).map_err(|what| format!("table list: {what}"))
    }
}

/// The checksummed write-ahead log: lesson 01's log of [`Checksummed`] records.
pub type ChecksummedLog = Log<Checksummed>;
// ANCHOR_END: journal
