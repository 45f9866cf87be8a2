//! The `rkv-06-checksums` binary: lesson 06's store behind the shared CLI.

fn main() -> std::process::ExitCode {
    rkv_cli::run::<rkv_06_checksums::Store>("rkv-06-checksums")
}
