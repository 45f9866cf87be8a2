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

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use rkv_01_basic_store::wal::{self, RecordRead};
use rkv_01_basic_store::{DataDir, Value};
use rkv_02_sstables::Journal;
use rkv_contract::{Error, IoContext, Result, SyncMode};

use crate::crc::{self, mask, masked_crc};

/// First eight bytes of every log file: lesson 01's magic.
pub const MAGIC: [u8; 8] = wal::MAGIC;
/// The log format this lesson writes (lesson 01 writes 1).
pub const VERSION: u32 = 2;
/// Length of the file header: magic and version.
pub const HEADER_LEN: u64 = wal::HEADER_LEN;
/// Bytes of checksums in front of each lesson-01 record.
pub const CHECKSUMS_LEN: usize = 8;
/// Length of a record's fixed part: both checksums, kind and the two lengths.
pub const RECORD_HEADER_LEN: usize = CHECKSUMS_LEN + wal::RECORD_HEADER_LEN;
/// Version of the `TABLES` file a store with this log writes (lesson 02 writes 1).
pub const LIST_VERSION: u32 = 2;

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

/// An open checksummed log, positioned for appending.
#[derive(Debug)]
pub struct ChecksummedLog {
    /// Opened in append mode: every write lands at the end, whatever else happens.
    file: File,
    /// Where the log lives, for error messages.
    path: PathBuf,
    /// Bytes in the file, header included.
    len: u64,
    /// Records in the file.
    records: u64,
    /// Whether each append is fsynced.
    sync: SyncMode,
    /// Reused encoding buffer, so an append allocates nothing in the steady state.
    buf: Vec<u8>,
}

impl ChecksummedLog {
    // ANCHOR: open
    /// Opens (or creates) the log `name` in `dir`, handing every whole record to `apply` in the
    /// order written. A torn tail is dropped and cut off; corruption anywhere is an error, and
    /// then the file is left exactly as it was found.
    pub fn open(
        dir: &DataDir,
        name: &str,
        sync: SyncMode,
        apply: &mut dyn FnMut(Vec<u8>, Value),
    ) -> Result<ChecksummedLog> {
        let path = dir.file(name);
        let created = !path.exists();
        let file = dir.open_append(name)?;
        let on_disk = file.metadata().at(&path)?.len();
        let mut log = ChecksummedLog {
            file,
            path,
            len: on_disk,
            records: 0,
            sync,
            buf: Vec::new(),
        };
        if on_disk < HEADER_LEN {
            log.start_fresh(created, dir)?;
            return Ok(log);
        }
        let (valid, records) = replay(&log.file, &log.path, apply)?;
        log.records = records;
        if valid < on_disk {
            // A torn tail was never acknowledged (the acknowledgement follows the append). Cut it
            // off so that the next record follows the last whole one.
            log.file.set_len(valid).at(&log.path)?;
            log.file.sync_all().at(&log.path)?;
            log.len = valid;
        }
        Ok(log)
    }
    // ANCHOR_END: open

    /// Writes the header into an empty log (or one whose header was itself torn).
    fn start_fresh(&mut self, created: bool, dir: &DataDir) -> Result<()> {
        let mut existing = Vec::new();
        (&self.file).read_to_end(&mut existing).at(&self.path)?;
        let header = file_header();
        if !header.starts_with(&existing) {
            return Err(format_error(&self.path, &existing));
        }
        self.file.set_len(0).at(&self.path)?;
        self.file.write_all(&header).at(&self.path)?;
        self.file.sync_all().at(&self.path)?;
        if created {
            // The new file's name must survive a crash too.
            dir.sync()?;
        }
        self.len = HEADER_LEN;
        Ok(())
    }

    /// Appends one record. When this returns, the record is in the operating system (and on the
    /// disk, with [`SyncMode::Always`]). Returns the bytes written.
    pub fn append(&mut self, key: &[u8], value: &Value) -> Result<u64> {
        self.buf.clear();
        encode_record(key, value, &mut self.buf);
        // One write call per record: a crash cuts at most the tail of this record.
        self.file.write_all(&self.buf).at(&self.path)?;
        if self.sync == SyncMode::Always {
            self.file.sync_data().at(&self.path)?;
        }
        self.len += self.buf.len() as u64;
        self.records += 1;
        Ok(self.buf.len() as u64)
    }

    /// Records in the log file.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

// ANCHOR: journal
impl Journal for ChecksummedLog {
    const LIST_VERSION: u32 = LIST_VERSION;

    fn open(
        dir: &DataDir,
        name: &str,
        sync: SyncMode,
        apply: &mut dyn FnMut(Vec<u8>, Value),
    ) -> Result<Self> {
        ChecksummedLog::open(dir, name, sync, apply)
    }

    fn append(&mut self, key: &[u8], value: &Value) -> Result<u64> {
        ChecksummedLog::append(self, key, value)
    }

    fn sync(&mut self) -> Result<()> {
        self.file.sync_data().at(&self.path)
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// `TABLES` gets the same masked CRC-32 as a table block, over the whole file.
    fn seal_list(bytes: &mut Vec<u8>) {
        crc::seal(bytes, 0);
    }

    fn open_list(bytes: &[u8]) -> Result<&[u8], String> {
        crc::check(bytes).map_err(|what| format!("table list: {what}"))
    }
}
// ANCHOR_END: journal

// ANCHOR: replay
/// Reads every whole record of the log at `path`, handing each to `apply`; returns the length
/// of the valid prefix of the file and the number of records in it.
fn replay(file: &File, path: &Path, apply: &mut dyn FnMut(Vec<u8>, Value)) -> Result<(u64, u64)> {
    let mut reader = BufReader::new(file);
    let mut header = [0u8; HEADER_LEN as usize];
    reader.read_exact(&mut header).at(path)?;
    if header != file_header() {
        return Err(format_error(path, &header));
    }
    let mut offset = HEADER_LEN;
    let mut records = 0;
    loop {
        match read_record(&mut reader, path, offset)? {
            RecordRead::Whole { key, value, len } => {
                apply(key, value);
                offset += len;
                records += 1;
            }
            RecordRead::End | RecordRead::Torn => return Ok((offset, records)),
        }
    }
}
// ANCHOR_END: replay

/// The twelve bytes every log of this lesson starts with.
fn file_header() -> [u8; HEADER_LEN as usize] {
    let mut header = [0u8; HEADER_LEN as usize];
    header[..8].copy_from_slice(&MAGIC);
    header[8..].copy_from_slice(&VERSION.to_le_bytes());
    header
}

fn format_error(path: &Path, header: &[u8]) -> Error {
    let shown: String = header
        .iter()
        .take(HEADER_LEN as usize)
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect();
    Error::Format {
        file: path.to_path_buf(),
        expected: format!("an rkv checksummed log (RKV-LOG version {VERSION})"),
        found: format!("a file starting with \"{shown}\""),
    }
}
