//! Lesson 05 against the shared contract, with a tiny memtable and tiny blocks so that flushes
//! happen every few writes and tables have many blocks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

rkv_contract::conformance_suite!(
    store = rkv_05_compression::Store,
    options = rkv_05_compression::tiny_options,
    binary = env!("CARGO_BIN_EXE_rkv-05-compression"),
    cli_args = rkv_05_compression::TINY_CLI_ARGS,
);
