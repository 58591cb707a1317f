//! Exact solution of a segment of a linear system with constant coefficients,
//! y' = A·y + c ([`super::OdeSystem::is_linear`]), used by [`super::Method::Auto`].
//!
//! With the augmented matrix M = [[A, c], [0, 0]] ((n + 1) × (n + 1)),
//!
//! ```text
//! e^{Mh} = [[e^{Ah}, ∫₀ʰ e^{As} ds · c], [0, 1]],   so   (y(t0 + h), 1) = e^{Mh}·(y0, 1)
//! ```
//!
//! (Van Loan 1978, IEEE Trans. Automat. Control 23:395, Theorem 1): one matrix
//! exponential per output time and per segment end, whatever the stiffness, exact up to
//! rounding. A single state (n = 1) takes the scalar form e^{ah}·y0 + h·φ₁(ah)·c,
//! φ₁(x) = (e^x − 1)/x by `exp_m1` (no cancellation for small ah). e^{Mh} is nalgebra's scaling and squaring with Padé approximants
//! (Al-Mohy & Higham 2009, SIAM J. Matrix Anal. Appl. 31:970). Outputs are propagated
//! from y0 directly (not chained), so each is one exponential away from the segment
//! start.
//!
//! A and c come from the right-hand side itself: c = f(t0, 0), and column j of A is
//! (f(t0, s_j·e_j) − c)/s_j with s_j = max(1, |y0_j|) — exact for an affine f up to
//! rounding, since no truncation error enters a difference of an affine function. Cost:
//! n + 1 evaluations of f per segment.

use super::expm::Expm;
use super::{OdeSystem, Segment, SolveError, SolveStats};

/// Buffers of the exact solution (sized to the system; no allocation per call after
/// the first).
#[derive(Debug, Clone, Default)]
pub(super) struct Workspace {
    expm: Expm,
    /// M = [[A, c], [0, 0]] and M·h, row-major (n + 1)².
    m: Vec<f64>,
    mh: Vec<f64>,
    /// e^{Mh}.
    e: Vec<f64>,
    probe: Vec<f64>,
    c: Vec<f64>,
    column: Vec<f64>,
    y0: Vec<f64>,
    z: Vec<f64>,
}

impl Workspace {
    /// Solve `problem` exactly (module docs); `y` in/out, `sink(i, y(outputs[i]))`.
    pub(super) fn integrate<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        problem: &Segment<'_>,
        y: &mut [f64],
        sink: &mut dyn FnMut(usize, &[f64]),
        stats: &mut SolveStats,
    ) -> Result<(), SolveError> {
        let n = y.len();
        let w = n + 1;
        let t0 = problem.t0;
        self.m.clear();
        self.m.resize(w * w, 0.0);
        self.mh.resize(w * w, 0.0);
        self.e.resize(w * w, 0.0);
        self.probe.clear();
        self.probe.resize(n, 0.0);
        self.c.resize(n, 0.0);
        self.column.resize(n, 0.0);
        self.z.resize(n, 0.0);
        self.y0.clear();
        self.y0.extend_from_slice(y);
        sys.rhs(t0, &self.probe, &mut self.c);
        for (j, yj) in y.iter().enumerate() {
            let s = yj.abs().max(1.0);
            self.probe[j] = s;
            sys.rhs(t0, &self.probe, &mut self.column);
            self.probe[j] = 0.0;
            for i in 0..n {
                self.m[i * w + j] = (self.column[i] - self.c[i]) / s;
            }
        }
        for i in 0..n {
            self.m[i * w + n] = self.c[i];
        }
        stats.rhs_evals += n + 1;
        if let Some(k) = (0..n).find(|&i| !self.m[i * w..(i + 1) * w].iter().all(|x| x.is_finite()))
        {
            return Err(SolveError::NonFinite { time: t0, state: k });
        }
        if problem.t1 > t0 {
            self.propagate(problem.t1, t0, n, stats)?;
            y.copy_from_slice(&self.z);
        }
        for (i, &t) in problem.outputs.iter().enumerate() {
            if t == t0 {
                sink(i, &self.y0);
            } else if t == problem.t1 {
                sink(i, y);
            } else {
                self.propagate(t, t0, n, stats)?;
                sink(i, &self.z);
            }
        }
        Ok(())
    }

    /// z = the states of e^{M(t − t0)}·(y0, 1).
    fn propagate(
        &mut self,
        t: f64,
        t0: f64,
        n: usize,
        stats: &mut SolveStats,
    ) -> Result<(), SolveError> {
        let w = n + 1;
        stats.steps += 1;
        stats.accepted += 1;
        stats.exponentials += 1;
        let h = t - t0;
        if n == 1 {
            // y' = a·y + c: y(t0 + h) = e^{ah}·y0 + h·φ₁(ah)·c, φ₁(x) = (e^x − 1)/x
            let (a, c) = (self.m[0], self.m[1]);
            let x = a * h;
            let phi1 = if x == 0.0 { 1.0 } else { x.exp_m1() / x };
            self.z[0] = x.exp() * self.y0[0] + h * phi1 * c;
            return match self.z[0].is_finite() {
                true => Ok(()),
                false => Err(SolveError::NonFinite { time: t, state: 0 }),
            };
        }
        for (x, m) in self.mh.iter_mut().zip(&self.m) {
            *x = m * h;
        }
        if self.expm.exp(&self.mh, w, &mut self.e).is_none() {
            return Err(SolveError::NonFinite { time: t0, state: 0 });
        }
        for i in 0..n {
            let row = &self.e[i * w..(i + 1) * w];
            let acc = row[n]
                + row[..n]
                    .iter()
                    .zip(&self.y0)
                    .map(|(e, y)| e * y)
                    .sum::<f64>();
            self.z[i] = acc;
        }
        if let Some(k) = (0..n).find(|&i| !self.z[i].is_finite()) {
            return Err(SolveError::NonFinite { time: t, state: k });
        }
        Ok(())
    }
}
