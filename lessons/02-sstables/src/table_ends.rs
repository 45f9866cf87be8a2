//! The two ends of a table file: a header that says what the file is, and a fixed-size footer
//! that ends in a magic number.
//!
//! Lesson 02's tables and lesson 03's share this shape — the header is a magic and a version,
//! the footer sits at a fixed distance from the end so a reader finds it without reading the
//! records, and the footer's last eight bytes are a second magic, missing when a crash or a bad
//! disk cut the file short. Both lessons check the ends with these two functions.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rkv_contract::{Error, IoContext, Result};

/// Header length: an eight-byte magic and a u32 version.
pub const HEADER_LEN: u64 = 12;

/// Refuses a file whose header is not `magic` followed by `version` (little-endian): a table of
/// another lesson, or no table at all. `expected` says what the file should have been.
pub fn check_header(
    file: &File,
    path: &Path,
    len: u64,
    magic: &[u8; 8],
    version: u32,
    expected: String,
) -> Result<()> {
    let mut header = [0u8; HEADER_LEN as usize];
    // A file shorter than the header is not one of ours either: compare what there is.
    let present = len.min(HEADER_LEN) as usize;
    file.read_exact_at(&mut header[..present], 0).at(path)?;
    if present < header.len() || header[..8] != magic[..] || header[8..] != version.to_le_bytes() {
        return Err(Error::Format {
            file: path.to_path_buf(),
            expected,
            found: format!(
                "a file starting with \"{}\"",
                header[..present].escape_ascii()
            ),
        });
    }
    Ok(())
}

/// Reads the last `N` bytes of a table of `len` bytes — its footer — and checks that they end
/// with `magic`; returns them and the offset where they start.
pub fn read_footer<const N: usize>(
    file: &File,
    path: &Path,
    len: u64,
    magic: &[u8; 8],
) -> Result<([u8; N], u64)> {
    if len < HEADER_LEN + N as u64 {
        return Err(Error::corruption(
            path,
            len,
            "table is shorter than header and footer",
        ));
    }
    let footer_start = len - N as u64;
    let mut footer = [0u8; N];
    file.read_exact_at(&mut footer, footer_start).at(path)?;
    if footer[N - 8..] != magic[..] {
        return Err(Error::corruption(
            path,
            footer_start + N as u64 - 8,
            "footer magic missing (a truncated table?)",
        ));
    }
    Ok((footer, footer_start))
}

/// The little-endian u64 at `at` of `bytes` (which the caller sized to hold it).
pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(le)
}
