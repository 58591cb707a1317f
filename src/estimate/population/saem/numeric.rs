//! The numerical part of the M-step: parameters without IIV (structural parameters
//! declared without `iiv`, covariate coefficients) and the parameters of `combined`
//! error models, β, have no sufficient statistic.
//!
//! Our choice (the one of Monolix's default "optimisation" method for parameters without
//! variability, and of saemix for the combined error model; Comets, Lavenu & Lavielle
//! 2017, J Stat Softw 80(3), §2.2): at iteration k, with the current chains φ_ic,
//! Q_k(β) = Σ_i (1/C) Σ_c D_i(φ_ic; β) (D = −2 ln p(y | φ), censored records by M3) is
//! lowered by one damped Newton step from β_{k−1} (gradient and Hessian by central
//! differences with steps 10⁻⁴·max(1, |β|); the Hessian replaced by its diagonal
//! absolute values when not positive definite; the step halved up to 20 times until Q
//! decreases), giving β̂_k, and the estimate is smoothed like the statistics:
//! β_k = β_{k−1} + γ_k(β̂_k − β_{k−1}). Under γ_k = 1/k this averages the per-iteration
//! maximisers, the stochastic-approximation counterpart of a Newton–Raphson M-step.
//! The alternative — giving such parameters an artificial variance that is annealed to
//! zero — is not implemented.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::super::objective::PopulationProblem;
use super::kernels::{Current, SubjectChains};
use crate::model::Predict;

/// Q(ψ) over all subjects and chains (module docs); the η'd entries of ψ equal
/// `current.mu`. Returns (Q, evaluations).
pub fn q_value<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    psi: &[f64],
    current: &Current,
    states: &[SubjectChains],
) -> (f64, u64) {
    let per: Vec<(f64, u64)> = states
        .par_iter()
        .enumerate()
        .map(|(k, st)| {
            let target = current.target(problem, k, psi);
            let c = st.chains.len() as f64;
            let total: f64 = st.chains.iter().map(|ch| target.data(&ch.phi) / c).sum();
            (total, st.chains.len() as u64)
        })
        .collect();
    per.iter().fold((0.0, 0), |(a, n), (v, m)| (a + v, n + m))
}

/// One damped Newton step on Q over ψ[`numeric`] from `psi` (module docs); returns the
/// new ψ (clamped to the bounds) and the evaluations used.
pub fn newton_step<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    psi: &[f64],
    current: &Current,
    states: &[SubjectChains],
    numeric: &[usize],
) -> (Vec<f64>, u64) {
    let p = numeric.len();
    let mut evals = 0;
    let mut q = |x: &[f64]| {
        let (v, n) = q_value(problem, x, current, states);
        evals += n;
        v
    };
    let f0 = q(psi);
    if !f0.is_finite() || p == 0 {
        return (psi.to_vec(), evals);
    }
    let h: Vec<f64> = numeric
        .iter()
        .map(|&k| 1e-4 * psi[k].abs().max(1.0))
        .collect();
    let mut x = psi.to_vec();
    let mut grad = DVector::zeros(p);
    let mut hess = DMatrix::zeros(p, p);
    for a in 0..p {
        let ka = numeric[a];
        x[ka] = psi[ka] + h[a];
        let up = q(&x);
        x[ka] = psi[ka] - h[a];
        let down = q(&x);
        x[ka] = psi[ka];
        grad[a] = (up - down) / (2.0 * h[a]);
        hess[(a, a)] = (up - 2.0 * f0 + down) / (h[a] * h[a]);
        for b in 0..a {
            let kb = numeric[b];
            let mut corner = |sa: f64, sb: f64| {
                x[ka] = psi[ka] + sa * h[a];
                x[kb] = psi[kb] + sb * h[b];
                let v = q(&x);
                x[ka] = psi[ka];
                x[kb] = psi[kb];
                v
            };
            let v = (corner(1.0, 1.0) - corner(1.0, -1.0) - corner(-1.0, 1.0) + corner(-1.0, -1.0))
                / (4.0 * h[a] * h[b]);
            hess[(a, b)] = v;
            hess[(b, a)] = v;
        }
    }
    if grad.iter().any(|g| !g.is_finite()) {
        return (psi.to_vec(), evals);
    }
    let step = match hess.clone().cholesky() {
        Some(ch) if hess.iter().all(|v| v.is_finite()) => -ch.solve(&grad),
        _ => DVector::from_fn(p, |a, _| {
            -grad[a] / hess[(a, a)].abs().max(1e-8 * (1.0 + grad[a].abs()))
        }),
    };
    let mut alpha = 1.0;
    for _ in 0..20 {
        let mut trial = psi.to_vec();
        for a in 0..p {
            trial[numeric[a]] += alpha * step[a];
        }
        problem.pop.map.clamp(&mut trial);
        let ft = q(&trial);
        if ft.is_finite() && ft < f0 {
            return (trial, evals);
        }
        alpha *= 0.5;
    }
    (psi.to_vec(), evals)
}
