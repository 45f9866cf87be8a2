//! The list of live tables, replaced atomically.
//!
//! A flush adds a table; a compaction replaces all of them with one. Both must look atomic after
//! a crash: a compaction that dropped a tombstone must never leave the old table that held the
//! deleted value visible beside the new one, or the deleted key would come back. So the set of
//! live tables is a small file, `TABLES`, and it is changed only by writing a complete new copy
//! to `TABLES.tmp`, fsyncing it, and renaming it over the old one — a rename is atomic. A table
//! file not named in `TABLES` is a leftover of an interrupted flush or compaction and is deleted
//! on open.
//!
//! The list also says which write-ahead logs still matter: every log numbered below `first_log`
//! has been flushed into a listed table, so open deletes it instead of replaying it.
//!
//! ```text
//! magic "RKV-TBL\0" (8 bytes) | version u32 (= 1) | first_log u64 | count u32
//! count × table number u64
//! trailer (the journal's; none in this lesson)
//! ```
//!
//! Numbers are little-endian and tables listed oldest first. The store's [`Journal`] may append
//! a trailer that protects the file and chooses the version: lesson 01's log appends nothing and
//! writes version 1, lesson 06 appends a checksum and writes version 2. (Lesson 07 grows this
//! into a manifest.)

use std::fs;
use std::io::Write;

use rkv_01_basic_store::DataDir;
use rkv_contract::{Error, IoContext, Result};

use crate::Journal;

/// Name of the list file.
pub const TABLES_FILE: &str = "TABLES";
/// Name of the list file while it is being written.
pub const TABLES_TMP: &str = "TABLES.tmp";
const MAGIC: [u8; 8] = *b"RKV-TBL\0";
const HEADER_LEN: usize = 24;

/// What `TABLES` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableList {
    /// The lowest log number that may hold records not yet in a table.
    pub first_log: u64,
    /// Live table numbers, oldest first.
    pub tables: Vec<u64>,
}

// ANCHOR: read
/// Reads the list, checked by the journal `J`; an absent file is an empty store.
pub fn read<J: Journal>(dir: &DataDir) -> Result<TableList> {
    let path = dir.file(TABLES_FILE);
    if !path.exists() {
        return Ok(TableList::default());
    }
    let bytes = fs::read(&path).at(&path)?;
    // Magic and version are checked before the journal's trailer, so that a list written by
    // another stage is a format error rather than a checksum mismatch.
    if bytes.len() < 12 || bytes[..8] != MAGIC {
        return Err(Error::Format {
            file: path,
            expected: "an rkv table list (RKV-TBL)".into(),
            found: format!("{} bytes without that magic", bytes.len()),
        });
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != J::LIST_VERSION {
        return Err(Error::Format {
            file: path,
            expected: format!("table list version {}", J::LIST_VERSION),
            found: format!("version {version}"),
        });
    }
    let body = J::open_list(&bytes).map_err(|what| Error::corruption(&path, 0, what))?;
    if body.len() < HEADER_LEN {
        return Err(Error::corruption(
            &path,
            0,
            format!("table list of {} bytes", body.len()),
        ));
    }
    let number = |chunk: &[u8]| {
        let mut le = [0u8; 8];
        le.copy_from_slice(chunk);
        u64::from_le_bytes(le)
    };
    let first_log = number(&body[12..20]);
    let count = u32::from_le_bytes([body[20], body[21], body[22], body[23]]) as usize;
    if body.len() != HEADER_LEN + count * 8 {
        return Err(Error::corruption(
            &path,
            20,
            format!("list of {count} tables in {} bytes", body.len()),
        ));
    }
    Ok(TableList {
        first_log,
        tables: body[HEADER_LEN..].chunks_exact(8).map(number).collect(),
    })
}
// ANCHOR_END: read

// ANCHOR: replace
/// Makes `list` the truth, atomically, sealed by the journal `J`; returns the bytes written.
pub fn replace<J: Journal>(dir: &DataDir, list: &TableList) -> Result<u64> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + list.tables.len() * 8);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&J::LIST_VERSION.to_le_bytes());
    bytes.extend_from_slice(&list.first_log.to_le_bytes());
    bytes.extend_from_slice(&(list.tables.len() as u32).to_le_bytes());
    for number in &list.tables {
        bytes.extend_from_slice(&number.to_le_bytes());
    }
    J::seal_list(&mut bytes);
    let tmp = dir.file(TABLES_TMP);
    let mut file = dir.create(TABLES_TMP)?;
    file.write_all(&bytes).at(&tmp)?;
    file.sync_all().at(&tmp)?;
    let path = dir.file(TABLES_FILE);
    fs::rename(&tmp, &path).at(&path)?;
    dir.sync()?;
    Ok(bytes.len() as u64)
}
// ANCHOR_END: replace
