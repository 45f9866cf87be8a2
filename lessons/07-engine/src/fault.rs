//! A seam through which tests make the engine's disk writes fail as on a full disk.
//!
//! A full disk cannot be had on every machine a test runs on (mounting a small file system needs
//! privileges), but the engine's answer to one must be tested everywhere. So every write to disk
//! the engine starts — appending to the log or starting a new one, writing a table, recording a
//! manifest edit — first asks this seam, and a test can make the answer "no space left on
//! device" for one kind of write (`Engine::shared.faults`, only from tests inside the crate).
//!
//! The seam is compiled into every build, so that the code tests run is the code users run; when
//! nothing is injected, which is always outside tests, it costs one relaxed atomic load per
//! write to disk. It fails a write *before* any of its bytes are written; what a real full disk
//! does halfway through a write is tested on a real small file system
//! (`tests/full_disk.rs`).

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use rkv_contract::{Error, Result};

/// A kind of write to disk that can be made to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum DiskWrite {
    /// Appending a group of batches to the log, or creating a new log.
    Log = 1,
    /// Writing a table (by a flush, a compaction or recovery).
    Table = 2,
    /// Recording an edit in the manifest.
    Manifest = 4,
}

/// The kinds of write that fail now.
#[derive(Debug, Default)]
pub(crate) struct FaultSeam {
    /// One bit per [`DiskWrite`].
    full: AtomicU8,
}

impl FaultSeam {
    /// Fails with a full disk's error on `path` if `write` is made to fail.
    pub(crate) fn check(&self, write: DiskWrite, path: &Path) -> Result<()> {
        if self.full.load(Ordering::Relaxed) & write as u8 == 0 {
            return Ok(());
        }
        Err(Error::io(
            path,
            io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (injected by a test)",
            ),
        ))
    }

    /// Makes every later `write` fail, as if the disk were full.
    #[cfg(test)]
    pub(crate) fn fill(&self, write: DiskWrite) {
        self.full.fetch_or(write as u8, Ordering::Relaxed);
    }
}
