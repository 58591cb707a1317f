//! RODAS4: the 6-stage, order-4 (embedded order 3), stiffly accurate and L-stable
//! Rosenbrock method of Hairer & Wanner (1996) §VI.4, with the coefficients of their
//! code RODAS (rodas.f, `METH = 1`).
//!
//! One step of size h from (t, y), with J = ∂f/∂y(t, y), f_t = ∂f/∂t(t, y) and γ = 1/4,
//! written (as in rodas.f) for the stage increments k_i:
//!
//! ```text
//! (I/(γh) − J) k_i = f(t + c_i h, y + Σ_{j<i} a_ij k_j) + h d_i f_t + Σ_{j<i} (c_ij/h) k_j
//! ```
//!
//! Stages 5 and 6 are evaluated at t + h and the method is stiffly accurate:
//! `y_new = y + Σ_{j≤4} a_5j k_j + k5 + k6`, and k6 is the local error estimate
//! (difference to the embedded order-3 solution). One Jacobian and one LU factorisation
//! (partial pivoting, [`super::linalg`]) serve a step; after a rejection the Jacobian is
//! kept and only the matrix is refactored.
//!
//! Jacobian: the system's exact one when [`super::OdeSystem::jacobian`] returns `true`,
//! otherwise forward differences column by column with increments
//! `δ_j = √ε · max(|y_j|, min(1e-5, atol/rtol))` (rounded so that y_j + δ_j − y_j = δ_j
//! exactly). The floor 1e-5 keeps the increment of a state at or near zero well above
//! rounding; a user who sets atol/rtol below it asks for relative accuracy on smaller
//! values, and then the floor follows (Robertson at atol 1e-20 needs 10× fewer steps with
//! it, the same as with the exact Jacobian — tests/it/solve_rodas4.rs). f_t by a
//! forward difference in t with rodas.f's `δ_t = √(ε · max(|t|, 1e-5))` (backward when
//! t + δ_t would leave the segment, zero when the segment is shorter than δ_t: f is never
//! evaluated outside [t0, t1]).
//!
//! Step size: `fac = clamp(err^(1/4)/0.9, 1/6, 5)`, `h_new = h/fac`, with Gustafsson's
//! predictive controller after the first accepted step (HW 1996 §IV.8, eq. 8.21 and rodas.f):
//! `fac_pred = (h_acc/h) (err²/err_acc)^(1/4) / 0.9`, `fac = max(fac, fac_pred)`.
//!
//! Dense output: the 3rd-order continuous extension of RODAS (HW 1996 §VI.4, rodas.f
//! CONTRO), θ = (t − t_old)/h:
//!
//! ```text
//! y(t) = (1−θ) y_old + θ (y_new + (1−θ)(q1 + θ q2)),  q1 = Σ d_2j k_j,  q2 = Σ d_3j k_j
//! ```
//!
//! The first step is chosen by the same algorithm as DOPRI5's (HNW 1993 §II.4) with
//! order 4, unless given.
//!
//! Reference: E. Hairer, G. Wanner. *Solving Ordinary Differential Equations II. Stiff
//! and Differential-Algebraic Problems.* 2nd ed., Springer 1996.

use super::auto::NONSTIFF_EDGE;
use super::linalg::{lu_factor, lu_solve};
use super::step::{StepControl, Stepper, Trial};
use super::{first_non_finite, zeroed, OdeSystem, Segment, SolveError, SolveStats};

const GAMMA: f64 = 0.25;
const C2: f64 = 0.386;
const C3: f64 = 0.21;
const C4: f64 = 0.63;
const D1: f64 = 0.25;
const D2: f64 = -0.1043;
const D3: f64 = 0.1035;
const D4: f64 = -0.362_000_000_000_002_3e-1;
const A21: f64 = 0.1544e1;
const A31: f64 = 0.946_678_528_081_582_6;
const A32: f64 = 0.255_701_169_898_328_4;
const A41: f64 = 0.331_482_518_706_852_1e1;
const A42: f64 = 0.289_612_401_597_220_1e1;
const A43: f64 = 0.998_641_913_997_781_7;
const A51: f64 = 0.122_122_450_922_664_1e1;
const A52: f64 = 0.601_913_448_128_862_9e1;
const A53: f64 = 0.125_370_833_293_208_7e2;
const A54: f64 = -0.687_886_036_105_895;
const C21: f64 = -0.56688e1;
const C31: f64 = -0.243_009_335_683_387_5e1;
const C32: f64 = -0.206_359_915_709_191_5;
const C41: f64 = -0.107_352_905_815_137_5;
const C42: f64 = -0.959_456_225_102_335_5e1;
const C43: f64 = -0.204_702_861_480_961_6e2;
const C51: f64 = 0.749_644_331_396_764_7e1;
const C52: f64 = -0.102_468_043_146_435_2e2;
const C53: f64 = -0.339_999_035_281_990_5e2;
const C54: f64 = 0.117_089_089_320_616e2;
const C61: f64 = 0.808_324_679_592_152_2e1;
const C62: f64 = -0.798_113_298_806_489_3e1;
const C63: f64 = -0.315_215_943_287_437_1e2;
const C64: f64 = 0.163_193_054_312_313_6e2;
const C65: f64 = -0.605_881_823_883_405_4e1;
const D21: f64 = 0.101_262_350_834_458_6e2;
const D22: f64 = -0.748_799_587_761_016_7e1;
const D23: f64 = -0.348_009_186_155_574_7e2;
const D24: f64 = -0.799_277_170_756_882_3e1;
const D25: f64 = 0.102_513_772_329_566_2e1;
const D31: f64 = -0.676_280_339_280_125_3;
const D32: f64 = 0.608_771_465_168_001_5e1;
const D33: f64 = 0.164_308_432_089_247_8e2;
const D34: f64 = 0.247_672_251_141_838_6e2;
const D35: f64 = -0.659_438_912_571_687_2e1;

/// Step-control constants of rodas.f.
const SAFE: f64 = 0.9;
const FAC_MIN: f64 = 0.2; // h_new ≥ h/5
const FAC_MAX: f64 = 6.0; // h_new ≤ 6 h
/// Largest magnitude floor of the finite-difference Jacobian increments.
const DELTA_FLOOR: f64 = 1e-5;
/// Shrink factor after a non-finite trial or a singular iteration matrix.
const FAILURE_SHRINK: f64 = 0.25;

/// Jacobian, iteration matrix, stage vectors and dense-output coefficients.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    n: usize,
    f0: Vec<f64>,
    ft: Vec<f64>,
    jac: Vec<f64>,
    lu: Vec<f64>,
    piv: Vec<usize>,
    k: [Vec<f64>; 6],
    ytmp: Vec<f64>,
    fstage: Vec<f64>,
    ynew: Vec<f64>,
    cont: [Vec<f64>; 2],
    dense: Vec<f64>,
}

impl Workspace {
    pub fn dim(&self) -> usize {
        self.n
    }

    pub fn resize(&mut self, n: usize) {
        self.n = n;
        zeroed(
            self.k.iter_mut().chain(&mut self.cont).chain([
                &mut self.f0,
                &mut self.ft,
                &mut self.ytmp,
                &mut self.fstage,
                &mut self.ynew,
                &mut self.dense,
            ]),
            n,
        );
        zeroed([&mut self.jac, &mut self.lu], n * n);
        self.piv.clear();
        self.piv.resize(n, 0);
    }

    /// ‖J‖∞, the largest absolute row sum of the Jacobian: a bound on the modulus of
    /// every eigenvalue.
    fn jacobian_norm(&self) -> f64 {
        let n = self.n.max(1);
        self.jac
            .chunks_exact(n)
            .map(|row| row.iter().map(|x| x.abs()).sum::<f64>())
            .fold(0.0, f64::max)
    }

    /// The Jacobian (exact or by finite differences) and ∂f/∂t at (t, y), with f(t, y)
    /// in `f0`.
    fn derivatives<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        t: f64,
        y: &[f64],
        seg: &Segment<'_>,
        stats: &mut SolveStats,
    ) -> Result<(), SolveError> {
        let n = self.n;
        let sqrt_eps = f64::EPSILON.sqrt();
        stats.jacobian_evals += 1;
        if !sys.jacobian(t, y, &mut self.jac) {
            let floor = DELTA_FLOOR.min(seg.options.atol / seg.options.rtol);
            self.ytmp.copy_from_slice(y);
            for (j, &yj) in y.iter().enumerate() {
                self.ytmp[j] = yj + sqrt_eps * yj.abs().max(floor);
                let delta = self.ytmp[j] - yj;
                sys.rhs(t, &self.ytmp, &mut self.fstage);
                for i in 0..n {
                    self.jac[i * n + j] = (self.fstage[i] - self.f0[i]) / delta;
                }
                self.ytmp[j] = yj;
            }
            stats.rhs_evals += n;
        }
        if let Some(entry) = first_non_finite(&self.jac) {
            return Err(SolveError::NonFinite {
                time: t,
                state: entry / n.max(1),
            });
        }
        // f is only ever evaluated inside [t0, t1]: forward difference, else backward,
        // else (a segment shorter than the increment) f_t = 0 — its term h·d_i·f_t is
        // then below rounding anyway.
        let dt = (f64::EPSILON * t.abs().max(1e-5)).sqrt();
        let t_pert = if t + dt <= seg.t1 {
            t + dt
        } else if t - dt >= seg.t0 {
            t - dt
        } else {
            t
        };
        if t_pert == t {
            self.ft.fill(0.0);
        } else {
            let dt = t_pert - t;
            sys.rhs(t_pert, y, &mut self.fstage);
            stats.rhs_evals += 1;
            for i in 0..n {
                self.ft[i] = (self.fstage[i] - self.f0[i]) / dt;
            }
        }
        if let Some(state) = first_non_finite(&self.ft) {
            return Err(SolveError::NonFinite { time: t, state });
        }
        Ok(())
    }

    /// The six stages of a step of size `h` (the matrix already factored): leaves the new
    /// state in `ynew` and the error estimate in `k[5]`.
    fn stages<S: OdeSystem + ?Sized>(&mut self, sys: &mut S, t: f64, h: f64, y: &[f64]) {
        let n = self.n;
        let (lu, piv) = (&self.lu, &self.piv);
        // Slices of length exactly n: the loops below run without bounds checks.
        let (y, f0, ft) = (&y[..n], &self.f0[..n], &self.ft[..n]);
        let (yt, fs) = (&mut self.ytmp[..n], &mut self.fstage[..n]);
        let [k1, k2, k3, k4, k5, k6] = self.k.each_mut().map(|v| &mut v[..n]);
        let hinv = 1.0 / h;

        for i in 0..n {
            k1[i] = f0[i] + h * D1 * ft[i];
        }
        lu_solve(lu, n, piv, k1);

        for i in 0..n {
            yt[i] = y[i] + A21 * k1[i];
        }
        sys.rhs(t + C2 * h, yt, fs);
        for i in 0..n {
            k2[i] = fs[i] + h * D2 * ft[i] + C21 * hinv * k1[i];
        }
        lu_solve(lu, n, piv, k2);

        for i in 0..n {
            yt[i] = y[i] + A31 * k1[i] + A32 * k2[i];
        }
        sys.rhs(t + C3 * h, yt, fs);
        for i in 0..n {
            k3[i] = fs[i] + h * D3 * ft[i] + hinv * (C31 * k1[i] + C32 * k2[i]);
        }
        lu_solve(lu, n, piv, k3);

        for i in 0..n {
            yt[i] = y[i] + A41 * k1[i] + A42 * k2[i] + A43 * k3[i];
        }
        sys.rhs(t + C4 * h, yt, fs);
        for i in 0..n {
            k4[i] = fs[i] + h * D4 * ft[i] + hinv * (C41 * k1[i] + C42 * k2[i] + C43 * k3[i]);
        }
        lu_solve(lu, n, piv, k4);

        for i in 0..n {
            yt[i] = y[i] + A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i];
        }
        sys.rhs(t + h, yt, fs);
        for i in 0..n {
            k5[i] = fs[i] + hinv * (C51 * k1[i] + C52 * k2[i] + C53 * k3[i] + C54 * k4[i]);
        }
        lu_solve(lu, n, piv, k5);

        for i in 0..n {
            yt[i] += k5[i];
        }
        sys.rhs(t + h, yt, fs);
        for i in 0..n {
            k6[i] = fs[i]
                + hinv * (C61 * k1[i] + C62 * k2[i] + C63 * k3[i] + C64 * k4[i] + C65 * k5[i]);
        }
        lu_solve(lu, n, piv, k6);

        for ((out, a), b) in self.ynew.iter_mut().zip(yt.iter()).zip(k6.iter()) {
            *out = a + b;
        }
    }
}

impl Stepper for Workspace {
    const ORDER: i32 = 4;
    const LAST_STEP_STRETCH: f64 = 1.0001;
    const FAILURE_SHRINK: f64 = FAILURE_SHRINK;
    const CLEAR_AFTER: u32 = 1;
    type Control = PredictiveControl;

    fn start_buffers(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        (&mut self.f0, &mut self.ytmp, &mut self.fstage)
    }

    /// f (after an accepted step), the Jacobian and f_t at the step's start.
    fn begin_step<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        t: f64,
        y: &[f64],
        seg: &Segment<'_>,
        first: bool,
        stats: &mut SolveStats,
    ) -> Result<(), SolveError> {
        if !first {
            sys.rhs(t, y, &mut self.f0);
            stats.rhs_evals += 1;
            if let Some(state) = first_non_finite(&self.f0) {
                return Err(SolveError::NonFinite { time: t, state });
            }
        }
        self.derivatives(sys, t, y, seg, stats)
    }

    fn try_step<S: OdeSystem + ?Sized>(
        &mut self,
        sys: &mut S,
        t: f64,
        h: f64,
        y: &[f64],
        seg: &Segment<'_>,
        stats: &mut SolveStats,
    ) -> Trial {
        // Iteration matrix E = I/(γh) − J.
        let n = self.n;
        let diag = 1.0 / (GAMMA * h);
        for (e, j) in self.lu.iter_mut().zip(&self.jac) {
            *e = -j;
        }
        for i in 0..n {
            self.lu[i * n + i] += diag;
        }
        stats.lu_decompositions += 1;
        if lu_factor(&mut self.lu, n, &mut self.piv).is_err() {
            return Trial::Singular;
        }

        self.stages(sys, t, h, y);
        stats.rhs_evals += 5;

        Trial::measured(&self.k[5], y, &self.ynew, &[], seg)
    }

    /// Non-stiff: Dopri5 would be stable at the next step size (a run of such steps in a
    /// row, see [`super::auto`]).
    fn stiffness_test(&self, _h: f64, h_next: f64) -> bool {
        h_next * self.jacobian_norm() <= NONSTIFF_EDGE
    }

    /// Dense-output coefficients of the step just accepted; also keeps y_old in `k[5]`
    /// (the error estimate is no longer needed).
    fn prepare_dense(&mut self, _h: f64, y: &[f64]) {
        let [k1, k2, k3, k4, k5, k6] = &mut self.k;
        let [q1, q2] = &mut self.cont;
        for i in 0..self.n {
            q1[i] = D21 * k1[i] + D22 * k2[i] + D23 * k3[i] + D24 * k4[i] + D25 * k5[i];
            q2[i] = D31 * k1[i] + D32 * k2[i] + D33 * k3[i] + D34 * k4[i] + D35 * k5[i];
            k6[i] = y[i];
        }
    }

    fn accept(&mut self, y: &mut [f64]) {
        y.copy_from_slice(&self.ynew);
    }

    fn dense(&mut self, theta: f64) -> &[f64] {
        let theta1 = 1.0 - theta;
        let [q1, q2] = &self.cont;
        let (ynew, yold) = (&self.ynew, &self.k[5]); // y_old kept by `prepare_dense`
        for (i, out) in self.dense.iter_mut().enumerate() {
            *out = theta1 * yold[i] + theta * (ynew[i] + theta1 * (q1[i] + theta * q2[i]));
        }
        &self.dense
    }
}

/// rodas.f's controller: `h_new = h / clamp(err^(1/4)/0.9, 1/6, 5)`, after the first
/// accepted step with Gustafsson's prediction (HW 1996 §IV.8, eq. 8.21)
/// `fac_pred = (h_acc/h) (err²/err_acc)^(1/4) / 0.9`, `fac = max(fac, fac_pred)`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PredictiveControl {
    /// Step size and error norm (at least 0.01) of the last accepted step.
    last: Option<(f64, f64)>,
}

impl PredictiveControl {
    fn factor(err: f64) -> f64 {
        (err.powf(0.25) / SAFE).clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN)
    }
}

impl StepControl for PredictiveControl {
    fn accepted(&mut self, h: f64, err: f64) -> f64 {
        let mut fac = Self::factor(err);
        if let Some((h_acc, err_acc)) = self.last {
            let pred = (h_acc / h) * (err * err / err_acc).powf(0.25) / SAFE;
            fac = fac.max(pred.clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN));
        }
        self.last = Some((h, err.max(1e-2)));
        h / fac
    }

    fn rejected(&self, h: f64, err: f64) -> f64 {
        h / Self::factor(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step of size 1 for y' = z·y, y(0) = 1 with the exact Jacobian: the stability
    /// function R(z) of the method and R̂(z) of its embedded solution.
    fn stability(z: f64) -> (f64, f64) {
        let a = [
            [0.0; 5],
            [A21, 0.0, 0.0, 0.0, 0.0],
            [A31, A32, 0.0, 0.0, 0.0],
            [A41, A42, A43, 0.0, 0.0],
            [A51, A52, A53, A54, 0.0],
            [A51, A52, A53, A54, 1.0],
        ];
        let c = [
            [0.0; 5],
            [C21, 0.0, 0.0, 0.0, 0.0],
            [C31, C32, 0.0, 0.0, 0.0],
            [C41, C42, C43, 0.0, 0.0],
            [C51, C52, C53, C54, 0.0],
            [C61, C62, C63, C64, C65],
        ];
        let mut k = [0.0; 6];
        for i in 0..6 {
            let arg = 1.0 + (0..i).map(|j| a[i][j] * k[j]).sum::<f64>();
            let coupling = (0..i).map(|j| c[i][j] * k[j]).sum::<f64>();
            k[i] = (z * arg + coupling) / (1.0 / GAMMA - z);
        }
        let y1 = 1.0 + A51 * k[0] + A52 * k[1] + A53 * k[2] + A54 * k[3] + k[4] + k[5];
        (y1, y1 - k[5])
    }

    #[test]
    fn coefficients_give_order_4_with_an_order_3_estimate_and_l_stability() {
        // Local error of an order-p method on y' = z y: |R(z) − e^z| ~ C z^(p+1), so
        // halving z divides it by 2^(p+1): 32 for the solution, 16 for the embedded one.
        let err = |z: f64| {
            let (r, rhat) = stability(z);
            ((r - z.exp()).abs(), (rhat - z.exp()).abs())
        };
        let (e1, h1) = err(0.1);
        let (e2, h2) = err(0.05);
        assert!((e1 / e2 - 32.0).abs() < 2.0, "solution ratio {}", e1 / e2);
        assert!((h1 / h2 - 16.0).abs() < 1.5, "embedded ratio {}", h1 / h2);
        // L-stability (stiffly accurate): R(z) → 0 as z → −∞
        let (r, rhat) = stability(-1e8);
        assert!(r.abs() < 1e-6 && rhat.abs() < 1e-6, "{r} {rhat}");
        // A-stability on the imaginary axis and in the left half plane (sampled)
        for z in [-0.5, -2.0, -10.0, -100.0, -1e4] {
            assert!(stability(z).0.abs() < 1.0, "|R({z})| ≥ 1");
        }
    }
}
