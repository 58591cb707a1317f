//! Time bins of a visual predictive check, per analyte.
//!
//! - `visits`: one bin per distinct observation time (a nominal-time design).
//! - `K` (a number): K bins holding about the same number of observations. With the
//!   N observation times sorted, s₀ ≤ … ≤ s_{N−1}, the boundaries are
//!   b_k = s_{round(kN/K)} for k = 1 … K − 1; a record with time t falls in the bin
//!   numbered by how many distinct boundaries are ≤ t, so records at one time are never
//!   split between bins (fewer than K bins when ties force it).
//! - `auto`: `visits` when the analyte has at most [`AUTO_MAX_VISITS`] distinct times,
//!   else [`AUTO_BINS`] bins of equal counts.

use std::fmt;
use std::str::FromStr;

/// Distinct times up to which `auto` bins by visit.
pub const AUTO_MAX_VISITS: usize = 12;
/// Bins of `auto` when the times are more scattered.
pub const AUTO_BINS: usize = 10;

/// How observation times are grouped into bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binning {
    /// Visits when few distinct times, else equal-count bins (module header).
    Auto,
    /// One bin per distinct time.
    Visits,
    /// This many bins of about equal counts.
    Count(usize),
}

impl FromStr for Binning {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "auto" => Ok(Binning::Auto),
            "visits" => Ok(Binning::Visits),
            other => match other.parse::<usize>() {
                Ok(k) if k >= 1 => Ok(Binning::Count(k)),
                _ => Err(format!(
                    "--bins {s:?}: expected auto, visits or a number of bins >= 1"
                )),
            },
        }
    }
}

impl fmt::Display for Binning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binning::Auto => f.write_str("auto"),
            Binning::Visits => f.write_str("visits"),
            Binning::Count(k) => write!(f, "{k}"),
        }
    }
}

/// The 0-based bin of each of `times` (one analyte's records) and the number of bins.
pub fn assign(times: &[f64], binning: Binning) -> (Vec<usize>, usize) {
    let mut sorted: Vec<f64> = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut distinct = sorted.clone();
    distinct.dedup();
    let boundaries: Vec<f64> = match binning {
        Binning::Visits => distinct.get(1..).unwrap_or(&[]).to_vec(),
        Binning::Auto if distinct.len() <= AUTO_MAX_VISITS => {
            distinct.get(1..).unwrap_or(&[]).to_vec()
        }
        Binning::Auto => equal_counts(&sorted, AUTO_BINS),
        Binning::Count(k) => equal_counts(&sorted, k),
    };
    let bins = times
        .iter()
        .map(|t| boundaries.partition_point(|b| b <= t))
        .collect();
    (bins, boundaries.len() + 1)
}

/// Boundaries b_k = s_{round(kN/K)}, k = 1 … K − 1, strictly increasing and above s₀.
fn equal_counts(sorted: &[f64], k: usize) -> Vec<f64> {
    let n = sorted.len();
    let mut out: Vec<f64> = Vec::new();
    if n == 0 {
        return out;
    }
    for b in 1..k {
        let at = ((b * n) as f64 / k as f64).round() as usize;
        let t = sorted[at.min(n - 1)];
        if t > sorted[0] && out.last().is_none_or(|&last| t > last) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_counts_and_ties() {
        let t = [0.0, 1.0, 1.0, 2.0, 7.0, 7.0, 14.0, 28.0];
        assert_eq!(
            assign(&t, Binning::Visits),
            (vec![0, 1, 1, 2, 3, 3, 4, 5], 6)
        );
        // K = 2, N = 8: b₁ = s₄ = 7 (by hand); 7 and above in bin 1.
        assert_eq!(
            assign(&t, Binning::Count(2)),
            (vec![0, 0, 0, 0, 1, 1, 1, 1], 2)
        );
        // K = 3: b₁ = s_round(8/3)=s₃ = 2, b₂ = s_round(16/3)=s₅ = 7.
        assert_eq!(
            assign(&t, Binning::Count(3)),
            (vec![0, 0, 0, 1, 2, 2, 2, 2], 3)
        );
        // Ties never split: all at one time make one bin.
        assert_eq!(assign(&[3.0; 5], Binning::Count(4)), (vec![0; 5], 1));
        assert_eq!(assign(&t, Binning::Auto), assign(&t, Binning::Visits));
        let many: Vec<f64> = (0..40).map(f64::from).collect();
        let (b, n) = assign(&many, Binning::Auto);
        assert_eq!(n, AUTO_BINS);
        assert!(b.iter().all(|&x| x < AUTO_BINS));
        assert_eq!("visits".parse::<Binning>(), Ok(Binning::Visits));
        assert_eq!("5".parse::<Binning>(), Ok(Binning::Count(5)));
        assert!("0".parse::<Binning>().is_err());
        assert!("jenks".parse::<Binning>().is_err());
    }
}
