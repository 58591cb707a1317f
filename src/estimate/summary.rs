//! Summary of individual estimates across subjects (`parameters.csv` of
//! `cartkin fit --method individual`).
//!
//! Over the n subjects whose optimiser converged (status `converged` or
//! `hessian_not_pd`), with xᵢ = ln θᵢ for log-scale parameters and xᵢ = θᵢ otherwise,
//! x̄ the mean and s the sample SD (n − 1):
//! - estimate: the geometric mean exp(x̄) for log parameters, the arithmetic mean x̄
//!   otherwise;
//! - se: the SE of that estimate, exp(x̄)·s/√n (delta method) or s/√n;
//! - 95% CI: exp(x̄ ± t·s/√n) or x̄ ± t·s/√n, with t the 97.5% quantile of Student's t
//!   with n − 1 degrees of freedom;
//! - cv_pct: the geometric CV 100·√(exp(s²) − 1) for log parameters, 100·s/|x̄| otherwise;
//! - median, min, max of θ.
//!
//! Fixed parameters are listed with their value and no spread.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::individual::IndividualFit;
use crate::model::{Predict, Transform};

/// One row of `parameters.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSummary {
    /// Parameter name.
    pub name: String,
    /// Not estimated (fixed in the model or by `--fix`).
    pub fixed: bool,
    /// Subjects summarised.
    pub n: usize,
    /// Geometric mean (log parameters) or mean; the value when fixed.
    pub estimate: Option<f64>,
    /// SE of the estimate.
    pub se: Option<f64>,
    /// 100·se/|estimate|.
    pub rse_pct: Option<f64>,
    /// 95% CI lower end.
    pub ci_low: Option<f64>,
    /// 95% CI upper end.
    pub ci_high: Option<f64>,
    /// Between-subject CV%.
    pub cv_pct: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// Minimum.
    pub min: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

/// Median of a sorted, non-empty slice.
fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Summarise every parameter of `model` across the converged subjects of `fit`.
pub fn summarise<M: Predict + ?Sized>(model: &M, fit: &IndividualFit) -> Vec<ParameterSummary> {
    model
        .parameters()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut row = ParameterSummary {
                name: p.name.clone(),
                fixed: !fit.map.free.contains(&i),
                n: 0,
                estimate: None,
                se: None,
                rse_pct: None,
                ci_low: None,
                ci_high: None,
                cv_pct: None,
                median: None,
                min: None,
                max: None,
            };
            if row.fixed {
                row.estimate = Some(fit.map.base[i]);
                return row;
            }
            let mut values: Vec<f64> = fit
                .subjects
                .iter()
                .filter(|s| s.status.optimum_reached())
                .filter_map(|s| s.theta.as_ref().map(|t| t[i]))
                .collect();
            let n = values.len();
            row.n = n;
            if n == 0 {
                return row;
            }
            values.sort_by(f64::total_cmp);
            row.median = Some(median_sorted(&values));
            row.min = values.first().copied();
            row.max = values.last().copied();
            let log = p.transform == Transform::Log && values.iter().all(|&v| v > 0.0);
            let x: Vec<f64> = values
                .iter()
                .map(|&v| if log { v.ln() } else { v })
                .collect();
            let mean = x.iter().sum::<f64>() / n as f64;
            row.estimate = Some(if log { mean.exp() } else { mean });
            if n < 2 {
                return row;
            }
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            let sem = sd / (n as f64).sqrt();
            let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                .map(|d| d.inverse_cdf(0.975))
                .unwrap_or(f64::NAN);
            let back = |v: f64| if log { v.exp() } else { v };
            let est = back(mean);
            let se = if log { est * sem } else { sem };
            row.se = Some(se);
            row.rse_pct = Some(100.0 * se / est.abs());
            row.ci_low = Some(back(mean - t * sem));
            row.ci_high = Some(back(mean + t * sem));
            row.cv_pct = Some(if log {
                100.0 * (sd * sd).exp_m1().sqrt()
            } else {
                100.0 * sd / mean.abs()
            });
            row
        })
        .collect()
}
