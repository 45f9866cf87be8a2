//! The one error type of rkv.
//!
//! Every stage returns [`Error`]. The variants are the ways a store can refuse or fail, each with
//! enough detail for a person to act on: which file, which offset, which limit. A library must
//! never answer corrupt input with a wrong value or a panic; it answers with one of these.

use std::io;
use std::path::{Path, PathBuf};

/// The result type of every fallible rkv operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

// ANCHOR: error
/// Everything that can go wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a file operation.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory the operation was on.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// A file holds bytes that cannot have been written by this store.
    #[error("corruption in {} at offset {offset}: {what}", file.display())]
    Corruption {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset in that file where the damage was found.
        offset: u64,
        /// What was wrong.
        what: String,
    },

    /// The caller asked for something the store does not allow.
    #[error("invalid argument: {what} (limit: {limit})")]
    InvalidArgument {
        /// What was wrong with the argument.
        what: String,
        /// The rule it broke.
        limit: String,
    },

    /// Another process holds the data directory open.
    #[error("{} is locked: another process has this store open", dir.display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },

    /// A file was written by another stage or another version of the format.
    #[error("format mismatch in {}: expected {expected}, found {found}", file.display())]
    Format {
        /// The file.
        file: PathBuf,
        /// The format this stage reads.
        expected: String,
        /// What the file says it is.
        found: String,
    },

    /// The operation exists in the contract but this stage does not implement it (yet).
    #[error("{0} is not supported by this stage")]
    Unsupported(&'static str),
}
// ANCHOR_END: error

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Corruption found in `file` at `offset`.
    pub fn corruption(file: impl Into<PathBuf>, offset: u64, what: impl Into<String>) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            what: what.into(),
        }
    }

    /// An argument that broke `limit`.
    pub fn invalid(what: impl Into<String>, limit: impl Into<String>) -> Self {
        Error::InvalidArgument {
            what: what.into(),
            limit: limit.into(),
        }
    }
}

/// Attaches the path to an `io::Result`, turning it into an rkv [`Result`].
///
/// `std::io::Error` does not say which file it is about; a user staring at "No such file or
/// directory" deserves better.
pub trait IoContext<T> {
    /// Converts the error into [`Error::Io`] naming `path`.
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|source| Error::io(path, source))
    }
}
