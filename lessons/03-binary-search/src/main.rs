//! The `rkv-03-binary-search` binary: lesson 03's store behind the shared CLI.

fn main() -> std::process::ExitCode {
    rkv_cli::run::<rkv_03_binary_search::Store>("rkv-03-binary-search")
}
