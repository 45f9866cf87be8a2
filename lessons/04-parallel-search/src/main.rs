//! The `rkv-04-parallel-search` binary: lesson 04's store behind the shared CLI.

fn main() -> std::process::ExitCode {
    rkv_cli::run::<rkv_04_parallel_search::Store>("rkv-04-parallel-search")
}
