//! Lesson 04 against the shared contract, with a memtable so small that flushes happen every
//! few writes — so most `get`s meet enough tables to go through the worker pool.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

fn tiny_memtable() -> rkv_04_parallel_search::Options {
    rkv_04_parallel_search::Options {
        memtable_bytes: 512,
        ..Default::default()
    }
}

rkv_contract::conformance_suite!(
    store = rkv_04_parallel_search::Store,
    options = tiny_memtable,
    binary = env!("CARGO_BIN_EXE_rkv-04-parallel-search"),
    cli_args = &["--set", "memtable_bytes=2048"],
);
