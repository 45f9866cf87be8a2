//! The manifest: the durable record of which tables are live, changed only by atomic edits.
//!
//! Lesson 02 rewrote a whole `TABLES` file for every change. With levels, compactions and
//! flushes happening in the background, the engine instead *appends* each change — an
//! [`Edit`] list: tables added, tables removed, the first log that still matters, the next file
//! number, the last sequence number — as one record of a checksummed log. A record is applied
//! entirely or, if torn by a crash, not at all, so every change is atomic. Opening replays the
//! records to rebuild the exact set of live tables.
//!
//! So that the log does not grow forever, each open writes a fresh manifest holding a single
//! record — a snapshot of the whole state — and then points the `CURRENT` file at it (written
//! to `CURRENT.tmp`, fsynced and renamed: atomic). The previous manifest is deleted afterwards.
//!
//! ```text
//! CURRENT:          "NNNNNN.manifest\n"
//! NNNNNN.manifest:  a checksummed log (lesson 06) whose records are edit lists:
//!   edit: tag u8 | fields (varints)
//!     1 add table     level, number      2 remove table   level, number
//!     3 log number    number             4 next file      number
//!     5 last sequence seq
//! ```

use std::fs;
use std::io::Write;

use rkv_01_basic_store::{DataDir, Value};
use rkv_05_compression::varint;
use rkv_contract::{Error, IoContext, Result, SyncMode};

use crate::files::{CURRENT, CURRENT_TMP, Numbered, manifest_name};
use crate::options::LEVELS;
use crate::sst::LogFile;

/// One change to the set of live tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// A table joins a level.
    AddTable {
        /// The level.
        level: usize,
        /// The table's file number.
        number: u64,
    },
    /// A table leaves a level.
    RemoveTable {
        /// The level.
        level: usize,
        /// The table's file number.
        number: u64,
    },
    /// Logs numbered below this hold nothing that is not in a table.
    LogNumber(u64),
    /// The next unused file number.
    NextFile(u64),
    /// The highest sequence number in any table.
    LastSeq(u64),
}

/// What the manifest says, after replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestState {
    /// Live table numbers per level.
    pub levels: Vec<Vec<u64>>,
    /// The first log that still matters.
    pub log_number: u64,
    /// The next unused file number.
    pub next_file: u64,
    /// The highest sequence number in any table.
    pub last_seq: u64,
}

impl ManifestState {
    fn new() -> Self {
        ManifestState {
            levels: vec![Vec::new(); LEVELS],
            next_file: 1,
            ..Default::default()
        }
    }

    // ANCHOR: apply
    /// Applies one edit.
    pub fn apply(&mut self, edit: &Edit) {
        match *edit {
            Edit::AddTable { level, number } => self.levels[level].push(number),
            Edit::RemoveTable { level, number } => self.levels[level].retain(|&n| n != number),
            Edit::LogNumber(n) => self.log_number = n,
            Edit::NextFile(n) => self.next_file = self.next_file.max(n),
            Edit::LastSeq(s) => self.last_seq = self.last_seq.max(s),
        }
    }
    // ANCHOR_END: apply

    /// The edits that rebuild this state from nothing.
    fn snapshot(&self) -> Vec<Edit> {
        let mut edits = vec![
            Edit::LogNumber(self.log_number),
            Edit::NextFile(self.next_file),
            Edit::LastSeq(self.last_seq),
        ];
        for (level, numbers) in self.levels.iter().enumerate() {
            for &number in numbers {
                edits.push(Edit::AddTable { level, number });
            }
        }
        edits
    }
}

/// Encodes an edit list as a record value.
pub fn encode(edits: &[Edit]) -> Vec<u8> {
    let mut out = Vec::new();
    for edit in edits {
        let (tag, a, b) = match *edit {
            Edit::AddTable { level, number } => (1, level as u64, Some(number)),
            Edit::RemoveTable { level, number } => (2, level as u64, Some(number)),
            Edit::LogNumber(n) => (3, n, None),
            Edit::NextFile(n) => (4, n, None),
            Edit::LastSeq(s) => (5, s, None),
        };
        out.push(tag);
        varint::put(&mut out, a);
        if let Some(b) = b {
            varint::put(&mut out, b);
        }
    }
    out
}

/// Decodes a record value; the error says what is wrong.
pub fn decode(mut bytes: &[u8]) -> std::result::Result<Vec<Edit>, String> {
    let mut edits = Vec::new();
    let number = |bytes: &mut &[u8]| -> std::result::Result<u64, String> {
        let (value, used) = varint::get(bytes).ok_or("truncated number")?;
        *bytes = &bytes[used..];
        Ok(value)
    };
    while let Some((&tag, rest)) = bytes.split_first() {
        bytes = rest;
        let first = number(&mut bytes)?;
        let level = || {
            usize::try_from(first)
                .ok()
                .filter(|&l| l < LEVELS)
                .ok_or(format!("level {first} out of range"))
        };
        edits.push(match tag {
            1 => Edit::AddTable {
                level: level()?,
                number: number(&mut bytes)?,
            },
            2 => Edit::RemoveTable {
                level: level()?,
                number: number(&mut bytes)?,
            },
            3 => Edit::LogNumber(first),
            4 => Edit::NextFile(first),
            5 => Edit::LastSeq(first),
            other => return Err(format!("unknown edit tag {other}")),
        });
    }
    Ok(edits)
}

/// The open manifest, ready to record edits.
#[derive(Debug)]
pub(crate) struct Manifest {
    /// The manifest's log.
    log: LogFile,
    /// Its file number.
    number: u64,
    /// Set when an append failed: it may have left part of a record at the end, and a record
    /// appended after that would turn a torn tail into corruption.
    failed: bool,
}

impl Manifest {
    /// Replays the live manifest (if any), then starts a fresh one holding a snapshot.
    pub fn open(dir: &DataDir) -> Result<(Manifest, ManifestState)> {
        let mut state = ManifestState::new();
        let current_path = dir.file(CURRENT);
        let old = if current_path.exists() {
            let text = fs::read_to_string(&current_path).at(&current_path)?;
            let name = text.strip_suffix('\n').unwrap_or(&text).to_string();
            if Numbered::Manifest.number(&name).is_none() {
                return Err(Error::corruption(
                    &current_path,
                    0,
                    format!("{name:?} is not a manifest name"),
                ));
            }
            // Opening a missing manifest would create it empty: a store with no tables, whose
            // files the engine would then delete as leftovers.
            if !dir.file(&name).exists() {
                return Err(Error::corruption(
                    &current_path,
                    0,
                    format!("it names {name:?}, which does not exist"),
                ));
            }
            let mut records = Vec::new();
            LogFile::open(dir, &name, SyncMode::Always, &mut |key, value| {
                records.push((key, value))
            })?;
            for (index, (_, value)) in records.iter().enumerate() {
                let edits = match value {
                    Value::Put(bytes) => decode(bytes),
                    Value::Tombstone => Err("a tombstone record".into()),
                }
                .map_err(|what| {
                    Error::corruption(dir.file(&name), 0, format!("record {index}: {what}"))
                })?;
                for edit in &edits {
                    state.apply(edit);
                }
            }
            Some(name)
        } else {
            None
        };

        let number = state.next_file;
        state.next_file += 1;
        let name = manifest_name(number);
        // A file of that name is what a crash before the rename below left behind; appending
        // to it would replay its snapshot too, adding every table twice.
        if old.as_ref() != Some(&name) && dir.file(&name).exists() {
            dir.remove(&name)?;
        }
        let mut log = LogFile::open(dir, &name, SyncMode::Always, &mut |_, _| {})?;
        log.append(b"edit", &Value::Put(encode(&state.snapshot())))?;
        let tmp = dir.file(CURRENT_TMP);
        let mut file = dir.create(CURRENT_TMP)?;
        file.write_all(format!("{name}\n").as_bytes()).at(&tmp)?;
        file.sync_all().at(&tmp)?;
        fs::rename(&tmp, &current_path).at(&current_path)?;
        dir.sync()?;
        if let Some(old) = old
            && old != name
        {
            dir.remove(&old)?;
        }
        Ok((
            Manifest {
                log,
                number,
                failed: false,
            },
            state,
        ))
    }

    /// Records `edits` durably (appended and fsynced); returns the bytes written. After one
    /// failed append, every later one fails too: the manifest is only appended to again once
    /// the directory is opened again (which writes a fresh one).
    pub fn record(&mut self, edits: &[Edit]) -> Result<u64> {
        if self.failed {
            return Err(Error::io(
                self.log.path(),
                std::io::Error::other("an earlier append to the manifest failed"),
            ));
        }
        let appended = self.log.append(b"edit", &Value::Put(encode(edits)));
        self.failed = appended.is_err();
        appended
    }

    /// The manifest's file number.
    pub fn number(&self) -> u64 {
        self.number
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edits_round_trip() {
        let edits = vec![
            Edit::AddTable {
                level: 3,
                number: 99,
            },
            Edit::RemoveTable {
                level: 0,
                number: 7,
            },
            Edit::LogNumber(12),
            Edit::NextFile(300),
            Edit::LastSeq(u64::MAX),
        ];
        assert_eq!(decode(&encode(&edits)).unwrap(), edits);
        assert!(decode(&[1, 200, 1]).is_err(), "level out of range");
        assert!(decode(&[9, 1]).is_err(), "unknown tag");
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode(&bytes);
        }
    }
}
