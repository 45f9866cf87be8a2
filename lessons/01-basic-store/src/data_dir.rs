//! The data directory: created private, locked while open.
//!
//! Two processes appending to the same log would interleave their records and corrupt it, so a
//! store takes an exclusive lock on a `LOCK` file before it touches anything else, and a second
//! opener fails at once with [`Error::Locked`]. The lock belongs to the open file, so the
//! operating system drops it when the process dies, even under SIGKILL — no stale lock files.
//!
//! A store may hold anybody's data, so the directory is created `0700` and every file `0600`.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rkv_contract::{Error, IoContext, Result};

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "LOCK";

/// Extra tries, 5 ms apart, before a busy lock is reported as held (at most 100 ms in all).
const LOCK_ATTEMPTS: u32 = 20;

/// An open, exclusively locked data directory.
#[derive(Debug)]
pub struct DataDir {
    /// The directory.
    path: PathBuf,
    /// Held open for the store's life: the lock lives as long as this handle.
    _lock: File,
}

impl DataDir {
    // ANCHOR: lock
    /// Creates `path` (mode 0700) if needed and locks it, or fails with [`Error::Locked`].
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .at(path)?;
        }
        let lock_path = path.join(LOCK_FILE);
        let lock = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .at(&lock_path)?;
        // A lock that is busy for a few milliseconds may not belong to another store at all: a
        // process that forks a child (to run a command) hands the child copies of its open files
        // until the child's `exec` closes them, and a lock lives as long as any copy. So a busy
        // lock is tried again a few times before it counts as held.
        let mut attempts = 0;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if attempts < LOCK_ATTEMPTS => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        dir: path.to_path_buf(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(lock_path, e)),
            }
        }
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }
    // ANCHOR_END: lock

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of the file `name` inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Opens `name` for appending, creating it with mode 0600 if needed.
    pub fn open_append(&self, name: &str) -> Result<File> {
        let path = self.file(name);
        private_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .at(&path)
    }

    /// Creates `name` (mode 0600) for writing, replacing any old file of that name.
    pub fn create(&self, name: &str) -> Result<File> {
        let path = self.file(name);
        private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .at(&path)
    }

    /// Makes the directory's entries durable: a new or removed file is only certain to be
    /// there (or gone) after a crash once its directory has been fsynced.
    pub fn sync(&self) -> Result<()> {
        File::open(&self.path)
            .and_then(|dir| dir.sync_all())
            .at(&self.path)
    }

    /// Names of the entries in the directory (files that are not valid UTF-8 are included
    /// lossily, so they still show up as unexpected).
    pub fn list(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path).at(&self.path)? {
            let entry = entry.at(&self.path)?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    /// Refuses a directory holding a file this stage does not write: it was made by another
    /// stage (or is not a store at all), and opening it as ours would silently show no data.
    pub fn expect_only(&self, stage: &str, ours: impl Fn(&str) -> bool) -> Result<()> {
        match self
            .list()?
            .into_iter()
            .find(|name| name != LOCK_FILE && !ours(name))
        {
            None => Ok(()),
            Some(name) => Err(Error::Format {
                file: self.file(&name),
                expected: format!("only files of a {stage} store in {}", self.path.display()),
                found: "a file this stage does not write (another stage's store?)".into(),
            }),
        }
    }

    /// Removes the file `name`.
    pub fn remove(&self, name: &str) -> Result<()> {
        let path = self.file(name);
        fs::remove_file(&path).at(&path)
    }
}

// ANCHOR: private
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(0o600);
    options
}
// ANCHOR_END: private
