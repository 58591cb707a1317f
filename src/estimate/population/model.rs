//! The population (nonlinear mixed-effects) model built from a model file: fixed
//! effects θ, random effects η ~ N(0, Ω) and the residual parameters σ, and their
//! packing into one unconstrained vector for the outer optimiser.
//!
//! - θ: every free parameter (not fixed in the model file or by the caller) on its
//!   estimation scale ψ (log, logit, identity), held in its bounds by projection
//!   ([`ParameterMap`]). Residual parameters (σ) are free parameters like the others.
//! - η: one per free parameter declared `iiv`; subject i's parameter is
//!   ψᵢ = ψ + ηᵢ on the estimation scale (log-normal for `log`, logit-normal for `logit`),
//!   clamped to the parameter's bounds. Covariate effects are written in the model's
//!   `let` expressions and their coefficients are fixed effects like any other θ.
//! - Ω: block diagonal; a block of size one is a variance, a larger block (a `block`
//!   line in the model file, or `--omega-block`) is a full covariance matrix. The initial
//!   Ω is diagonal with the model's ω².
//!
//! Packing (Pinheiro & Bates 1996, Stat Comput 6:289, the "log-Cholesky"
//! parameterisation): each block is Ω_b = L Lᵀ with L lower triangular; the packed vector
//! holds ln L_kk for the diagonal and L_kl (k > l) below it, row by row. Every real
//! vector gives a positive definite Ω, and ln|Ω| = 2 Σ ln L_kk.

use nalgebra::DMatrix;

use crate::estimate::objective::ParameterMap;
use crate::model::{Predict, Role};

/// Errors in setting up a population model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PopulationError {
    /// A block names a parameter that is not a free parameter with `iiv`.
    #[error("Ω block: `{name}` is not a free parameter with between-subject variability (iiv) in model `{model}` (those are: {available})")]
    NotRandom {
        /// Model name.
        model: String,
        /// The name given.
        name: String,
        /// The parameters with η.
        available: String,
    },
    /// A parameter appears in two blocks.
    #[error("Ω block: `{name}` is in more than one block")]
    Overlap {
        /// The parameter.
        name: String,
    },
    /// The model has no parameter with between-subject variability.
    #[error("model `{model}` has no free parameter with between-subject variability (iiv): a population fit needs at least one η")]
    NoRandomEffects {
        /// Model name.
        model: String,
    },
}

/// Fixed effects, random-effect structure and the packing of the population parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationModel {
    /// The free fixed effects (θ and σ) and the fixed values of the others.
    pub map: ParameterMap,
    /// Model parameter index of each η.
    pub eta_params: Vec<usize>,
    /// Ω blocks: η indices in each (size one = a variance only).
    pub blocks: Vec<Vec<usize>>,
    /// Names of the model parameters (for output).
    pub names: Vec<String>,
    /// Estimation-scale bounds (lower, upper) of each η'd parameter.
    pub eta_bounds: Vec<(f64, f64)>,
    /// The initial Ω (diagonal, the model's ω²).
    pub omega0: DMatrix<f64>,
}

/// Population parameters on their working scales: ψ (free θ, estimation scale) and Ω.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationValues {
    /// Free fixed effects on the estimation scale, in [`ParameterMap::free`] order.
    pub psi: Vec<f64>,
    /// Covariance of η.
    pub omega: DMatrix<f64>,
}

impl PopulationModel {
    /// The population model of `model` with `fixed` parameters (index, natural value)
    /// and Ω blocks given by parameter names (each block one list; parameters not named
    /// keep a diagonal variance).
    pub fn new<M: Predict + ?Sized>(
        model: &M,
        fixed: &[(usize, f64)],
        blocks: &[Vec<String>],
    ) -> Result<PopulationModel, PopulationError> {
        let map = ParameterMap::new(model, fixed);
        let params = model.parameters();
        let eta_params: Vec<usize> = map
            .free
            .iter()
            .copied()
            .filter(|&i| params[i].role == Role::Structural && params[i].omega2.is_some())
            .collect();
        if eta_params.is_empty() {
            return Err(PopulationError::NoRandomEffects {
                model: model.name().into(),
            });
        }
        let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
        let mut in_block = vec![false; eta_params.len()];
        let mut grouped = Vec::new();
        for block in blocks {
            let mut b = Vec::new();
            for name in block {
                let Some(k) = eta_params.iter().position(|&i| names[i] == name.trim()) else {
                    return Err(PopulationError::NotRandom {
                        model: model.name().into(),
                        name: name.clone(),
                        available: eta_params
                            .iter()
                            .map(|&i| names[i].as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                if in_block[k] {
                    return Err(PopulationError::Overlap { name: name.clone() });
                }
                in_block[k] = true;
                b.push(k);
            }
            b.sort_unstable();
            if !b.is_empty() {
                grouped.push(b);
            }
        }
        // Blocks in η order: each η alone unless it belongs to a declared block.
        let mut ordered: Vec<Vec<usize>> = Vec::new();
        for (k, &grouped_k) in in_block.iter().enumerate() {
            if !grouped_k {
                ordered.push(vec![k]);
            } else if let Some(b) = grouped.iter().find(|b| b[0] == k) {
                ordered.push(b.clone());
            }
        }
        let eta_bounds = eta_params
            .iter()
            .map(|&i| {
                let p = &params[i];
                let lo = p.to_estimation(p.lower);
                let hi = p.to_estimation(p.upper);
                (
                    if lo.is_nan() { f64::NEG_INFINITY } else { lo },
                    if hi.is_nan() { f64::INFINITY } else { hi },
                )
            })
            .collect();
        let omega0 = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
            eta_params.len(),
            eta_params
                .iter()
                .map(|&i| params[i].omega2.unwrap_or(0.1).max(1e-8)),
        ));
        Ok(PopulationModel {
            map,
            eta_params,
            blocks: ordered,
            names,
            eta_bounds,
            omega0,
        })
    }

    /// Number of η.
    pub fn n_eta(&self) -> usize {
        self.eta_params.len()
    }

    /// Number of free θ (including σ).
    pub fn n_theta(&self) -> usize {
        self.map.len()
    }

    /// Number of packed Ω elements.
    pub fn n_omega(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| b.len() * (b.len() + 1) / 2)
            .sum()
    }

    /// Length of the packed vector (θ then Ω).
    pub fn n_packed(&self) -> usize {
        self.n_theta() + self.n_omega()
    }

    /// The initial values: the model's typical values and diagonal Ω.
    pub fn initial<M: Predict + ?Sized>(&self, model: &M) -> PopulationValues {
        PopulationValues {
            psi: self.map.typical_psi(model),
            omega: self.omega0.clone(),
        }
    }

    /// Pack θ and Ω (log-Cholesky of each block, module docs). `None` when a block of Ω
    /// is not positive definite.
    pub fn pack(&self, v: &PopulationValues) -> Option<Vec<f64>> {
        let mut x = v.psi.clone();
        for b in &self.blocks {
            let sub = DMatrix::from_fn(b.len(), b.len(), |r, c| v.omega[(b[r], b[c])]);
            let l = sub.cholesky()?.l();
            for r in 0..b.len() {
                for c in 0..=r {
                    x.push(if r == c { l[(r, c)].ln() } else { l[(r, c)] });
                }
            }
        }
        Some(x)
    }

    /// Unpack a vector made by [`PopulationModel::pack`] (θ clamped into its bounds).
    pub fn unpack(&self, x: &[f64]) -> PopulationValues {
        let nt = self.n_theta();
        let mut psi = x[..nt].to_vec();
        self.map.clamp(&mut psi);
        let d = self.n_eta();
        let mut omega = DMatrix::zeros(d, d);
        for (b, l) in self.blocks.iter().zip(self.cholesky_factors(x)) {
            let n = b.len();
            let sub = &l * l.transpose();
            for r in 0..n {
                for c in 0..n {
                    omega[(b[r], b[c])] = sub[(r, c)];
                }
            }
        }
        PopulationValues { psi, omega }
    }

    /// The Cholesky factor L of each Ω block (Ω_b = L Lᵀ) from packed x (module docs).
    pub fn cholesky_factors(&self, x: &[f64]) -> Vec<DMatrix<f64>> {
        let mut at = self.n_theta();
        self.blocks
            .iter()
            .map(|b| {
                let n = b.len();
                let mut l = DMatrix::zeros(n, n);
                for r in 0..n {
                    for c in 0..=r {
                        l[(r, c)] = if r == c { x[at].exp() } else { x[at] };
                        at += 1;
                    }
                }
                l
            })
            .collect()
    }

    /// Clamp the θ part of a packed vector into its bounds.
    pub fn clamp_packed(&self, x: &mut [f64]) {
        let nt = self.n_theta();
        self.map.clamp(&mut x[..nt]);
    }

    /// The population (typical) natural-scale parameter vector at ψ.
    pub fn typical<M: Predict + ?Sized>(&self, model: &M, psi: &[f64]) -> Vec<f64> {
        let mut theta = self.map.base.clone();
        self.typical_into(model, psi, &mut theta);
        theta
    }

    /// The population (typical) natural-scale parameter vector at ψ into `theta`.
    pub fn typical_into<M: Predict + ?Sized>(&self, model: &M, psi: &[f64], theta: &mut [f64]) {
        self.map.theta_into(model, psi, theta);
    }

    /// Subject parameters: ψ + η on the estimation scale of each η'd parameter (clamped
    /// to its bounds), natural scale, into `theta` (all parameters).
    pub fn individual_into<M: Predict + ?Sized>(
        &self,
        model: &M,
        psi: &[f64],
        eta: &[f64],
        theta: &mut [f64],
    ) {
        self.map.theta_into(model, psi, theta);
        let params = model.parameters();
        for (k, &i) in self.eta_params.iter().enumerate() {
            let p = &params[i];
            let (lo, hi) = self.eta_bounds[k];
            let x = (p.to_estimation(theta[i]) + eta[k]).clamp(lo, hi);
            theta[i] = p.to_natural(x);
        }
    }

    /// Name of each packed element: θ names, then `omega2_P` / `omega2_P_Q` for the
    /// Cholesky elements of each block (labelled by the Ω element in the same place).
    pub fn packed_names(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .map
            .free
            .iter()
            .map(|&i| self.names[i].clone())
            .collect();
        for b in &self.blocks {
            for r in 0..b.len() {
                for c in 0..=r {
                    out.push(self.omega_name(b[r], b[c]));
                }
            }
        }
        out
    }

    /// `omega2_P` (k = l) or `omega2_P_Q` for the Ω element (k, l).
    pub fn omega_name(&self, k: usize, l: usize) -> String {
        let (k, l) = (k.max(l), k.min(l));
        if k == l {
            format!("omega2_{}", self.names[self.eta_params[k]])
        } else {
            format!(
                "omega2_{}_{}",
                self.names[self.eta_params[l]], self.names[self.eta_params[k]]
            )
        }
    }

    /// The estimated Ω elements (k ≥ l within a block), in packing order.
    pub fn omega_elements(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for b in &self.blocks {
            for r in 0..b.len() {
                for c in 0..=r {
                    out.push((b[r], b[c]));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_with_blocks(blocks: Vec<Vec<usize>>, d: usize) -> PopulationModel {
        PopulationModel {
            map: ParameterMap {
                base: vec![],
                free: vec![],
                lower: vec![],
                upper: vec![],
            },
            eta_params: (0..d).collect(),
            blocks,
            names: (0..d).map(|k| format!("P{k}")).collect(),
            eta_bounds: vec![(f64::NEG_INFINITY, f64::INFINITY); d],
            omega0: DMatrix::identity(d, d),
        }
    }

    #[test]
    fn pack_unpack_round_trips_a_block() {
        let pm = model_with_blocks(vec![vec![0, 2], vec![1]], 3);
        let mut omega = DMatrix::zeros(3, 3);
        omega[(0, 0)] = 0.3;
        omega[(2, 2)] = 0.2;
        omega[(0, 2)] = 0.1;
        omega[(2, 0)] = 0.1;
        omega[(1, 1)] = 0.5;
        let v = PopulationValues { psi: vec![], omega };
        let x = pm.pack(&v).expect("positive definite");
        // Block {0,2}: L11 = √0.3, L21 = 0.1/√0.3, L22 = √(0.2 − 0.01/0.3), by hand.
        assert!((x[0] - 0.3f64.sqrt().ln()).abs() < 1e-15);
        assert!((x[1] - 0.1 / 0.3f64.sqrt()).abs() < 1e-15);
        assert!((x[2] - (0.2f64 - 0.01 / 0.3).sqrt().ln()).abs() < 1e-15);
        assert!((x[3] - 0.5f64.sqrt().ln()).abs() < 1e-15);
        let back = pm.unpack(&x);
        assert!((back.omega - &v.omega).abs().max() < 1e-15);
        assert_eq!(pm.omega_name(2, 0), "omega2_P0_P2");
    }
}
