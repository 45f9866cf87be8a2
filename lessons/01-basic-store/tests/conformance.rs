//! Lesson 01 against the shared contract: conformance suite, model test, crash test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

// ANCHOR: suite
rkv_contract::conformance_suite!(
    store = rkv_01_basic_store::Store,
    options = rkv_01_basic_store::Options::default,
    binary = env!("CARGO_BIN_EXE_rkv-01-basic-store"),
    cli_args = &[],
);
// ANCHOR_END: suite
