//! The `rkv-05-compression` binary: lesson 05's store behind the shared CLI.

fn main() -> std::process::ExitCode {
    rkv_cli::run::<rkv_05_compression::Store>("rkv-05-compression")
}
