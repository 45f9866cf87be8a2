//! The seam for protecting blocks on disk.
//!
//! Every block of a table — data blocks, the index block and the footer — is written through a
//! [`Frame`]. In this lesson the frame adds nothing ([`Bare`]); lesson 06 plugs in a frame that
//! appends a CRC32 and checks it on every read, without touching anything else in the format.

use std::fmt::Debug;

use rkv_contract::Stats;

// ANCHOR: frame
/// How blocks are protected on disk.
pub trait Frame: Debug + Default + Clone + Send + Sync + 'static {
    /// Version written in the footer: tables of different frames cannot be confused.
    const VERSION: u32;
    /// Bytes the frame appends to every block.
    const TRAILER_LEN: usize;
    /// Appends the trailer protecting `buf[start..]`.
    fn seal(buf: &mut Vec<u8>, start: usize);
    /// Checks the trailer of `framed` and returns the bytes it protects, or says what is wrong.
    fn open<'a>(framed: &'a [u8], stats: &mut Stats) -> Result<&'a [u8], String>;
}

/// No protection: what lesson 05 writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bare;

impl Frame for Bare {
    const VERSION: u32 = 1;
    const TRAILER_LEN: usize = 0;

    fn seal(_buf: &mut Vec<u8>, _start: usize) {}

    fn open<'a>(framed: &'a [u8], _stats: &mut Stats) -> Result<&'a [u8], String> {
        Ok(framed)
    }
}
// ANCHOR_END: frame
