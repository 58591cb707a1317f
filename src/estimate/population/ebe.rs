//! One subject given the population parameters: the conditional objective of η, its
//! mode (the empirical Bayes estimate, EBE) and the subject's contribution to the
//! population objective.
//!
//! With F_j = g(f_j(η)) the prediction on the error model's scale (g = ln for `logadd`,
//! the identity otherwise), s_j(η) the residual standard deviation and V_j = s_j², the
//! conditional objective is
//!
//!   O(η) = Σ_quantified [ln 2π + ln V_j + (y_j − F_j)²/V_j] − 2 Σ_censored ln Φ((L_j − F_j)/s_j)
//!          + ηᵀΩ⁻¹η
//!
//! (the −2LL of [`crate::estimate::likelihood`] plus the prior term). The EBE η̂ minimises
//! it by Fisher scoring: the gradient is exact given the sensitivities ∂F/∂η, ∂s/∂η
//! ([`sensitivities`]); the curvature is the expected information
//! H ≈ 2[Ω⁻¹ + Σ_quantified (g gᵀ/V + ½ h hᵀ/V²) + Σ_censored m(m + z) ∇z∇zᵀ],
//! g = ∂F/∂η, h = ∂V/∂η = 2s ∂s/∂η, z = (L − F)/s, m = φ(z)/Φ(z)
//! (positive definite, so every step descends), with a halving line search; once the
//! decrement ∇Oᵀ H⁻¹ ∇O is below 10⁻⁸ (a predicted fall of O at the level of its
//! rounding, or of an ODE solver's error, which a line search cannot resolve) the step
//! is taken whole and ends the search (except when polishing for the covariance step,
//! [`super::objective::PopulationProblem::polish`]). The scoring
//! matrix is corrected by symmetric rank-one secant updates from the gradients of
//! successive steps (the structured quasi-Newton of Dennis, Gay & Welsch 1981, ACM TOMS
//! 7:348, for NL2SOL), used while the corrected matrix stays positive definite: plain
//! scoring converges linearly when residuals are large; the correction restores
//! superlinear convergence near the mode.
//!
//! Contribution of the subject to the population −2LL (Laplace approximation of
//! −2 ln ∫ p(y|η) p(η) dη, Wolfinger 1993, Biometrika 80:791):
//! - FOCE with interaction (NONMEM METHOD=1 INTER; Wang 2007, J Pharmacokinet
//!   Pharmacodyn 34:575): OFV_i = O(η̂) + ln|Ω| + ln|Ω⁻¹ + Σ_j (g_j g_jᵀ/V_j + ½ h_j h_jᵀ/V_j²)|,
//!   all at η̂;
//! - Laplacian (NONMEM LAPLACIAN, used when records are censored):
//!   OFV_i = O(η̂) + ln|Ω| + ln|½ ∇²O(η̂)|, the Hessian by differences of the exact
//!   gradient of O (or by second differences of O when the sensitivities are
//!   differences themselves).
//!
//! For a model linear in η with constant V both are the exact marginal −2LL.

use nalgebra::{DMatrix, DVector};

use super::model::PopulationModel;
use crate::estimate::likelihood::{ln_phi, neg2ll, scaled_prediction, Records, LOG_FLOOR};
use crate::model::{ErrorModel, Individual, Predict};

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Which approximation of the marginal likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Approximation {
    /// FOCE with interaction (expected information of η at the EBE).
    FoceI,
    /// Laplace with the Hessian of the conditional objective.
    Laplacian,
}

impl Approximation {
    /// Name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Approximation::FoceI => "FOCE-I",
            Approximation::Laplacian => "Laplacian",
        }
    }
}

/// A subject and the population parameters it is conditioned on.
pub struct Conditional<'a, M: Predict + ?Sized> {
    /// The model.
    pub model: &'a M,
    /// The population structure.
    pub pop: &'a PopulationModel,
    /// Free fixed effects on the estimation scale.
    pub psi: &'a [f64],
    /// Ω⁻¹.
    pub omega_inv: &'a DMatrix<f64>,
    /// The subject's doses and covariates.
    pub individual: Individual<'a>,
    /// The subject's records.
    pub records: &'a Records,
    /// Search to rounding: no whole last step ([`Conditional::mode`]).
    pub polish: bool,
}

/// Predictions on the error model's scale and residual SDs at η, with their
/// sensitivities (n × d, row j = record j).
#[derive(Debug, Clone)]
pub struct Sensitivities {
    /// F_j.
    pub f: Vec<f64>,
    /// s_j.
    pub s: Vec<f64>,
    /// ∂F_j/∂η.
    pub df: DMatrix<f64>,
    /// ∂s_j/∂η.
    pub ds: DMatrix<f64>,
}

/// Where the EBE search ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Mode {
    /// η̂.
    pub eta: Vec<f64>,
    /// O(η̂).
    pub objective: f64,
    /// Fisher-scoring iterations.
    pub iterations: usize,
    /// The last step was below tolerance.
    pub converged: bool,
}

/// The subject's contribution to the population objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The EBE.
    pub mode: Mode,
    /// OFV_i (−2LL approximation including ln 2π terms).
    pub ofv: f64,
    /// The Laplacian Hessian was not positive definite and the expected information was
    /// used instead.
    pub fallback: bool,
}

impl<M: Predict + ?Sized> Conditional<'_, M> {
    /// Natural-scale parameters of the subject at η.
    pub fn theta(&self, eta: &[f64]) -> Vec<f64> {
        let mut theta = self.pop.map.base.clone();
        self.pop
            .individual_into(self.model, self.psi, eta, &mut theta);
        theta
    }

    /// Model predictions (natural scale) at η.
    pub fn predictions(&self, eta: &[f64]) -> Result<(Vec<f64>, Vec<f64>), String> {
        let theta = self.theta(eta);
        let r = self.records;
        let mut pred = vec![0.0; r.len()];
        self.model
            .predict(&theta, &self.individual, &r.times, &r.outputs, &mut pred)
            .map_err(|e| e.to_string())?;
        Ok((theta, pred))
    }

    /// O(η) (module docs).
    pub fn objective(&self, eta: &[f64]) -> Result<f64, String> {
        let (theta, pred) = self.predictions(eta)?;
        let ll = neg2ll(self.model, self.records, &theta, &pred).map_err(|e| e.to_string())?;
        Ok(ll + self.prior(eta))
    }

    /// ηᵀΩ⁻¹η.
    fn prior(&self, eta: &[f64]) -> f64 {
        let e = DVector::from_column_slice(eta);
        (e.transpose() * self.omega_inv * &e)[(0, 0)]
    }

    /// F and s at η (module docs).
    pub fn moments(&self, eta: &[f64]) -> Result<(Vec<f64>, Vec<f64>), String> {
        let (theta, pred) = self.predictions(eta)?;
        self.moments_of(&theta, &pred)
    }

    /// F and s of predictions `pred` with parameters `theta`.
    fn moments_of(&self, theta: &[f64], pred: &[f64]) -> Result<(Vec<f64>, Vec<f64>), String> {
        let outputs = self.model.outputs();
        let mut f = Vec::with_capacity(pred.len());
        let mut s = Vec::with_capacity(pred.len());
        for (j, &p) in pred.iter().enumerate() {
            if !p.is_finite() {
                return Err(format!(
                    "subject {}: prediction {p} at t = {} is not finite",
                    self.records.subject, self.records.times[j]
                ));
            }
            let (gf, sd) = scaled_prediction(outputs[self.records.outputs[j]].error, theta, p);
            if !(sd > 0.0 && sd.is_finite()) {
                return Err(format!(
                    "subject {}: residual SD {sd} at t = {} is not positive",
                    self.records.subject, self.records.times[j]
                ));
            }
            f.push(gf);
            s.push(sd);
        }
        Ok((f, s))
    }

    /// Gradient of O at η and its expected-information curvature (module docs).
    fn gradient_and_information(
        &self,
        eta: &[f64],
        sens: &Sensitivities,
    ) -> (DVector<f64>, DMatrix<f64>) {
        let d = eta.len();
        let r = self.records;
        let e = DVector::from_column_slice(eta);
        let mut grad = 2.0 * (self.omega_inv * &e);
        let mut info = 2.0 * self.omega_inv.clone();
        for j in 0..r.len() {
            let (f, s) = (sens.f[j], sens.s[j]);
            let g = sens.df.row(j).transpose();
            let ds = sens.ds.row(j).transpose();
            let z = (r.scaled[j] - f) / s;
            let dz = (-&g - &ds * z) / s;
            if r.censored[j] {
                let m = (-0.5 * z * z - 0.5 * LN_2PI - ln_phi(z)).exp();
                grad += &dz * (-2.0 * m);
                info += (&dz * dz.transpose()) * (2.0 * m * (m + z));
            } else {
                grad += &ds * (2.0 / s) + &dz * (2.0 * z);
                info += (&g * g.transpose() + (&ds * ds.transpose()) * 2.0) * (2.0 / (s * s));
            }
        }
        debug_assert_eq!(grad.len(), d);
        (grad, info)
    }

    /// The EBE by Fisher scoring with a secant correction, from `start` (module docs).
    pub fn mode(&self, start: &[f64]) -> Result<Mode, String> {
        let mut eta = start.to_vec();
        let mut fx = self.objective(&eta);
        if fx.as_ref().map_or(true, |v| !v.is_finite()) {
            eta = vec![0.0; start.len()];
            fx = self.objective(&eta);
        }
        let mut fx = fx?;
        let d = eta.len();
        let mut converged = false;
        let mut iterations = 0;
        // The secant correction A of the scoring matrix and the last step and gradient.
        let mut correction = DMatrix::<f64>::zeros(d, d);
        let mut last: Option<(DVector<f64>, DVector<f64>)> = None;
        while iterations < MAX_ITER {
            iterations += 1;
            let sens = sensitivities(self, &eta)?;
            let (grad, info) = self.gradient_and_information(&eta, &sens);
            if let Some((s, g_old)) = last.take() {
                sr1_update(&mut correction, &s, &(&grad - g_old - &info * &s));
            }
            let Some(scoring) = info.clone().cholesky() else {
                return Err(format!(
                    "subject {}: the information matrix of η is not positive definite",
                    self.records.subject
                ));
            };
            let step = match (&info + &correction).cholesky() {
                Some(newton) => -newton.solve(&grad),
                None => -scoring.solve(&grad),
            };
            let decrement = -step.dot(&grad);
            if decrement < DECREMENT_TOL || step.amax() < STEP_TOL {
                converged = true;
                break;
            }
            if decrement < FINAL_DECREMENT && !self.polish {
                // The predicted fall of O is at the level of its rounding (or of the
                // ODE solver's error), where a line search cannot see descent: the
                // full step, whose error is of second order, ends the search.
                let trial: Vec<f64> = eta.iter().zip(step.iter()).map(|(a, b)| a + b).collect();
                if let Ok(ft) = self.objective(&trial) {
                    if ft.is_finite() {
                        eta = trial;
                        fx = ft;
                    }
                }
                converged = true;
                break;
            }
            let mut alpha = 1.0;
            let mut moved = false;
            for _ in 0..40 {
                let trial: Vec<f64> = eta
                    .iter()
                    .zip(step.iter())
                    .map(|(a, b)| a + alpha * b)
                    .collect();
                if let Ok(ft) = self.objective(&trial) {
                    if ft.is_finite() && ft <= fx {
                        moved = ft < fx || trial != eta;
                        eta = trial;
                        fx = ft;
                        break;
                    }
                }
                alpha *= 0.5;
            }
            if !moved {
                // No descent along a descent direction: at the mode to rounding.
                converged = decrement < 1e-8;
                break;
            }
            last = Some((step * alpha, grad));
        }
        Ok(Mode {
            eta,
            objective: fx,
            iterations,
            converged,
        })
    }

    /// The subject's contribution to the population objective at the EBE found from
    /// `start` (module docs).
    pub fn contribution(&self, start: &[f64], how: Approximation) -> Result<Contribution, String> {
        let mode = self.mode(start)?;
        let d = mode.eta.len();
        let ln_det_omega_inv = ln_det(self.omega_inv).ok_or("Ω is not positive definite")?;
        let (curvature, fallback) = match how {
            Approximation::FoceI => (self.foce_matrix(&mode.eta)?, false),
            Approximation::Laplacian => {
                let h = self.hessian(&mode.eta, mode.objective)? * 0.5;
                if ln_det(&h).is_some() {
                    (h, false)
                } else {
                    (self.foce_matrix(&mode.eta)?, true)
                }
            }
        };
        let ln_det_curv = ln_det(&curvature).ok_or_else(|| {
            format!(
                "subject {}: the curvature of the conditional objective is not positive definite",
                self.records.subject
            )
        })?;
        debug_assert_eq!(curvature.nrows(), d);
        Ok(Contribution {
            ofv: mode.objective - ln_det_omega_inv + ln_det_curv,
            mode,
            fallback,
        })
    }

    /// Ω⁻¹ + Σ_j (g gᵀ/V + ½ h hᵀ/V²) at η (censored records by their expected
    /// information, module docs): half the scoring matrix.
    pub fn foce_matrix(&self, eta: &[f64]) -> Result<DMatrix<f64>, String> {
        let sens = sensitivities(self, eta)?;
        Ok(self.gradient_and_information(eta, &sens).1 * 0.5)
    }

    /// ∇O at η (exact given the sensitivities, module docs).
    pub fn gradient(&self, eta: &[f64]) -> Result<DVector<f64>, String> {
        let sens = sensitivities(self, eta)?;
        Ok(self.gradient_and_information(eta, &sens).0)
    }

    /// ∇²O at η: with exact sensitivities, central differences of the exact gradient
    /// (2d solves with sensitivities, steps ε^⅓·max(1, |η_k|), error O(ε^⅔), then
    /// symmetrised); otherwise central second differences of O (2d² + 1 solves, steps
    /// ε^¼·max(1, |η_k|), error O(ε^½)).
    fn hessian(&self, eta: &[f64], f0: f64) -> Result<DMatrix<f64>, String> {
        if self.model.exact_jacobian() {
            return self.hessian_from_gradients(eta);
        }
        let d = eta.len();
        let h: Vec<f64> = eta
            .iter()
            .map(|x| f64::EPSILON.powf(0.25) * x.abs().max(1.0))
            .collect();
        let mut x = eta.to_vec();
        let mut out = DMatrix::zeros(d, d);
        for i in 0..d {
            x[i] = eta[i] + h[i];
            let up = self.objective(&x)?;
            x[i] = eta[i] - h[i];
            let down = self.objective(&x)?;
            x[i] = eta[i];
            out[(i, i)] = (up - 2.0 * f0 + down) / (h[i] * h[i]);
            for j in 0..i {
                let mut corner = |si: f64, sj: f64| {
                    x[i] = eta[i] + si * h[i];
                    x[j] = eta[j] + sj * h[j];
                    let v = self.objective(&x);
                    x[i] = eta[i];
                    x[j] = eta[j];
                    v
                };
                let v = (corner(1.0, 1.0)? - corner(1.0, -1.0)? - corner(-1.0, 1.0)?
                    + corner(-1.0, -1.0)?)
                    / (4.0 * h[i] * h[j]);
                out[(i, j)] = v;
                out[(j, i)] = v;
            }
        }
        Ok(out)
    }

    /// ∇²O at η by central differences of the exact gradient ([`Conditional::hessian`]).
    fn hessian_from_gradients(&self, eta: &[f64]) -> Result<DMatrix<f64>, String> {
        let d = eta.len();
        let mut x = eta.to_vec();
        let mut out = DMatrix::zeros(d, d);
        for k in 0..d {
            let h = f64::EPSILON.cbrt() * eta[k].abs().max(1.0);
            x[k] = eta[k] + h;
            let up = self.gradient(&x)?;
            x[k] = eta[k] - h;
            let down = self.gradient(&x)?;
            x[k] = eta[k];
            out.set_column(k, &((up - down) / (2.0 * h)));
        }
        Ok((&out + out.transpose()) * 0.5)
    }
}

/// Symmetric rank-one update of the correction A so that (I + A)s matches the change of
/// the gradient beyond the new scoring matrix I: A ← A + r rᵀ/(rᵀs), r = y − A s, where
/// `y` is that residual change (Nocedal & Wright 2006, eq. 6.24, skipped when
/// |rᵀs| < 10⁻⁸‖r‖‖s‖, their eq. 6.26). With it the steps approach Newton's on the
/// observed Hessian, which converges superlinearly where plain scoring is linear.
fn sr1_update(a: &mut DMatrix<f64>, s: &DVector<f64>, y: &DVector<f64>) {
    let r = y - &*a * s;
    let rs = r.dot(s);
    if rs.abs() >= 1e-8 * r.norm() * s.norm() && rs != 0.0 {
        *a += (&r * r.transpose()) / rs;
    }
}

/// Fisher-scoring iteration limit.
const MAX_ITER: usize = 200;
/// Converged when the scoring decrement ∇Oᵀ H⁻¹ ∇O is below this (O units) …
const DECREMENT_TOL: f64 = 1e-20;
/// … or the largest step component is below this.
const STEP_TOL: f64 = 1e-11;
/// Below this decrement the last step is taken whole, without a line search.
const FINAL_DECREMENT: f64 = 1e-12;

/// The derivative source: F, s and their sensitivities to η at η. From the model's
/// exact prediction Jacobian ∂f/∂θ ([`Predict::predict_jacobian`]: symbolic derivatives
/// and forward sensitivities) by the chain rule ∂F/∂η_k = g′(f)·∂f/∂θ_i·dθ_i/dη_k, θ_i
/// the parameter of η_k (0 where ψ + η is clamped at a bound), with the sensitivity
/// equations of the η's parameters only ([`Predict::predict_jacobian_of`]: n(1 + d)
/// equations for n states); otherwise by central differences with steps
/// ε^⅓·max(1, |η_k|) (Nocedal & Wright 2006 §8.1).
pub fn sensitivities<M: Predict + ?Sized>(
    c: &Conditional<'_, M>,
    eta: &[f64],
) -> Result<Sensitivities, String> {
    if c.model.exact_jacobian() {
        exact_sensitivities(c, eta)
    } else {
        difference_sensitivities(c, eta)
    }
}

/// [`sensitivities`] from the exact prediction Jacobian.
fn exact_sensitivities<M: Predict + ?Sized>(
    c: &Conditional<'_, M>,
    eta: &[f64],
) -> Result<Sensitivities, String> {
    let params = c.model.parameters();
    let base = c.pop.typical(c.model, c.psi);
    let theta = c.theta(eta);
    let r = c.records;
    let (n, np, d) = (r.len(), theta.len(), eta.len());
    let mut pred = vec![0.0; n];
    let mut jac = vec![0.0; n * np];
    c.model
        .predict_jacobian_of(
            &theta,
            &c.individual,
            &r.times,
            &r.outputs,
            &c.pop.eta_params,
            &mut pred,
            &mut jac,
        )
        .map_err(|e| e.to_string())?;
    let (f, s) = c.moments_of(&theta, &pred)?;
    // dθ_i/dη_k of each η's parameter.
    let slopes: Vec<(usize, f64)> = c
        .pop
        .eta_params
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let p = &params[i];
            let (lo, hi) = c.pop.eta_bounds[k];
            let x = p.to_estimation(base[i]) + eta[k];
            let slope = if x < lo || x > hi {
                0.0
            } else {
                p.transform.derivative(x, p.lower, p.upper)
            };
            (i, slope)
        })
        .collect();
    let outputs = c.model.outputs();
    let mut df = DMatrix::zeros(n, d);
    let mut ds = DMatrix::zeros(n, d);
    for j in 0..n {
        let p = pred[j];
        // dF/df and ds/df of the error model (crate::estimate::likelihood::scaled_prediction).
        let (dfdp, dsdp) = match outputs[r.outputs[j]].error {
            ErrorModel::Additive { .. } => (1.0, 0.0),
            ErrorModel::Proportional { b } => (1.0, theta[b] * p.signum()),
            ErrorModel::Combined { b, .. } => (1.0, theta[b] * theta[b] * p / s[j]),
            ErrorModel::LogAdditive { .. } => (if p > LOG_FLOOR { 1.0 / p } else { 0.0 }, 0.0),
        };
        for (k, &(i, slope)) in slopes.iter().enumerate() {
            let dp = jac[j * np + i] * slope;
            df[(j, k)] = dfdp * dp;
            ds[(j, k)] = dsdp * dp;
        }
    }
    Ok(Sensitivities { f, s, df, ds })
}

/// [`sensitivities`] by central differences of F and s.
fn difference_sensitivities<M: Predict + ?Sized>(
    c: &Conditional<'_, M>,
    eta: &[f64],
) -> Result<Sensitivities, String> {
    let (f, s) = c.moments(eta)?;
    let n = f.len();
    let d = eta.len();
    let mut df = DMatrix::zeros(n, d);
    let mut ds = DMatrix::zeros(n, d);
    let mut x = eta.to_vec();
    for k in 0..d {
        let h = f64::EPSILON.cbrt() * eta[k].abs().max(1.0);
        x[k] = eta[k] + h;
        let (fu, su) = c.moments(&x)?;
        x[k] = eta[k] - h;
        let (fd, sd) = c.moments(&x)?;
        x[k] = eta[k];
        for j in 0..n {
            df[(j, k)] = (fu[j] - fd[j]) / (2.0 * h);
            ds[(j, k)] = (su[j] - sd[j]) / (2.0 * h);
        }
    }
    Ok(Sensitivities { f, s, df, ds })
}

/// ln|A| of a symmetric positive definite matrix, `None` otherwise.
pub fn ln_det(a: &DMatrix<f64>) -> Option<f64> {
    let chol = a.clone().cholesky()?;
    let l = chol.l();
    Some(2.0 * (0..a.nrows()).map(|i| l[(i, i)].ln()).sum::<f64>())
}
