//! Lesson 05 against the shared contract, with a tiny memtable and tiny blocks so that flushes
//! happen every few writes and tables have many blocks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

fn tiny() -> rkv_05_compression::Options {
    let mut options = rkv_05_compression::Options {
        memtable_bytes: 512,
        ..Default::default()
    };
    options.table.block_bytes = 64;
    options.table.restart_interval = 3;
    options
}

rkv_contract::conformance_suite!(
    store = rkv_05_compression::Store,
    options = tiny,
    binary = env!("CARGO_BIN_EXE_rkv-05-compression"),
    cli_args = &[
        "--set",
        "memtable_bytes=2048",
        "--set",
        "block_bytes=256",
        "--set",
        "compression=zstd"
    ],
);
