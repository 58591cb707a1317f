//! Settings of SAEM, checked before any work ([`SaemSettings::check`]).
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `k1_min`, `k1_max` | 150, 500 | exploratory iterations (γ = 1): at least / at most |
//! | `k2_min`, `k2_max` | 50, 200 | smoothing iterations (γ = 1/k): at least / at most |
//! | `auto_stop` | true | stop each phase by its rule (else run exactly `k1_max`, `k2_max`) |
//! | `window` | 100 | iterations in the exploratory drift test (10 batches) |
//! | `drift_t` | 3 | the phase ends when every parameter's trend over the window's batch means has \|t\| below this |
//! | `smoothing_tol` | 0.02 | smoothing ends when every parameter's Monte-Carlo SE is below this (working scale) |
//! | `chains` | ⌈50/N⌉ | Markov chains per subject |
//! | `kernels` | [2, 2, 2] | passes of the prior, multidimensional and componentwise kernels per iteration |
//! | `annealing` | 0.95 | during exploration a variance falls at most by this factor per iteration |
//! | `posterior_iterations` | 100 | MCMC iterations at the estimate for the conditional means and SDs |
//! | `is_samples` | 5000 | importance samples per subject for the −2LL (0: skip) |
//! | `seed` | 20261129 | the seed of every random stream |

/// A setting out of its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SaemError {
    /// A setting is out of range.
    #[error("SAEM setting {name} = {value}: {expected}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is allowed.
        expected: String,
    },
}

/// SAEM settings as given (module docs for defaults and meaning).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SaemSettings {
    /// Minimum exploratory iterations.
    pub k1_min: usize,
    /// Maximum exploratory iterations.
    pub k1_max: usize,
    /// Minimum smoothing iterations.
    pub k2_min: usize,
    /// Maximum smoothing iterations.
    pub k2_max: usize,
    /// Stop the phases by their rules.
    pub auto_stop: bool,
    /// Window of the exploratory drift test.
    pub window: usize,
    /// |t| threshold of the drift test.
    pub drift_t: f64,
    /// Monte-Carlo SE threshold of the smoothing phase.
    pub smoothing_tol: f64,
    /// Chains per subject (`None`: ⌈50/N⌉).
    pub chains: Option<usize>,
    /// Passes of kernels 1 (prior), 2 (multidimensional RW), 3 (componentwise RW).
    pub kernels: [usize; 3],
    /// Annealing factor of the variances during exploration.
    pub annealing: f64,
    /// MCMC iterations for the conditional distributions after convergence.
    pub posterior_iterations: usize,
    /// Importance samples per subject (0: no importance-sampling −2LL).
    pub is_samples: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for SaemSettings {
    fn default() -> Self {
        SaemSettings {
            k1_min: 150,
            k1_max: 500,
            k2_min: 50,
            k2_max: 200,
            auto_stop: true,
            window: 100,
            drift_t: 3.0,
            smoothing_tol: 0.02,
            chains: None,
            kernels: [2, 2, 2],
            annealing: 0.95,
            posterior_iterations: 100,
            is_samples: 5000,
            seed: 20_261_129,
        }
    }
}

/// Settings that passed [`SaemSettings::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSaem(pub(crate) SaemSettings);

impl CheckedSaem {
    /// The settings.
    pub fn get(&self) -> &SaemSettings {
        &self.0
    }
}

impl SaemSettings {
    /// Check every setting (module docs), or say which is wrong.
    pub fn check(self) -> Result<CheckedSaem, SaemError> {
        let bad = |name: &'static str, value: String, expected: &str| {
            Err(SaemError::Setting {
                name,
                value,
                expected: expected.into(),
            })
        };
        if self.k1_max == 0 {
            return bad("k1", "0".into(), "at least 1 exploratory iteration");
        }
        if self.k2_max == 0 {
            return bad("k2", "0".into(), "at least 1 smoothing iteration");
        }
        if self.k1_min > self.k1_max {
            return bad(
                "k1_min",
                self.k1_min.to_string(),
                &format!("at most k1 = {}", self.k1_max),
            );
        }
        if self.k2_min > self.k2_max {
            return bad(
                "k2_min",
                self.k2_min.to_string(),
                &format!("at most k2 = {}", self.k2_max),
            );
        }
        if self.window < 10 {
            return bad("window", self.window.to_string(), "at least 10 iterations");
        }
        if !(self.drift_t > 0.0 && self.drift_t.is_finite()) {
            return bad("drift_t", self.drift_t.to_string(), "a positive number");
        }
        if !(self.smoothing_tol > 0.0 && self.smoothing_tol.is_finite()) {
            return bad(
                "smoothing_tol",
                self.smoothing_tol.to_string(),
                "a positive number",
            );
        }
        if self.chains == Some(0) {
            return bad("chains", "0".into(), "at least 1 chain per subject");
        }
        if self.kernels.iter().sum::<usize>() == 0 {
            return bad(
                "kernels",
                format!("{:?}", self.kernels),
                "at least one kernel pass per iteration",
            );
        }
        if !(self.annealing > 0.0 && self.annealing <= 1.0) {
            return bad(
                "annealing",
                self.annealing.to_string(),
                "a factor in (0, 1] (1: no annealing)",
            );
        }
        if self.posterior_iterations == 0 {
            return bad(
                "posterior_iterations",
                "0".into(),
                "at least 1 iteration for the conditional means and SDs",
            );
        }
        if self.is_samples == 1 {
            return bad(
                "is_samples",
                "1".into(),
                "0 (no importance sampling) or at least 2 samples (for the Monte-Carlo SE)",
            );
        }
        Ok(CheckedSaem(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_bad_values_are_named() {
        assert!(SaemSettings::default().check().is_ok());
        let e = SaemSettings {
            k1_max: 0,
            ..SaemSettings::default()
        }
        .check()
        .unwrap_err();
        assert!(e.to_string().contains("k1 = 0"), "{e}");
        let e = SaemSettings {
            annealing: 1.5,
            ..SaemSettings::default()
        }
        .check()
        .unwrap_err();
        assert!(e.to_string().contains("annealing"), "{e}");
    }
}
