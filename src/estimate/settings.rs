//! Settings of individual fitting: an unchecked [`FitSettings`] becomes a
//! [`CheckedSettings`] through [`FitSettings::check`] before any work (the linfa
//! "param guard" pattern), so the algorithms never see an invalid value.
//!
//! | setting | default | unit / scale | valid range | meaning |
//! |---|---|---|---|---|
//! | `seed` | 20261129 | – | any u64 | seeds the Latin hypercube starts (ChaCha12, one stream per subject: `crate::rng`) |
//! | `n_starts` | 48 | points | ≥ 0 | Latin-hypercube start points besides the typical values |
//! | `n_local` | 1 | runs | 1 ..= n_starts + 1 | best start points refined by Nelder–Mead |
//! | `start_width` | 3.0 | estimation scale | > 0 | half-width of the start box around the typical values (clipped to the bounds) |
//! | `simplex_step` | 0.3 | estimation scale | > 0 | initial Nelder–Mead simplex edge |
//! | `nm_max_iter` | 1500 | iterations | ≥ 1 | Nelder–Mead iteration limit per run |
//! | `nm_sd_tol` | 1e-2 | −2LL | > 0 | Nelder–Mead stops when the SD of the simplex costs falls below this (it only has to find the basin; BFGS and Newton finish) |
//! | `bfgs_max_iter` | 200 | iterations | ≥ 1 | BFGS iteration limit |
//! | `grad_tol` | 1e-4 | −2LL per unit | > 0 | BFGS stops when the gradient 2-norm is below this; the convergence test when the Hessian is not positive definite (∞-norm) |
//! | `newton_tol` | 1e-6 | −2LL | > 0 | converged when the Newton decrement gᵀH⁻¹g is below this |
//! | `newton_max_iter` | 10 | steps | ≥ 0 | Newton polishing steps after BFGS |
//! | `threads` | 0 | threads | ≥ 0 | rayon threads; 0 = all cores |
//! | `exact_gradient` | true | – | true, false | gradients and Hessians from the model's exact derivatives (sensitivities) when it has them; false: finite differences of −2LL |
//!
//! The defaults were tuned on the 24-subject Stein population of benches/data (all
//! subjects converge, ≈ 970 objective evaluations per subject): many cheap screened
//! starts and one Nelder–Mead run cost less than several Nelder–Mead runs for the same
//! result there.
//!
//! Results do not depend on `threads`: every subject's fit uses only its own random
//! stream.

/// Settings of `cartkin fit --method individual`, unchecked. See the module table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitSettings {
    /// Seed of the start points.
    pub seed: u64,
    /// Latin-hypercube start points besides the typical values.
    pub n_starts: usize,
    /// Best start points refined by Nelder–Mead.
    pub n_local: usize,
    /// Half-width of the start box on the estimation scale.
    pub start_width: f64,
    /// Initial Nelder–Mead simplex edge on the estimation scale.
    pub simplex_step: f64,
    /// Nelder–Mead iteration limit per run.
    pub nm_max_iter: u64,
    /// Nelder–Mead tolerance on the SD of the simplex costs.
    pub nm_sd_tol: f64,
    /// BFGS iteration limit.
    pub bfgs_max_iter: u64,
    /// Gradient tolerance (∞-norm, −2LL per unit of the estimation scale).
    pub grad_tol: f64,
    /// Newton-decrement tolerance (−2LL).
    pub newton_tol: f64,
    /// Newton polishing steps after BFGS.
    pub newton_max_iter: usize,
    /// Rayon threads (0 = all cores).
    pub threads: usize,
    /// Use the model's exact derivatives when it has them.
    pub exact_gradient: bool,
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            seed: 20_261_129,
            n_starts: 48,
            n_local: 1,
            start_width: 3.0,
            simplex_step: 0.3,
            nm_max_iter: 1500,
            nm_sd_tol: 1e-2,
            bfgs_max_iter: 200,
            grad_tol: 1e-4,
            newton_tol: 1e-6,
            newton_max_iter: 10,
            threads: 0,
            exact_gradient: true,
        }
    }
}

/// A setting outside its valid range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("fit setting `{name}` = {value} is invalid: expected {expected}")]
pub struct SettingsError {
    /// The setting.
    pub name: &'static str,
    /// Its value, printed.
    pub value: String,
    /// The valid range.
    pub expected: &'static str,
}

/// Validated settings (only [`FitSettings::check`] makes one).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSettings(FitSettings);

impl CheckedSettings {
    /// The validated values.
    pub fn get(&self) -> &FitSettings {
        &self.0
    }
}

impl FitSettings {
    /// Validate every setting against the ranges of the module table.
    pub fn check(self) -> Result<CheckedSettings, SettingsError> {
        let positive = |name: &'static str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(SettingsError {
                    name,
                    value: v.to_string(),
                    expected: "a positive finite number",
                })
            }
        };
        positive("start_width", self.start_width)?;
        positive("simplex_step", self.simplex_step)?;
        positive("nm_sd_tol", self.nm_sd_tol)?;
        positive("grad_tol", self.grad_tol)?;
        positive("newton_tol", self.newton_tol)?;
        if self.n_local == 0 || self.n_local > self.n_starts + 1 {
            return Err(SettingsError {
                name: "n_local",
                value: self.n_local.to_string(),
                expected: "between 1 and n_starts + 1",
            });
        }
        for (name, v) in [
            ("nm_max_iter", self.nm_max_iter),
            ("bfgs_max_iter", self.bfgs_max_iter),
        ] {
            if v == 0 {
                return Err(SettingsError {
                    name,
                    value: v.to_string(),
                    expected: "at least 1",
                });
            }
        }
        Ok(CheckedSettings(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert!(FitSettings::default().check().is_ok());
        let e = FitSettings {
            grad_tol: -1.0,
            ..FitSettings::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(e.name, "grad_tol");
        let e = FitSettings {
            n_local: 0,
            ..FitSettings::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(e.name, "n_local");
    }
}
