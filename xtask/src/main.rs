//! `cargo xtask`: the project's chores, written in Rust so that they run wherever cargo runs.
//!
//! - `cargo xtask book` checks that every `{{#include ...}}` in the book resolves, then builds the
//!   book into `book/book/`.
//!
//! Errors end the process with one line on stderr and a non-zero exit status.

mod book;
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
    // Next: `Bench(BenchArgs)` — run the benchmarks of every stage and write their table and
    // chart into the book's generated pages.
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
    }
}

/// The workspace's root directory: the parent of this crate's directory.
fn workspace_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("the xtask crate has no parent directory")
}
