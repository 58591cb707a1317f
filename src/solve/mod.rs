//! ODE integration for cartkin models.
//!
//! Contract used by `model` (and through it `estimate` and `simulate`):
//! an [`OdeSystem`] is integrated from `t0` over a sorted list of output times, stopping
//! exactly at every *stop time* (doses, declared discontinuities such as the Stein Tmax,
//! infusion starts and ends). At a stop the caller may change the state (a bolus dose adds
//! to a state). Between stops the right-hand side is smooth, and one call of
//! [`Solver::integrate`] covers one such smooth segment.
//!
//! Two methods, both with step-size control on the mixed error norm of Hairer,
//! Nørsett & Wanner (1993), eq. (II.4.11):
//!
//! ```text
//! err = sqrt( (1/n) Σ_i ( e_i / (atol + rtol · max(|y0_i|, |y1_i|)) )² ),   accept if err ≤ 1
//! ```
//!
//! - [`Method::Dopri5`]: the explicit Dormand–Prince 5(4) pair with Hairer's PI step
//!   control and Shampine's 4th-order dense output (HNW 1993 §II.5, §II.6; code DOPRI5).
//! - [`Method::Rodas4`]: the 6-stage, order-4(3), L-stable Rosenbrock method RODAS of
//!   Hairer & Wanner (1996) §VI.4 (code RODAS), with an exact or finite-difference
//!   Jacobian and its stiffly accurate 3rd-order dense output.
//!
//! Both methods run in one step loop (module `step`: acceptance, stretching the last
//! step onto the segment's end, rejection of non-finite trials, dense output at the
//! output times, counters); each method supplies its trial step, its step-size
//! controller and its dense output.
//!
//! All workspace lives in [`Solver`]: nothing is allocated per step or per call (only when
//! the state dimension changes).
//!
//! Each call starts afresh (f at t0, the automatic first step): the step size of a previous
//! call is deliberately not reused, so a segment's result never depends on what the same
//! solver integrated before — the same bytes whatever the order in which a pooled solver
//! serves subjects. The cost is one extra evaluation of f per segment.
//!
//! Efficiency notes (measured, tests/it/solve_*.rs): on smooth non-stiff problems Dopri5 needs
//! about a third of Rodas4's steps; on stiff ones Rodas4 needs a few hundred to a few
//! thousand steps where Dopri5 needs its stability limit (van der Pol μ = 1000: 1581
//! steps against > 100 000). On stiff problems at tight tolerances Rodas4's step count
//! grows faster than its order 4 suggests (van der Pol: like rtol^−0.4 below rtol 1e-6,
//! against rtol^−0.25 on the smooth logistic equation, with the exact Jacobian too) —
//! order reduction, plausibly from the method's stage order 1 — so rtol ≈ 1e-6 is the
//! sensible setting for stiff models (SciPy's Radau needs 1282 steps there, Rodas4 1581).
//!
//! ```
//! use cartkin::solve::{Method, OdeSystem, Solver, SolverOptions};
//!
//! /// One-compartment elimination, dA/dt = −k A.
//! struct Decay { k: f64 }
//! impl OdeSystem for Decay {
//!     fn dim(&self) -> usize { 1 }
//!     fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) { dy[0] = -self.k * y[0]; }
//! }
//!
//! let options = SolverOptions { method: Method::Rodas4, rtol: 1e-8, ..SolverOptions::default() };
//! let mut solver = Solver::new(1, options);
//! let mut y = [100.0];
//! let mut at_day_7 = 0.0;
//! solver
//!     .integrate(&mut Decay { k: 0.1 }, 0.0, 28.0, &mut y, &[7.0], &mut |_, v| at_day_7 = v[0])
//!     .unwrap();
//! assert!((at_day_7 - 100.0 * (-0.7f64).exp()).abs() < 1e-5);
//! assert!((y[0] - 100.0 * (-2.8f64).exp()).abs() < 1e-5);
//! println!("{:?}", solver.stats());
//! ```
//!
//! References:
//! - E. Hairer, S. P. Nørsett, G. Wanner. *Solving Ordinary Differential Equations I.
//!   Nonstiff Problems.* 2nd ed., Springer 1993.
//! - E. Hairer, G. Wanner. *Solving Ordinary Differential Equations II. Stiff and
//!   Differential-Algebraic Problems.* 2nd ed., Springer 1996.

pub mod auto;
mod dopri5;
mod expm;
mod linalg;
mod linear;
mod rodas4;
mod step;

use thiserror::Error;

/// A system dy/dt = f(t, y).
pub trait OdeSystem {
    /// Number of states.
    fn dim(&self) -> usize;

    /// Evaluate f(t, y) into `dy`.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]);

    /// Called when integration of a segment [start, end) between two stop times begins.
    /// A system with piecewise definitions (`if(t < tmax, …)`) uses it to evaluate its
    /// conditions as on the open segment, so that a stage evaluated exactly at `end`
    /// still sees the left-hand branch.
    fn enter_segment(&mut self, _start: f64, _end: f64) {}

    /// The Jacobian ∂f/∂y at (t, y), row-major n×n: `jac[i * n + j] = ∂f_i/∂y_j`.
    /// Return `false` (the default) when not available: the stiff solver then uses
    /// column-by-column finite differences.
    fn jacobian(&mut self, _t: f64, _y: &[f64], _jac: &mut [f64]) -> bool {
        false
    }

    /// Whether f(t, y) = A·y + c with A and c constant on every segment (affine in y,
    /// no t): [`Method::Auto`] then solves each segment exactly (`linear`). The default
    /// is `false`.
    fn is_linear(&self) -> bool {
        false
    }
}

/// The integration method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Explicit Dormand–Prince 5(4) (non-stiff problems).
    Dopri5,
    /// Linearly implicit Rosenbrock RODAS4 (stiff problems).
    Rodas4,
    /// Dopri5 while the problem is non-stiff, Rodas4 while it is stiff, switching both
    /// ways inside a segment (the idea of LSODA; the tests are in [`auto`]); a linear
    /// system with constant coefficients ([`OdeSystem::is_linear`]) is solved exactly
    /// by matrix exponentials instead (`linear`).
    Auto,
}

/// Settings of a [`Solver`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `method` | `Dopri5` | integration method |
/// | `rtol` | 1e-6 | relative tolerance (> 0) |
/// | `atol` | 1e-9 | absolute tolerance (> 0) |
/// | `max_steps` | 100 000 | step attempts allowed per [`Solver::integrate`] call |
/// | `h_init` | `None` | first step; `None` chooses it automatically (HNW 1993 §II.4) |
/// | `h_max` | ∞ | largest step (time units of the system) |
#[derive(Debug, Clone, PartialEq)]
pub struct SolverOptions {
    /// Integration method.
    pub method: Method,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Maximum number of step attempts (accepted + rejected) per `integrate` call.
    pub max_steps: usize,
    /// Initial step size; `None` = automatic selection.
    pub h_init: Option<f64>,
    /// Maximum step size.
    pub h_max: f64,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            method: Method::Dopri5,
            rtol: 1e-6,
            atol: 1e-9,
            max_steps: 100_000,
            h_init: None,
            h_max: f64::INFINITY,
        }
    }
}

/// Work counters, accumulated over `integrate` calls until [`Solver::reset_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolveStats {
    /// Step attempts (accepted + rejected).
    pub steps: usize,
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps (error too large, or a non-finite trial state).
    pub rejected: usize,
    /// Evaluations of f(t, y), including those for finite-difference derivatives.
    pub rhs_evals: usize,
    /// Jacobian evaluations (exact or by finite differences).
    pub jacobian_evals: usize,
    /// LU decompositions of the Rosenbrock iteration matrix.
    pub lu_decompositions: usize,
    /// Switches between Dopri5 and Rodas4 under [`Method::Auto`].
    pub switches: usize,
    /// Matrix exponentials of the exact solution of linear systems under
    /// [`Method::Auto`] (each also counts as an accepted step).
    pub exponentials: usize,
}

impl SolveStats {
    /// Add another set of counters to these.
    pub fn add(&mut self, other: &SolveStats) {
        self.steps += other.steps;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.rhs_evals += other.rhs_evals;
        self.jacobian_evals += other.jacobian_evals;
        self.lu_decompositions += other.lu_decompositions;
        self.switches += other.switches;
        self.exponentials += other.exponentials;
    }
}

/// A failed integration.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SolveError {
    /// The step size fell below the resolution of the time variable.
    #[error("step size {step:e} too small at t = {time}: the solution may be singular or the problem too stiff for the method")]
    StepSizeTooSmall {
        /// Time reached.
        time: f64,
        /// The step size at failure.
        step: f64,
    },
    /// The step limit `max_steps` was reached.
    #[error("more than {steps} steps needed, stopped at t = {time} (increase max_steps, or use a stiff method)")]
    TooManySteps {
        /// Time reached.
        time: f64,
        /// The number of step attempts made.
        steps: usize,
    },
    /// The state or its derivative became NaN or infinite.
    #[error("state {state} is not finite (NaN or infinite) at t = {time}")]
    NonFinite {
        /// Time at which it happened (start of the failing step).
        time: f64,
        /// Index of the first non-finite state component.
        state: usize,
    },
    /// The arguments or options of the call are invalid.
    #[error("invalid solver input: {reason}")]
    InvalidInput {
        /// What is wrong, with the offending value.
        reason: String,
    },
}

/// An ODE solver with its workspace.
#[derive(Debug, Clone)]
pub struct Solver {
    options: SolverOptions,
    stats: SolveStats,
    dim: usize,
    dopri: dopri5::Workspace,
    rodas: rodas4::Workspace,
    linear: linear::Workspace,
}

impl Solver {
    /// A solver for systems of dimension `dim` (the workspace is resized if a call brings
    /// another dimension).
    pub fn new(dim: usize, options: SolverOptions) -> Solver {
        let mut solver = Solver {
            options,
            stats: SolveStats::default(),
            dim: 0,
            dopri: dopri5::Workspace::default(),
            rodas: rodas4::Workspace::default(),
            linear: linear::Workspace::default(),
        };
        solver.ensure_dim(dim);
        solver
    }

    /// The settings.
    pub fn options(&self) -> &SolverOptions {
        &self.options
    }

    /// Replace the settings; the workspace is kept (and allocated for the new method if
    /// it changes).
    pub fn set_options(&mut self, options: SolverOptions) {
        self.options = options;
        self.ensure_dim(self.dim);
    }

    /// Work counters since creation or the last [`Solver::reset_stats`].
    pub fn stats(&self) -> &SolveStats {
        &self.stats
    }

    /// Zero the work counters.
    pub fn reset_stats(&mut self) {
        self.stats = SolveStats::default();
    }

    fn ensure_dim(&mut self, dim: usize) {
        let method = self.options.method;
        if matches!(method, Method::Dopri5 | Method::Auto) && self.dopri.dim() != dim {
            self.dopri.resize(dim);
        }
        if matches!(method, Method::Rodas4 | Method::Auto) && self.rodas.dim() != dim {
            self.rodas.resize(dim);
        }
        self.dim = dim;
    }

    /// Integrate one smooth segment from `t0` to `t1` (t1 ≥ t0), `y` in/out. For every
    /// output time `outputs[i]` (sorted, each in [t0, t1]) call `sink(i, y(outputs[i]))`
    /// — dense output inside steps, never stepping past `t1`. Calls
    /// `sys.enter_segment(t0, t1)` first. An output equal to `t0` receives the initial
    /// state, one equal to `t1` the final state, exactly.
    pub fn integrate<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        t0: f64,
        t1: f64,
        y: &mut [f64],
        outputs: &[f64],
        sink: &mut dyn FnMut(usize, &[f64]),
    ) -> Result<(), SolveError> {
        self.check_input(sys.dim(), t0, t1, y, outputs)?;
        self.ensure_dim(y.len());
        sys.enter_segment(t0, t1);
        let problem = Segment {
            t0,
            t1,
            outputs,
            options: &self.options,
            h_init: self.options.h_init,
            max_steps: self.options.max_steps,
            watch: false,
        };
        let stats = &mut self.stats;
        match self.options.method {
            Method::Dopri5 => step::integrate(&mut self.dopri, sys, &problem, y, sink, stats),
            Method::Rodas4 => step::integrate(&mut self.rodas, sys, &problem, y, sink, stats),
            Method::Auto if sys.is_linear() => {
                return self.linear.integrate(sys, &problem, y, sink, stats);
            }
            Method::Auto => auto::integrate(
                &mut self.dopri,
                &mut self.rodas,
                sys,
                &problem,
                y,
                sink,
                stats,
            ),
        }
        .map(|_| ())
    }

    fn check_input(
        &self,
        sys_dim: usize,
        t0: f64,
        t1: f64,
        y: &[f64],
        outputs: &[f64],
    ) -> Result<(), SolveError> {
        let bad = |reason: String| Err(SolveError::InvalidInput { reason });
        let o = &self.options;
        if sys_dim != y.len() {
            return bad(format!(
                "state vector has {} entries, the system has {sys_dim} states",
                y.len()
            ));
        }
        if !(o.rtol > 0.0 && o.rtol.is_finite()) {
            return bad(format!("rtol = {}, expected a finite number > 0", o.rtol));
        }
        if !(o.atol > 0.0 && o.atol.is_finite()) {
            return bad(format!(
                "atol = {}, expected a finite number > 0 (a state at zero needs an absolute error scale)",
                o.atol
            ));
        }
        if o.h_max.is_nan() || o.h_max <= 0.0 {
            return bad(format!("h_max = {}, expected > 0", o.h_max));
        }
        if let Some(h) = o.h_init {
            if !(h > 0.0 && h.is_finite()) {
                return bad(format!("h_init = {h}, expected a finite number > 0"));
            }
        }
        if !(t0.is_finite() && t1.is_finite() && t1 >= t0) {
            return bad(format!(
                "segment [{t0}, {t1}], expected finite times with t1 >= t0"
            ));
        }
        let mut previous = t0;
        for (i, &t) in outputs.iter().enumerate() {
            if !(t >= previous && t <= t1) {
                return bad(format!(
                    "output time {i} = {t}, expected sorted times within [{t0}, {t1}]"
                ));
            }
            previous = t;
        }
        Ok(())
    }
}

/// One segment's problem description, shared by the methods.
pub(crate) struct Segment<'a> {
    pub t0: f64,
    pub t1: f64,
    pub outputs: &'a [f64],
    pub options: &'a SolverOptions,
    /// The first step (`None`: automatic).
    pub h_init: Option<f64>,
    /// Step attempts allowed.
    pub max_steps: usize,
    /// Watch the stiffness and hand over ([`Finish::Switch`]) when the other method
    /// would serve better (under [`Method::Auto`]).
    pub watch: bool,
}

/// How a method's integration of (the rest of) a segment ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Finish {
    /// The end of the segment was reached.
    Done,
    /// The method hands over at `t` (state in `y`, every output ≤ `t` emitted); `h` is
    /// the step size it would have tried next.
    Switch { t: f64, h: f64 },
}

impl Segment<'_> {
    /// Largest step allowed: `h_max`, and never more than the segment.
    pub fn h_max(&self) -> f64 {
        self.options.h_max.min(self.t1 - self.t0)
    }
}

/// Hairer's RMS error norm (HNW 1993, eq. II.4.11): `err` holds the local error estimate.
pub(crate) fn error_norm(err: &[f64], y0: &[f64], y1: &[f64], rtol: f64, atol: f64) -> f64 {
    let mut sum = 0.0;
    for ((e, a), b) in err.iter().zip(y0).zip(y1) {
        let sk = atol + rtol * a.abs().max(b.abs());
        let r = e / sk;
        sum += r * r;
    }
    (sum / err.len().max(1) as f64).sqrt()
}

/// Resize every vector of a workspace to `n` zeros.
pub(crate) fn zeroed<'a>(vectors: impl IntoIterator<Item = &'a mut Vec<f64>>, n: usize) {
    for v in vectors {
        v.clear();
        v.resize(n, 0.0);
    }
}

/// Index of the first non-finite entry, if any.
pub(crate) fn first_non_finite(v: &[f64]) -> Option<usize> {
    v.iter().position(|x| !x.is_finite())
}
