//! # rkv-benches — what each lesson bought, measured
//!
//! Every stage of rkv implements the same [`KvStore`](rkv_contract::KvStore) contract, so the same
//! workload can be run against each of them and the numbers put side by side. This crate holds
//! that workload once, and two ways to run it:
//!
//! - **`benches/stages.rs`** (criterion, `cargo bench -p rkv-benches`): one benchmark group per
//!   workload (fillseq, fillrandom, readrandom, readmissing, readseq, scan100, overwrite,
//!   delete) with every stage a member of every group, so criterion's own report compares the
//!   stages and gives a confidence interval for each.
//! - **the `harness` binary** (`cargo run --release -p rkv-benches --bin harness`): the
//!   db_bench-style phases, which mutate one store in sequence (fill it, overwrite it, read it,
//!   delete from it), and the YCSB core workloads A–F. For every phase it reports throughput,
//!   latency percentiles from an HDR histogram, the directory's size on disk, the write
//!   amplification, the peak resident memory of the engine's process (each engine runs in a
//!   process of its own) and the [`Stats`](rkv_contract::Stats) counters per operation — the
//!   counters explain the speed-ups. `cargo xtask bench` runs it and turns its JSON into a
//!   report (and, with `--book`, into the book's benchmark page).
//!
//! The pieces:
//! - [`engine`] — the [`Engine`](engine::Engine) trait the workloads drive, its adapter for any
//!   `KvStore`, and the [`Settings`](engine::Settings) every engine is opened with;
//! - [`registry`] — the list of engines: **adding a stage is one line there**;
//! - [`keys`] — the key and value generators (16-byte keys, seeded values);
//! - [`distribution`] — uniform, zipfian and latest request distributions for YCSB;
//! - [`measure`] — timing one phase: histogram, counters, disk size, bytes written, peak RSS;
//! - [`dbbench`] and [`ycsb`] — the workloads;
//! - [`report`] — the JSON the harness writes and `cargo xtask bench` reads (the
//!   `rkv-bench-report` crate, shared with xtask);
//! - [`memory`] — the peak resident memory of a phase;
//! - [`variant`] — an engine with one cache setting: a row of the report;
//! - `peers` — fjall, redb and sled (feature `peers`) and RocksDB (feature `rocksdb`) behind
//!   the same trait, with each engine's settings written down. `cargo xtask bench` turns the
//!   features on; nothing else in the workspace does, and this crate is not a default member,
//!   so a plain `cargo build` or `cargo test --workspace` never builds another engine.
//!
//! ## What is simplified on purpose
//! A real benchmark suite (RocksDB's db_bench, YCSB) runs many client threads, far more data than
//! memory, and for hours. This one is single-threaded, runs on a laptop in minutes by default,
//! and says so next to every number: it compares the *stages* of one course on equal terms, it
//! does not rank databases. Nothing is timed that is not the operation itself: opening a store,
//! pre-filling it and removing it afterwards happen outside the timed part.

pub mod dbbench;
pub mod distribution;
pub mod engine;
pub mod keys;
pub mod measure;
pub mod memory;
#[cfg(feature = "peers")]
pub mod peers;
pub mod registry;
pub use rkv_bench_report as report;
pub mod variant;
pub mod ycsb;
