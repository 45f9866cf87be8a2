//! The model test: random operations against a stage and against the `BTreeMap` model.
//!
//! Proptest generates a sequence of operations — puts, gets, deletes, scans with random bounds
//! (copying ones, and lending ones that stop early),
//! flushes, compactions and close-and-reopen — applies each to the stage and to the model, and
//! demands the same answer every time. When a sequence fails, proptest shrinks it to a short one
//! that still fails, which is usually the whole bug report.

use std::ops::ControlFlow;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tempfile::TempDir;

use super::collect;
use crate::{Error, KvStore, Model};

/// One step of the model test.
#[derive(Clone, Debug)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Get(Vec<u8>),
    Delete(Vec<u8>),
    Scan(Option<Vec<u8>>, Option<Vec<u8>>),
    /// A lending scan that stops after this many entries.
    ScanEach(Option<Vec<u8>>, Option<Vec<u8>>, usize),
    Flush,
    Compact,
    Reopen,
}

/// Keys come from a small pool so that overwrites, deletes of live keys and hits are common.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => (0u8..40).prop_map(|i| format!("key{i:02}").into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..4),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::collection::vec(any::<u8>(), 0..24),
        1 => Just(Vec::new()),
        1 => prop::collection::vec(any::<u8>(), 500..3000),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => (key(), value()).prop_map(|(k, v)| Op::Put(k, v)),
        12 => key().prop_map(Op::Get),
        10 => key().prop_map(Op::Delete),
        5 => (prop::option::of(key()), prop::option::of(key())).prop_map(|(a, b)| Op::Scan(a, b)),
        3 => (prop::option::of(key()), prop::option::of(key()), 0usize..12)
            .prop_map(|(a, b, n)| Op::ScanEach(a, b, n)),
        2 => Just(Op::Flush),
        1 => Just(Op::Compact),
        2 => Just(Op::Reopen),
    ]
}

fn io<T>(result: crate::Result<T>) -> Result<T, TestCaseError> {
    result.map_err(|e| TestCaseError::fail(format!("store error: {e}")))
}

fn run_ops<S: KvStore>(options: &impl Fn() -> S::Options, ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = TempDir::new().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut model = Model::new();
    let mut store = Some(io(S::open(dir.path(), options()))?);
    for op in ops {
        let Some(current) = store.as_mut() else {
            return Err(TestCaseError::fail("store missing"));
        };
        match op {
            Op::Put(k, v) => {
                io(current.put(k, v))?;
                model.put(k, v);
            }
            Op::Get(k) => {
                let got = io(current.get(k))?;
                prop_assert_eq!(got.as_deref(), model.get(k), "get {:?}", k);
            }
            Op::Delete(k) => {
                io(current.delete(k))?;
                model.delete(k);
            }
            Op::Scan(a, b) => {
                let got = collect(current, a.as_deref(), b.as_deref());
                prop_assert_eq!(got, model.scan(a.as_deref(), b.as_deref()));
            }
            Op::ScanEach(a, b, limit) => {
                let got = io(collect_each(current, a.as_deref(), b.as_deref(), *limit))?;
                let mut want = model.scan(a.as_deref(), b.as_deref());
                want.truncate(*limit);
                prop_assert_eq!(got, want, "scan_each stopping after {}", limit);
            }
            Op::Flush => io(current.flush())?,
            Op::Compact => match current.compact() {
                Ok(()) | Err(Error::Unsupported(_)) => {}
                Err(e) => return Err(TestCaseError::fail(format!("compact: {e}"))),
            },
            Op::Reopen => {
                drop(store.take());
                store = Some(io(S::open(dir.path(), options()))?);
            }
        }
    }
    let Some(mut current) = store.take() else {
        return Err(TestCaseError::fail("store missing"));
    };
    prop_assert_eq!(collect(&mut current, None, None), model.scan(None, None));
    drop(current);
    let mut reopened = io(S::open(dir.path(), options()))?;
    prop_assert_eq!(
        collect(&mut reopened, None, None),
        model.scan(None, None),
        "after the final reopen"
    );
    Ok(())
}

/// The first `limit` entries of `[start, end)` as `scan_each` lends them, copied.
fn collect_each<S: KvStore>(
    store: &mut S,
    start: Option<&[u8]>,
    end: Option<&[u8]>,
    limit: usize,
) -> crate::Result<Vec<crate::Entry>> {
    let mut seen = Vec::new();
    if limit == 0 {
        return Ok(seen);
    }
    store.scan_each((start, end), &mut |key, value| {
        seen.push((key.to_vec(), value.to_vec()));
        if seen.len() == limit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    Ok(seen)
}

/// Runs the model test for `S` (64 cases of up to 150 operations; `PROPTEST_CASES` overrides).
pub fn model_test<S: KvStore>(options: impl Fn() -> S::Options) {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(op(), 1..150);
    if let Err(failure) = runner.run(&strategy, |ops| run_ops::<S>(&options, &ops)) {
        panic!("model test failed: {failure}");
    }
}
