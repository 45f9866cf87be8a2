//! Merges the same sources with the plain heap merge and with the tournament tree the engine's
//! scans use, and prints how many entries per second each yields.
//!
//! ```text
//! cargo run --release -p rkv-07-engine --example merge_speed -- [ENTRIES] [ROUNDS]
//! ```
//!
//! `ENTRIES` (default 1 000 000) keys are spread over 2, 4, 8 and 16 sources in turn, and three
//! merges walk them `ROUNDS` times each (default 5), taking turns: the plain heap merge, the
//! tournament tree comparing whole keys, and the tree on abbreviated keys that scans use. The
//! table shows each one's median pass, and the median of its ratio to the heap's within a round.

use std::process::ExitCode;

use rkv_07_engine::{Pass, Round, measure_merges};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut number = |default: u64| match args.next() {
        None => Some(default),
        Some(arg) => arg.replace('_', "").parse().ok(),
    };
    let (Some(entries), Some(rounds)) = (number(1_000_000), number(5)) else {
        eprintln!("usage: merge_speed [ENTRIES] [ROUNDS]  (whole numbers)");
        return ExitCode::FAILURE;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{entries} entries spread over 2, 4, 8 and 16 frozen memtables; each merge's median of \
         {rounds} passes, the three taking turns, on a machine with {cores} cores \
         (`cargo run --release -p rkv-07-engine --example merge_speed -- {entries} {rounds}`).\n"
    );
    println!(
        "| sources | heap | tree, whole keys | tree, abbreviated keys | tree / heap | abbreviated / heap |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for sources in [2, 4, 8, 16] {
        let rounds = match measure_merges(sources, entries, rounds.max(1) as usize) {
            Ok(rounds) => rounds,
            Err(e) => {
                eprintln!("merge failed: {e}");
                return ExitCode::FAILURE;
            }
        };
        if rounds
            .iter()
            .any(|r| r.heap.entries != entries || r.tournament.entries != entries)
        {
            eprintln!("a merge lost or invented entries: {rounds:?}");
            return ExitCode::FAILURE;
        }
        let rate = |pass: fn(&Round) -> Pass| median(rounds.iter().map(|r| pass(r).rate()));
        // Ratios within each round, whose passes ran back to back: steadier on a busy machine
        // than the ratio of the medians.
        let against_heap = |pass: fn(&Round) -> Pass| {
            median(rounds.iter().map(|r| pass(r).rate() / r.heap.rate()))
        };
        println!(
            "| {sources} | {:.1} M/s | {:.1} M/s | {:.1} M/s | {:.2} | {:.2} |",
            rate(|r| r.heap) / 1e6,
            rate(|r| r.tree) / 1e6,
            rate(|r| r.tournament) / 1e6,
            against_heap(|r| r.tree),
            against_heap(|r| r.tournament),
        );
    }
    ExitCode::SUCCESS
}

/// The median of `values`.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
