//! What an engine spends in memory: the peak resident set size (RSS) of a phase.
//!
//! Throughput alone flatters an engine that buys speed with memory: a 1 GiB cache holds a whole
//! benchmark's data set. So every phase also reports the most memory the process had resident
//! while it ran, read from Linux's own account in `/proc/self/status`:
//!
//! - `VmHWM` ("high water mark") is the peak RSS since the process started, or since the peak
//!   was last reset;
//! - writing `5` to `/proc/self/clear_refs` resets that peak to the current RSS (Linux 4.0 and
//!   later), so the peak after a phase is the peak *of that phase*.
//!
//! The harness runs every engine in a process of its own, so one engine's memory (or what its
//! allocator kept after it closed) never counts against the next. Where the reset is refused,
//! the peak is the process's since it started — still one engine's, and the page says which it
//! is. Outside Linux there is no `/proc`, and the numbers are absent rather than wrong.

use std::fs;

/// How the peak of a phase is measured on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeakScope {
    /// The peak is reset before every phase: each phase's own peak.
    Phase,
    /// The peak cannot be reset: the peak since the engine's process started.
    Process,
    /// No `/proc/self/status`: no peak at all.
    Unavailable,
}

impl PeakScope {
    /// What the report says about it.
    pub fn describe(self) -> &'static str {
        match self {
            PeakScope::Phase => {
                "per phase: VmHWM of the engine's own process, reset through \
                 /proc/self/clear_refs before each phase"
            }
            PeakScope::Process => {
                "per process: VmHWM of the engine's own process since it started (this kernel \
                 refused the reset through /proc/self/clear_refs)"
            }
            PeakScope::Unavailable => "not measured: this system has no /proc/self/status",
        }
    }
}

/// Resets the process's peak RSS to its current RSS, and says how peaks are measured from now on.
pub fn reset_peak() -> PeakScope {
    if peak_rss_bytes().is_none() {
        return PeakScope::Unavailable;
    }
    match fs::write("/proc/self/clear_refs", "5") {
        Ok(()) => PeakScope::Phase,
        Err(_) => PeakScope::Process,
    }
}

/// The process's peak RSS in bytes (`VmHWM`), or `None` where the kernel does not say.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// The value of a `Name:   123 kB` line of `/proc/self/status`.
fn status_kib(field: &str) -> Option<u64> {
    let text = fs::read_to_string("/proc/self/status").ok()?;
    parse_kib(&text, field)
}

/// The number of kB on the line of `text` that starts with `field`.
fn parse_kib(text: &str, field: &str) -> Option<u64> {
    let rest = text.lines().find_map(|line| line.strip_prefix(field))?;
    rest.trim().strip_suffix("kB")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_in_kib() {
        let text = "Name:\tharness\nVmHWM:\t  218340 kB\nVmRSS:\t   13536 kB\n";
        assert_eq!(parse_kib(text, "VmHWM:"), Some(218_340));
        assert_eq!(parse_kib(text, "VmRSS:"), Some(13_536));
        assert_eq!(parse_kib(text, "VmSwap:"), None);
        assert_eq!(parse_kib("VmHWM:\tlots\n", "VmHWM:"), None);
    }

    #[test]
    fn a_reset_peak_falls_when_memory_is_given_back() {
        // Touch 64 MiB, give it back, and reset: where the kernel allows the reset, the peak
        // must fall below what it was with the buffer resident.
        let before = reset_peak();
        let buffer = vec![1u8; 64 << 20];
        std::hint::black_box(&buffer);
        let Some(with_buffer) = peak_rss_bytes() else {
            assert_eq!(before, PeakScope::Unavailable);
            return;
        };
        assert!(with_buffer >= 64 << 20, "peak {with_buffer} below 64 MiB");
        drop(buffer);
        if reset_peak() == PeakScope::Phase {
            let after = peak_rss_bytes().unwrap_or(u64::MAX);
            assert!(
                after < with_buffer,
                "peak {after} did not fall below {with_buffer} after the reset"
            );
        }
    }
}
