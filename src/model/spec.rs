//! What the rest of cartkin sees of a model: its parameters (typical values, bounds,
//! estimation scale, between-subject variability), its observed outputs with their
//! residual error models, and one operation — predict the outputs of one individual at
//! requested times. Estimation and simulation are written against [`Predict`] only.

use crate::data::{Analyte, Covariates, Dose, TimeUnit};

/// The scale on which a parameter is estimated and on which its random effect acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// ψ = log θ (θ > 0); log-normal between-subject variability.
    Log,
    /// ψ = log((θ − lo)/(hi − θ)) on the parameter's bounds (0 and 1 when unbounded).
    Logit,
    /// ψ = θ.
    Identity,
}

/// What a parameter is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A structural parameter of the kinetics.
    Structural,
    /// A residual-error parameter (standard deviation or coefficient of variation).
    Residual,
}

/// One model parameter as declared in the model file.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Name as written in the model file.
    pub name: String,
    /// Typical (population) value on the natural scale.
    pub typical: f64,
    /// Unit, free text (empty when dimensionless).
    pub unit: String,
    /// Lower bound on the natural scale (may be −∞).
    pub lower: f64,
    /// Upper bound on the natural scale (may be +∞).
    pub upper: f64,
    /// Estimation scale.
    pub transform: Transform,
    /// Variance ω² of the between-subject random effect on the estimation scale; `None`
    /// when the parameter has no between-subject variability.
    pub omega2: Option<f64>,
    /// Held at its typical value by default (not estimated).
    pub fixed: bool,
    /// Structural or residual.
    pub role: Role,
}

/// A residual error model of one observed output. The fields are indices into the
/// model's parameter vector (parameters with [`Role::Residual`]).
///
/// With prediction f and observation y:
/// - `Additive`: y = f + a·ε
/// - `Proportional`: y = f·(1 + b·ε)
/// - `Combined`: y = f + sqrt(a² + b²f²)·ε
/// - `LogAdditive`: log y = log f + a·ε (log-transform-both-sides)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorModel {
    /// Additive standard deviation.
    Additive { a: usize },
    /// Proportional coefficient of variation.
    Proportional { b: usize },
    /// Additive and proportional combined (variances add).
    Combined { a: usize, b: usize },
    /// Additive on the natural-log scale.
    LogAdditive { a: usize },
}

/// An observed output of a model: which analyte, its unit and its error model.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The analyte this output predicts (matched to the data's DVID).
    pub analyte: Analyte,
    /// Unit, free text.
    pub unit: String,
    /// Residual error model.
    pub error: ErrorModel,
    /// Default lower limit of quantification used by simulation when none is given.
    pub lloq: Option<f64>,
}

/// What a prediction needs to know about one individual besides its parameters.
#[derive(Debug, Clone, Copy)]
pub struct Individual<'a> {
    /// Doses in time order (amounts as total cells; per-kg doses already × WT).
    pub doses: &'a [Dose],
    /// Covariates (constant or time-varying).
    pub covariates: &'a Covariates,
}

/// A failed prediction: what failed, for which model, where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    /// The ODE solve failed (step size underflow, step limit, non-finite state).
    #[error("model `{model}`: the solve failed at t = {time} (state `{state}`): {reason}")]
    Solve {
        /// Model name.
        model: String,
        /// Time reached.
        time: f64,
        /// The state that failed (or the one with the largest error).
        state: String,
        /// What happened.
        reason: String,
    },
    /// An expression gave a value that is not a finite number (division by zero, log of a
    /// negative number, ...).
    #[error("model `{model}`: `{what}` is not a finite number at t = {time}")]
    NonFinite {
        /// Model name.
        model: String,
        /// The quantity (variable, output or derivative) that was not finite.
        what: String,
        /// Time.
        time: f64,
    },
    /// The individual lacks something the model needs (a covariate, a dose target).
    #[error("model `{model}`: {message}")]
    Input {
        /// Model name.
        model: String,
        /// What is missing or wrong.
        message: String,
    },
}

/// A model that predicts observed outputs. Implemented by compiled model files
/// ([`crate::model::Model`]); estimation and simulation use nothing else.
pub trait Predict: Send + Sync {
    /// Model name.
    fn name(&self) -> &str;

    /// Parameters, in the order of every parameter vector.
    fn parameters(&self) -> &[Parameter];

    /// Observed outputs, in the order of output indices.
    fn outputs(&self) -> &[Output];

    /// Predict output `outputs[i]` at time `times[i]` for every i into `out[i]`, with
    /// parameters `theta` on the natural scale. `times` is sorted non-decreasing; all
    /// three slices have the same length.
    fn predict(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError>;

    /// Predictions as [`Predict::predict`] into `out`, and their derivatives with respect
    /// to every parameter (natural scale) into `jac`, row-major:
    /// `jac[i * theta.len() + k] = ∂out[i]/∂θ_k` (`jac.len() = out.len() · theta.len()`).
    ///
    /// This is the gradient API of estimation (individual fits, and per subject the
    /// population methods: predictions and ∂pred/∂θ at the record times). The default
    /// differentiates by central finite differences, h_k = ε^(1/3)·max(|θ_k|, 1); a
    /// compiled [`crate::model::Model`] gives exact derivatives (forward sensitivities,
    /// [`Predict::exact_jacobian`] is then `true`).
    fn predict_jacobian(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), PredictError> {
        let np = theta.len();
        if jac.len() != out.len() * np {
            return Err(PredictError::Input {
                model: self.name().to_string(),
                message: format!(
                    "jac has {} entries: expected {} predictions × {np} parameters",
                    jac.len(),
                    out.len()
                ),
            });
        }
        self.predict(theta, individual, times, outputs, out)?;
        let mut probe = theta.to_vec();
        let (mut up, mut down) = (vec![0.0; out.len()], vec![0.0; out.len()]);
        for k in 0..np {
            let h = f64::EPSILON.cbrt() * theta[k].abs().max(1.0);
            probe[k] = theta[k] + h;
            self.predict(&probe, individual, times, outputs, &mut up)?;
            probe[k] = theta[k] - h;
            self.predict(&probe, individual, times, outputs, &mut down)?;
            probe[k] = theta[k];
            for i in 0..out.len() {
                jac[i * np + k] = (up[i] - down[i]) / (2.0 * h);
            }
        }
        Ok(())
    }

    /// [`Predict::predict_jacobian`] where only the columns of the parameters `wanted`
    /// (indices into θ) are needed: the others are 0. A model with exact derivatives
    /// solves only the sensitivity equations of the wanted parameters; by default every
    /// column is computed and the others cleared.
    #[allow(clippy::too_many_arguments)]
    fn predict_jacobian_of(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        wanted: &[usize],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), PredictError> {
        self.predict_jacobian(theta, individual, times, outputs, out, jac)?;
        let np = theta.len();
        for (k, x) in jac.iter_mut().enumerate() {
            if !wanted.contains(&(k % np)) {
                *x = 0.0;
            }
        }
        Ok(())
    }

    /// Whether [`Predict::predict_jacobian`] is exact (not finite differences).
    fn exact_jacobian(&self) -> bool {
        false
    }

    /// The unit of the model's time `t` (a model file's `time_unit`, default days):
    /// callers holding times in another unit convert them before predicting.
    fn time_unit(&self) -> TimeUnit {
        TimeUnit::Days
    }

    /// Index of the output for `analyte`, if the model has one.
    fn output_index(&self, analyte: &Analyte) -> Option<usize> {
        self.outputs().iter().position(|o| &o.analyte == analyte)
    }

    /// Full blocks of the between-subject covariance Ω, by parameter names (a model
    /// file's `block` lines); parameters in no block have a variance only.
    fn omega_blocks(&self) -> &[Vec<String>] {
        &[]
    }

    /// Index of the parameter called `name`.
    fn parameter_index(&self, name: &str) -> Option<usize> {
        self.parameters().iter().position(|p| p.name == name)
    }
}

impl Transform {
    /// Natural → estimation scale for a parameter with bounds `lo`, `hi`.
    pub fn forward(self, theta: f64, lo: f64, hi: f64) -> f64 {
        match self {
            Transform::Log => theta.ln(),
            Transform::Identity => theta,
            Transform::Logit => {
                let (lo, hi) = logit_bounds(lo, hi);
                ((theta - lo) / (hi - theta)).ln()
            }
        }
    }

    /// Estimation → natural scale.
    pub fn inverse(self, psi: f64, lo: f64, hi: f64) -> f64 {
        match self {
            Transform::Log => psi.exp(),
            Transform::Identity => psi,
            Transform::Logit => {
                let (lo, hi) = logit_bounds(lo, hi);
                // lo + (hi − lo)·σ(ψ), written to stay finite for large |ψ|
                if psi >= 0.0 {
                    lo + (hi - lo) / (1.0 + (-psi).exp())
                } else {
                    let e = psi.exp();
                    lo + (hi - lo) * e / (1.0 + e)
                }
            }
        }
    }

    /// dθ/dψ at ψ (for the delta method: SE on the natural scale).
    pub fn derivative(self, psi: f64, lo: f64, hi: f64) -> f64 {
        match self {
            Transform::Log => psi.exp(),
            Transform::Identity => 1.0,
            Transform::Logit => {
                let (lo, hi) = logit_bounds(lo, hi);
                let s = 1.0 / (1.0 + (-psi).exp());
                (hi - lo) * s * (1.0 - s)
            }
        }
    }
}

/// Bounds of a logit transform: the declared ones when finite, else (0, 1).
fn logit_bounds(lo: f64, hi: f64) -> (f64, f64) {
    if lo.is_finite() && hi.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

impl Parameter {
    /// This parameter's value on the estimation scale.
    pub fn to_estimation(&self, theta: f64) -> f64 {
        self.transform.forward(theta, self.lower, self.upper)
    }

    /// Back from the estimation scale.
    pub fn to_natural(&self, psi: f64) -> f64 {
        self.transform.inverse(psi, self.lower, self.upper)
    }
}
