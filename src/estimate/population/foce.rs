//! FOCE-I (or Laplacian) estimation: the outer minimisation of the population objective
//! ([`super::objective`]) over the packed θ and log-Cholesky Ω.
//!
//! Algorithm: BFGS (Nocedal & Wright 2006, Alg. 6.1) started from the inverse of the
//! diagonal of the BHHH matrix ½ Σ_i g_i g_iᵀ of the per-subject gradients
//! ([`bhhh_inverse`]: the curvature of each parameter from the start, where a scaled
//! identity takes tens of iterations to learn how differently θ and Ω curve; when it is
//! singular, a steepest descent step, then the identity scaled by sᵀy/yᵀy, their eq.
//! 6.20), trial steps of at most 1 along any packed parameter ([`limit_step`]), a
//! backtracking Armijo line search (c₁ = 10⁻⁴, step halved up to 30 times) and projection of θ into its bounds. The gradient is
//! exact for a model of exact derivatives (implicit differentiation of the EBEs,
//! [`super::foce_gradient`]: a few subject solves per parameter instead of two EBE
//! searches). Otherwise (models without exact derivatives) it is by
//! central differences of the objective with steps h_k = `fd_step`·max(1, |x_k|): larger
//! than the ε^⅓ rule because each objective value carries the EBE search's rounding
//! (10⁻¹⁰–10⁻⁸), which a step of 10⁻⁴ turns into a gradient error of 10⁻⁶–10⁻⁴ while the
//! truncation error stays O(h²) ≈ 10⁻⁸. Every objective evaluation warm-starts the EBEs
//! from those of the current point.
//!
//! Convergence: the ∞-norm of the projected gradient (components at a bound pushing out
//! of it left out) below `grad_tol` (OFV units per unit of the packed scale). When no step
//! along the BFGS direction or the gradient lowers the OFV while the gradient is below
//! `noise_tol`, the point is reported as converged "at the noise floor of the
//! gradient". With a larger gradient the objective has a kink there
//! (a change point such as stein2019's Tmax falling between samples makes the gradient
//! jump): each coordinate is then polled with steps ±10⁻³·max(1, |x_k|) (a pattern-search
//! poll, Kolda, Lewis & Torczon 2003, SIAM Rev 45:385); a lower OFV restarts BFGS from
//! there, none ends the fit as converged at a kink. Likewise, when the OFV falls by
//! less than `ofv_tol` in each of `stall_iterations` consecutive iterations with the
//! gradient below `noise_tol`, the
//! change of the OFV has reached the noise of its evaluation and the fit is converged
//! (NONMEM stops on the significant digits of the estimates in the same spirit); so is
//! it when, with the gradient below `noise_tol`, the decrease of the OFV that the BFGS
//! model predicts, ½gᵀH⁻¹g, is below `decrement_tol` (10⁻⁵: the estimates are then
//! within about √(2·10⁻⁵) ≈ 0.005 standard errors of the model's minimum; this ends the
//! slow approach of a variance towards 0, and the wandering at the OFV's noise floor
//! of an ODE model). Progress is reported to an observer, never printed.

use super::foce_gradient;
use super::objective::{Evaluation, PopulationProblem};
use crate::model::Predict;

/// Settings of the outer optimiser.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FoceSettings {
    /// Iteration limit.
    pub max_iter: usize,
    /// Convergence: projected-gradient ∞-norm (OFV per unit of the packed scale).
    pub grad_tol: f64,
    /// Gradient level accepted as converged when the line search cannot improve.
    pub noise_tol: f64,
    /// Relative finite-difference step of the outer gradient.
    pub fd_step: f64,
    /// Converged when the OFV falls by less than this over `stall_iterations`
    /// consecutive iterations while the gradient is below `noise_tol`.
    pub ofv_tol: f64,
    /// See `ofv_tol`.
    pub stall_iterations: usize,
    /// Converged when the decrease of the OFV that the quasi-Newton model predicts,
    /// ½ gᵀH⁻¹g, is below this while the gradient is below `noise_tol`.
    #[serde(default = "default_decrement_tol")]
    pub decrement_tol: f64,
}

/// [`FoceSettings::decrement_tol`] when a settings file predates it.
fn default_decrement_tol() -> f64 {
    1e-5
}

impl Default for FoceSettings {
    fn default() -> Self {
        FoceSettings {
            max_iter: 500,
            grad_tol: 1e-3,
            noise_tol: 5e-2,
            fd_step: 1e-4,
            ofv_tol: 1e-6,
            stall_iterations: 3,
            decrement_tol: default_decrement_tol(),
        }
    }
}

/// One outer iteration, as reported to the observer and kept in the trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Iteration {
    /// Iteration number (0 = the start).
    pub iteration: usize,
    /// OFV (NONMEM convention, without constants).
    pub ofv: f64,
    /// Projected-gradient ∞-norm.
    pub gradient_norm: f64,
    /// Objective evaluations so far.
    pub evaluations: usize,
}

/// Where the outer minimisation ended.
#[derive(Debug, Clone)]
pub struct OuterResult {
    /// Packed parameters.
    pub x: Vec<f64>,
    /// The objective there.
    pub evaluation: Evaluation,
    /// Central-difference gradient there.
    pub gradient: Vec<f64>,
    /// Per-subject gradients there (for the S matrix).
    pub subject_gradients: Vec<Vec<f64>>,
    /// Met the convergence test.
    pub converged: bool,
    /// Why it stopped.
    pub message: String,
    /// Iterations done.
    pub iterations: usize,
    /// Objective evaluations.
    pub evaluations: usize,
    /// One entry per iteration.
    pub trace: Vec<Iteration>,
}

/// The gradient of the objective at x and the per-subject gradients, `at` the
/// objective's evaluation there: exact ([`super::foce_gradient`]) for a model of exact
/// derivatives, otherwise by central differences ([`gradient`]) with EBEs
/// warm-started from those at x.
pub fn outer_gradient<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    at: &Evaluation,
    fd_step: f64,
    count: &mut usize,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    if foce_gradient::available(problem) {
        return foce_gradient::gradient(problem, x, &at.modes, fd_step);
    }
    let warm: Vec<Vec<f64>> = at.modes.iter().map(|m| m.eta.clone()).collect();
    gradient(problem, x, &warm, fd_step, count)
}

/// Central-difference gradient of the objective at x (and per-subject gradients),
/// EBEs warm-started from `warm`.
pub fn gradient<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    warm: &[Vec<f64>],
    fd_step: f64,
    count: &mut usize,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    let p = x.len();
    let mut g = vec![0.0; p];
    let mut per = vec![vec![0.0; p]; problem.subjects.len()];
    let mut probe = x.to_vec();
    for k in 0..p {
        let h = fd_step * x[k].abs().max(1.0);
        probe[k] = x[k] + h;
        let up = problem.evaluate(&probe, warm);
        probe[k] = x[k] - h;
        let down = problem.evaluate(&probe, warm);
        probe[k] = x[k];
        *count += 2;
        let (up, down) = (up?, down?);
        g[k] = (up.neg2ll - down.neg2ll) / (2.0 * h);
        for (i, row) in per.iter_mut().enumerate() {
            row[k] = (up.per_subject[i] - down.per_subject[i]) / (2.0 * h);
        }
    }
    Ok((g, per))
}

/// ∞-norm of the gradient over components free to move.
fn projected_norm<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    g: &[f64],
) -> f64 {
    let map = &problem.pop.map;
    let nt = map.len();
    let mut m: f64 = 0.0;
    for k in 0..x.len() {
        if k < nt {
            let at_lo = x[k] <= map.lower[k] && g[k] > 0.0;
            let at_hi = x[k] >= map.upper[k] && g[k] < 0.0;
            if at_lo || at_hi {
                continue;
            }
        }
        m = m.max(g[k].abs());
    }
    m
}

/// Minimise the population objective from packed `x0` (module docs).
pub fn minimise<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x0: &[f64],
    settings: &FoceSettings,
    observer: &dyn Fn(&Iteration),
) -> Result<OuterResult, String> {
    let p = x0.len();
    let constant = problem.constant();
    let mut x = x0.to_vec();
    problem.pop.clamp_packed(&mut x);
    let mut count = 1;
    let mut current = problem
        .evaluate(&x, &problem.zero_etas())
        .map_err(|e| format!("the objective cannot be evaluated at the initial values: {e}"))?;
    let mut warm: Vec<Vec<f64>> = current.modes.iter().map(|m| m.eta.clone()).collect();
    let (mut g, mut per) = outer_gradient(problem, &x, &current, settings.fd_step, &mut count)?;
    let mut hinv: Option<Vec<f64>> = None;
    let mut trace = Vec::new();
    let mut converged = false;
    let message;
    let mut iterations = 0;
    let mut norm = projected_norm(problem, &x, &g);
    let record = |it: usize, ofv: f64, norm: f64, count: usize, trace: &mut Vec<Iteration>| {
        let item = Iteration {
            iteration: it,
            ofv: ofv - constant,
            gradient_norm: norm,
            evaluations: count,
        };
        observer(&item);
        trace.push(item);
    };
    record(0, current.neg2ll, norm, count, &mut trace);
    let mut retried = false;
    let mut stalled = 0;
    // H⁻¹ has had a BFGS update since the last (re)start.
    let mut updated = false;
    loop {
        if stalled >= settings.stall_iterations && norm < settings.noise_tol {
            converged = true;
            message = format!(
                "the OFV fell by less than {:.0e} in each of the last {stalled} iterations, with gradient ∞-norm {norm:.2e} < {:.0e}",
                settings.ofv_tol, settings.noise_tol
            );
            break;
        }
        if norm < settings.grad_tol {
            converged = true;
            message = format!(
                "gradient ∞-norm {norm:.2e} < {:.0e} after {iterations} iterations",
                settings.grad_tol
            );
            break;
        }
        if iterations >= settings.max_iter {
            message = format!(
                "iteration limit {} reached (gradient ∞-norm {norm:.2e})",
                settings.max_iter
            );
            break;
        }
        // Direction −H⁻¹g (first: the BHHH diagonal's, else steepest descent scaled to a
        // largest step of 0.5).
        if hinv.is_none() && !retried {
            hinv = bhhh_inverse(&per);
        }
        let dir: Vec<f64> = match &hinv {
            Some(h) => (0..p)
                .map(|i| -(0..p).map(|j| h[i * p + j] * g[j]).sum::<f64>())
                .collect(),
            None => {
                let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
                g.iter().map(|v| -0.5 * v / gmax).collect()
            }
        };
        let slope: f64 = dir.iter().zip(&g).map(|(a, b)| a * b).sum();
        let dir = if slope < 0.0 {
            dir
        } else {
            g.iter().map(|v| -v).collect()
        };
        // The decrease the quasi-Newton model predicts (after at least one BFGS update).
        let predicted = if slope < 0.0 {
            -0.5 * slope
        } else {
            f64::INFINITY
        };
        if updated && predicted < settings.decrement_tol && norm < settings.noise_tol {
            converged = true;
            message = format!(
                "the predicted decrease of the OFV, ½gᵀH⁻¹g = {predicted:.1e}, is below {:.0e}, with gradient ∞-norm {norm:.2e} < {:.0e}",
                settings.decrement_tol, settings.noise_tol
            );
            break;
        }
        iterations += 1;
        let dir = limit_step(dir);
        let slope: f64 = dir.iter().zip(&g).map(|(a, b)| a * b).sum();
        let mut alpha = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let mut trial: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + alpha * b).collect();
            problem.pop.clamp_packed(&mut trial);
            count += 1;
            if let Ok(e) = problem.evaluate(&trial, &warm) {
                if e.neg2ll <= current.neg2ll + 1e-4 * alpha * slope {
                    accepted = Some((trial, e));
                    break;
                }
            }
            alpha *= 0.5;
        }
        let Some((trial, e)) = accepted else {
            if hinv.is_some() && !retried {
                // Restart from steepest descent once.
                hinv = None;
                updated = false;
                retried = true;
                continue;
            }
            if norm < settings.noise_tol {
                converged = true;
                message = format!(
                    "no step lowers the OFV; gradient ∞-norm {norm:.2e} is at the noise floor of the gradient (< {:.0e})",
                    settings.noise_tol
                );
                break;
            }
            // A kink of the objective (a change point such as a Tmax inside the data, or
            // the gradient's noise): look for a lower OFV along each coordinate.
            match coordinate_step(problem, &x, &current, &warm, settings, &mut count) {
                Some((trial, e)) => {
                    hinv = None;
                    updated = false;
                    retried = false;
                    stalled = 0;
                    warm = e.modes.iter().map(|m| m.eta.clone()).collect();
                    (g, per) = outer_gradient(problem, &trial, &e, settings.fd_step, &mut count)?;
                    x = trial;
                    current = e;
                    norm = projected_norm(problem, &x, &g);
                    record(iterations, current.neg2ll, norm, count, &mut trace);
                    continue;
                }
                None => {
                    converged = true;
                    message = format!(
                        "no step along the gradient, nor of ±{:.0e}·max(1, |x_k|) along any coordinate, lowers the OFV by {:.0e}: a minimum at a kink of the objective (gradient ∞-norm {norm:.2e})",
                        KINK_STEP, settings.ofv_tol
                    );
                }
            }
            break;
        };
        retried = false;
        let s: Vec<f64> = trial.iter().zip(&x).map(|(a, b)| a - b).collect();
        let new_warm: Vec<Vec<f64>> = e.modes.iter().map(|m| m.eta.clone()).collect();
        let (g_new, per_new) = outer_gradient(problem, &trial, &e, settings.fd_step, &mut count)?;
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        let yy: f64 = y.iter().map(|v| v * v).sum();
        if sy > 1e-12 * yy.sqrt() * s.iter().map(|v| v * v).sum::<f64>().sqrt() {
            let h = hinv.get_or_insert_with(|| {
                let scale = sy / yy;
                (0..p * p)
                    .map(|k| if k / p == k % p { scale } else { 0.0 })
                    .collect()
            });
            bfgs_update(h, &s, &y, sy);
            updated = true;
        }
        if current.neg2ll - e.neg2ll < settings.ofv_tol {
            stalled += 1;
        } else {
            stalled = 0;
        }
        x = trial;
        current = e;
        warm = new_warm;
        g = g_new;
        per = per_new;
        norm = projected_norm(problem, &x, &g);
        record(iterations, current.neg2ll, norm, count, &mut trace);
    }
    Ok(OuterResult {
        x,
        evaluation: current,
        gradient: g,
        subject_gradients: per,
        converged,
        message,
        iterations,
        evaluations: count,
        trace,
    })
}

/// The coordinate step of the kink test ([`coordinate_step`]), relative.
const KINK_STEP: f64 = 1e-3;

/// The first of x ± `KINK_STEP`·max(1, |x_k|)·e_k, k = 1…p, whose OFV is lower than at
/// x by more than `ofv_tol` (a pattern-search poll step: where a nonsmooth objective has
/// no descent along its gradient, these find descent if there is any at that scale).
fn coordinate_step<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    current: &Evaluation,
    warm: &[Vec<f64>],
    settings: &FoceSettings,
    count: &mut usize,
) -> Option<(Vec<f64>, Evaluation)> {
    for k in 0..x.len() {
        for sign in [1.0, -1.0] {
            let mut trial = x.to_vec();
            trial[k] += sign * KINK_STEP * x[k].abs().max(1.0);
            problem.pop.clamp_packed(&mut trial);
            if trial == x {
                continue;
            }
            *count += 1;
            if let Ok(e) = problem.evaluate(&trial, warm) {
                if e.neg2ll < current.neg2ll - settings.ofv_tol {
                    return Some((trial, e));
                }
            }
        }
    }
    None
}

/// The largest step of a trial along any packed parameter (log-scale θ, log-Cholesky
/// Ω): a factor e^`MAX_STEP` in one iteration.
const MAX_STEP: f64 = 1.0;

/// `dir` scaled down so that its largest component is at most [`MAX_STEP`]: far from the
/// optimum the quasi-Newton matrix (BHHH there, nearly of rank one when every subject's
/// gradient points the same way) can ask for steps to parameter values where the EBE
/// searches themselves become long; the line search would reject them only after
/// paying for them.
fn limit_step(dir: Vec<f64>) -> Vec<f64> {
    let largest = dir.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if largest > MAX_STEP {
        dir.iter().map(|v| v * MAX_STEP / largest).collect()
    } else {
        dir
    }
}

/// The inverse of the diagonal of the BHHH approximation of the OFV's Hessian,
/// ½ Σ_i g_ik² from the per-subject gradients g_i (Berndt, Hall, Hall & Hausman 1974,
/// Ann Econ Soc Meas 3:653: the outer product of the scores estimates the information,
/// and the Hessian of −2 ln L is twice the information), row-major p × p; `None` when a
/// diagonal element is 0. The diagonal only: far from the optimum every subject's
/// gradient points the same way and the full matrix is nearly of rank one, its inverse
/// huge across that direction; the diagonal still gives each parameter its own scale
/// (theophylline from its initial values: 61 iterations with the diagonal, against 66
/// and far longer EBE searches with the full matrix).
fn bhhh_inverse(per: &[Vec<f64>]) -> Option<Vec<f64>> {
    let p = per.first()?.len();
    let mut h = vec![0.0; p * p];
    for k in 0..p {
        let d: f64 = per.iter().map(|g| 0.5 * g[k] * g[k]).sum();
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        h[k * p + k] = 1.0 / d;
    }
    Some(h)
}

/// H⁻¹ ← (I − ρ s yᵀ) H⁻¹ (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/sᵀy (row-major p × p).
fn bfgs_update(h: &mut [f64], s: &[f64], y: &[f64], sy: f64) {
    let p = s.len();
    let rho = 1.0 / sy;
    let hy: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| h[i * p + j] * y[j]).sum())
        .collect();
    let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
    for i in 0..p {
        for j in 0..p {
            h[i * p + j] +=
                -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
        }
    }
}
