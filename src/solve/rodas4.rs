//! RODAS4 (Hairer & Wanner 1996 §VI.4): being written; see the solver API in CONTRACTS.md.

use super::{OdeSystem, Segment, SolveError, SolveStats};

/// Workspace of the Rosenbrock method.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    n: usize,
}

impl Workspace {
    pub fn dim(&self) -> usize {
        self.n
    }

    pub fn resize(&mut self, n: usize) {
        self.n = n;
    }

    pub fn integrate<S: OdeSystem + ?Sized>(
        &mut self,
        _sys: &mut S,
        _seg: &Segment<'_>,
        _y: &mut [f64],
        _sink: &mut dyn FnMut(usize, &[f64]),
        _stats: &mut SolveStats,
    ) -> Result<(), SolveError> {
        Err(SolveError::InvalidInput {
            reason: "Rodas4 is not available in this build yet (next commit)".to_string(),
        })
    }
}
