//! Levenberg–Marquardt on the expected information: the gradient stage of an individual
//! fit when the model has exact derivatives ([`super::objective::Objective::scoring_into`]).
//!
//! At ψ with −2LL F, gradient g and expected information J (Fisher scoring, the
//! generalised Gauss–Newton matrix of −2LL, [`super::gradient::neg2ll_scoring`]), the
//! step δ solves (J + μ·diag J)δ = −g over the coordinates free to move (a coordinate on
//! a bound with g pushing outward is held), and the trial point is ψ + δ projected into
//! the box. The damping μ follows Nielsen (1999; Madsen, Nielsen & Tingleff 2004,
//! "Methods for non-linear least squares problems", §3.2): with the gain ratio
//! ρ = (F(ψ) − F(ψ + δ)) / (−gᵀδ − ½δᵀJδ), an accepted step (ρ > 0) sets
//! μ ← μ·max(⅓, 1 − (2ρ − 1)³) and ν = 2, a rejected one μ ← μ·ν, ν ← 2ν; μ starts at
//! 10⁻³·max diag J.
//!
//! It stops, converged, when the scoring decrement gᵀ(J + μ·diag J)⁻¹g (twice the
//! predicted remaining decrease, the analogue of the Newton decrement) is below the
//! tolerance; unconverged at the iteration limit or when μ grows past 10¹⁶·max diag J
//! (no descent along any damped step: a kink or a flat direction). Each iteration costs
//! one prediction with its Jacobian and one or more plain predictions, against the
//! hundreds of evaluations of a Nelder–Mead run.

use super::objective::Objective;
use crate::model::Predict;

/// Where a Levenberg–Marquardt run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct LmResult {
    /// The last accepted point (inside the bounds).
    pub psi: Vec<f64>,
    /// −2LL there.
    pub neg2ll: f64,
    /// The exact gradient there.
    pub gradient: Vec<f64>,
    /// The expected information there (row-major, free parameters, estimation scale).
    pub information: Vec<f64>,
    /// The last scoring decrement gᵀ(J + μ·diag J)⁻¹g (+∞ before the first step).
    pub decrement: f64,
    /// The decrement test passed.
    pub converged: bool,
    /// Iterations (accepted and rejected steps).
    pub iterations: u64,
}

/// Levenberg–Marquardt from `x0` (module docs), at most `max_iter` iterations, converged
/// when the scoring decrement is below `tol`.
pub fn levenberg_marquardt<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    x0: &[f64],
    max_iter: u64,
    tol: f64,
) -> Result<LmResult, String> {
    let map = obj.map();
    let d = x0.len();
    let mut x = x0.to_vec();
    map.clamp(&mut x);
    let (mut g, mut info) = (vec![0.0; d], vec![0.0; d * d]);
    obj.scoring_into(&x, &mut g, Some(&mut info))
        .map_err(|e| e.to_string())?;
    let mut f = obj.value(&x).map_err(|e| e.to_string())?;
    if !f.is_finite() {
        return Err(format!("−2LL is not finite at the start ({f})"));
    }
    let max_diag = |info: &[f64]| (0..d).map(|k| info[k * d + k]).fold(0.0, f64::max);
    let mut mu = 1e-3 * max_diag(&info).max(1e-12);
    let mut nu = 2.0;
    let mut converged = false;
    let mut iterations = 0;
    let mut last_decrement = f64::INFINITY;
    let mut trial = vec![0.0; d];
    while iterations < max_iter {
        iterations += 1;
        let held: Vec<bool> = (0..d)
            .map(|k| (x[k] <= map.lower[k] && g[k] > 0.0) || (x[k] >= map.upper[k] && g[k] < 0.0))
            .collect();
        let Some(step) = damped_step(&info, &g, &held, mu) else {
            mu *= nu;
            nu *= 2.0;
            continue;
        };
        let decrement: f64 = -step.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>();
        last_decrement = decrement;
        if decrement < tol {
            converged = true;
            break;
        }
        for k in 0..d {
            trial[k] = x[k] + step[k];
        }
        map.clamp(&mut trial);
        let delta: Vec<f64> = trial.iter().zip(&x).map(|(t, a)| t - a).collect();
        let predicted =
            -delta.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>() - 0.5 * quadratic(&info, &delta);
        let ft = obj.cost(&trial);
        let rho = (f - ft) / predicted;
        if ft < f && predicted > 0.0 {
            x.copy_from_slice(&trial);
            // F from the plain prediction: the one every step is compared with (an ODE
            // solved with its sensitivities takes other steps, and differs by its error)
            f = ft;
            obj.scoring_into(&x, &mut g, Some(&mut info))
                .map_err(|e| e.to_string())?;
            mu *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
            nu = 2.0;
        } else {
            mu *= nu;
            nu *= 2.0;
        }
        if mu > 1e16 * max_diag(&info).max(1e-12) {
            break;
        }
    }
    Ok(LmResult {
        psi: x,
        neg2ll: f,
        gradient: g,
        information: info,
        decrement: last_decrement,
        converged,
        iterations,
    })
}

/// δ solving (J + μ·diag J)δ = −g over the free coordinates (held ones: δ = 0), by
/// Cholesky; `None` when the damped matrix is not positive definite or not finite.
fn damped_step(info: &[f64], g: &[f64], held: &[bool], mu: f64) -> Option<Vec<f64>> {
    let d = g.len();
    let free: Vec<usize> = (0..d).filter(|&k| !held[k]).collect();
    let n = free.len();
    let mut step = vec![0.0; d];
    if n == 0 {
        return Some(step);
    }
    let floor = 1e-12 * (0..d).map(|k| info[k * d + k]).fold(1.0, f64::max);
    let a = nalgebra::DMatrix::from_fn(n, n, |r, c| {
        let v = info[free[r] * d + free[c]];
        if r == c {
            v + mu * v.max(floor)
        } else {
            v
        }
    });
    if a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let rhs = nalgebra::DVector::from_iterator(n, free.iter().map(|&k| -g[k]));
    let solved = a.cholesky()?.solve(&rhs);
    for (r, &k) in free.iter().enumerate() {
        step[k] = solved[r];
    }
    Some(step)
}

/// δᵀ J δ.
fn quadratic(info: &[f64], delta: &[f64]) -> f64 {
    let d = delta.len();
    let mut s = 0.0;
    for k in 0..d {
        for l in 0..d {
            s += delta[k] * info[k * d + l] * delta[l];
        }
    }
    s
}
