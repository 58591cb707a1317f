//! The step loop shared by [`Method::Dopri5`](super::Method::Dopri5) and
//! [`Method::Rodas4`](super::Method::Rodas4): one [`integrate`] drives any [`Stepper`]
//! (a method that can try one step and report its error) over one smooth segment.
//!
//! Per step attempt, as in Hairer's codes DOPRI5 and RODAS:
//!
//! - a step within `LAST_STEP_STRETCH · h` of the segment's end is stretched to land on
//!   it exactly; otherwise a step below the resolution of t fails
//!   ([`SolveError::StepSizeTooSmall`], or [`SolveError::NonFinite`] when non-finite
//!   trials drove it there);
//! - the trial's error is measured in the mixed norm of HNW 1993 eq. (II.4.11)
//!   ([`super::error_norm`]) and accepted if ≤ 1; the method's controller
//!   ([`StepControl`]) proposes the next step, which after a rejection may not grow and
//!   never exceeds `h_max`;
//! - a trial with a non-finite state, or a singular iteration matrix, is rejected and
//!   the step shrunk by `FAILURE_SHRINK`;
//! - after each accepted step the outputs it passed receive the method's dense output,
//!   and under [`Method::Auto`](super::Method::Auto) the method's stiffness test is
//!   recorded (see [`super::auto`]).
//!
//! The first step is `h_init` or Hairer's starting-step algorithm (HNW 1993 §II.4, code
//! DOPRI5's HINIT) for the method's order.
//!
//! Reference: E. Hairer, S. P. Nørsett, G. Wanner. *Solving Ordinary Differential
//! Equations I.* 2nd ed., Springer 1993.

use super::auto::StiffnessWatch;
use super::{error_norm, first_non_finite, Finish, OdeSystem, Segment, SolveError, SolveStats};

/// The outcome of one trial step.
pub(crate) enum Trial {
    /// The step was computed; its error norm (accept if ≤ 1).
    Estimated(f64),
    /// The trial state (or estimate) has a non-finite entry at this index.
    NonFinite(usize),
    /// The iteration matrix could not be factored.
    Singular,
}

impl Trial {
    /// The outcome of a computed step from `y` to `y1` with local error estimate `err`:
    /// non-finite at the first non-finite entry of `err`, then `y1`, then each of
    /// `also`; else the error norm of HNW 1993 eq. (II.4.11) ([`error_norm`]) with the
    /// segment's tolerances.
    pub(crate) fn measured(
        err: &[f64],
        y: &[f64],
        y1: &[f64],
        also: &[&[f64]],
        seg: &Segment<'_>,
    ) -> Trial {
        let bad = first_non_finite(err)
            .or_else(|| first_non_finite(y1))
            .or_else(|| also.iter().find_map(|v| first_non_finite(v)));
        match bad {
            Some(state) => Trial::NonFinite(state),
            None => Trial::Estimated(error_norm(err, y, y1, seg.options.rtol, seg.options.atol)),
        }
    }
}

/// A step-size controller: the next step from the error norm of the last trial.
pub(crate) trait StepControl: Default {
    /// The step after an accepted step of size `h` with error norm `err` ≤ 1.
    fn accepted(&mut self, h: f64, err: f64) -> f64;
    /// The step after a rejected step of size `h` with error norm `err` > 1.
    fn rejected(&self, h: f64, err: f64) -> f64;
}

/// One integration method, as driven by [`integrate`].
pub(crate) trait Stepper {
    /// Order of the method (for the starting step).
    const ORDER: i32;
    /// A step reaching within this factor of the segment's end is stretched to it.
    const LAST_STEP_STRETCH: f64;
    /// Step factor after a non-finite trial or a singular matrix.
    const FAILURE_SHRINK: f64;
    /// Negative stiffness tests in a row that clear the positive ones.
    const CLEAR_AFTER: u32;
    /// The method's step-size controller.
    type Control: StepControl;

    /// Buffers for f(t0, y0) and the starting-step algorithm's trial (y1, f1).
    fn start_buffers(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]);

    /// Prepare a step from (t, y) (`first`: f(t, y) is in the start buffer; otherwise
    /// the previous step was just accepted).
    fn begin_step<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        t: f64,
        y: &[f64],
        seg: &Segment<'_>,
        first: bool,
        stats: &mut SolveStats,
    ) -> Result<(), SolveError>;

    /// Try a step of size `h` from (t, y).
    fn try_step<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        t: f64,
        h: f64,
        y: &[f64],
        seg: &Segment<'_>,
        stats: &mut SolveStats,
    ) -> Trial;

    /// The stiffness test after an accepted step of size `h` (next step `h_next`): a
    /// positive result counts towards handing over to the other method.
    fn stiffness_test(&self, h: f64, h_next: f64) -> bool;

    /// Dense-output coefficients of the step of size `h` just accepted from `y`.
    fn prepare_dense(&mut self, h: f64, y: &[f64]);

    /// Move the accepted step's state into `y`.
    fn accept(&mut self, y: &mut [f64]);

    /// The dense output at θ ∈ [0, 1] of the step last accepted.
    fn dense(&mut self, theta: f64) -> &[f64];
}

/// Integrate one segment with `method` (see [`super::Solver::integrate`]).
pub(crate) fn integrate<M: Stepper, S: OdeSystem + ?Sized>(
    method: &mut M,
    sys: &mut S,
    seg: &Segment<'_>,
    y: &mut [f64],
    sink: &mut dyn FnMut(usize, &[f64]),
    stats: &mut SolveStats,
) -> Result<Finish, SolveError> {
    let (t0, t1) = (seg.t0, seg.t1);
    if let Some(state) = first_non_finite(y) {
        return Err(SolveError::NonFinite { time: t0, state });
    }
    let mut cursor = OutputCursor::start(seg.outputs, t0, y, sink);
    if t1 == t0 {
        return Ok(Finish::Done);
    }
    let (rtol, atol) = (seg.options.rtol, seg.options.atol);
    let h_max = seg.h_max();

    let (f0, y1, f1) = method.start_buffers();
    sys.rhs(t0, y, f0);
    stats.rhs_evals += 1;
    if let Some(state) = first_non_finite(f0) {
        return Err(SolveError::NonFinite { time: t0, state });
    }
    let mut h = match seg.h_init {
        Some(h) => h.min(h_max),
        None => initial_step(
            sys,
            t0,
            y,
            f0,
            (y1, f1),
            h_max,
            (rtol, atol),
            M::ORDER,
            stats,
        ),
    };

    let mut control = M::Control::default();
    let mut t = t0;
    let mut steps = 0usize;
    let mut reject = false;
    let mut last = false;
    let mut begin = Some(true);
    // Index of the state that made the last rejected trial non-finite.
    let mut non_finite: Option<usize> = None;
    let mut watch = StiffnessWatch::default();

    loop {
        if let Some(first) = begin.take() {
            method.begin_step(sys, t, y, seg, first, stats)?;
        }
        if steps >= seg.max_steps {
            return Err(SolveError::TooManySteps { time: t, steps });
        }
        if t + M::LAST_STEP_STRETCH * h >= t1 {
            h = t1 - t;
            last = true;
        }
        // A step landing exactly on t1 is always allowed (however short the rest of
        // the segment); otherwise the step must stay resolvable in t.
        if !last && (0.1 * h <= t.abs() * f64::EPSILON || h < f64::MIN_POSITIVE) {
            return Err(match non_finite {
                Some(state) => SolveError::NonFinite { time: t, state },
                None => SolveError::StepSizeTooSmall { time: t, step: h },
            });
        }
        steps += 1;
        stats.steps += 1;

        let err = match method.try_step(sys, t, h, y, seg, stats) {
            Trial::Estimated(err) => err,
            failure => {
                if let Trial::NonFinite(state) = failure {
                    non_finite = Some(state);
                }
                stats.rejected += 1;
                reject = true;
                last = false;
                h *= M::FAILURE_SHRINK;
                continue;
            }
        };
        if err > 1.0 {
            h = control.rejected(h, err);
            reject = true;
            last = false;
            stats.rejected += 1;
            continue;
        }

        non_finite = None;
        stats.accepted += 1;
        let mut h_next = control.accepted(h, err).min(h_max);
        if reject {
            h_next = h_next.min(h);
        }
        reject = false;
        let hand_over =
            seg.watch && !last && watch.record(method.stiffness_test(h, h_next), M::CLEAR_AFTER);

        let t_old = t;
        t = if last { t1 } else { t + h };
        if cursor.needs_dense(seg.outputs, t) {
            method.prepare_dense(h, y);
        }
        method.accept(y);
        cursor.step(seg.outputs, (t_old, t, h), y, method, sink);
        if last {
            return Ok(Finish::Done);
        }
        if hand_over {
            return Ok(Finish::Switch { t, h: h_next });
        }
        h = h_next;
        begin = Some(false);
    }
}
/// Outputs emitted so far, and the next one to emit.
struct OutputCursor {
    next: usize,
}

impl OutputCursor {
    /// Emit the outputs equal to `t0` with the initial state.
    fn start(outputs: &[f64], t0: f64, y: &[f64], sink: &mut dyn FnMut(usize, &[f64])) -> Self {
        let mut next = 0;
        while next < outputs.len() && outputs[next] <= t0 {
            sink(next, y);
            next += 1;
        }
        OutputCursor { next }
    }

    /// Whether an output lies strictly before `t` (so the step ending at `t` needs its
    /// dense output).
    fn needs_dense(&self, outputs: &[f64], t: f64) -> bool {
        self.next < outputs.len() && outputs[self.next] < t
    }

    /// After a step accepted from `t_old` up to `t` (size `h`, new state `y`): emit every
    /// pending output ≤ `t` — exactly `y` at `t`, else the method's dense output.
    fn step<M: Stepper>(
        &mut self,
        outputs: &[f64],
        (t_old, t, h): (f64, f64, f64),
        y: &[f64],
        method: &mut M,
        sink: &mut dyn FnMut(usize, &[f64]),
    ) {
        while self.next < outputs.len() && outputs[self.next] <= t {
            let tout = outputs[self.next];
            if tout == t {
                sink(self.next, y);
            } else {
                sink(self.next, method.dense((tout - t_old) / h));
            }
            self.next += 1;
        }
    }
}

/// Hairer's starting-step algorithm for a method of order `order`, given f0 = f(t, y):
/// h0 = 0.01 ‖y‖/‖f0‖, one explicit Euler step to estimate ‖y''‖, then
/// h = min(100 h0, (0.01 / max(‖y''‖, ‖f0‖))^(1/order), h_max).
#[allow(clippy::too_many_arguments)]
fn initial_step<S: OdeSystem + ?Sized>(
    sys: &mut S,
    t: f64,
    y: &[f64],
    f0: &[f64],
    (y1, f1): (&mut [f64], &mut [f64]),
    h_max: f64,
    (rtol, atol): (f64, f64),
    order: i32,
    stats: &mut SolveStats,
) -> f64 {
    let mut dnf = 0.0;
    let mut dny = 0.0;
    for i in 0..y.len() {
        let sk = atol + rtol * y[i].abs();
        dnf += (f0[i] / sk).powi(2);
        dny += (y[i] / sk).powi(2);
    }
    let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
        1e-6
    } else {
        (dny / dnf).sqrt() * 0.01
    };
    h = h.min(h_max);
    for i in 0..y.len() {
        y1[i] = y[i] + h * f0[i];
    }
    sys.rhs(t + h, y1, f1);
    stats.rhs_evals += 1;
    let mut der2 = 0.0;
    for i in 0..y.len() {
        let sk = atol + rtol * y[i].abs();
        der2 += ((f1[i] - f0[i]) / sk).powi(2);
    }
    let der2 = der2.sqrt() / h;
    let der12 = der2.abs().max(dnf.sqrt());
    let h1 = if der12 <= 1e-15 || !der12.is_finite() {
        (1e-6f64).max(h * 1e-3)
    } else {
        (0.01 / der12).powf(1.0 / order as f64)
    };
    (100.0 * h).min(h1).min(h_max)
}
