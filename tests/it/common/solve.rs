//! Test problems with analytic solutions, shared by the solver tests.

use cartkin::solve::{Method, OdeSystem, SolveError, Solver, SolverOptions};

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

/// Robertson's chemical kinetics (HW 1996 §IV.1, eq. 1.3).
pub fn robertson_rhs(_t: f64, y: &[f64], dy: &mut [f64]) {
    dy[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
    dy[1] = 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1];
    dy[2] = 3e7 * y[1] * y[1];
}

/// Robertson at t = 40 from y(0) = (1, 0, 0). SciPy 1.17 `solve_ivp(method="Radau",
/// rtol=1e-12, atol=(1e-16, 1e-20, 1e-16))` with the exact Jacobian gives
/// (0.7158270687194055, 9.185534764557771e-06, 0.2841637457458303); LSODA and BDF at the
/// same tolerances agree to 4e-12 relative; the LSODE/CVODE example output prints
/// (7.158271e-01, 9.185535e-06, 2.841637e-01).
pub const ROBERTSON_40: [f64; 3] = [
    0.715_827_068_719_405_5,
    9.185_534_764_557_771e-6,
    0.284_163_745_745_830_3,
];

/// Van der Pol, μ = 1000, unscaled: y1' = y2, y2' = μ (1 − y1²) y2 − y1 (HW 1996 §IV.1).
pub fn van_der_pol_rhs(_t: f64, y: &[f64], dy: &mut [f64]) {
    dy[0] = y[1];
    dy[1] = 1000.0 * (1.0 - y[0] * y[0]) * y[1] - y[0];
}

/// Van der Pol μ = 1000 from (2, 0) at t = 500 and 3000: SciPy 1.17
/// `solve_ivp(method="Radau", rtol=1e-12, atol=1e-15)` with the exact Jacobian.
pub const VDP_REFERENCE: [(f64, [f64; 2]); 2] = [
    (500.0, [1.596_768_951_052_56, -1.030_391_187_839_123_5e-3]),
    (3000.0, [-1.510_606_936_744_037_3, 1.178_380_000_731_069e-3]),
];

/// Solver options with `method` and the tolerances, the rest default.
pub fn options(method: Method, rtol: f64, atol: f64) -> SolverOptions {
    SolverOptions {
        method,
        rtol,
        atol,
        ..SolverOptions::default()
    }
}

/// Solve from `t0` to `t1`: the final state, the state at each of `outputs`, the result.
pub fn solve<S: OdeSystem>(
    solver: &mut Solver,
    sys: &mut S,
    t0: f64,
    t1: f64,
    y0: &[f64],
    outputs: &[f64],
) -> (Vec<f64>, Vec<Vec<f64>>, Result<(), SolveError>) {
    let mut y = y0.to_vec();
    let mut got = vec![Vec::new(); outputs.len()];
    let result = solver.integrate(sys, t0, t1, &mut y, outputs, &mut |i, v| {
        got[i] = v.to_vec()
    });
    (y, got, result)
}
