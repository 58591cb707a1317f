//! The true probability of a dose-limiting toxicity (DLT): fixed per level, or a
//! logistic link to each patient's simulated exposure within the DLT window.
//!
//! Link: P(DLT) = 1 / (1 + exp(−(α + β·ln m))), with m the patient's exposure metric of
//! one analyte computed from the model's prediction (no residual error, no censoring: the
//! true exposure) on the daily grid 0, 1, …, W of the DLT window W (days):
//! - `cmax`: the largest value on the grid;
//! - `auc0_28`: linear trapezoids over days 0 to 28 (W ≥ 28).
//!
//! β = 0 gives α's probability for every patient without simulating; m = 0 gives
//! P = 0 for β > 0 (ln m = −∞). Exposure-response for CAR-T toxicity: cytokine release
//! syndrome incidence and grade rise with expansion (Cmax, AUC0–28) across products.

use std::fmt;

/// The exposure metric a link uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Peak value within the window.
    Cmax,
    /// Area under the curve over days 0–28.
    Auc0To28,
}

impl Metric {
    /// The name in scenario files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cmax => "cmax",
            Metric::Auc0To28 => "auc0_28",
        }
    }

    /// The metric of `values` at the daily grid 0, 1, …, len − 1.
    pub fn of_daily(self, values: &[f64]) -> f64 {
        match self {
            Metric::Cmax => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Metric::Auc0To28 => values[..=28].windows(2).map(|w| 0.5 * (w[0] + w[1])).sum(),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A logistic exposure–toxicity link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The exposure metric.
    pub metric: Metric,
    /// The analyte (a model output).
    pub analyte: String,
    /// α.
    pub intercept: f64,
    /// β (per unit of ln metric).
    pub slope: f64,
}

impl Link {
    /// P(DLT) for exposure `m` (see the module header).
    pub fn probability(&self, m: f64) -> f64 {
        let eta = if self.slope == 0.0 {
            self.intercept
        } else {
            self.intercept + self.slope * m.ln()
        };
        1.0 / (1.0 + (-eta).exp())
    }
}

/// The true DLT probabilities of a trial.
#[derive(Debug, Clone, PartialEq)]
pub enum Toxicity {
    /// One probability per dose level.
    Fixed(Vec<f64>),
    /// Each patient's probability from the link of the simulated exposure.
    Logistic(Link),
}
