//! Dormand–Prince 5(4): explicit Runge–Kutta pair with FSAL, PI step-size control and
//! dense output, following Hairer's code DOPRI5.
//!
//! Stages (Butcher tableau of Dormand & Prince 1980, HNW 1993 Table II.5.2), with
//! `y1 = y0 + h Σ b_i k_i` of order 5 and the embedded 4th-order solution giving the
//! error estimate `h Σ e_i k_i` (the 7th stage `k7 = f(t0 + h, y1)` is the first stage of
//! the next step: "first same as last").
//!
//! Step size (HNW 1993 §II.4, eq. 4.12–4.13, and the PI "Lund-stabilisation" of DOPRI5 with
//! β = 0.04):
//!
//! ```text
//! h_new = h / clamp( err^(1/5 − 0.75 β) / err_old^β / 0.9 , 1/10, 5 )
//! ```
//!
//! Dense output: Shampine's 4th-order continuous extension (HNW 1993 §II.6, DOPRI5's
//! CONTD5), with θ = (t − t_old)/h:
//!
//! ```text
//! y(t) = r1 + θ (r2 + (1−θ) (r3 + θ (r4 + (1−θ) r5)))
//! r1 = y0, r2 = y1 − y0, r3 = h k1 − r2, r4 = r2 − h k7 − r3, r5 = h Σ d_i k_i
//! ```
//!
//! Initial step: the algorithm of HNW 1993 §II.4 (DOPRI5's HINIT).
//!
//! Reference: E. Hairer, S. P. Nørsett, G. Wanner. *Solving Ordinary Differential
//! Equations I.* 2nd ed., Springer 1993; J. R. Dormand, P. J. Prince, J. Comput. Appl.
//! Math. 6 (1980) 19–26.

use super::auto::{NONSTIFF_RUN, STIFF_EDGE};
use super::step::{StepControl, Stepper, Trial};
use super::{zeroed, OdeSystem, Segment, SolveError, SolveStats};

const C2: f64 = 0.2;
const C3: f64 = 0.3;
const C4: f64 = 0.8;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 0.2;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;

/// Step-control constants of DOPRI5.
const SAFE: f64 = 0.9;
const BETA: f64 = 0.04;
/// The exponent of the current error in the PI controller.
const EXPO1: f64 = 0.2 - BETA * 0.75;
const FAC_MIN: f64 = 0.2; // h_new ≥ 0.2 h
const FAC_MAX: f64 = 10.0; // h_new ≤ 10 h
/// Shrink factor after a trial step with a non-finite state.
const NON_FINITE_SHRINK: f64 = 0.1;

/// Stage vectors, trial state, error vector and dense-output coefficients.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    n: usize,
    k: [Vec<f64>; 7],
    y1: Vec<f64>,
    ytmp: Vec<f64>,
    err: Vec<f64>,
    rcont: [Vec<f64>; 5],
    dense: Vec<f64>,
}

impl Workspace {
    pub fn dim(&self) -> usize {
        self.n
    }

    pub fn resize(&mut self, n: usize) {
        self.n = n;
        let vectors = self.k.iter_mut().chain(&mut self.rcont);
        zeroed(
            vectors.chain([&mut self.y1, &mut self.ytmp, &mut self.err, &mut self.dense]),
            n,
        );
    }

    /// Stages 2–7 of a step of size `h` from (t, y), with k1 = f(t, y) in `k[0]`:
    /// leaves the 5th-order solution in `y1`, k7 = f(t + h, y1) in `k[6]` and the local
    /// error estimate in `err`.
    fn stages<S: OdeSystem + ?Sized>(&mut self, sys: &mut S, t: f64, h: f64, y: &[f64]) {
        let n = self.n;
        // Slices of length exactly n: the loops below run without bounds checks.
        let [k1, k2, k3, k4, k5, k6, k7] = self.k.each_mut().map(|v| &mut v[..n]);
        let (y, yt) = (&y[..n], &mut self.ytmp[..n]);
        for i in 0..n {
            yt[i] = y[i] + h * A21 * k1[i];
        }
        sys.rhs(t + C2 * h, yt, k2);
        for i in 0..n {
            yt[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
        }
        sys.rhs(t + C3 * h, yt, k3);
        for i in 0..n {
            yt[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
        }
        sys.rhs(t + C4 * h, yt, k4);
        for i in 0..n {
            yt[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
        }
        sys.rhs(t + C5 * h, yt, k5);
        for i in 0..n {
            yt[i] =
                y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
        }
        sys.rhs(t + h, yt, k6);
        let y1 = &mut self.y1[..n];
        for i in 0..n {
            y1[i] =
                y[i] + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
        }
        sys.rhs(t + h, y1, k7);
        let err = &mut self.err[..n];
        for i in 0..n {
            err[i] =
                h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
        }
    }

    /// Hairer's estimate of h·|λ| for the step of size `h` just computed (see
    /// [`super::auto`]): h ‖k7 − k6‖ / ‖y1 − ŷ‖, ŷ the stage-6 state; 0 when ŷ = y1.
    fn h_lambda(&self, h: f64) -> f64 {
        let n = self.n;
        let (k6, k7) = (&self.k[5][..n], &self.k[6][..n]);
        let (y1, yhat) = (&self.y1[..n], &self.ytmp[..n]);
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..n {
            num += (k7[i] - k6[i]).powi(2);
            den += (y1[i] - yhat[i]).powi(2);
        }
        if den > 0.0 {
            h * (num / den).sqrt()
        } else {
            0.0
        }
    }
}

impl Stepper for Workspace {
    const ORDER: i32 = 5;
    const LAST_STEP_STRETCH: f64 = 1.01;
    const FAILURE_SHRINK: f64 = NON_FINITE_SHRINK;
    const CLEAR_AFTER: u32 = NONSTIFF_RUN;
    type Control = PiControl;

    fn start_buffers(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        let [k1, k2, ..] = &mut self.k;
        (k1, &mut self.ytmp, k2)
    }

    /// Nothing to prepare: k1 = f(t, y) is in place ("first same as last").
    fn begin_step<S: OdeSystem + ?Sized>(
        &mut self,
        _sys: &mut S,
        _t: f64,
        _y: &[f64],
        _seg: &Segment<'_>,
        _first: bool,
        _stats: &mut SolveStats,
    ) -> Result<(), SolveError> {
        Ok(())
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
        self.stages(sys, t, h, y);
        stats.rhs_evals += 6;
        // k7, the next step's first stage, must be finite too
        Trial::measured(&self.err, y, &self.y1, &[&self.k[6]], seg)
    }

    /// Stability-bound: h·|λ| beyond [`STIFF_EDGE`].
    fn stiffness_test(&self, h: f64, _h_next: f64) -> bool {
        self.h_lambda(h) > STIFF_EDGE
    }

    /// Coefficients of the continuous extension of the step just accepted
    /// (`y` = state at the start, `y1` and the stages still in place).
    fn prepare_dense(&mut self, h: f64, y: &[f64]) {
        let [k1, _, k3, k4, k5, k6, k7] = &self.k;
        let [r1, r2, r3, r4, r5] = &mut self.rcont;
        for i in 0..self.n {
            let ydiff = self.y1[i] - y[i];
            let bspl = h * k1[i] - ydiff;
            r1[i] = y[i];
            r2[i] = ydiff;
            r3[i] = bspl;
            r4[i] = ydiff - h * k7[i] - bspl;
            r5[i] =
                h * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i]);
        }
    }

    fn accept(&mut self, y: &mut [f64]) {
        y.copy_from_slice(&self.y1);
        self.k.swap(0, 6);
    }

    fn dense(&mut self, theta: f64) -> &[f64] {
        contd5(&self.rcont, theta, &mut self.dense);
        &self.dense
    }
}

/// DOPRI5's PI controller: `h_new = h / clamp(err^(1/5 − 0.75 β) / err_old^β / 0.9, 1/10, 5)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PiControl {
    facold: f64,
}

impl Default for PiControl {
    fn default() -> Self {
        PiControl { facold: 1e-4 }
    }
}

impl StepControl for PiControl {
    fn accepted(&mut self, h: f64, err: f64) -> f64 {
        let fac11 = err.powf(EXPO1);
        let fac = (fac11 / self.facold.powf(BETA) / SAFE).clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN);
        self.facold = err.max(1e-4);
        h / fac
    }

    fn rejected(&self, h: f64, err: f64) -> f64 {
        h / (1.0 / FAC_MIN).min(err.powf(EXPO1) / SAFE)
    }
}

/// Evaluate the continuous extension at θ ∈ [0, 1].
fn contd5(rcont: &[Vec<f64>; 5], theta: f64, out: &mut [f64]) {
    let theta1 = 1.0 - theta;
    let [r1, r2, r3, r4, r5] = rcont;
    for i in 0..out.len() {
        out[i] = r1[i] + theta * (r2[i] + theta1 * (r3[i] + theta * (r4[i] + theta1 * r5[i])));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y' = z·y, y(0) = 1, one step of size 1: y1 (order 5), the error estimate, and the
    /// dense output at θ = 1/2.
    fn step(z: f64) -> (f64, f64, f64) {
        let k1 = z;
        let k2 = z * (1.0 + A21 * k1);
        let k3 = z * (1.0 + A31 * k1 + A32 * k2);
        let k4 = z * (1.0 + A41 * k1 + A42 * k2 + A43 * k3);
        let k5 = z * (1.0 + A51 * k1 + A52 * k2 + A53 * k3 + A54 * k4);
        let k6 = z * (1.0 + A61 * k1 + A62 * k2 + A63 * k3 + A64 * k4 + A65 * k5);
        let y1 = 1.0 + A71 * k1 + A73 * k3 + A74 * k4 + A75 * k5 + A76 * k6;
        let k7 = z * y1;
        let err = E1 * k1 + E3 * k3 + E4 * k4 + E5 * k5 + E6 * k6 + E7 * k7;
        let rcont = [
            vec![1.0],
            vec![y1 - 1.0],
            vec![k1 - (y1 - 1.0)],
            vec![(y1 - 1.0) - k7 - (k1 - (y1 - 1.0))],
            vec![D1 * k1 + D3 * k3 + D4 * k4 + D5 * k5 + D6 * k6 + D7 * k7],
        ];
        let mut mid = [0.0];
        contd5(&rcont, 0.5, &mut mid);
        (y1, err, mid[0])
    }

    #[test]
    fn coefficients_give_order_5_an_order_4_estimate_and_order_4_dense_output() {
        // |y1 − e^z| ~ z^6 (ratio 64 on halving z: 61.6 measured); the estimate ~ z^5
        // (32: 31.4); the dense output at θ = 1/2, |y(1/2) − e^(z/2)| ~ z^5 (32).
        let (y_a, e_a, m_a) = step(0.1);
        let (y_b, e_b, m_b) = step(0.05);
        let ratio_y = (y_a - 0.1f64.exp()).abs() / (y_b - 0.05f64.exp()).abs();
        let ratio_e = e_a.abs() / e_b.abs();
        let ratio_m = (m_a - 0.05f64.exp()).abs() / (m_b - 0.025f64.exp()).abs();
        assert!((ratio_y - 64.0).abs() < 6.0, "solution ratio {ratio_y}");
        assert!((ratio_e - 32.0).abs() < 3.0, "estimate ratio {ratio_e}");
        // (29.6 at these step sizes: the z^6 term is not yet negligible)
        assert!((ratio_m - 32.0).abs() < 4.0, "dense ratio {ratio_m}");
    }
}
