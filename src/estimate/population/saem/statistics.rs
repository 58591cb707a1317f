//! Sufficient statistics and the closed-form M-step of SAEM (Delyon, Lavielle & Moulines
//! 1999, Ann Stat 27:94; Kuhn & Lavielle 2005).
//!
//! For the complete data (y, φ) with φ_i ~ N(μ, Ω) the statistics, averaged over the N
//! subjects and C chains, are s₁ = Σφ/(NC), s₂ = ΣφφᵀNC⁻¹ and, per residual parameter a
//! of a one-parameter error model (s_j = a·c_j with c_j = 1 for `add` and `logadd`,
//! c_j = |f_j| for `prop`), s_a = Σ_j (r_j/c_j)²/C over its n_a records (r_j on the error
//! model's scale). They are smoothed S_k = S_{k−1} + γ_k(s_k − S_{k−1}), and maximise the
//! complete likelihood in closed form: μ = S₁, Ω = S₂ − S₁S₁ᵀ restricted to its blocks
//! (the maximum of a Gaussian likelihood under a block-diagonal constraint keeps the
//! blocks of the sample covariance), a² = S_a/n_a.
//!
//! Censored records enter the residual statistics as Monolix does: y_j is drawn from its
//! conditional distribution given φ, the normal N(F_j, s_j²) truncated to y < L_j
//! (by inversion, z = Φ⁻¹(u·Φ(z_L)), u ~ U(0, 1), z_L = (L_j − F_j)/s_j), so that
//! (r_j/c_j)² = a²z².
//!
//! Simulated annealing (Lavielle 2014, Mixed Effects Models for the Population Approach,
//! §9.2.4; Monolix): during exploration each variance ω²_kk and a² falls at most by the
//! factor τ per iteration: ω²_kk ← max(ω²_kk, τ·ω²_kk,previous) (raising a diagonal
//! keeps Ω positive definite).

use nalgebra::DMatrix;
use rand::Rng;
use statrs::distribution::{ContinuousCDF, Normal};

use super::super::model::PopulationModel;
use super::kernels::{Chain, Target};
use crate::model::{ErrorModel, Predict, Role};
use crate::rng::SubjectRng;

/// Which free parameters are updated how.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Index in ψ of each η'd parameter (μ_k = ψ[eta_free[k]]).
    pub eta_free: Vec<usize>,
    /// Residual parameters with a closed-form update: (index in ψ, model parameter).
    pub residual: Vec<(usize, usize)>,
    /// Per model output: (closed-form residual group, proportional), or `None`.
    pub output_group: Vec<Option<(usize, bool)>>,
    /// Indices in ψ of the parameters updated by the numerical step (no IIV, or a
    /// `combined` error model).
    pub numeric: Vec<usize>,
}

impl Layout {
    /// The layout of `pop` for `model`.
    pub fn new<M: Predict + ?Sized>(model: &M, pop: &PopulationModel) -> Layout {
        let free = &pop.map.free;
        let position = |i: usize| free.iter().position(|&f| f == i);
        let eta_free: Vec<usize> = pop
            .eta_params
            .iter()
            .map(|&i| position(i).expect("η parameters are free"))
            .collect();
        let outputs = model.outputs();
        let single = |e: ErrorModel| match e {
            ErrorModel::Additive { a } | ErrorModel::LogAdditive { a } => Some((a, false)),
            ErrorModel::Proportional { b } => Some((b, true)),
            ErrorModel::Combined { .. } => None,
        };
        let in_combined = |i: usize| {
            outputs
                .iter()
                .any(|o| matches!(o.error, ErrorModel::Combined { a, b } if a == i || b == i))
        };
        let mut residual: Vec<(usize, usize)> = Vec::new();
        let mut output_group = Vec::with_capacity(outputs.len());
        for o in outputs {
            let g = single(o.error).and_then(|(i, prop)| {
                let k = position(i)?;
                if in_combined(i) {
                    return None;
                }
                let g = match residual.iter().position(|&(_, p)| p == i) {
                    Some(g) => g,
                    None => {
                        residual.push((k, i));
                        residual.len() - 1
                    }
                };
                Some((g, prop))
            });
            output_group.push(g);
        }
        let params = model.parameters();
        let numeric = (0..free.len())
            .filter(|k| !eta_free.contains(k) && !residual.iter().any(|r| r.0 == *k))
            .filter(|&k| params[free[k]].role == Role::Structural || in_combined(free[k]))
            .collect();
        Layout {
            eta_free,
            residual,
            output_group,
            numeric,
        }
    }
}

/// The SAEM statistics (module docs), already divided by N·C (φ) or C (residuals).
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// s₁.
    pub s1: Vec<f64>,
    /// s₂ (d × d).
    pub s2: DMatrix<f64>,
    /// s_a per residual group.
    pub res: Vec<f64>,
    /// n_a per residual group.
    pub n_res: Vec<f64>,
}

impl Statistics {
    /// Zero statistics.
    pub fn zeros(d: usize, groups: usize) -> Statistics {
        Statistics {
            s1: vec![0.0; d],
            s2: DMatrix::zeros(d, d),
            res: vec![0.0; groups],
            n_res: vec![0.0; groups],
        }
    }

    /// Add another subject's statistics.
    pub fn add(&mut self, o: &Statistics) {
        self.s1.iter_mut().zip(&o.s1).for_each(|(a, b)| *a += b);
        self.s2 += &o.s2;
        self.res.iter_mut().zip(&o.res).for_each(|(a, b)| *a += b);
        self.n_res
            .iter_mut()
            .zip(&o.n_res)
            .for_each(|(a, b)| *a += b);
    }

    /// Divide the φ statistics by `n` (subjects).
    pub fn per_subject(mut self, n: f64) -> Statistics {
        self.s1.iter_mut().for_each(|a| *a /= n);
        self.s2 /= n;
        self
    }

    /// S + γ(s − S).
    pub fn approach(&mut self, s: &Statistics, gamma: f64) {
        self.s1
            .iter_mut()
            .zip(&s.s1)
            .for_each(|(a, b)| *a += gamma * (b - *a));
        self.s2 += (&s.s2 - &self.s2) * gamma;
        self.res
            .iter_mut()
            .zip(&s.res)
            .for_each(|(a, b)| *a += gamma * (b - *a));
        self.n_res.clone_from(&s.n_res);
    }
}

/// One subject's statistics from its chains (censored records imputed, module docs).
pub fn subject_statistics<M: Predict + ?Sized>(
    target: &Target<'_, M>,
    layout: &Layout,
    chains: &[Chain],
    rng: &mut SubjectRng,
) -> Statistics {
    let d = target.mu.len();
    let groups = layout.residual.len();
    let mut st = Statistics::zeros(d, groups);
    let c = chains.len() as f64;
    let r = target.cond.records;
    let normal = Normal::standard();
    for chain in chains {
        for i in 0..d {
            st.s1[i] += chain.phi[i] / c;
            for j in 0..d {
                st.s2[(i, j)] += chain.phi[i] * chain.phi[j] / c;
            }
        }
        if groups == 0 {
            continue;
        }
        let eta = target.eta(&chain.phi);
        let Ok((f, s)) = target.cond.moments(&eta) else {
            continue;
        };
        let theta = target.cond.theta(&eta);
        for j in 0..r.len() {
            let Some((g, prop)) = layout.output_group[r.outputs[j]] else {
                continue;
            };
            let a = theta[layout.residual[g].1];
            let scale = if prop { s[j] / a } else { 1.0 };
            let unit = if r.censored[j] {
                let zl = (r.scaled[j] - f[j]) / s[j];
                a * truncated_normal(&normal, zl, rng)
            } else {
                (r.scaled[j] - f[j]) / scale
            };
            st.res[g] += unit * unit / c;
            st.n_res[g] += 1.0 / c;
        }
    }
    st
}

/// A standard normal draw truncated to z < zl (by inversion; below z_L = −37, where Φ
/// underflows, the exponential tail approximation z = z_L − E/|z_L|, E ~ Exp(1)).
fn truncated_normal(normal: &Normal, zl: f64, rng: &mut SubjectRng) -> f64 {
    let u: f64 = rng.random();
    let p = normal.cdf(zl);
    if p > 1e-300 {
        normal.inverse_cdf((u * p).max(f64::MIN_POSITIVE)).min(zl)
    } else {
        zl + (1.0 - u).ln() / zl.abs()
    }
}

/// The closed-form maximisers (module docs): μ and Ω, and each residual a.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedForm {
    /// μ.
    pub mu: Vec<f64>,
    /// Ω (blocks only).
    pub omega: DMatrix<f64>,
    /// a per residual group (natural scale); `None` when the group has no record.
    pub residual: Vec<Option<f64>>,
}

/// The M-step of the statistics `s` for the Ω blocks `blocks`.
pub fn maximise(s: &Statistics, blocks: &[Vec<usize>]) -> ClosedForm {
    let d = s.s1.len();
    let mut omega = DMatrix::zeros(d, d);
    for b in blocks {
        for &i in b {
            for &j in b {
                omega[(i, j)] = s.s2[(i, j)] - s.s1[i] * s.s1[j];
            }
        }
    }
    for i in 0..d {
        omega[(i, i)] = omega[(i, i)].max(1e-8);
    }
    ClosedForm {
        mu: s.s1.clone(),
        omega,
        residual: s
            .res
            .iter()
            .zip(&s.n_res)
            .map(|(&v, &n)| (n > 0.0).then(|| (v / n).sqrt().max(1e-12)))
            .collect(),
    }
}

/// Annealing (module docs): variances no lower than τ times the previous ones.
pub fn anneal(cf: &mut ClosedForm, previous_omega: &DMatrix<f64>, previous_res: &[f64], tau: f64) {
    for i in 0..cf.omega.nrows() {
        cf.omega[(i, i)] = cf.omega[(i, i)].max(tau * previous_omega[(i, i)]);
    }
    for (a, &p) in cf.residual.iter_mut().zip(previous_res) {
        if let Some(a) = a {
            *a = a.max(tau.sqrt() * p);
        }
    }
}
