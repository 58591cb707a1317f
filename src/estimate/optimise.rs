//! Minimisation of one subject's −2LL on the estimation scale, with argmin 0.11.
//!
//! 1. Screen: evaluate every start point ([`super::start`]); keep the `n_local` best
//!    with a finite objective.
//!
//! With exact model derivatives ([`Objective::exact_gradient`]) stages 2–3 are
//! Levenberg–Marquardt on the expected information ([`super::levenberg`]) from the
//! [`LM_RUNS`] (or `n_local`, if more) best start points, ties as below; a converged run
//! is the optimum (its scoring decrement passed; no Newton polish). Only when no run
//! converges (a kink, e.g. Stein's Tmax between two samples) do Nelder–Mead and BFGS
//! continue from the best LM point, then step 4 as described. Without exact
//! derivatives:
//!
//! 2. Derivative-free stage: Nelder–Mead (Nelder & Mead 1965; argmin's implementation,
//!    standard coefficients α = 1, γ = 2, ρ = ½, σ = ½) from each kept point, initial
//!    simplex = the point plus `simplex_step` along each axis (argmin's executor timer
//!    off). Stops when the standard
//!    deviation of the simplex costs is below `nm_sd_tol` or after `nm_max_iter`
//!    iterations. Infeasible points cost +∞ and are ranked last.
//! 3. Gradient stage: BFGS (Nocedal & Wright 2006, Alg. 6.1) with the Moré–Thuente line
//!    search from the chosen Nelder–Mead point, with central finite-difference gradients
//!    ([`super::objective`]) and the initial inverse Hessian H₀⁻¹ from the
//!    central-difference Hessian there (when positive definite; else a scaled identity),
//!    so the first step is a Newton step. Stops when the gradient's 2-norm is below
//!    `grad_tol` or after `bfgs_max_iter` iterations; a failed line search keeps the
//!    better of the two stages' points.
//!    Several Nelder–Mead runs ending within max([`TIE_TOL`], 10·`nm_sd_tol`) of the
//!    lowest −2LL are ties
//!    (e.g. the two labellings of a biexponential, (α, F_B) ↔ (β, 1 − F_B)): the one
//!    closest to the typical values (Euclidean, estimation scale) is kept, so estimates
//!    follow the model's declared convention.
//! 4. Newton polish and convergence test: with g the central-difference gradient and H
//!    the central-difference Hessian ([`super::covariance::hessian`]) at the point, when
//!    H is positive definite take the Newton step −H⁻¹g, otherwise the shifted step
//!    −(H + μI)⁻¹g (Levenberg-type, smallest μ that makes it positive definite), halved
//!    up to 20 times until −2LL does not increase, at most `newton_max_iter` times,
//!    until the Newton
//!    decrement gᵀH⁻¹g (twice the predicted remaining decrease of −2LL; scale-free)
//!    is below `newton_tol`: converged. When H is not positive definite (a parameter on a
//!    bound or not identifiable), the test is the ∞-norm of g over the coordinates free
//!    to move (not on a bound with g pushing outward) below `grad_tol`. A point that fails
//!    the test but where no axis step lowers −2LL (O'Neill's AS 47 check) is a
//!    non-smooth optimum — e.g. a change point such as Stein's Tmax sitting on a
//!    sampling time — and counts as converged, with the reason reported.

use argmin::core::{CostFunction, Error, Executor, Gradient, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::BFGS;

use super::covariance::hessian;
use super::levenberg::{levenberg_marquardt, LmResult};
use super::objective::Objective;
use super::settings::FitSettings;
use crate::model::Predict;

/// Where a minimisation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimum {
    /// Free parameters on the estimation scale (inside the bounds).
    pub psi: Vec<f64>,
    /// −2LL there.
    pub neg2ll: f64,
    /// Central-difference gradient there.
    pub gradient: Vec<f64>,
    /// Central-difference Hessian there (row-major), when it could be evaluated.
    pub hessian: Option<Vec<f64>>,
    /// The expected information there (row-major), when Levenberg–Marquardt converged.
    pub information: Option<Vec<f64>>,
    /// Newton decrement gᵀH⁻¹g there (when H is positive definite).
    pub decrement: Option<f64>,
    /// Passed the convergence test (module docs, step 4).
    pub converged: bool,
    /// Why it stopped, for the report.
    pub message: String,
    /// Objective evaluations used.
    pub evaluations: u64,
}

/// argmin adapter over an [`Objective`].
struct Problem<'o, 'a, M: Predict + ?Sized>(&'o Objective<'a, M>);

impl<M: Predict + ?Sized> CostFunction for Problem<'_, '_, M> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, psi: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.0.cost(psi))
    }
}

impl<M: Predict + ?Sized> Gradient for Problem<'_, '_, M> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, psi: &Vec<f64>) -> Result<Vec<f64>, Error> {
        let mut g = vec![0.0; psi.len()];
        self.0
            .gradient_into(psi, &mut g)
            .map_err(|e| Error::msg(e.to_string()))?;
        Ok(g)
    }
}

/// Nelder–Mead from `x0`; returns the best point and its cost.
fn nelder_mead<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    x0: &[f64],
    s: &FitSettings,
) -> Result<(Vec<f64>, f64), Error> {
    let mut simplex = vec![x0.to_vec()];
    for k in 0..x0.len() {
        let mut v = x0.to_vec();
        // Step inward when the axis step would leave the box.
        let up = v[k] + s.simplex_step;
        v[k] = if up <= obj.map().upper[k] {
            up
        } else {
            v[k] - s.simplex_step
        };
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(s.nm_sd_tol)?;
    let res = Executor::new(Problem(obj), solver)
        .timer(false)
        .configure(|st| st.max_iters(s.nm_max_iter))
        .run()?;
    let st = res.state();
    let mut best = st.best_param.clone().unwrap_or_else(|| x0.to_vec());
    obj.map().clamp(&mut best);
    Ok((best, st.best_cost))
}

/// BFGS from `x0` with initial inverse Hessian `inv_h0`: the best point, its cost and
/// why it stopped.
fn bfgs<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    x0: Vec<f64>,
    inv_h0: Vec<Vec<f64>>,
    s: &FitSettings,
) -> Result<(Vec<f64>, f64, String), Error> {
    let solver = BFGS::new(MoreThuenteLineSearch::new())
        .with_tolerance_grad(s.grad_tol)?
        .with_tolerance_cost(1e-8)?;
    let res = Executor::new(Problem(obj), solver)
        .timer(false)
        .configure(|st| st.param(x0).inv_hessian(inv_h0).max_iters(s.bfgs_max_iter))
        .run()?;
    let st = res.state();
    let reason = match st.termination_status {
        argmin::core::TerminationStatus::Terminated(TerminationReason::MaxItersReached) => {
            "BFGS iteration limit".to_string()
        }
        ref t => format!("BFGS: {t}"),
    };
    let mut best = st.best_param.clone().unwrap_or_default();
    obj.map().clamp(&mut best);
    Ok((best, st.best_cost, reason))
}

/// Initial inverse Hessian for BFGS: H⁻¹ of the central-difference Hessian when it is
/// positive definite, else the identity scaled by 1/max(1, largest |Hᵢᵢ|).
fn initial_inverse_hessian<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    x: &[f64],
) -> Vec<Vec<f64>> {
    let d = x.len();
    let h = hessian(obj, x).ok();
    if let Some(h) = &h {
        let m = nalgebra::DMatrix::from_row_slice(d, d, h);
        if m.iter().all(|v| v.is_finite()) {
            if let Some(c) = m.clone().cholesky() {
                let inv = c.inverse();
                return (0..d)
                    .map(|i| (0..d).map(|j| inv[(i, j)]).collect())
                    .collect();
            }
        }
    }
    let scale = h
        .map(|h| (0..d).map(|i| h[i * d + i].abs()).fold(1.0, f64::max))
        .unwrap_or(1.0);
    (0..d)
        .map(|i| {
            (0..d)
                .map(|j| if i == j { 1.0 / scale } else { 0.0 })
                .collect()
        })
        .collect()
}

/// Tie tolerance on −2LL between Nelder–Mead runs.
pub const TIE_TOL: f64 = 1e-4;

/// O'Neill's (1971, Appl Stat AS 47) test for a minimum of a possibly non-smooth
/// objective: no step ±δ·max(1, |ψₖ|) along any axis, δ ∈ {10⁻³, 10⁻⁵}, lowers F below
/// F(ψ) − tol.
fn axis_minimum<M: Predict + ?Sized>(obj: &Objective<'_, M>, x: &[f64], fx: f64, tol: f64) -> bool {
    let mut probe = x.to_vec();
    for k in 0..x.len() {
        for delta in [1e-3, 1e-5] {
            for sign in [1.0, -1.0] {
                probe[k] = x[k] + sign * delta * x[k].abs().max(1.0);
                obj.map().clamp(&mut probe);
                let f = obj.cost(&probe);
                probe[k] = x[k];
                if f < fx - tol {
                    return false;
                }
            }
        }
    }
    true
}

/// The Newton step −H⁻¹g and `true` when H (row-major) is positive definite; otherwise
/// the step −(H + μI)⁻¹g with the smallest μ = 10ᵏ·10⁻⁸·max(1, max |Hᵢᵢ|), k = 0..16,
/// that makes the matrix positive definite (Levenberg-type shift; Nocedal & Wright
/// 2006 §3.4) and `false`.
fn newton_step(hess: &[f64], g: &[f64]) -> Option<(Vec<f64>, bool)> {
    let d = g.len();
    let h = nalgebra::DMatrix::from_row_slice(d, d, hess);
    if h.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let rhs = nalgebra::DVector::from_column_slice(g);
    let negate = |v: nalgebra::DVector<f64>| v.iter().map(|x| -x).collect::<Vec<f64>>();
    if let Some(chol) = h.clone().cholesky() {
        return Some((negate(chol.solve(&rhs)), true));
    }
    let scale = (0..d).map(|i| h[(i, i)].abs()).fold(1.0, f64::max);
    let mut mu = 1e-8 * scale;
    for _ in 0..=16 {
        let shifted = &h + nalgebra::DMatrix::<f64>::identity(d, d) * mu;
        if let Some(chol) = shifted.cholesky() {
            return Some((negate(chol.solve(&rhs)), false));
        }
        mu *= 10.0;
    }
    None
}

/// The gradient's ∞-norm over coordinates free to move (module docs, step 4).
fn active_gradient_norm(obj_lower: &[f64], obj_upper: &[f64], psi: &[f64], g: &[f64]) -> f64 {
    let mut m: f64 = 0.0;
    for k in 0..psi.len() {
        let at_lo = psi[k] <= obj_lower[k] && g[k] > 0.0;
        let at_hi = psi[k] >= obj_upper[k] && g[k] < 0.0;
        if !(at_lo || at_hi) {
            m = m.max(g[k].abs());
        }
    }
    m
}

/// Ties (within `tol` of the lowest −2LL): the run closest to the typical values wins
/// (module docs).
fn pick<T>(runs: Vec<(Vec<f64>, f64, T)>, typical: &[f64], tol: f64) -> Option<(Vec<f64>, f64, T)> {
    let lowest = runs.iter().map(|r| r.1).min_by(f64::total_cmp)?;
    let distance = |x: &[f64]| -> f64 {
        x.iter()
            .zip(typical)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
    };
    runs.into_iter()
        .filter(|r| r.1 <= lowest + tol)
        .min_by(|a, b| distance(&a.0).total_cmp(&distance(&b.0)))
}

/// Stages 2–3 with exact derivatives: Levenberg–Marquardt ([`super::levenberg`]) from
/// the [`LM_RUNS`] best start points; the chosen point, the report, and whether it
/// converged.
fn levenberg_stage<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    best: &[&Vec<f64>],
    typical: &[f64],
    s: &FitSettings,
) -> Result<(LmResult, String), String> {
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for x0 in best.iter().take(s.n_local.max(LM_RUNS)) {
        match levenberg_marquardt(obj, x0, s.bfgs_max_iter, s.newton_tol) {
            Ok(r) if r.neg2ll.is_finite() => runs.push((r.psi.clone(), r.neg2ll, r)),
            Ok(_) => failures.push("ended at an infeasible point".to_string()),
            Err(e) => failures.push(e),
        }
    }
    let Some((_, _, lm)) = pick(runs, typical, TIE_TOL) else {
        return Err(format!(
            "Levenberg–Marquardt failed: {}",
            failures.join("; ")
        ));
    };
    let message = if lm.converged {
        format!(
            "Levenberg–Marquardt converged in {} iterations",
            lm.iterations
        )
    } else {
        format!(
            "Levenberg–Marquardt stopped unconverged after {} iterations",
            lm.iterations
        )
    };
    Ok((lm, message))
}

/// Stages 2–3 without exact derivatives: Nelder–Mead from each of `best`, then BFGS
/// from the chosen point; the point and the report.
fn nelder_mead_bfgs<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    best: &[&Vec<f64>],
    typical: &[f64],
    s: &FitSettings,
) -> Result<(Vec<f64>, String), String> {
    let mut runs = Vec::new();
    let mut nm_failures = Vec::new();
    for x0 in best {
        match nelder_mead(obj, x0, s) {
            Ok((x, c)) if c.is_finite() => runs.push((x, c, ())),
            Ok(_) => nm_failures.push("Nelder–Mead ended at an infeasible point".to_string()),
            Err(e) => nm_failures.push(e.to_string()),
        }
    }
    let Some((nm_x, nm_cost, ())) = pick(runs, typical, TIE_TOL.max(10.0 * s.nm_sd_tol)) else {
        return Err(format!("Nelder–Mead failed: {}", nm_failures.join("; ")));
    };
    let inv_h0 = initial_inverse_hessian(obj, &nm_x);
    Ok(match bfgs(obj, nm_x.clone(), inv_h0, s) {
        Ok((x, c, why)) if c.is_finite() && c <= nm_cost => (x, why),
        Ok((_, _, why)) => (nm_x, format!("{why}; kept the Nelder–Mead point")),
        Err(e) => (
            nm_x,
            format!("BFGS stopped ({e}); kept the Nelder–Mead point"),
        ),
    })
}

/// Levenberg–Marquardt runs from the best start points (at least; `n_local` if more).
pub const LM_RUNS: usize = 3;

/// Minimise the objective from `starts` (the first is the typical values).
pub fn minimise<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    starts: &[Vec<f64>],
    s: &FitSettings,
) -> Result<Optimum, String> {
    let mut screened: Vec<(f64, &Vec<f64>)> = starts
        .iter()
        .map(|p| (obj.cost(p), p))
        .filter(|(c, _)| c.is_finite())
        .collect();
    if screened.is_empty() {
        let why = starts
            .first()
            .and_then(|p| obj.value(p).err())
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no start point".into());
        return Err(format!(
            "the objective is not finite at any of the {} start points (at the typical values: {why})",
            starts.len()
        ));
    }
    // Stable sort: ties keep the start order, so the typical values win a tie.
    screened.sort_by(|a, b| a.0.total_cmp(&b.0));
    let typical = &starts[0];
    let best: Vec<&Vec<f64>> = screened.iter().map(|(_, p)| *p).collect();
    let (mut x, mut message) = if obj.exact_gradient() {
        let (lm, lm_message) = levenberg_stage(obj, &best, typical, s)?;
        if lm.converged {
            // The scoring decrement passed: the optimum, without a Newton polish.
            return Ok(Optimum {
                psi: lm.psi,
                neg2ll: lm.neg2ll,
                gradient: lm.gradient,
                hessian: None,
                information: Some(lm.information),
                decrement: Some(lm.decrement),
                converged: true,
                message: lm_message,
                evaluations: obj.evaluations(),
            });
        } else {
            let x = lm.psi;
            let (x, why) = nelder_mead_bfgs(obj, &[&x], typical, s)?;
            (x, format!("{lm_message}; then {why}"))
        }
    } else {
        nelder_mead_bfgs(obj, &best[..best.len().min(s.n_local)], typical, s)?
    };
    obj.map().clamp(&mut x);
    let mut fx = obj.value(&x).map_err(|e| e.to_string())?;
    let d = x.len();
    let mut gradient = vec![0.0; d];
    let mut hess = None;
    let mut decrement = None;
    for iter in 0..=s.newton_max_iter {
        obj.gradient_into(&x, &mut gradient)
            .map_err(|e| format!("gradient at the optimum: {e}"))?;
        let h = hessian(obj, &x).ok();
        let step = h.as_deref().and_then(|h| newton_step(h, &gradient));
        hess = h;
        let Some((step, pd)) = step else {
            decrement = None;
            break;
        };
        if pd {
            let dec: f64 = -step.iter().zip(&gradient).map(|(a, b)| a * b).sum::<f64>();
            decrement = Some(dec);
            if dec < s.newton_tol {
                break;
            }
        } else {
            decrement = None;
            let norm = active_gradient_norm(&obj.map().lower, &obj.map().upper, &x, &gradient);
            if norm < s.grad_tol {
                break;
            }
        }
        if iter == s.newton_max_iter {
            break;
        }
        let mut alpha = 1.0;
        let mut moved = false;
        for _ in 0..20 {
            let mut trial: Vec<f64> = x.iter().zip(&step).map(|(a, b)| a + alpha * b).collect();
            obj.map().clamp(&mut trial);
            let ft = obj.cost(&trial);
            if ft <= fx {
                moved = ft < fx || trial != x;
                x = trial;
                fx = ft;
                break;
            }
            alpha *= 0.5;
        }
        if !moved {
            break;
        }
    }
    let smooth = match decrement {
        Some(dec) if dec < s.newton_tol => Ok(()),
        Some(dec) => Err(format!(
            "Newton decrement {dec:.3e} ≥ tolerance {:.1e}",
            s.newton_tol
        )),
        None => {
            let norm = active_gradient_norm(&obj.map().lower, &obj.map().upper, &x, &gradient);
            if norm < s.grad_tol {
                Ok(())
            } else {
                Err(format!(
                    "Hessian not positive definite and gradient ∞-norm {norm:.3e} ≥ tolerance {:.1e}",
                    s.grad_tol
                ))
            }
        }
    };
    let converged = match smooth {
        Ok(()) => true,
        Err(why) => {
            if axis_minimum(obj, &x, fx, s.newton_tol) {
                message = format!(
                    "{message}; non-smooth optimum: {why}, but no axis step lowers −2LL (O'Neill 1971 AS 47 check)"
                );
                true
            } else {
                message = format!("{message}; {why}");
                false
            }
        }
    };
    let neg2ll = fx;
    Ok(Optimum {
        psi: x,
        neg2ll,
        gradient,
        hessian: hess,
        information: None,
        decrement,
        converged,
        message,
        evaluations: obj.evaluations(),
    })
}
