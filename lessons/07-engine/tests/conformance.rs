//! The engine against the shared contract, with thresholds so small that flushes and
//! compactions run in the background all the time — in the model test and the crash test too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

rkv_contract::conformance_suite!(
    store = rkv_07_engine::Store,
    options = rkv_07_engine::EngineOptions::tiny,
    binary = env!("CARGO_BIN_EXE_rkv-07-engine"),
    cli_args = &[
        "--set",
        "memtable_bytes=2048",
        "--set",
        "table_bytes=2048",
        "--set",
        "base_level_bytes=8192",
        "--set",
        "l0_compaction_trigger=2",
        "--set",
        "block_bytes=256",
    ],
);
