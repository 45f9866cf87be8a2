//! What the numbers were measured on: the machine, the compiler, the commit and the date.
//!
//! Benchmark numbers without this are rumours. Everything is read from the running system
//! (`/proc`, `rustc -V`, `git`); what cannot be read is written as `unknown`, never guessed.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The machine and the build that produced a benchmark run.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Machine {
    /// CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs this process may use.
    pub cores: usize,
    /// Total memory in bytes, from `/proc/meminfo`.
    pub memory_bytes: Option<u64>,
    /// The operating system, from `/etc/os-release` and `uname -r`.
    pub os: String,
    /// The 1-minute load average just before the run started.
    pub load_before: Option<f64>,
    /// The 1-minute load average when the run ended.
    pub load_after: Option<f64>,
    /// `rustc -V`.
    pub rustc: String,
    /// The commit measured, with `-dirty` when the work tree had changes.
    pub commit: String,
    /// When the run started, UTC, ISO 8601.
    pub date: String,
}

impl Machine {
    /// Reads everything but `load_after`.
    pub fn read(root: &Path) -> Machine {
        Machine {
            cpu: cpu_model().unwrap_or_else(|| "unknown".to_string()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: memory_bytes(),
            os: os_name(),
            load_before: load_average(),
            load_after: None,
            rustc: command_line("rustc", &["-V"], root).unwrap_or_else(|| "unknown".to_string()),
            commit: commit(root),
            date: utc_now(),
        }
    }

    /// Why the numbers may be noisy, if the machine was busy: a load average above the number of
    /// cores means other work competed for the CPU.
    pub fn busy_warning(&self) -> Option<String> {
        let cores = self.cores as f64;
        let busy = [self.load_before, self.load_after]
            .into_iter()
            .flatten()
            .any(|load| load > cores);
        let after = self
            .load_after
            .map(|load| format!(" and {load:.2} after"))
            .unwrap_or_default();
        busy.then(|| {
            format!(
                "the machine was busy: 1-minute load average {} before the run{after}, on {} \
                 cores. Other processes competed for the CPU; treat these numbers as noisy.",
                shown(self.load_before),
                self.cores
            )
        })
    }
}

/// A load average for a message.
fn shown(load: Option<f64>) -> String {
    load.map_or_else(|| "unknown".to_string(), |l| format!("{l:.2}"))
}

/// The first `model name` line of `/proc/cpuinfo`.
fn cpu_model() -> Option<String> {
    let text = fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn memory_bytes() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The 1-minute load average, from `/proc/loadavg`.
pub fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `PRETTY_NAME` of `/etc/os-release` and the kernel release.
fn os_name() -> String {
    let pretty = fs::read_to_string("/etc/os-release").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_string())
    });
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|k| k.trim().to_string());
    match (pretty, kernel) {
        (Some(p), Some(k)) => format!("{p}, Linux {k}"),
        (Some(p), None) => p,
        (None, Some(k)) => format!("Linux {k}"),
        (None, None) => std::env::consts::OS.to_string(),
    }
}

/// The first line a command prints, if it runs and succeeds.
fn command_line(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_string())
}

/// The commit checked out in `root`, with `-dirty` when the work tree has changes.
fn commit(root: &Path) -> String {
    let Some(head) = command_line("git", &["rev-parse", "--short=12", "HEAD"], root) else {
        return "unknown".to_string();
    };
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(root)
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty { format!("{head}-dirty") } else { head }
}

/// Now, in UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ`.
///
/// The date comes from the day count by the "civil from days" method described by Howard
/// Hinnant in *chrono-Compatible Low-Level Date Algorithms*: shift the epoch to 0000-03-01 so
/// that leap days fall at the end of a year, split into 400-year eras, then into year, month and
/// day. Written here from that description.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_known_ones() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn busy_is_a_load_above_the_cores() {
        let mut m = Machine::read(Path::new("."));
        m.cores = 2;
        m.load_before = Some(1.5);
        m.load_after = Some(1.9);
        assert!(m.busy_warning().is_none());
        m.load_after = Some(3.5);
        assert!(m.busy_warning().is_some_and(|w| w.contains("3.50")));
    }
}
