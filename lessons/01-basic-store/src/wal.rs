//! The write-ahead log: every write reaches a file before it is acknowledged.
//!
//! The memtable lives in memory and dies with the process. So each `put` and `delete` is first
//! appended to the log as one record, and only then applied to the memtable and acknowledged.
//! Opening the store *replays* the log from the start and rebuilds the memtable exactly.
//!
//! ## Layout
//!
//! The file starts with a 12-byte header, then records back to back, all integers little-endian:
//!
//! ```text
//! header:  magic "RKV-LOG\0" (8 bytes) | version u32 (= 1)
//! record:  kind u8 (1 = put, 2 = delete) | key_len u32 | value_len u32 | key | value
//! ```
//!
//! A delete has `value_len` 0 and no value bytes.
//!
//! ## Crashes
//!
//! A process killed while appending leaves a *torn tail*: the last record cut short. Replay sees
//! that the file ends before the record does, drops it (it was never acknowledged, because the
//! acknowledgement comes after the append) and truncates the file back to the last whole record,
//! so the next append does not land behind garbage. Anything else that does not parse — an
//! unknown kind, a length above the limits — is not a crash artefact, and replay stops with
//! [`Error::Corruption`] naming the offset. What this format cannot see is a record whose bytes
//! were changed in place; lesson 06 adds a checksum to every record for that.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use rkv_contract::{Error, IoContext, MAX_KEY_BYTES, MAX_VALUE_BYTES, Result, SyncMode};

use crate::DataDir;
use crate::memtable::Value;

/// First eight bytes of every log file.
pub const MAGIC: [u8; 8] = *b"RKV-LOG\0";
/// The record format this lesson writes and reads.
pub const VERSION: u32 = 1;
/// Length of the file header: magic and version.
pub const HEADER_LEN: u64 = 12;
/// Length of a record's fixed part: kind, key length, value length.
pub const RECORD_HEADER_LEN: usize = 9;

const KIND_PUT: u8 = 1;
const KIND_DELETE: u8 = 2;

// ANCHOR: encode
/// Appends the encoding of one record to `buf`.
pub fn encode_record(key: &[u8], value: &Value, buf: &mut Vec<u8>) {
    let (kind, bytes) = match value {
        Value::Put(bytes) => (KIND_PUT, bytes.as_slice()),
        Value::Tombstone => (KIND_DELETE, &[][..]),
    };
    buf.push(kind);
    // Lengths fit in u32: the contract's limits (64 KiB keys, 16 MiB values) are checked first.
    buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(key);
    buf.extend_from_slice(bytes);
}
// ANCHOR_END: encode

// ANCHOR: record_format
/// How records are laid out in a log file: this lesson's plain records, or lesson 06's
/// checksummed ones. [`Log`] does the rest — the header, appending, replay and the torn-tail
/// rule — the same way for both.
pub trait RecordFormat: std::fmt::Debug + Send + Sync + 'static {
    /// The version written in the file header; logs of different formats refuse each other.
    const VERSION: u32;

    /// Appends the encoding of one record to `buf`.
    fn encode(key: &[u8], value: &Value, buf: &mut Vec<u8>);

    /// Decodes the record at `offset` of `path` from `reader`.
    fn read(reader: &mut impl Read, path: &Path, offset: u64) -> Result<RecordRead>;

    /// Protects a small file that is always written whole (lesson 02's table list) the way
    /// this format protects records. Plain records add nothing.
    fn seal(_bytes: &mut Vec<u8>) {}

    /// Checks what [`seal`](RecordFormat::seal) added; returns the protected bytes.
    fn unseal(bytes: &[u8]) -> std::result::Result<&[u8], String> {
        Ok(bytes)
    }
}

/// This lesson's records: [`encode_record`] and [`read_record`], no checksum.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plain;

impl RecordFormat for Plain {
    const VERSION: u32 = VERSION;

    fn encode(key: &[u8], value: &Value, buf: &mut Vec<u8>) {
        encode_record(key, value, buf);
    }

    fn read(reader: &mut impl Read, path: &Path, offset: u64) -> Result<RecordRead> {
        read_record(reader, path, offset)
    }
}
// ANCHOR_END: record_format

/// An open log of records in format `F`, positioned for appending.
#[derive(Debug)]
pub struct Log<F: RecordFormat = Plain> {
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
    /// The record format (a type, no data).
    format: PhantomData<F>,
}

impl<F: RecordFormat> Log<F> {
    // ANCHOR: log_open
    /// Opens (or creates) the log `name` in `dir`, handing every whole record to `apply` in the
    /// order written, and drops a torn tail.
    pub fn open(
        dir: &DataDir,
        name: &str,
        sync: SyncMode,
        mut apply: impl FnMut(Vec<u8>, Value),
    ) -> Result<Log<F>> {
        let path = dir.file(name);
        let created = !path.exists();
        let file = dir.open_append(name)?;
        let on_disk = file.metadata().at(&path)?.len();
        let mut log = Log {
            file,
            path,
            len: on_disk,
            records: 0,
            sync,
            buf: Vec::new(),
            format: PhantomData,
        };
        if on_disk < HEADER_LEN {
            log.start_fresh(created, dir)?;
            return Ok(log);
        }
        let (valid, records) = replay::<F>(&log.file, &log.path, &mut apply)?;
        log.records = records;
        if valid < on_disk {
            // Cut the torn tail off so the next record follows the last whole one.
            log.file.set_len(valid).at(&log.path)?;
            log.file.sync_all().at(&log.path)?;
            log.len = valid;
        }
        Ok(log)
    }
    // ANCHOR_END: log_open

    /// Writes the header into an empty log (or one whose header was itself torn).
    fn start_fresh(&mut self, created: bool, dir: &DataDir) -> Result<()> {
        let mut existing = Vec::new();
        (&self.file).read_to_end(&mut existing).at(&self.path)?;
        let header = file_header::<F>();
        if !header.starts_with(&existing) {
            return Err(self.format_error(&existing));
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

    fn format_error(&self, header: &[u8]) -> Error {
        format_error::<F>(&self.path, header)
    }

    // ANCHOR: append
    /// Appends one record. When this returns, the record is in the operating system (and on
    /// the disk, with [`SyncMode::Always`]). Returns the bytes written.
    pub fn append(&mut self, key: &[u8], value: &Value) -> Result<u64> {
        self.buf.clear();
        F::encode(key, value, &mut self.buf);
        // One write call per record: a crash cuts at most the tail of this record.
        self.file.write_all(&self.buf).at(&self.path)?;
        if self.sync == SyncMode::Always {
            self.file.sync_data().at(&self.path)?;
        }
        self.len += self.buf.len() as u64;
        self.records += 1;
        Ok(self.buf.len() as u64)
    }
    // ANCHOR_END: append

    /// Appends several records with one write call (a store's group commit): when this
    /// returns, all of them are in the operating system. A crash during the call may keep a
    /// prefix of them — the replay's torn-tail rule drops a record cut in the middle. Returns
    /// the bytes written.
    pub fn append_all(&mut self, records: &[(Vec<u8>, Value)]) -> Result<u64> {
        self.buf.clear();
        for (key, value) in records {
            F::encode(key, value, &mut self.buf);
        }
        self.file.write_all(&self.buf).at(&self.path)?;
        if self.sync == SyncMode::Always {
            self.file.sync_data().at(&self.path)?;
        }
        self.len += self.buf.len() as u64;
        self.records += records.len() as u64;
        Ok(self.buf.len() as u64)
    }

    /// Forces everything appended so far onto the disk.
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_data().at(&self.path)
    }

    /// Bytes in the log file, header included.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
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

// ANCHOR: replay
/// Reads every whole record of the log at `path`, handing each to `apply`; returns the length
/// of the valid prefix of the file and the number of records in it.
fn replay<F: RecordFormat>(
    file: &File,
    path: &Path,
    apply: &mut impl FnMut(Vec<u8>, Value),
) -> Result<(u64, u64)> {
    let mut reader = BufReader::new(file);
    let mut header = [0u8; HEADER_LEN as usize];
    reader.read_exact(&mut header).at(path)?;
    if header != file_header::<F>() {
        return Err(format_error::<F>(path, &header));
    }
    let mut offset = HEADER_LEN;
    let mut records = 0;
    loop {
        match F::read(&mut reader, path, offset)? {
            RecordRead::Whole { key, value, len } => {
                apply(key, value);
                offset += len;
                records += 1;
            }
            // A torn tail was never acknowledged: the acknowledgement follows the append.
            RecordRead::End | RecordRead::Torn => return Ok((offset, records)),
        }
    }
}
// ANCHOR_END: replay

/// What [`read_record`] found.
#[derive(Debug)]
pub enum RecordRead {
    /// A whole record, `len` bytes long.
    Whole {
        /// The key.
        key: Vec<u8>,
        /// The value or tombstone.
        value: Value,
        /// Encoded length of the record.
        len: u64,
    },
    /// The input ended exactly at a record boundary.
    End,
    /// The input ended inside a record.
    Torn,
}

// ANCHOR: read_record
/// Decodes the record at `offset` of `path` from `reader`.
///
/// Anything that cannot be the prefix of a record this code wrote — an unknown kind, a length
/// above the limits — is [`Error::Corruption`] naming the offset.
pub fn read_record(reader: &mut impl Read, path: &Path, offset: u64) -> Result<RecordRead> {
    let mut fixed = [0u8; RECORD_HEADER_LEN];
    match read_full(reader, &mut fixed).at(path)? {
        0 => return Ok(RecordRead::End),
        n if n < RECORD_HEADER_LEN => return Ok(RecordRead::Torn),
        _ => {}
    }
    let kind = fixed[0];
    let key_len = u32::from_le_bytes([fixed[1], fixed[2], fixed[3], fixed[4]]) as usize;
    let value_len = u32::from_le_bytes([fixed[5], fixed[6], fixed[7], fixed[8]]) as usize;
    let corrupt = |what: String| Error::corruption(path, offset, what);
    if kind != KIND_PUT && kind != KIND_DELETE {
        return Err(corrupt(format!("unknown record kind {kind}")));
    }
    // Checked before allocating: a garbage length must not become a huge allocation.
    if key_len > MAX_KEY_BYTES || value_len > MAX_VALUE_BYTES {
        return Err(corrupt(format!(
            "record lengths {key_len}/{value_len} exceed the limits"
        )));
    }
    if kind == KIND_DELETE && value_len != 0 {
        return Err(corrupt(format!(
            "delete record with {value_len} value bytes"
        )));
    }
    let mut body = vec![0u8; key_len + value_len];
    if read_full(reader, &mut body).at(path)? < body.len() {
        return Ok(RecordRead::Torn);
    }
    let value = match kind {
        KIND_PUT => Value::Put(body.split_off(key_len)),
        _ => Value::Tombstone,
    };
    let len = (RECORD_HEADER_LEN + key_len + value_len) as u64;
    Ok(RecordRead::Whole {
        key: body,
        value,
        len,
    })
}
// ANCHOR_END: read_record

/// The twelve bytes every log of format `F` starts with.
fn file_header<F: RecordFormat>() -> [u8; HEADER_LEN as usize] {
    let mut header = [0u8; HEADER_LEN as usize];
    header[..8].copy_from_slice(&MAGIC);
    header[8..].copy_from_slice(&F::VERSION.to_le_bytes());
    header
}

fn format_error<F: RecordFormat>(path: &Path, header: &[u8]) -> Error {
    Error::Format {
        file: path.to_path_buf(),
        expected: format!("an rkv log, version {}", F::VERSION),
        found: describe_header(header),
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A short, printable description of what a file starts with.
fn describe_header(header: &[u8]) -> String {
    let shown: String = header
        .iter()
        .take(12)
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect();
    format!("a file starting with \"{shown}\"")
}
