//! `cargo xtask`: the project's chores, written in Rust so that they run wherever cargo runs.
//!
//! - `cargo xtask book` checks that every `{{#include ...}}` in the book resolves, then builds the
//!   book into `book/book/`.
//! - `cargo xtask formats` writes annotated hex dumps of every file format, taken from tiny stores
//!   written by the lesson crates, into `book/src/generated/formats/`, and the output of the
//!   command-line sessions the chapters show into `book/src/generated/sessions/` (see
//!   [`formats`]); `--check` only compares.
//! - `cargo xtask bench` runs the benchmarks of every stage and of the peer engines and writes a
//!   report of its own under `target/rkv-bench/report/`; with `--book` it writes the book's
//!   benchmark pages in `book/src/generated/` instead (see [`bench`]).
//!
//! Errors end the process with one line on stderr and a non-zero exit status.

mod bench;
mod book;
mod formats;
mod includes;
mod mdbook_log;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

/// The project's chores.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that every include in the book resolves, then build it into book/book.
    Book(BookArgs),
    /// Write annotated hex dumps of every stage's files, and the chapters' sample sessions, into
    /// book/src/generated/{formats,sessions}.
    Formats(FormatsArgs),
    /// Benchmark every stage and the peer engines (the harness, then criterion) and write a
    /// report under target/rkv-bench/report (with --book: the book's benchmark pages).
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Every run has fjall, redb and sled beside the stages, and RocksDB when its system library is \
installed (apt-get install -y librocksdb-dev libclang-dev); every engine with a cache runs a \
second time with its cache set to --equal-cache. A run writes its report (index.html, \
bench-table.md, bench.json and the SVG charts) under target/rkv-bench/report/ and leaves the \
book alone; --book writes the book's committed pages in book/src/generated/ instead, which is \
how the reference run is made: cargo xtask bench --book --keys 1000000")]
struct BenchArgs {
    /// A smoke run: 10 000 keys, 2 000 operations per phase, criterion skipped.
    #[arg(long)]
    quick: bool,
    /// Records per store [default: 50 000, or 10 000 with --quick].
    #[arg(long)]
    keys: Option<u64>,
    /// Operations per read, write or YCSB phase [default: 10 000, or 2 000 with --quick; never
    /// more than --keys].
    #[arg(long)]
    ops: Option<u64>,
    /// Times every engine runs the harness sequence [default: 3].
    #[arg(long)]
    repeats: Option<u32>,
    /// Time limit of one harness phase, in seconds [default: 1.5, or 1 with --quick].
    #[arg(long)]
    phase_seconds: Option<f64>,
    /// The one block-cache budget, in MiB, of the equal-cache run: every engine that has a
    /// cache (lesson 07 and every peer) runs again with its cache set to it; 0 skips that run.
    #[arg(long, value_name = "MIB", default_value_t = bench::EQUAL_CACHE_MIB)]
    equal_cache: u64,
    /// Write the book's benchmark pages (book/src/generated/bench-*, bench.json), the ones
    /// committed from the reference run, instead of a report under target/.
    #[arg(long)]
    book: bool,
    /// Keep only the WORKLOAD/ENGINE pairs containing this text (repeatable), e.g.
    /// `readrandom`, `02-sstables`, `ycsb-a/01`, `fjall`.
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Durability of every write, for every engine: never or always.
    #[arg(long, default_value = "never")]
    sync: String,
    /// Skip criterion even without --quick.
    #[arg(long)]
    no_criterion: bool,
    /// Measure nothing: write the pages again from the last run's bench.json (the book's with
    /// --book), for work on the page's layout.
    #[arg(long, conflicts_with_all = ["quick", "keys", "ops", "repeats", "phase_seconds", "filter", "no_criterion"])]
    rerender: bool,
    /// The peers now run in every run; the flag stays so that the command printed on pages
    /// made before that still works.
    #[arg(long, hide = true)]
    peers: bool,
}

#[derive(Debug, Args)]
struct FormatsArgs {
    /// Only check that the pages in the tree match what the code writes now; write nothing.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Args)]
struct BookArgs {
    /// Only check the includes; do not build.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` puts the whole chain of context on one line.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = workspace_root()?;
    match cli.command {
        Command::Book(args) => book::run(&root, args.check),
        Command::Formats(args) => formats::run(&root, args.check),
        Command::Bench(args) if args.rerender => bench::rerender(&root, args.book),
        Command::Bench(args) => bench::run(
            &root,
            &bench::Options {
                quick: args.quick,
                keys: args.keys,
                ops: args.ops,
                repeats: args.repeats,
                phase_seconds: args.phase_seconds,
                equal_cache_mib: args.equal_cache,
                book: args.book,
                filters: args.filter,
                sync: args.sync,
                no_criterion: args.no_criterion,
            },
        ),
    }
}

/// The workspace's root directory: the parent of this crate's directory.
fn workspace_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("the xtask crate has no parent directory")
}
