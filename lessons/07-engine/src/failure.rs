//! Errors that cross threads: a failed write that stops the engine, and a poisoned lock.
//!
//! ## The first failed write stops the writes
//!
//! Writes to disk happen on several threads: the write leader appends to the log, the flush
//! thread writes tables, the compaction thread (or a caller of `compact`) writes tables and
//! manifest edits. The first one that fails — a full disk, an I/O error, corruption met in an
//! input — stops the engine's writes until the directory is opened again:
//!
//! - a log or manifest append that failed may have left part of a record at the end of the file.
//!   The next append would put a whole record after it, turning a torn tail (which replay drops)
//!   into a damaged record in the middle (which replay must report as corruption, refusing the
//!   whole store). So nothing may be appended after a failed append;
//! - a flush that failed leaves the immutable memtable in place, and with it every later
//!   rotation — writers would wait for a flush that will not come;
//! - what was acknowledged is safe: it is in a log that is only deleted after its memtable is in
//!   a table the manifest names. Opening the directory again replays it, deletes what the failed
//!   work left behind, and starts over — once there is space again.
//!
//! LevelDB does the same with its "background error". The failure is kept as a typed
//! [`Stopped`] in the engine's state. Whoever hit it gets an error that says so; every later
//! write, flush or compaction — and every thread *waiting* for one, see
//! `Shared::wait_for_change` — gets an error carrying the same cause. An I/O failure stays an
//! [`Error::Io`] on the file that failed, with the operating system's error kind (a full disk is
//! `StorageFull`), so a caller can tell a full disk from anything else. Reads go on as before.
//!
//! ## Poisoned locks
//!
//! A lock is poisoned when a thread panicked while holding it. No caller's code runs under the
//! engine's locks, so that is a bug in the engine, and what the lock guards may be half changed.
//! The one policy:
//!
//! - every operation that needs a poisoned lock fails with [`Poisoned`] (an [`Error::Io`] on the
//!   data directory, since the contract's error has no variant for a broken engine);
//! - code that cannot return an error — dropping the engine (which tells the background threads
//!   to stop), adding to the statistics, the graveyard — takes the data anyway
//!   (`PoisonError::into_inner`): a flag, a counter or a list of things to free cannot be left
//!   in a state that does harm;
//! - a background thread that panics records [`Cause::Panicked`] as the engine's failure on its
//!   way out, so that nobody waits for work it will never finish; so does a write leader, which
//!   also hands that failure to the followers of its group.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rkv_contract::Error;

/// The work that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Task {
    /// Writing a group of batches to the log, or starting a new log.
    Write,
    /// Writing the immutable memtable as a table.
    Flush,
    /// A compaction, in the background or asked for.
    Compaction,
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::Write => "a write to the log",
            Task::Flush => "the memtable flush",
            Task::Compaction => "a compaction",
        })
    }
}

/// What made the work fail.
#[derive(Clone, Debug)]
pub(crate) enum Cause {
    /// The error it returned, shared by every thread that reports it.
    Error(Arc<Error>),
    /// The thread doing it panicked.
    Panicked,
}

/// The engine takes no more writes: `task` failed.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{task} failed, so the engine takes no more writes until it is opened again: {}", self.detail())]
pub(crate) struct Stopped {
    /// The work that failed.
    pub task: Task,
    /// Why.
    pub cause: Cause,
}

impl Stopped {
    /// The cause, without what the error built by [`Stopped::to_error`] says anyway.
    fn detail(&self) -> String {
        match &self.cause {
            Cause::Panicked => "its thread panicked".into(),
            Cause::Error(error) => match &**error {
                Error::Io { source, .. } => source.to_string(),
                Error::Corruption { what, .. } => what.clone(),
                other => other.to_string(),
            },
        }
    }

    /// The error to give a caller: of the cause's kind and on the cause's file, saying that the
    /// engine stopped. `dir` is named when the cause names no file.
    pub(crate) fn to_error(&self, dir: &Path) -> Error {
        match &self.cause {
            Cause::Error(error) => match &**error {
                Error::Io { path, source } => {
                    Error::io(path.clone(), io::Error::new(source.kind(), self.clone()))
                }
                Error::Corruption { file, offset, .. } => {
                    Error::corruption(file.clone(), *offset, self.to_string())
                }
                _ => Error::io(dir, io::Error::other(self.clone())),
            },
            Cause::Panicked => Error::io(dir, io::Error::other(self.clone())),
        }
    }
}

/// A lock that a panicking thread held: see the module documentation.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("a thread panicked while holding the engine's {lock} lock")]
pub(crate) struct Poisoned {
    /// Which lock.
    pub lock: &'static str,
}

impl Poisoned {
    /// The error to give a caller, naming the data directory `dir`.
    pub(crate) fn to_error(self, dir: &Path) -> Error {
        Error::io(dir, io::Error::other(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_engine_reports_the_kind_and_file_of_the_cause() {
        let full = Error::io(
            "/store/000007.sst",
            io::Error::new(io::ErrorKind::StorageFull, "no space left on device"),
        );
        let stopped = Stopped {
            task: Task::Flush,
            cause: Cause::Error(Arc::new(full)),
        };
        let error = stopped.to_error(Path::new("/store"));
        let Error::Io { path, source } = &error else {
            panic!("not an I/O error: {error}");
        };
        assert_eq!(path, Path::new("/store/000007.sst"));
        assert_eq!(source.kind(), io::ErrorKind::StorageFull);
        assert!(source.get_ref().is_some_and(|inner| inner.is::<Stopped>()));
        let text = error.to_string();
        assert!(text.contains("the memtable flush failed"), "{text}");
        assert!(text.contains("no space left on device"), "{text}");
    }
}
