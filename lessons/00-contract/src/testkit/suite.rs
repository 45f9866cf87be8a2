//! The conformance suite: behaviour every stage must show, one function per rule.
//!
//! Each function takes the options to open the store with and creates its own temporary
//! directory. They panic (fail the test) on the first difference from the contract.

use tempfile::TempDir;

use super::{assert_matches_model, collect, open};
use crate::{Error, KvStore, MAX_KEY_BYTES, MAX_VALUE_BYTES, Model};

fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// Put, get, overwrite, delete, and the absent key.
pub fn put_get_overwrite_delete<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    let mut store = open::<S>(dir.path(), options);
    assert_eq!(store.get(b"missing").unwrap(), None);
    store.put(b"a", b"1").unwrap();
    store.put(b"b", b"2").unwrap();
    assert_eq!(store.get(b"a").unwrap().as_deref(), Some(&b"1"[..]));
    store.put(b"a", b"one").unwrap();
    assert_eq!(store.get(b"a").unwrap().as_deref(), Some(&b"one"[..]));
    store.delete(b"a").unwrap();
    assert_eq!(store.get(b"a").unwrap(), None);
    // Deleting an absent key is fine and changes nothing.
    store.delete(b"never-written").unwrap();
    assert_eq!(store.get(b"b").unwrap().as_deref(), Some(&b"2"[..]));
    // A deleted key can come back.
    store.put(b"a", b"again").unwrap();
    assert_eq!(store.get(b"a").unwrap().as_deref(), Some(&b"again"[..]));
    assert_eq!(
        collect(&mut store, None, None),
        vec![
            (b"a".to_vec(), b"again".to_vec()),
            (b"b".to_vec(), b"2".to_vec())
        ]
    );
}

/// An empty value is stored and returned as a value, across a reopen, and is not a deletion.
pub fn empty_value_is_a_value<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    {
        let mut store = open::<S>(dir.path(), options.clone());
        store.put(b"empty", b"").unwrap();
        store.put(b"full", b"x").unwrap();
        store.put(b"full", b"").unwrap();
        assert_eq!(store.get(b"empty").unwrap(), Some(Vec::new()));
        assert_eq!(store.get(b"full").unwrap(), Some(Vec::new()));
        store.flush().unwrap();
    }
    let mut store = open::<S>(dir.path(), options);
    assert_eq!(store.get(b"empty").unwrap(), Some(Vec::new()));
    assert_eq!(store.get(b"full").unwrap(), Some(Vec::new()));
    assert_eq!(collect(&mut store, None, None).len(), 2);
}

/// Keys are arbitrary bytes, including NUL and 0xFF, and sort bytewise (unsigned).
pub fn binary_keys_sort_bytewise<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    let mut model = Model::new();
    let keys: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0, 0],
        vec![0, 255],
        vec![1],
        vec![127],
        vec![128],
        vec![255],
        vec![255, 255, 255],
        b"\n\r\t \" \\".to_vec(),
        (0..=255).collect(),
    ];
    {
        let mut store = open::<S>(dir.path(), options.clone());
        for (i, key) in keys.iter().enumerate() {
            let value = vec![i as u8; i * 3];
            store.put(key, &value).unwrap();
            model.put(key, &value);
        }
        assert_matches_model(&mut store, &model);
    }
    let mut store = open::<S>(dir.path(), options);
    assert_matches_model(&mut store, &model);
}

/// Every kind of bound: open, inclusive start, exclusive end, bounds between keys, inverted
/// and empty ranges.
pub fn scan_bounds<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    let mut store = open::<S>(dir.path(), options);
    let mut model = Model::new();
    for key in [&b"b"[..], b"d", b"f", b"h", b"hh"] {
        store.put(key, key).unwrap();
        model.put(key, key);
    }
    store.delete(b"f").unwrap();
    model.delete(b"f");
    let bounds: Vec<Option<&[u8]>> = vec![
        None,
        Some(b""),
        Some(b"a"),
        Some(b"b"),
        Some(b"c"),
        Some(b"d"),
        Some(b"f"),
        Some(b"h"),
        Some(b"h\0"),
        Some(b"hh"),
        Some(b"z"),
    ];
    for &start in &bounds {
        for &end in &bounds {
            assert_eq!(
                collect(&mut store, start, end),
                model.scan(start, end),
                "scan({start:?}, {end:?})"
            );
        }
    }
    // Concretely: start is inclusive, end exclusive.
    let keys: Vec<Vec<u8>> = collect(&mut store, Some(b"b"), Some(b"h"))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec![b"b".to_vec(), b"d".to_vec()]);
}

/// What was written before a close is there after reopen, deletes included.
pub fn close_and_reopen<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    {
        let mut store = open::<S>(dir.path(), options.clone());
        store.put(b"kept", b"v1").unwrap();
        store.put(b"changed", b"old").unwrap();
        store.put(b"changed", b"new").unwrap();
        store.put(b"gone", b"x").unwrap();
        store.delete(b"gone").unwrap();
    }
    {
        let mut store = open::<S>(dir.path(), options.clone());
        assert_eq!(store.get(b"kept").unwrap().as_deref(), Some(&b"v1"[..]));
        assert_eq!(store.get(b"changed").unwrap().as_deref(), Some(&b"new"[..]));
        assert_eq!(store.get(b"gone").unwrap(), None);
        store.put(b"later", b"y").unwrap();
        store.flush().unwrap();
    }
    let mut store = open::<S>(dir.path(), options);
    assert_eq!(collect(&mut store, None, None).len(), 3);
    assert_eq!(store.get(b"later").unwrap().as_deref(), Some(&b"y"[..]));
}

/// Thousands of keys, overwrites and deletes, with flushes and reopens between rounds — enough
/// to cross any small threshold a stage's options set.
pub fn many_keys_with_reopen<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    let mut model = Model::new();
    for round in 0..3u32 {
        let mut store = open::<S>(dir.path(), options.clone());
        assert_matches_model(&mut store, &model);
        for i in 0..1500u32 {
            let key = format!("key{:06}", (i * 7919 + round * 13) % 2000);
            if i % 11 == 0 {
                store.delete(key.as_bytes()).unwrap();
                model.delete(key.as_bytes());
            } else {
                let value = format!("value-{round}-{i}-{}", "x".repeat((i % 50) as usize));
                store.put(key.as_bytes(), value.as_bytes()).unwrap();
                model.put(key.as_bytes(), value.as_bytes());
            }
        }
        if round == 1 {
            store.flush().unwrap();
        }
        assert_matches_model(&mut store, &model);
    }
    let mut store = open::<S>(dir.path(), options);
    assert_matches_model(&mut store, &model);
}

/// Keys up to [`MAX_KEY_BYTES`] and values up to [`MAX_VALUE_BYTES`] are accepted; one byte more
/// is an [`Error::InvalidArgument`] that leaves the store working and unchanged.
pub fn size_limits<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    let big_key = vec![b'k'; MAX_KEY_BYTES];
    let big_value = vec![7u8; MAX_VALUE_BYTES];
    {
        let mut store = open::<S>(dir.path(), options.clone());
        store.put(&big_key, b"v").unwrap();
        store.put(b"big", &big_value).unwrap();

        let too_long_key = vec![b'k'; MAX_KEY_BYTES + 1];
        let too_long_value = vec![7u8; MAX_VALUE_BYTES + 1];
        let refused = [
            store.put(&too_long_key, b"v"),
            store.put(b"k", &too_long_value),
            store.delete(&too_long_key),
        ];
        for result in refused {
            assert!(
                matches!(result, Err(Error::InvalidArgument { .. })),
                "expected InvalidArgument, got {result:?}"
            );
        }
        assert!(matches!(
            store.get(&too_long_key),
            Err(Error::InvalidArgument { .. }) | Ok(None)
        ));
        assert_eq!(store.get(b"k").unwrap(), None);
        store.put(b"after", b"still works").unwrap();
    }
    let mut store = open::<S>(dir.path(), options);
    assert_eq!(store.get(&big_key).unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(store.get(b"big").unwrap().as_deref(), Some(&big_value[..]));
    assert_eq!(
        store.get(b"after").unwrap().as_deref(),
        Some(&b"still works"[..])
    );
    assert_eq!(collect(&mut store, None, None).len(), 3);
}

/// A second open of a directory that is already open fails at once with [`Error::Locked`], and
/// the directory opens again once the first handle is gone.
pub fn second_open_is_locked<S: KvStore>(options: S::Options) {
    let dir = temp_dir();
    let mut first = open::<S>(dir.path(), options.clone());
    first.put(b"k", b"v").unwrap();
    match S::open(dir.path(), options.clone()) {
        Err(Error::Locked { .. }) => {}
        Err(other) => panic!("expected Error::Locked, got {other}"),
        Ok(_) => panic!("a second open of a locked directory succeeded"),
    }
    drop(first);
    let mut again = open::<S>(dir.path(), options);
    assert_eq!(again.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
}
