//! # Lesson 00 — the contract
//!
//! Every stage of rkv, from the one-file store of lesson 01 to the full engine of lesson 07, is a
//! different answer to the same question: *how do you keep an ordered map of bytes to bytes on a
//! disk, durably and fast?* This crate writes the question down once so that every answer can be
//! run, tested and measured the same way.
//!
//! - [`KvStore`] is the interface: open a directory, put, get, delete, scan a key range in order,
//!   flush, and report [`Stats`]. Keys and values are arbitrary bytes; an empty value is a value,
//!   never a deletion.
//! - [`Error`] is the one error type every stage returns. Corruption always names the file and
//!   the byte offset, so a broken disk is a message a person can act on, not a wrong answer.
//! - [`Stats`] counts what operations *cost* — key comparisons, tables probed, blocks read. Those
//!   counters make each lesson's improvement visible without a stopwatch.
//! - [`Model`] is a plain `BTreeMap`. It is the oracle the tests compare every stage against.
//! - With the `testkit` feature, [`testkit`] holds the conformance suite, the model test and the
//!   crash test; a lesson runs all of them with one macro call, [`conformance_suite!`].
//!
//! Nothing here knows about files. That is the point: the contract is what a user of the store
//! may rely on, and every lesson has to keep it.

mod error;
mod limits;
mod model;
mod options;
mod stats;
mod store;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{Error, IoContext, Result};
pub use limits::{MAX_KEY_BYTES, MAX_VALUE_BYTES, check_key, check_value};
pub use model::Model;
pub use options::{StoreOptions, SyncMode, SyncOptions};
pub use stats::Stats;
pub use store::{Bounds, Entry, KvStore, Scan, Visit};
