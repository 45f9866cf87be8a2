//! Lesson 03 against the shared contract, with a memtable so small that flushes happen every
//! few writes — so nearly every read goes through the binary search, in the model test and in the
//! crash test alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

fn tiny_memtable() -> rkv_03_binary_search::Options {
    rkv_03_binary_search::Options {
        memtable_bytes: 512,
        ..Default::default()
    }
}

rkv_contract::conformance_suite!(
    store = rkv_03_binary_search::Store,
    options = tiny_memtable,
    binary = env!("CARGO_BIN_EXE_rkv-03-binary-search"),
    cli_args = &["--set", "memtable_bytes=2048"],
);
