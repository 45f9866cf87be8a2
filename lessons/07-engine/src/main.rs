//! The `rkv-07-engine` binary: the full engine behind the shared CLI.

fn main() -> std::process::ExitCode {
    rkv_cli::run::<rkv_07_engine::Store>("rkv-07-engine")
}
