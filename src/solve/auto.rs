//! [`Method::Auto`](super::Method::Auto): Dopri5 while the problem is non-stiff, Rodas4
//! while it is stiff, switching both ways inside a segment — the idea of LSODA
//! (Petzold 1983), with Hairer's stiffness test of DOPRI5 one way and a Jacobian-norm
//! test the other way.
//!
//! **Dopri5 → Rodas4.** After each accepted Dopri5 step of size h, the stages 6 and 7
//! are both evaluated at t + h, at the states ŷ (stage 6) and y₁ (the new solution), so
//!
//! ```text
//! h·|λ| ≈ h ‖k7 − k6‖ / ‖y₁ − ŷ‖
//! ```
//!
//! estimates h times the dominant eigenvalue of ∂f/∂y (HNW 1993 §IV.2 ("Automatic
//! stiffness detection"), HW 1996 §IV.2; code DOPRI5). When the step size is limited by
//! stability, not accuracy, the step-size controller keeps h·|λ| just inside Dopri5's
//! stability region (which ends at 3.31 on the negative real axis). DOPRI5 tests
//! h·|λ| > 3.25; under our PI controller at tight tolerances the accepted steps sit
//! lower — measured on y' = −λ(t)(y − sin t) + cos t with λ up to 1e4 at rtol 1e-8: h·|λ|
//! between 2.25 and 4.2, median 2.65, above 3.25 in 11 of 3127 steps — while
//! accuracy-limited steps on the same problem have h·|λ| ≤ 0.15 (1.3 in the onset of
//! the stiff window). So a step counts as stiff when h·|λ| > 2. Fifteen stiff steps
//! (with fewer than six non-stiff ones between them) declare the problem stiff, as in
//! DOPRI5; Rodas4 then takes over at the current time and state with the step size
//! Dopri5 would have tried next.
//!
//! **Rodas4 → Dopri5.** Rodas4 has the Jacobian J of each step; ‖J‖∞ (largest absolute
//! row sum) bounds every eigenvalue's modulus. When the step size Rodas4 proposes
//! satisfies `h_new·‖J‖∞ ≤ 1` for fifteen accepted steps in a row, Dopri5's stability
//! limit (h·|λ| ≈ 2.5) is more than twice Rodas4's step, Dopri5 (which needs about a
//! third of Rodas4's steps on non-stiff problems) would run at its accuracy step, and
//! takes over. The bound is conservative: a switch back never happens too early,
//! possibly late; the gap between 1 and 2 keeps the two tests from handing the problem
//! back and forth.
//!
//! Both tests cost a few operations per step on quantities already computed. Each
//! segment starts with Dopri5 (so results never depend on an earlier segment), and the
//! step limit `max_steps` covers the whole segment whatever the switches.
//!
//! References: HNW 1993 = E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary
//! Differential Equations I*, 2nd ed., Springer 1993; HW 1996 = E. Hairer, G. Wanner,
//! *Solving Ordinary Differential Equations II*, 2nd ed., Springer 1996; L. R. Petzold,
//! SIAM J. Sci. Stat. Comput. 4 (1983) 136–148 (LSODA).

use super::{dopri5, rodas4, step, Finish, OdeSystem, Segment, SolveError, SolveStats};

/// A Dopri5 step with estimated h·|λ| above this is stability-bound (stiff).
pub(crate) const STIFF_EDGE: f64 = 2.0;
/// A Rodas4 step with h·‖J‖∞ at most this would be non-stiff for Dopri5.
pub(crate) const NONSTIFF_EDGE: f64 = 1.0;
/// Consecutive positive tests that make either method hand over.
pub(crate) const STIFF_RUN: u32 = 15;
/// Non-stiff Dopri5 steps that clear the count of stiff ones (DOPRI5's 6).
pub(crate) const NONSTIFF_RUN: u32 = 6;

/// The hysteresis of the tests: positives counted, negatives clearing them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StiffnessWatch {
    positive: u32,
    negative: u32,
}

impl StiffnessWatch {
    /// Record one test; `clear_after` consecutive negatives clear the positives. Returns
    /// whether `STIFF_RUN` positives are reached (time to hand over).
    pub fn record(&mut self, positive: bool, clear_after: u32) -> bool {
        if positive {
            self.negative = 0;
            self.positive += 1;
        } else {
            self.negative += 1;
            if self.negative >= clear_after {
                self.positive = 0;
            }
        }
        self.positive >= STIFF_RUN
    }
}

/// Integrate one segment with Dopri5 and Rodas4 taking turns (see the module docs).
#[allow(clippy::too_many_arguments)]
pub(crate) fn integrate<S: OdeSystem + ?Sized>(
    dopri: &mut dopri5::Workspace,
    rodas: &mut rodas4::Workspace,
    sys: &mut S,
    seg: &Segment<'_>,
    y: &mut [f64],
    sink: &mut dyn FnMut(usize, &[f64]),
    stats: &mut SolveStats,
) -> Result<Finish, SolveError> {
    let steps_before = stats.steps;
    let mut t0 = seg.t0;
    let mut h_init = seg.h_init;
    let mut first_output = 0;
    let mut stiff = false;
    loop {
        let used = stats.steps - steps_before;
        let part = Segment {
            t0,
            t1: seg.t1,
            outputs: &seg.outputs[first_output..],
            options: seg.options,
            h_init,
            max_steps: seg.max_steps.saturating_sub(used),
            watch: true,
        };
        let offset = first_output;
        let mut shifted = |i: usize, v: &[f64]| sink(offset + i, v);
        let finish = if stiff {
            step::integrate(rodas, sys, &part, y, &mut shifted, stats)?
        } else {
            step::integrate(dopri, sys, &part, y, &mut shifted, stats)?
        };
        match finish {
            Finish::Done => return Ok(Finish::Done),
            Finish::Switch { t, h } => {
                stats.switches += 1;
                stiff = !stiff;
                first_output += part.outputs.iter().take_while(|o| **o <= t).count();
                t0 = t;
                h_init = Some(h);
            }
        }
    }
}
