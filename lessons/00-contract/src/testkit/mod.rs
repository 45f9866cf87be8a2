//! The conformance suite, the model test and the crash test — shared by every stage.
//!
// ANCHOR: usage
//! A lesson runs all of them with one macro call in a test file:
//!
//! ```text
//! rkv_contract::conformance_suite!(
//!     store = rkv_01_basic_store::Store,
//!     options = rkv_01_basic_store::Options::default,
//!     binary = env!("CARGO_BIN_EXE_rkv-01-basic-store"),
//!     cli_args = &[],
//! );
//! ```
//!
//! `options` is a function returning the options every test opens the store with; a lesson with
//! size thresholds passes tiny ones, so that flushes and merges happen all the time in the tests.
//! The crash test runs the lesson's own binary (its `shell`), kills it with SIGKILL in the middle
//! of writes, and checks that every acknowledged write is there after reopen; `cli_args` are
//! extra arguments for that binary (say `&["--set", "memtable_bytes=4096"]`).
// ANCHOR_END: usage

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod crash;
mod model_test;
mod suite;

pub use crash::{CrashPlan, crash_test, crash_test_with};
pub use model_test::model_test;
pub use suite::*;

use std::path::Path;

use crate::{Entry, KvStore, Model};

/// Opens `S` in `dir`, panicking with the error's message (tests only).
pub fn open<S: KvStore>(dir: &Path, options: S::Options) -> S {
    match S::open(dir, options) {
        Ok(store) => store,
        Err(e) => panic!("open {} failed: {e}", dir.display()),
    }
}

/// Every entry of the store in `[start, end)`, panicking on an error (tests only).
pub fn collect<S: KvStore>(store: &mut S, start: Option<&[u8]>, end: Option<&[u8]>) -> Vec<Entry> {
    store
        .scan(start, end)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Asserts the store holds exactly what the model holds (full scan plus a get of every key).
pub fn assert_matches_model<S: KvStore>(store: &mut S, model: &Model) {
    let got = collect(store, None, None);
    let want = model.scan(None, None);
    assert_eq!(
        got.len(),
        want.len(),
        "number of live keys differs from the model"
    );
    assert_eq!(got, want, "full scan differs from the model");
    for (key, value) in &want {
        assert_eq!(
            store.get(key).unwrap().as_deref(),
            Some(value.as_slice()),
            "get({key:?})"
        );
    }
}

/// Generates the whole suite as `#[test]` functions in a module `conformance`.
#[macro_export]
macro_rules! conformance_suite {
    (store = $store:ty, options = $options:expr, binary = $binary:expr, cli_args = $cli_args:expr $(,)?) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            use $crate::testkit;

            #[test]
            fn put_get_overwrite_delete() {
                testkit::put_get_overwrite_delete::<$store>(($options)());
            }
            #[test]
            fn empty_value_is_a_value() {
                testkit::empty_value_is_a_value::<$store>(($options)());
            }
            #[test]
            fn binary_keys_sort_bytewise() {
                testkit::binary_keys_sort_bytewise::<$store>(($options)());
            }
            #[test]
            fn scan_bounds() {
                testkit::scan_bounds::<$store>(($options)());
            }
            #[test]
            fn close_and_reopen() {
                testkit::close_and_reopen::<$store>(($options)());
            }
            #[test]
            fn many_keys_with_reopen() {
                testkit::many_keys_with_reopen::<$store>(($options)());
            }
            #[test]
            fn size_limits() {
                testkit::size_limits::<$store>(($options)());
            }
            #[test]
            fn second_open_is_locked() {
                testkit::second_open_is_locked::<$store>(($options)());
            }
            #[test]
            fn model() {
                testkit::model_test::<$store>($options);
            }
            #[test]
            fn crash_with_sync_never() {
                testkit::crash_test::<$store>(
                    ($options)(),
                    ::std::path::Path::new($binary),
                    $crate::SyncMode::Never,
                    $cli_args,
                );
            }
            #[test]
            fn crash_with_sync_always() {
                testkit::crash_test::<$store>(
                    ($options)(),
                    ::std::path::Path::new($binary),
                    $crate::SyncMode::Always,
                    $cli_args,
                );
            }
        }
    };
}
