//! Lesson 06 against the shared contract, with lesson 05's tiny memtable and tiny blocks so that
//! flushes happen every few writes, tables have many blocks, and every read verifies checksums.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

// ANCHOR: suite
rkv_contract::conformance_suite!(
    store = rkv_06_checksums::Store,
    options = rkv_05_compression::tiny_options,
    binary = env!("CARGO_BIN_EXE_rkv-06-checksums"),
    cli_args = rkv_05_compression::TINY_CLI_ARGS,
);
// ANCHOR_END: suite
