//! The `rkv-02-sstables` binary: lesson 02's store behind the shared CLI.

fn main() -> std::process::ExitCode {
    rkv_cli::run::<rkv_02_sstables::Store>("rkv-02-sstables")
}
