//! Lesson 04's own tests: the newest table wins however the tables are split among threads, with
//! 1, 2, 50 and 500 tables; errors that could matter are returned and the others are not; a
//! panicking table is an error, not a crash; the fast path; and a property test that demands the
//! same answers as lesson 02's `NewestFirst` on random stacks of in-memory and on-disk tables
//! (lesson 02's and lesson 03's formats).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use rkv_01_basic_store::Value;
use rkv_02_sstables::{Lookup, NewestFirst, NoOptions, ScanTable, Table, TableIter, TableSummary};
use rkv_03_binary_search::IndexedTable;
use rkv_04_parallel_search::{Options, Parallel, Store};
use rkv_contract::{Error, KvStore, Model, Result, Stats};

// ---------------------------------------------------------------------------------------------
// Test tables: in memory, with failures and panics on demand, or lesson 02's tables on disk.

/// What an in-memory test table holds for one key.
#[derive(Clone, Debug)]
enum Cell {
    Put(Vec<u8>),
    Tombstone,
    /// `get` of this key fails with an error naming the table.
    Fail,
    /// `get` of this key panics (a bug in a table format).
    Panic,
}

/// A table that lives in memory and can fail on command.
#[derive(Debug)]
struct MemoryTable {
    name: String,
    cells: BTreeMap<Vec<u8>, Cell>,
    summary: TableSummary,
}

impl MemoryTable {
    fn new(name: impl Into<String>, cells: BTreeMap<Vec<u8>, Cell>) -> Self {
        MemoryTable {
            name: name.into(),
            summary: TableSummary {
                entries: cells.len() as u64,
                ..TableSummary::default()
            },
            cells,
        }
    }
}

impl Table for MemoryTable {
    type Options = NoOptions;

    fn write(
        _file: &mut File,
        _path: &Path,
        _entries: &mut dyn Iterator<Item = Result<(Vec<u8>, Value)>>,
        _options: &NoOptions,
    ) -> Result<TableSummary> {
        Err(Error::Unsupported("writing a memory table"))
    }

    fn open(_path: &Path, _options: &NoOptions) -> Result<Self> {
        Err(Error::Unsupported("opening a memory table"))
    }

    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        stats.key_comparisons += 1;
        match self.cells.get(key) {
            None => Ok(None),
            Some(Cell::Put(value)) => Ok(Some(Value::Put(value.clone()))),
            Some(Cell::Tombstone) => Ok(Some(Value::Tombstone)),
            Some(Cell::Fail) => Err(Error::corruption(&self.name, 0, "injected failure")),
            Some(Cell::Panic) => panic!("injected panic in {}", self.name),
        }
    }

    fn range(&self, _start: Option<&[u8]>, _end: Option<&[u8]>) -> Result<TableIter<'_>> {
        Err(Error::Unsupported("scanning a memory table"))
    }

    fn summary(&self) -> &TableSummary {
        &self.summary
    }
}

/// Any kind of table, so that one stack can mix them.
#[derive(Debug)]
enum TestTable {
    Memory(MemoryTable),
    Scan(ScanTable),
    Indexed(IndexedTable),
}

impl Table for TestTable {
    type Options = NoOptions;

    fn write(
        file: &mut File,
        path: &Path,
        entries: &mut dyn Iterator<Item = Result<(Vec<u8>, Value)>>,
        options: &NoOptions,
    ) -> Result<TableSummary> {
        ScanTable::write(file, path, entries, options)
    }

    fn open(path: &Path, options: &NoOptions) -> Result<Self> {
        ScanTable::open(path, options).map(TestTable::Scan)
    }

    fn get(&self, key: &[u8], stats: &mut Stats) -> Result<Option<Value>> {
        match self {
            TestTable::Memory(table) => table.get(key, stats),
            TestTable::Scan(table) => table.get(key, stats),
            TestTable::Indexed(table) => table.get(key, stats),
        }
    }

    fn range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<TableIter<'_>> {
        match self {
            TestTable::Memory(table) => table.range(start, end),
            TestTable::Scan(table) => table.range(start, end),
            TestTable::Indexed(table) => table.range(start, end),
        }
    }

    fn summary(&self) -> &TableSummary {
        match self {
            TestTable::Memory(table) => table.summary(),
            TestTable::Scan(table) => table.summary(),
            TestTable::Indexed(table) => table.summary(),
        }
    }
}

/// Writes `cells` (puts and tombstones only) as a table file of format `T` in `dir`.
fn disk_table<T: Table<Options = NoOptions>>(
    dir: &Path,
    name: &str,
    cells: &BTreeMap<Vec<u8>, Cell>,
) -> T {
    let path = dir.join(name);
    let mut file = File::create(&path).unwrap();
    let mut entries = cells.iter().map(|(key, cell)| {
        let value = match cell {
            Cell::Put(bytes) => Value::Put(bytes.clone()),
            Cell::Tombstone => Value::Tombstone,
            Cell::Fail | Cell::Panic => panic!("a disk table cannot fail on command"),
        };
        Ok((key.clone(), value))
    });
    T::write(&mut file, &path, &mut entries, &NoOptions).unwrap();
    drop(file);
    T::open(&path, &NoOptions).unwrap()
}

/// A stack of memory tables, newest first, from `(key, cell)` lists, oldest table first as a
/// reader would write them down.
fn memory_stack(oldest_first: &[&[(&str, Cell)]]) -> Vec<Arc<MemoryTable>> {
    let mut stack: Vec<Arc<MemoryTable>> = oldest_first
        .iter()
        .enumerate()
        .map(|(i, cells)| {
            let cells = cells
                .iter()
                .map(|(key, cell)| (key.as_bytes().to_vec(), cell.clone()))
                .collect();
            Arc::new(MemoryTable::new(format!("table-{i}"), cells))
        })
        .collect();
    stack.reverse();
    stack
}

/// A result in a form that can be compared: the value, or the error's message.
fn comparable(result: Result<Option<Value>>) -> std::result::Result<Option<Value>, String> {
    result.map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Newest wins, through the real store, with 1, 2, 50 and 500 tables.

/// Writes `tables` tables into `store` (and `model`), one flush each, so that the newest-wins
/// rule is tested from every angle: one key written in every table with a different value, a
/// tombstone in the middle of the stack, a key deleted and written again, a key that flips
/// between value and tombstone, an empty value over a full one, keys only in the oldest or only
/// in the newest table, and a key of its own in every table.
fn fill(store: &mut Store, model: &mut Model, tables: usize) {
    let middle = tables / 2;
    let later = middle + (tables - middle) / 2;
    for t in 0..tables {
        let mut put = |key: &str, value: &str| {
            store.put(key.as_bytes(), value.as_bytes()).unwrap();
            model.put(key.as_bytes(), value.as_bytes());
        };
        put("shared", &format!("value from table {t}"));
        put(&format!("own-{t:04}"), &format!("own value {t}"));
        if t == 0 {
            put("oldest-only", "from the oldest table");
        }
        if t == tables - 1 {
            put("newest-only", "from the newest table");
            put("emptied", "");
        } else {
            put("emptied", "not empty");
        }
        if t < middle {
            put("deleted", &format!("doomed {t}"));
            put("revived", &format!("before {t}"));
        }
        if t % 2 == 0 {
            put("flip", &format!("flip {t}"));
        }
        if t > middle && t == later {
            put("revived", "after the tombstone");
        }
        let mut delete = |key: &str| {
            store.delete(key.as_bytes()).unwrap();
            model.delete(key.as_bytes());
        };
        if t == middle {
            delete("deleted");
            delete("revived");
        }
        if t % 2 == 1 {
            delete("flip");
        }
        store.flush().unwrap();
    }
}

fn probe_keys(tables: usize) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = [
        "shared",
        "oldest-only",
        "newest-only",
        "emptied",
        "deleted",
        "revived",
        "flip",
        "absent",
        "",
        "own-",
        "own-9999x",
        "zzzz",
    ]
    .iter()
    .map(|k| k.as_bytes().to_vec())
    .collect();
    for t in [0, tables / 3, tables / 2, tables.saturating_sub(1)] {
        keys.push(format!("own-{t:04}").into_bytes());
        keys.push(format!("own-{t:04}-absent").into_bytes());
    }
    keys
}

fn check_store(store: &mut Store, model: &Model, tables: usize) {
    for key in probe_keys(tables) {
        assert_eq!(
            store.get(&key).unwrap().as_deref(),
            model.get(&key),
            "get {:?} with {tables} tables",
            String::from_utf8_lossy(&key)
        );
    }
}

/// Parallel lookups with other numbers of workers and no fast path, straight on the store's
/// tables, against `NewestFirst` — so that 50 and 500 tables are also split into many runs, not
/// only into as many as this machine has cores.
fn check_against_newest_first<T: Table>(tables: &[Arc<T>]) {
    for workers in [3, 16] {
        let parallel = Parallel::new(workers, 0);
        for key in probe_keys(tables.len()) {
            let mut sequential_stats = Stats::default();
            let mut parallel_stats = Stats::default();
            let want = comparable(NewestFirst.find(tables, &key, &mut sequential_stats));
            let got = comparable(parallel.find(tables, &key, &mut parallel_stats));
            assert_eq!(got, want, "{workers} workers, key {key:?}");
            assert!(parallel_stats.tables_probed >= sequential_stats.tables_probed);
            assert!(parallel_stats.tables_probed <= tables.len() as u64);
        }
    }
}

fn newest_wins_with(tables: usize) {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        memtable_bytes: 1 << 20,
        ..Options::default()
    };
    let mut model = Model::new();
    {
        let mut store = Store::open(dir.path(), options.clone()).unwrap();
        fill(&mut store, &mut model, tables);
        assert_eq!(store.tables().len(), tables);
        check_store(&mut store, &model, tables);
        check_against_newest_first(store.tables());
    }
    let mut store = Store::open(dir.path(), options).unwrap();
    assert_eq!(store.tables().len(), tables);
    check_store(&mut store, &model, tables);
    let scanned: Vec<_> = store
        .scan(None, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(scanned, model.scan(None, None));
}

#[test]
fn the_newest_table_wins_with_1_table() {
    newest_wins_with(1);
}

#[test]
fn the_newest_table_wins_with_2_tables() {
    newest_wins_with(2);
}

#[test]
fn the_newest_table_wins_with_50_tables() {
    newest_wins_with(50);
}

#[test]
fn the_newest_table_wins_with_500_tables() {
    newest_wins_with(500);
}

// ---------------------------------------------------------------------------------------------
// Errors.

fn put(value: &str) -> Cell {
    Cell::Put(value.as_bytes().to_vec())
}

/// Twelve tables and three workers: four runs of three tables. Table 11 is the newest, in run 0;
/// table 0 the oldest, in run 3.
fn twelve_tables(special: &[(usize, &str, Cell)]) -> Vec<Arc<MemoryTable>> {
    let mut oldest_first: Vec<Vec<(&str, Cell)>> = (0..12).map(|_| Vec::new()).collect();
    for (table, key, cell) in special {
        oldest_first[*table].push((key, cell.clone()));
    }
    let slices: Vec<&[(&str, Cell)]> = oldest_first.iter().map(Vec::as_slice).collect();
    memory_stack(&slices)
}

#[test]
fn an_error_that_could_matter_is_returned_and_one_that_cannot_is_not() {
    let parallel = Parallel::new(3, 0);
    use Want::{Failure, Found, Tombstone};
    let cases = [
        (
            "failure in an older run than the hit",
            vec![(7, "k", put("v")), (2, "k", Cell::Fail)],
            Found("v"),
        ),
        (
            "failure in a newer run than the hit",
            vec![(7, "k", Cell::Fail), (2, "k", put("v"))],
            Failure,
        ),
        (
            "failure newer than the hit, same run",
            vec![(8, "k", Cell::Fail), (7, "k", put("v"))],
            Failure,
        ),
        (
            "failure older than the hit, same run",
            vec![(8, "k", put("v")), (7, "k", Cell::Fail)],
            Found("v"),
        ),
        (
            "failure in the newest run, hit in the oldest",
            vec![(11, "k", Cell::Fail), (0, "k", put("v"))],
            Failure,
        ),
        (
            "failure in the oldest run, no hit",
            vec![(0, "k", Cell::Fail)],
            Failure,
        ),
        (
            "tombstone newer than a failure",
            vec![(10, "k", Cell::Tombstone), (1, "k", Cell::Fail)],
            Tombstone,
        ),
        (
            "failure in the oldest run, hit in the newest",
            vec![(11, "k", put("v")), (0, "k", Cell::Fail)],
            Found("v"),
        ),
    ];
    for (what, special, want) in cases {
        let tables = twelve_tables(&special);
        let got = comparable(parallel.find(&tables, b"k", &mut Stats::default()));
        let sequential = comparable(NewestFirst.find(&tables, b"k", &mut Stats::default()));
        assert_eq!(got, sequential, "{what}: the answer of NewestFirst");
        match (got, want) {
            (Ok(Some(Value::Put(found))), Found(value)) => {
                assert_eq!(found, value.as_bytes(), "{what}")
            }
            (Ok(Some(Value::Tombstone)), Tombstone) => {}
            (Err(message), Failure) => assert!(message.contains("injected failure"), "{what}"),
            (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
        }
    }
}

/// What a case of the error test expects.
#[derive(Debug)]
enum Want {
    Found(&'static str),
    Tombstone,
    Failure,
}

#[test]
fn the_error_returned_is_the_one_from_the_newest_failing_table() {
    let parallel = Parallel::new(3, 0);
    let tables = twelve_tables(&[
        (9, "k", Cell::Fail),
        (4, "k", Cell::Fail),
        (1, "k", Cell::Fail),
    ]);
    match parallel.find(&tables, b"k", &mut Stats::default()) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, Path::new("table-9")),
        other => panic!("expected the failure of table-9, got {other:?}"),
    }
}

#[test]
fn a_panicking_table_is_an_error_and_the_workers_survive_it() {
    let parallel = Parallel::new(3, 0);
    // The panic is in run 2, and no newer table knows the key: the answer depends on it.
    let tables = twelve_tables(&[(4, "boom", Cell::Panic), (0, "fine", put("ok"))]);
    for _ in 0..3 {
        match parallel.find(&tables, b"boom", &mut Stats::default()) {
            Err(Error::Io { source, .. }) => {
                assert!(source.to_string().contains("without an answer"), "{source}");
            }
            other => panic!("expected an error for a search that panicked, got {other:?}"),
        }
        // The same workers keep answering.
        let found = parallel
            .find(&tables, b"fine", &mut Stats::default())
            .unwrap();
        assert_eq!(found, Some(Value::Put(b"ok".to_vec())));
    }
    // A panic that cannot matter: a newer run has the key, so the panicking run is either
    // abandoned or ignored.
    let tables = twelve_tables(&[(10, "k", put("new")), (1, "k", Cell::Panic)]);
    let found = parallel.find(&tables, b"k", &mut Stats::default()).unwrap();
    assert_eq!(found, Some(Value::Put(b"new".to_vec())));
}

// ---------------------------------------------------------------------------------------------
// The fast path and the stats.

#[test]
fn the_fast_path_is_the_sequential_search() {
    let parallel = Parallel::new(3, 2);
    for count in 0..=2usize {
        let cells: Vec<Vec<(&str, Cell)>> = (0..count)
            .map(|t| vec![("k", put(&t.to_string()))])
            .collect();
        let slices: Vec<&[(&str, Cell)]> = cells.iter().map(Vec::as_slice).collect();
        let tables = memory_stack(&slices);
        for key in [&b"k"[..], b"absent"] {
            let mut sequential = Stats::default();
            let mut parallel_stats = Stats::default();
            assert_eq!(
                parallel.find(&tables, key, &mut parallel_stats).unwrap(),
                NewestFirst.find(&tables, key, &mut sequential).unwrap()
            );
            assert_eq!(
                parallel_stats, sequential,
                "{count} tables: the same work, inline"
            );
        }
    }
}

#[test]
fn a_lookup_without_workers_searches_inline() {
    let parallel = Parallel::new(0, 0);
    assert_eq!(parallel.workers(), 0);
    let tables = twelve_tables(&[(3, "k", put("v")), (11, "other", put("w"))]);
    let mut stats = Stats::default();
    assert_eq!(
        parallel.find(&tables, b"k", &mut stats).unwrap(),
        Some(Value::Put(b"v".to_vec()))
    );
    assert_eq!(
        stats.tables_probed, 9,
        "tables 11 down to 3, one after the other"
    );
}

#[test]
fn every_probe_is_counted_in_the_callers_stats() {
    // A miss must search every table, on whichever thread: all twelve probes are counted.
    let parallel = Parallel::new(3, 0);
    let tables = twelve_tables(&[(5, "k", put("v"))]);
    let mut stats = Stats::default();
    assert_eq!(parallel.find(&tables, b"absent", &mut stats).unwrap(), None);
    assert_eq!(stats.tables_probed, 12);
    assert_eq!(stats.key_comparisons, 12);
}

// ---------------------------------------------------------------------------------------------
// The property: the same answers as `NewestFirst`, on random stacks.

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        5 => prop::collection::vec(any::<u8>(), 0..6).prop_map(Cell::Put),
        2 => Just(Cell::Tombstone),
        1 => Just(Cell::Fail),
    ]
}

/// Where a test table lives.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Memory,
    /// A lesson-02 file (failures are left out: a file cannot fail on command).
    Scan,
    /// A lesson-03 file (likewise).
    Indexed,
}

/// One table: its cells, and where it lives.
fn table_spec() -> impl Strategy<Value = (BTreeMap<Vec<u8>, Cell>, Kind)> {
    (
        prop::collection::btree_map((0u8..10).prop_map(|k| vec![b'k', k]), cell(), 0..6),
        prop_oneof![Just(Kind::Memory), Just(Kind::Scan), Just(Kind::Indexed)],
    )
}

/// 96 cases, unless `PROPTEST_CASES` asks for another number.
fn property_config() -> ProptestConfig {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 96;
    }
    config
}

proptest! {
    #![proptest_config(property_config())]

    #[test]
    fn parallel_gives_the_answers_of_newest_first(
        specs in prop::collection::vec(table_spec(), 0..40),
        workers in 0usize..6,
        inline_max in 0usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let tables: Vec<Arc<TestTable>> = specs
            .into_iter()
            .enumerate()
            .map(|(i, (cells, kind))| {
                let name = format!("table-{i}");
                let on_disk: BTreeMap<Vec<u8>, Cell> =
                    cells.iter().filter(|(_, c)| !matches!(c, Cell::Fail)).map(|(k, c)| (k.clone(), c.clone())).collect();
                Arc::new(match kind {
                    Kind::Memory => TestTable::Memory(MemoryTable::new(name, cells)),
                    Kind::Scan => TestTable::Scan(disk_table(dir.path(), &name, &on_disk)),
                    Kind::Indexed => TestTable::Indexed(disk_table(dir.path(), &name, &on_disk)),
                })
            })
            .collect();
        let parallel = Parallel::new(workers, inline_max);
        for k in 0u8..11 {
            let key = [b'k', k];
            let mut sequential_stats = Stats::default();
            let mut parallel_stats = Stats::default();
            let want = comparable(NewestFirst.find(&tables, &key, &mut sequential_stats));
            let got = comparable(parallel.find(&tables, &key, &mut parallel_stats));
            prop_assert_eq!(got, want, "key {:?}", key);
            prop_assert!(parallel_stats.tables_probed >= sequential_stats.tables_probed);
            prop_assert!(parallel_stats.tables_probed <= tables.len() as u64);
        }
    }
}
