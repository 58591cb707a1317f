//! Test problems with analytic solutions, shared by the solver tests.
#![allow(dead_code)]

use cartkin::solve::OdeSystem;

/// y' = -k y.
pub struct Decay {
    pub k: f64,
}

impl OdeSystem for Decay {
    fn dim(&self) -> usize {
        1
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = -self.k * y[0];
    }
}

/// An exact Jacobian, row-major.
pub type JacobianFn = fn(f64, &[f64], &mut [f64]);

/// A system given by a closure (and optionally its Jacobian).
pub struct FnSystem<F: FnMut(f64, &[f64], &mut [f64])> {
    pub n: usize,
    pub f: F,
    pub jac: Option<JacobianFn>,
}

impl<F: FnMut(f64, &[f64], &mut [f64])> FnSystem<F> {
    pub fn new(n: usize, f: F) -> Self {
        FnSystem { n, f, jac: None }
    }
}

impl<F: FnMut(f64, &[f64], &mut [f64])> OdeSystem for FnSystem<F> {
    fn dim(&self) -> usize {
        self.n
    }
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        (self.f)(t, y, dy)
    }
    fn jacobian(&mut self, t: f64, y: &[f64], jac: &mut [f64]) -> bool {
        match self.jac {
            Some(j) => {
                j(t, y, jac);
                true
            }
            None => false,
        }
    }
}

/// y1' = -2 y1 + y2, y2' = y1 - 2 y2 (eigenvalues -1 and -3).
pub fn linear2() -> FnSystem<impl FnMut(f64, &[f64], &mut [f64])> {
    FnSystem::new(2, |_, y: &[f64], dy: &mut [f64]| {
        dy[0] = -2.0 * y[0] + y[1];
        dy[1] = y[0] - 2.0 * y[1];
    })
}

/// Analytic solution of [`linear2`] from y(0) = (1, 0):
/// y1 = (e^-t + e^-3t)/2, y2 = (e^-t - e^-3t)/2.
pub fn linear2_exact(t: f64) -> [f64; 2] {
    let (a, b) = ((-t).exp(), (-3.0 * t).exp());
    [(a + b) / 2.0, (a - b) / 2.0]
}

/// y1' = y2, y2' = -y1.
pub fn harmonic() -> FnSystem<impl FnMut(f64, &[f64], &mut [f64])> {
    FnSystem::new(2, |_, y: &[f64], dy: &mut [f64]| {
        dy[0] = y[1];
        dy[1] = -y[0];
    })
}
