//! Whether RocksDB can join the run: the `rocksdb` crate links the system library and reads its
//! C header with libclang, so both must be installed.
//!
//! The pure-Rust peers (fjall, redb, sled) build from crates.io like everything else and run in
//! every run. RocksDB is the reference LSM engine, but building it from source takes about 25
//! minutes on 2 cores, so the crate is pointed at the system library (`ROCKSDB_LIB_DIR`)
//! instead. This module looks for that library and for libclang; when either is missing, the
//! run goes on without RocksDB and says how to add it.

use std::path::{Path, PathBuf};

/// What to install on Debian or Ubuntu.
pub const INSTALL: &str = "apt-get install -y librocksdb-dev libclang-dev";

/// Looks for the system RocksDB library and libclang. `Ok` holds the environment the build
/// needs; `Err` says what is missing and how to add it.
pub fn detect() -> Result<Vec<(String, String)>, String> {
    let lib_dir = match std::env::var_os("ROCKSDB_LIB_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH)),
    };
    let has = |dir: &Path, name: &str| dir.join(name).exists();
    if !has(&lib_dir, "librocksdb.so") && !has(&lib_dir, "librocksdb.a") {
        return Err(format!(
            "RocksDB is not in this run: {} has no librocksdb.so. To add it, install the system \
             library and libclang (`{INSTALL}`; or set ROCKSDB_LIB_DIR to the directory that \
             holds librocksdb.so) and run again",
            lib_dir.display()
        ));
    }
    if !has_libclang() {
        return Err(format!(
            "RocksDB is not in this run: its library is in {}, but no libclang was found to \
             build the `rocksdb` crate's bindings. To add it, `{INSTALL}` (or set \
             LIBCLANG_PATH) and run again",
            lib_dir.display()
        ));
    }
    Ok(vec![(
        "ROCKSDB_LIB_DIR".to_string(),
        lib_dir.display().to_string(),
    )])
}

/// Whether a libclang shared library can be found where bindgen looks.
fn has_libclang() -> bool {
    if std::env::var_os("LIBCLANG_PATH").is_some() {
        return true;
    }
    let mut dirs: Vec<PathBuf> = vec![PathBuf::from(format!(
        "/usr/lib/{}-linux-gnu",
        std::env::consts::ARCH
    ))];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        dirs.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("llvm-"))
                })
                .map(|p| p.join("lib")),
        );
    }
    dirs.iter().any(|dir| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_str()
                    // libclang-cpp is the C++ library, which bindgen cannot use.
                    .is_some_and(|n| {
                        n.starts_with("libclang")
                            && !n.starts_with("libclang-cpp")
                            && n.contains(".so")
                    })
            })
        })
    })
}
