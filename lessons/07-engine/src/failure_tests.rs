//! Failures that cross threads, tested from inside the crate. A full disk, made full through the
//! fault seam ([`crate::fault`]): every write and every waiter gets an error instead of hanging,
//! acknowledged writes survive, and the same directory opens again, whole and writable
//! (`tests/full_disk.rs` does the same on a real full disk). And a poisoned lock: errors, not
//! panics, and an engine that still closes (the policy in [`crate::failure`]).

use std::io::ErrorKind;
use std::sync::mpsc;
use std::time::Duration;

use rkv_contract::Error;

use crate::fault::DiskWrite;
use crate::{Engine, EngineOptions};

/// Long enough for any machine; a waiter that hangs fails the test here instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `call` on `engine` in a thread of its own and returns its result, failing the test if
/// there is none by the deadline.
fn within_deadline<T: Send + 'static>(
    engine: &Engine,
    what: &str,
    call: impl FnOnce(&Engine) -> T + Send + 'static,
) -> T {
    let (send, receive) = mpsc::channel();
    let engine = engine.clone();
    std::thread::spawn(move || {
        let _ = send.send(call(&engine));
    });
    receive
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what} still waits after {DEADLINE:?}: it hangs"))
}

/// True for the error a full disk gives.
fn is_disk_full(error: &Error) -> bool {
    matches!(error, Error::Io { source, .. } if source.kind() == ErrorKind::StorageFull)
}

fn key(i: usize) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// Writes keys `range` with values naming them; every write must be acknowledged.
fn put_all(engine: &Engine, range: std::ops::Range<usize>) {
    for i in range {
        engine
            .put(&key(i), format!("value {i}").as_bytes())
            .unwrap();
    }
}

/// Opens `dir` again and checks keys `0..acknowledged` hold their values and writes work.
fn reopens_whole(dir: &std::path::Path, acknowledged: usize) {
    let engine = Engine::open(dir, EngineOptions::tiny()).unwrap();
    for i in 0..acknowledged {
        assert_eq!(
            engine.get(&key(i)).unwrap(),
            Some(format!("value {i}").into_bytes()),
            "acknowledged key {i} lost"
        );
    }
    engine.put(b"after", b"reopen").unwrap();
    engine.flush().unwrap();
    assert_eq!(engine.get(b"after").unwrap(), Some(b"reopen".to_vec()));
}

#[test]
fn a_failed_background_flush_fails_every_waiter_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    put_all(&engine, 0..20);
    engine.shared.faults.fill(DiskWrite::Table);
    // This flush rotates the memtable and waits for the flush thread, which fails.
    let first = within_deadline(&engine, "a flush", |e| e.flush());
    assert!(is_disk_full(&first.unwrap_err()));
    // The failed memtable is still waiting to be flushed: a second flush finds it there and
    // must not wait for it, and neither may a compaction, which flushes first.
    let second = within_deadline(&engine, "a second flush", |e| e.flush());
    assert!(is_disk_full(&second.unwrap_err()));
    let compact = within_deadline(&engine, "a compaction", |e| e.compact());
    assert!(is_disk_full(&compact.unwrap_err()));
    let put = within_deadline(&engine, "a put", |e| e.put(b"late", b"write"));
    let error = put.unwrap_err();
    assert!(is_disk_full(&error), "{error}");
    assert!(
        error.to_string().contains("the memtable flush failed"),
        "{error}"
    );
    // Reads go on.
    assert_eq!(engine.get(&key(3)).unwrap(), Some(b"value 3".to_vec()));
    drop(engine);
    reopens_whole(dir.path(), 20);
}

#[test]
fn a_writer_stalled_behind_a_failing_flush_gets_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    engine.shared.faults.fill(DiskWrite::Table);
    // Each memtable holds about 2 KiB: writing far more needs a second rotation, which waits for
    // the first flush — which fails. The writer must come back with the error.
    let written = within_deadline(&engine, "a stalled writer", |e| {
        let mut acknowledged = 0;
        for i in 0..2000 {
            match e.put(&key(i), format!("value {i}").as_bytes()) {
                Ok(()) => acknowledged += 1,
                Err(error) => return (acknowledged, Some(error)),
            }
        }
        (acknowledged, None)
    });
    let (acknowledged, error) = written;
    assert!(error.as_ref().is_some_and(is_disk_full), "{error:?}");
    assert!(acknowledged > 0);
    drop(engine);
    reopens_whole(dir.path(), acknowledged);
}

#[test]
fn a_full_log_refuses_the_write_and_every_later_one() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    put_all(&engine, 0..10);
    engine.shared.faults.fill(DiskWrite::Log);
    assert!(is_disk_full(&engine.put(b"k", b"v").unwrap_err()));
    // A later write must not append after what the failed one may have left in the log.
    let error = engine.put(b"k2", b"v").unwrap_err();
    assert!(
        error.to_string().contains("a write to the log failed"),
        "{error}"
    );
    assert!(is_disk_full(&engine.flush().unwrap_err()));
    assert_eq!(
        engine.get(b"k").unwrap(),
        None,
        "a failed write is not visible"
    );
    drop(engine);
    reopens_whole(dir.path(), 10);
}

#[test]
fn a_full_manifest_fails_the_flush_and_the_store_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    put_all(&engine, 0..30);
    engine.shared.faults.fill(DiskWrite::Manifest);
    let flushed = within_deadline(&engine, "a flush", |e| e.flush());
    assert!(is_disk_full(&flushed.unwrap_err()));
    drop(engine);
    reopens_whole(dir.path(), 30);
}

#[test]
fn a_compaction_on_a_full_disk_fails_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    put_all(&engine, 0..40);
    engine.flush().unwrap();
    engine.shared.faults.fill(DiskWrite::Table);
    let compacted = within_deadline(&engine, "a compaction", |e| e.compact());
    let error = compacted.unwrap_err();
    assert!(is_disk_full(&error), "{error}");
    assert!(is_disk_full(&engine.put(b"k", b"v").unwrap_err()));
    drop(engine);
    reopens_whole(dir.path(), 40);
}

#[test]
fn a_poisoned_lock_gives_errors_not_panics_and_the_engine_still_closes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::tiny()).unwrap();
    put_all(&engine, 0..10);
    let shared = engine.shared.clone();
    // A thread panics while holding the state lock, as a bug in the engine would.
    let panicked = std::thread::spawn(move || {
        let _state = shared.state.lock();
        panic!("a bug, while holding the state lock");
    })
    .join();
    assert!(panicked.is_err());
    let error = within_deadline(&engine, "a put", |e| e.put(b"k", b"v")).unwrap_err();
    assert!(
        error.to_string().contains("panicked while holding"),
        "{error}"
    );
    assert!(engine.get(&key(1)).is_err());
    // Dropping the engine stops and joins its threads (within the deadline), and the directory
    // opens again with everything acknowledged.
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        drop(engine);
        let _ = send.send(());
    });
    receive
        .recv_timeout(DEADLINE)
        .expect("dropping an engine with a poisoned lock hangs");
    reopens_whole(dir.path(), 10);
}
