//! # Lesson 06 — checksums
//!
//! Up to lesson 05, a store believes its files. Every decoder checks that lengths and offsets
//! *fit* — nothing panics, nothing reads out of bounds — but a bit that flipped inside a value, a
//! key, or a count that still fits, decodes into a perfectly plausible wrong answer. A disk with
//! a bad sector, a cable, a controller, a bug in a file system, or a person with a hex editor can
//! all flip bits, and lesson 05 would return `yellow` as `xellow` without a word.
//!
//! This lesson adds a **CRC-32 checksum** to everything the store writes and checks it on every
//! read, before a single byte is decoded. Damage then becomes
//! [`Error::Corruption`](rkv_contract::Error::Corruption) naming the file, the offset, and what
//! failed — never a wrong value, never a panic.
//!
//! ```text
//!   table block:  codec | raw_len | payload            | crc    ← checked on every block read
//!   table footer: index handle | counts | version | magic | crc  ← checked on every open
//!   log record:   header_crc | record_crc | kind | key_len | value_len | key | value
//!   TABLES:       magic | version | first_log | count | numbers… | crc
//! ```
//!
//! The pieces, all of them small, because the earlier lessons left seams for exactly this:
//! - [`crc`] — the masked CRC-32, and "append a checksum" / "verify and strip it";
//! - [`crc_frame`] — [`Crc32`], a frame for lesson 05's `Frame` seam: every table block sealed;
//! - [`checksummed_log`] — [`ChecksummedLog`], a write-ahead log for lesson 02's `Journal` seam,
//!   which also seals the `TABLES` file through that seam.
//!
//! Everything else — memtable, flush, merge, compaction, the block format, prefix compression,
//! codecs — is lessons 01–05, imported, not copied.
//!
//! ## What a checksum buys
//!
//! **Detection.** CRC-32 catches every single-bit error, every burst of up to 32 bits, and all
//! but one in 2³² random garbage blocks. That turns "silently wrong" into "loudly broken": the
//! `get` that hits a damaged block fails, the shell prints `ERR corruption in …/000007.sst at
//! offset 4096: checksum mismatch …` and carries on; every other block still answers.
//!
//! **An honest recovery.** The log can now tell *what kind* of damage it sees. A process that
//! dies while appending leaves a *torn tail*: the last record is cut short, and since it was never
//! acknowledged, dropping it is correct. Anything else — a checksum that fails on a complete
//! record, wherever it is — means bytes changed after they were written, and some of them may
//! belong to writes the store acknowledged. Replay then stops with an error naming the file and
//! offset instead of "recovering" by throwing acknowledged writes away. [`checksummed_log`]
//! has the rule in full, and why the record lengths need a checksum of their own.
//!
//! ## What it does not buy
//!
//! - **A checksum detects; it does not repair.** The damaged block's data is gone. What this
//!   store offers is the truth about it: which file, which offset. Getting the data back needs a
//!   second copy — a replica (the replication lessons after 07), a backup, or an erasure code.
//! - **It does not stop a bad disk from losing data.** A disk that loses a sector loses it.
//!   Real engines add scrubbing (reading everything periodically, so damage is found while a good
//!   replica still exists) and keep checksums end to end, up to the client.
//! - **It is not a defence against an attacker.** Anyone who can write the file can recompute a
//!   CRC. That needs a keyed MAC (HMAC, or an AEAD when encrypting): the security lesson's job.
//! - **Power loss is a different crash.** The torn-tail rule assumes a killed *process*: the
//!   kernel keeps every byte that `write` accepted, so a cut is always a clean prefix. After a
//!   *power* loss, what reaches the platter is up to the file system and the disk: with `--sync
//!   always` every acknowledged record was fsynced and is there, but the unacknowledged record
//!   being written may leave garbage instead of a prefix (on Linux, ext4's default `data=ordered`
//!   mode commits a file's new length only after its data, which in practice keeps even this a
//!   prefix; other file systems, and disks that lie about flushes, do not promise it). This store
//!   would then report corruption at the end of the log rather than guess. Real engines let the
//!   operator choose: RocksDB's `WALRecoveryMode` ranges from "absolute consistency" to
//!   "tolerate corrupted tail records" to "point in time" (stop at the first bad record).
//! - **Magic numbers and versions are checked before the checksum**, so that a file of another
//!   stage is a clear `Error::Format` ("expected version 2, found 1") rather than a checksum
//!   mismatch. The price: a bit flipped *inside* a magic number or version is also reported as
//!   `Error::Format`. That is still an error, never a wrong value, but its message points at the
//!   wrong cause.
//! - **Scans count nothing.** `stats` counts every checksum a `get` verifies
//!   (`checksums_verified`); a scan verifies every block it reads too, but the table's range
//!   iterator (lesson 02's seam) has no counters to report them in.
//!
//! ## What it costs
//!
//! Four bytes per block and per table list, eight per log record, and one CRC per block read.
//! `crc32fast` uses the CPU's carry-less multiplication and checks a 4 KiB block in a fraction
//! of a microsecond — less than decompressing it, and far less than reading it from a disk.

pub mod checksummed_log;
pub mod crc;
pub mod crc_frame;

pub use checksummed_log::ChecksummedLog;
pub use crc_frame::Crc32;

use rkv_02_sstables::{LsmOptions, LsmStore};
use rkv_04_parallel_search::Parallel;
use rkv_05_compression::{BlockOptions, BlockTable};

// ANCHOR: store
/// Lesson 06's store: lesson 05's block tables with every block checksummed, the same lookup
/// (lesson 04's), and a checksummed log (which also checksums `TABLES`).
pub type Store = LsmStore<BlockTable<Crc32>, Parallel, ChecksummedLog>;

/// Lesson 06's options: lesson 05's, unchanged.
pub type Options = LsmOptions<BlockOptions>;
// ANCHOR_END: store
