//! Lesson 06 against the shared contract, with a tiny memtable and tiny blocks so that flushes
//! happen every few writes, tables have many blocks, and every read verifies checksums.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

// ANCHOR: suite
fn tiny() -> rkv_06_checksums::Options {
    let mut options = rkv_06_checksums::Options {
        memtable_bytes: 512,
        ..Default::default()
    };
    options.table.block_bytes = 64;
    options.table.restart_interval = 3;
    options
}

rkv_contract::conformance_suite!(
    store = rkv_06_checksums::Store,
    options = tiny,
    binary = env!("CARGO_BIN_EXE_rkv-06-checksums"),
    cli_args = &[
        "--set",
        "memtable_bytes=2048",
        "--set",
        "block_bytes=256",
        "--set",
        "compression=zstd"
    ],
);
// ANCHOR_END: suite
