//! `cargo xtask`: the project's chores, written in Rust so that they run wherever cargo runs.
//!
//! - `cargo xtask book` checks that every `{{#include ...}}` in the book resolves, then builds the
//!   book into `book/book/`.
//! - `cargo xtask formats` writes annotated hex dumps of every file format, taken from tiny stores
//!   written by the lesson crates, into `book/src/generated/formats/`, and the output of the
//!   command-line sessions the chapters show into `book/src/generated/sessions/` (see
//!   [`formats`]); `--check` only compares.
//! - `cargo xtask bench` runs the benchmarks of every stage and writes their tables, charts and
//!   raw numbers into `book/src/generated/` (see [`bench`]).
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
    /// Benchmark every stage (the harness, then criterion) and write the numbers into the book.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// A smoke run: 10 000 keys, 2 000 operations per phase, criterion skipped (a few minutes
    /// on 2 cores, build included).
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
    /// Also benchmark fjall, RocksDB (the system library), sled and redb.
    #[arg(long)]
    peers: bool,
    /// Keep only the WORKLOAD/ENGINE pairs containing this text (repeatable), e.g.
    /// `readrandom`, `02-sstables`, `ycsb-a/01`.
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Durability of every write, for every engine: never or always.
    #[arg(long, default_value = "never")]
    sync: String,
    /// Skip criterion even without --quick.
    #[arg(long)]
    no_criterion: bool,
    /// Measure nothing: write the pages again from book/src/generated/bench.json (for work on
    /// the page's layout).
    #[arg(long, conflicts_with_all = ["quick", "keys", "ops", "repeats", "phase_seconds", "peers", "filter", "no_criterion"])]
    rerender: bool,
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
        Command::Bench(args) if args.rerender => bench::rerender(&root),
        Command::Bench(args) => bench::run(
            &root,
            &bench::Options {
                quick: args.quick,
                keys: args.keys,
                ops: args.ops,
                repeats: args.repeats,
                phase_seconds: args.phase_seconds,
                peers: args.peers,
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
