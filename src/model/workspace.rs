//! The reusable memory of one prediction: slot array, solver and event buffers. A
//! [`super::Model`] keeps a pool of them, so repeated predictions allocate nothing.

use crate::solve::Solver;

/// Reusable memory of one prediction (pooled in the model).
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    pub slots: Vec<f64>,
    pub solver: Option<Solver>,
    pub y: Vec<f64>,
    pub ys: Vec<f64>,
    pub rates: Vec<f64>,
    pub breaks: Vec<f64>,
    /// (time, state, amount·scale, duration or 0 for a bolus)
    pub events: Vec<(f64, usize, f64, f64)>,
}
