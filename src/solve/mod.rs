//! ODE integration for cartkin models.
//!
//! Contract used by `model` (and through it `estimate` and `simulate`):
//! an [`OdeSystem`] is integrated from `t0` over a sorted list of output times, stopping
//! exactly at every *stop time* (doses, declared discontinuities such as the Stein Tmax,
//! infusion starts and ends). At a stop the caller may change the state (a bolus dose adds
//! to a state). Between stops the right-hand side is smooth.

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
}
