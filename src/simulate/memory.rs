//! How much memory a simulation run needs, checked before it starts.
//!
//! A streamed run ([`super::stream`]) holds:
//! - the summary arrays of the largest dose level: n·T·A·8 bytes, + n·T·A/8 with
//!   residual error ([`super::summary::summary_bytes`]; none for a shard or a
//!   typical-subject run, which write no summaries);
//! - one chunk of c subjects: c·T·A·(8 + 1) bytes of values and flags, and their
//!   `simulation.csv` text, at most [`ROW_TEXT_BYTES`] per row;
//! - the endpoint summary: 13 `f64` per subject × analyte ([`super::endpoints`]).
//!
//! with n the subjects of a dose level, T the times, A the analytes and c the chunk size
//! ([`chunk_size`]). The total is compared with the memory the operating system reports
//! as available (`MemAvailable` of `/proc/meminfo` on Linux); where that cannot be read,
//! [`FALLBACK_AVAILABLE`] is assumed. Sizes are computed in `u128`, so absurd requests
//! (e.g. `--n 10^18`) are refused rather than overflowing.

use super::SimulateError;

/// Memory assumed available when the operating system does not say (2 GiB).
pub const FALLBACK_AVAILABLE: u64 = 2 << 30;

/// Upper bound of the text of one `simulation.csv` row (id, dose, time, analyte,
/// value and flag in their shortest forms).
pub const ROW_TEXT_BYTES: u64 = 96;

/// Subjects simulated and written per chunk for `cells` = times × analytes values per
/// subject: about one million values, between 16 and 1024 subjects.
pub fn chunk_size(cells: usize) -> usize {
    ((1usize << 20) / cells.max(1)).clamp(16, 1024)
}

/// The size of a run, as the memory estimate needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSize {
    /// Subjects of the largest dose level.
    pub largest_level: u128,
    /// Subjects simulated by this run (its shard).
    pub subjects: u128,
    /// Sampling times.
    pub times: u128,
    /// Analytes.
    pub analytes: u128,
    /// Residual error (censored flags are kept).
    pub residual_error: bool,
    /// The run computes summaries (not a shard, not a typical-subject run).
    pub summaries: bool,
}

/// The parts of the estimate, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryEstimate {
    /// Summary arrays of the largest dose level.
    pub summary: u128,
    /// One chunk of subjects with its text.
    pub chunk: u128,
    /// Endpoint summary values.
    pub endpoints: u128,
}

impl MemoryEstimate {
    /// Total bytes.
    pub fn total(&self) -> u128 {
        self.summary + self.chunk + self.endpoints
    }
}

impl RunSize {
    /// The estimate (see the module header).
    pub fn estimate(&self) -> MemoryEstimate {
        let cells = self.times * self.analytes;
        let summary = if self.summaries {
            let values = self.largest_level * cells;
            let bits = if self.residual_error {
                values.div_ceil(64) * 8
            } else {
                0
            };
            values * 8 + bits
        } else {
            0
        };
        let c =
            (chunk_size(usize::try_from(cells).unwrap_or(usize::MAX)) as u128).min(self.subjects);
        let chunk = c * cells * (9 + ROW_TEXT_BYTES as u128);
        let endpoints = if self.summaries {
            self.subjects * self.analytes * 13 * 8
        } else {
            0
        };
        MemoryEstimate {
            summary,
            chunk,
            endpoints,
        }
    }
}

/// Bytes the operating system reports as available, and whether that is a report (or
/// the fallback).
pub fn available_bytes() -> (u64, bool) {
    match std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| mem_available(&t))
    {
        Some(b) => (b, true),
        None => (FALLBACK_AVAILABLE, false),
    }
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut f = line.split_whitespace().skip(1);
    let kb: u64 = f.next()?.parse().ok()?;
    match f.next() {
        Some("kB") | None => kb.checked_mul(1024),
        Some(_) => None,
    }
}

fn mb(bytes: u128) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

/// Refuse a run whose estimate exceeds `available` bytes (`reported`: from the operating
/// system, else the fallback), with the numbers and what to change.
pub fn check(size: &RunSize, available: u64, reported: bool) -> Result<(), SimulateError> {
    let e = size.estimate();
    if e.total() <= available as u128 {
        return Ok(());
    }
    let source = if reported {
        "available (MemAvailable)"
    } else {
        "assumed available (the operating system does not report it)"
    };
    Err(SimulateError::setting(
        "--n / --days (subjects × times × analytes)",
        format!(
            "{} subjects per dose level × {} times × {} analytes",
            size.largest_level, size.times, size.analytes
        ),
        format!(
            "a run that fits in memory: it needs about {} ({} for the exact percentiles of \
             summary.csv, {} for the simulation in chunks, {} for the endpoint summary) but \
             {} is {source}. Split the subjects with --shard i/N (a shard keeps no summary \
             arrays; `cartkin merge` then needs the summary memory once), write no profiles \
             with --profiles none, or use fewer subjects per dose level (--n), fewer times \
             (--days, --times, --schedule) or fewer analytes (--analyte)",
            mb(e.total()),
            mb(e.summary),
            mb(e.chunk),
            mb(e.endpoints),
            mb(available as u128),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read_in_kilobytes() {
        let text =
            "MemTotal:       24684032 kB\nMemFree:  215040 kB\nMemAvailable:   23132160 kB\n";
        assert_eq!(mem_available(text), Some(23_132_160 * 1024));
        assert_eq!(mem_available("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn estimate_by_hand_and_a_clear_refusal() {
        // 100,000 × 366 × 2, no residual error: summary 100000·732·8 = 585,600,000 bytes;
        // chunk: 2^20 / 732 = 1432 → 1024 subjects · 732 · 105 = 78,704,640; endpoints
        // 100000·2·13·8 = 20,800,000.
        let size = RunSize {
            largest_level: 100_000,
            subjects: 100_000,
            times: 366,
            analytes: 2,
            residual_error: false,
            summaries: true,
        };
        let e = size.estimate();
        assert_eq!(e.summary, 585_600_000);
        assert_eq!(e.chunk, 78_704_640);
        assert_eq!(e.endpoints, 20_800_000);
        assert!(check(&size, 1 << 30, true).is_ok());
        let err = check(&size, 500_000_000, true).unwrap_err().to_string();
        assert!(err.contains("685 MB") && err.contains("500 MB"), "{err}");
        assert!(
            err.contains("--shard") && err.contains("--profiles none"),
            "{err}"
        );
        // absurd sizes do not overflow
        let huge = RunSize {
            largest_level: 1 << 62,
            subjects: 1 << 62,
            times: u32::MAX as u128 + 1,
            ..size
        };
        assert!(check(&huge, u64::MAX, true).is_err());
    }
}
