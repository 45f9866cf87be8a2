//! The name of every file the engine writes, in one place.
//!
//! A data directory holds the engine's files and nothing else, so the engine must recognise each
//! of its names — to recover (which logs to replay, which tables the manifest names), to delete
//! leftovers of a crash, and to refuse a directory another stage wrote. Keeping every name here,
//! as LevelDB keeps its `filename.cc`, means one file answers "what can be in a data directory?":
//!
//! ```text
//! NNNNNN.log        a write-ahead log: the batches of one memtable
//! NNNNNN.sst        a table
//! NNNNNN.filter     the bloom filter of the table with the same number
//! NNNNNN.manifest   the manifest: the edits that made the live set of tables
//! CURRENT           the name of the live manifest
//! CURRENT.tmp       CURRENT while it is being replaced (renamed over it, or a crash's leftover)
//! LOCK              the directory lock (lesson 01's `DataDir`)
//! ```
//!
//! All numbered files share one counter (the manifest's "next file" number), so a number names
//! at most one file of each kind and numbers only grow.

use rkv_01_basic_store::DataDir;
use rkv_contract::{Error, Result};

/// Name of the file naming the live manifest.
pub(crate) const CURRENT: &str = "CURRENT";
/// `CURRENT` while it is being replaced.
pub(crate) const CURRENT_TMP: &str = "CURRENT.tmp";

/// The kinds of numbered file, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Numbered {
    /// `NNNNNN.log`: a write-ahead log.
    Log,
    /// `NNNNNN.sst`: a table.
    Table,
    /// `NNNNNN.filter`: a table's bloom filter.
    Filter,
    /// `NNNNNN.manifest`: a manifest.
    Manifest,
}

impl Numbered {
    const ALL: [Numbered; 4] = [
        Numbered::Log,
        Numbered::Table,
        Numbered::Filter,
        Numbered::Manifest,
    ];

    fn extension(self) -> &'static str {
        match self {
            Numbered::Log => "log",
            Numbered::Table => "sst",
            Numbered::Filter => "filter",
            Numbered::Manifest => "manifest",
        }
    }

    /// The name of file `number` of this kind.
    pub(crate) fn name(self, number: u64) -> String {
        format!("{number:06}.{}", self.extension())
    }

    /// The number of `name` if it is a file of this kind.
    pub(crate) fn number(self, name: &str) -> Option<u64> {
        let digits = name.strip_suffix(self.extension())?.strip_suffix('.')?;
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse().ok())
            .flatten()
    }
}

/// The name of log number `number`.
pub(crate) fn log_name(number: u64) -> String {
    Numbered::Log.name(number)
}

/// The name of table number `number`.
pub(crate) fn table_name(number: u64) -> String {
    Numbered::Table.name(number)
}

/// The name of the filter of table number `number`.
pub(crate) fn filter_name(number: u64) -> String {
    Numbered::Filter.name(number)
}

/// The name of manifest number `number`.
pub(crate) fn manifest_name(number: u64) -> String {
    Numbered::Manifest.name(number)
}

/// True for the names the engine writes (`LOCK` is the data directory's own).
pub(crate) fn is_engine_file(name: &str) -> bool {
    name == CURRENT
        || name == CURRENT_TMP
        || Numbered::ALL.iter().any(|kind| kind.number(name).is_some())
}

/// Removes a file, ignoring "already gone".
pub(crate) fn remove_quietly(dir: &DataDir, name: &str) -> Result<()> {
    match std::fs::remove_file(dir.file(name)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir.file(name), e)),
    }
}

/// Removes table `number` and its filter, ignoring either being gone already.
pub(crate) fn remove_table(dir: &DataDir, number: u64) -> Result<()> {
    remove_quietly(dir, &table_name(number))?;
    remove_quietly(dir, &filter_name(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_is_ours() {
        for kind in Numbered::ALL {
            assert_eq!(kind.number(&kind.name(42)), Some(42));
            assert_eq!(kind.number(&kind.name(1_234_567)), Some(1_234_567));
        }
        assert_eq!(Numbered::Log.number("000001.sst"), None);
        assert_eq!(Numbered::Log.number(".log"), None);
        assert_eq!(Numbered::Log.number("12a.log"), None);
        assert!(is_engine_file(CURRENT) && is_engine_file(CURRENT_TMP));
        assert!(is_engine_file(&manifest_name(3)) && is_engine_file(&filter_name(3)));
        assert!(!is_engine_file("TABLES") && !is_engine_file("wal.log"));
    }
}
