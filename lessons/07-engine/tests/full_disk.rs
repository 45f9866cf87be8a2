//! The engine on a real full disk: a 1 MiB `tmpfs`, written to until it is full.
//!
//! A full disk must give an error — never a hang or a panic — and every write acknowledged before
//! it must survive: once there is space again, the same directory opens with every acknowledged
//! value and takes writes. The disk fills wherever it happens to: in the middle of a log record,
//! of a table, of a manifest edit.
//!
//! Mounting needs privileges (root, or a container allowed to mount). Where `mount` fails, the
//! test says so on stderr and checks nothing more; the same promises are tested everywhere
//! through the fault seam (`src/failure_tests.rs`), which fails writes before they start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use rkv_07_engine::{Engine, EngineOptions};
use rkv_contract::Error;

/// Long enough for any machine; a write that hangs fails the test here instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(120);

/// A mounted `tmpfs`, unmounted when dropped.
struct Tmpfs {
    /// Where it is mounted.
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a `tmpfs` of `size` (as `mount -o size=` takes it) at `path`, or says on stderr
    /// why it cannot.
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Tmpfs {
                path: path.to_path_buf(),
            }),
            Ok(output) => {
                eprintln!(
                    "full_disk: NOT RUN — cannot mount a {size} tmpfs at {} ({}): mounting needs \
                     root; the injected full-disk tests in src/failure_tests.rs still ran",
                    path.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("full_disk: NOT RUN — cannot run mount ({error})");
                None
            }
        }
    }

    /// Gives the file system `size` (space comes back).
    fn grow(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success(), "remount to {size} failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

fn key(i: usize) -> Vec<u8> {
    format!("key{i:06}").into_bytes()
}

fn value(i: usize) -> Vec<u8> {
    let mut value = format!("value {i} ").into_bytes();
    value.resize(300, b'v');
    value
}

/// Puts keys until a put fails (on a thread of its own, within the deadline); returns how many
/// were acknowledged and the error.
fn put_until_full(engine: &Engine) -> (usize, Error) {
    let (send, receive) = mpsc::channel();
    let writer = engine.clone();
    std::thread::spawn(move || {
        // Key `i` is put after `i` acknowledged puts.
        for i in 0..1_000_000 {
            if let Err(error) = writer.put(&key(i), &value(i)) {
                let _ = send.send((i, error));
                return;
            }
        }
        panic!("a million 300-byte values fit on a 1 MiB disk");
    });
    receive
        .recv_timeout(DEADLINE)
        .expect("no error from a full disk within the deadline: a write hangs")
}

fn fills_and_recovers(name: &str, options: EngineOptions) {
    let base = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(base.path(), "1m") else {
        return;
    };
    let dir = disk.path.join("db");
    let engine = Engine::open(&dir, options.clone()).unwrap();
    let (acknowledged, error) = put_until_full(&engine);
    eprintln!("{name}: {acknowledged} puts acknowledged, then: {error}");
    assert!(
        matches!(&error, Error::Io { source, .. } if source.kind() == ErrorKind::StorageFull),
        "{name}: a full disk gave {error}"
    );
    // Later writes fail too, and reads go on.
    assert!(engine.put(b"more", b"data").is_err());
    if acknowledged > 0 {
        assert_eq!(engine.get(&key(0)).unwrap(), Some(value(0)));
    }
    drop(engine);

    // Opening while the disk is still full may fail — but with an error, not a panic.
    if let Err(error) = Engine::open(&dir, options.clone()) {
        eprintln!("{name}: opening on the full disk: {error}");
    }

    disk.grow("64m");
    let engine = Engine::open(&dir, options).unwrap();
    for i in 0..acknowledged {
        assert_eq!(
            engine.get(&key(i)).unwrap(),
            Some(value(i)),
            "{name}: acknowledged key {i} lost"
        );
    }
    engine.put(b"after", b"space came back").unwrap();
    engine.flush().unwrap();
    engine.compact().unwrap();
    assert_eq!(
        engine.get(b"after").unwrap(),
        Some(b"space came back".to_vec())
    );
}

/// With the default 8 MiB memtable, the log fills the disk before any flush.
#[test]
fn a_full_disk_under_the_log_gives_an_error_and_loses_nothing() {
    fills_and_recovers("log", EngineOptions::default());
}

/// With tiny thresholds, flushes and compactions run all the time and fill the disk too.
#[test]
fn a_full_disk_under_flushes_and_compactions_gives_an_error_and_loses_nothing() {
    fills_and_recovers("tables", EngineOptions::tiny());
}
