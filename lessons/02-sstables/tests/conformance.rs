//! Lesson 02 against the shared contract, with a memtable so small that flushes happen every
//! few writes — in the model test and in the crash test alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

// ANCHOR: suite
fn tiny_memtable() -> rkv_02_sstables::Options {
    rkv_02_sstables::Options {
        memtable_bytes: 512,
        ..Default::default()
    }
}

rkv_contract::conformance_suite!(
    store = rkv_02_sstables::Store,
    options = tiny_memtable,
    binary = env!("CARGO_BIN_EXE_rkv-02-sstables"),
    cli_args = &["--set", "memtable_bytes=2048"],
);
// ANCHOR_END: suite
