//! The `rkv-01-basic-store` binary: lesson 01's store behind the shared CLI.

fn main() -> std::process::ExitCode {
    rkv_cli::run::<rkv_01_basic_store::Store>("rkv-01-basic-store")
}
