//! Descriptive statistics of one NCA metric within a group (dose level × analyte).
//!
//! Over the n non-missing values xᵢ: arithmetic mean x̄, SD with divisor n − 1,
//! median (mean of the two middle values for even n), min, max. Over the n₊ values
//! that are > 0: geometric mean exp(mean(ln xᵢ)) and geometric CV% =
//! 100·sqrt(exp(s²) − 1) with s² the sample variance (divisor n₊ − 1) of ln xᵢ
//! (PKNCA `business.geomean` / `business.geocv`).
//!
//! Missing values (NA) are excluded and counted in `n_missing`; zeros and negative
//! values stay in the arithmetic statistics but are excluded from the geometric ones
//! (`n - n_positive` says how many). SD and geometric CV need two values; every
//! statistic is `None` when it cannot be computed.

/// Summary statistics of one metric in one group.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SummaryStats {
    /// Non-missing values.
    pub n: usize,
    /// Missing values.
    pub n_missing: usize,
    /// Values > 0 (used by the geometric statistics).
    pub n_positive: usize,
    /// Geometric mean of the positive values.
    pub geo_mean: Option<f64>,
    /// Geometric CV% of the positive values.
    pub geo_cv_pct: Option<f64>,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Standard deviation (n − 1).
    pub sd: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// Minimum.
    pub min: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

/// Mean and sample variance (divisor n − 1; `None` for n < 2) of `x`.
fn mean_var(x: &[f64]) -> (Option<f64>, Option<f64>) {
    if x.is_empty() {
        return (None, None);
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 {
        Some(x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0))
    } else {
        None
    };
    (Some(mean), var)
}

/// Summarise `values` (`None` or non-finite = missing).
pub fn summarise(values: &[Option<f64>]) -> SummaryStats {
    let mut x: Vec<f64> = values
        .iter()
        .filter_map(|v| v.filter(|v| v.is_finite()))
        .collect();
    x.sort_by(f64::total_cmp);
    let logs: Vec<f64> = x.iter().filter(|&&v| v > 0.0).map(|v| v.ln()).collect();
    let (mean, var) = mean_var(&x);
    let (log_mean, log_var) = mean_var(&logs);
    let median = match x.len() {
        0 => None,
        n if n % 2 == 1 => Some(x[n / 2]),
        n => Some(0.5 * (x[n / 2 - 1] + x[n / 2])),
    };
    SummaryStats {
        n: x.len(),
        n_missing: values.len() - x.len(),
        n_positive: logs.len(),
        geo_mean: log_mean.map(f64::exp),
        geo_cv_pct: log_var.map(|s2| 100.0 * s2.exp_m1().sqrt()),
        mean,
        sd: var.map(f64::sqrt),
        median,
        min: x.first().copied(),
        max: x.last().copied(),
    }
}
