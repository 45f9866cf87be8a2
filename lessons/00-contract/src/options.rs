//! Options every stage understands, and the door for options only some stages have.
//!
//! Each stage has its own options type (lesson 02 adds a memtable size, lesson 05 a codec, …),
//! but the CLI and the benchmarks must set them without knowing the stage. So every options type
//! implements [`StoreOptions`]: durability is a typed setting every stage has, everything else is
//! set by name (`--set memtable_bytes=65536` on the command line).

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

// ANCHOR: sync_mode
/// When a write counts as acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncMode {
    /// Every write is fsynced before it is acknowledged: it survives a power loss.
    Always,
    /// Every write is handed to the operating system before it is acknowledged: it survives a
    /// killed process, not a power loss.
    #[default]
    Never,
}
// ANCHOR_END: sync_mode

impl FromStr for SyncMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "always" => Ok(SyncMode::Always),
            "never" => Ok(SyncMode::Never),
            other => Err(Error::invalid(
                format!("sync mode {other:?}"),
                "one of: always, never",
            )),
        }
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncMode::Always => "always",
            SyncMode::Never => "never",
        })
    }
}

// ANCHOR: store_options
/// The options of one stage.
pub trait StoreOptions: Default + Clone + fmt::Debug + Send + 'static {
    /// The durability promised for each write.
    fn sync(&self) -> SyncMode;

    /// Changes the durability promised for each write.
    fn set_sync(&mut self, sync: SyncMode);

    /// Sets a stage-specific option by name. The default knows no names.
    fn set(&mut self, name: &str, value: &str) -> Result<()> {
        Err(Error::invalid(
            format!("unknown option {name:?} (value {value:?})"),
            "this stage has no tunable options besides --sync",
        ))
    }
}
// ANCHOR_END: store_options

/// The options of a stage that has no settings of its own: the sync mode alone. Lesson 01 uses
/// it; a stage with more to tune has its own type.
#[derive(Clone, Debug, Default)]
pub struct SyncOptions {
    /// Whether every write is fsynced before it is acknowledged.
    pub sync: SyncMode,
}

impl StoreOptions for SyncOptions {
    fn sync(&self) -> SyncMode {
        self.sync
    }

    fn set_sync(&mut self, sync: SyncMode) {
        self.sync = sync;
    }
}
