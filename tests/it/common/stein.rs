//! A hand-written Stein 2019 closed form implementing `Predict`: an independent
//! reference for the estimation and simulation tests (Stein et al. CPT PSP 2019;
//! models/stein2019.model), with its parameters, bounds, transforms and error model.
//!
//! C(t) = R0·e^(ρt) for t < Tmax, with ρ = ln(foldx)/Tmax and R0 = Cmax/foldx;
//! C(t) = (1 − F_B)·Cmax·e^(−α(t − Tmax)) + F_B·Cmax·e^(−β(t − Tmax)) for t ≥ Tmax.

use cartkin::data::Analyte;
use cartkin::model::{
    ErrorModel, Individual, Output, Parameter, Predict, PredictError, Role, Transform,
};

/// Stein 2019 closed form; parameters foldx, tmax, cmax, alpha, fb, beta, sigma.
pub struct Stein {
    params: Vec<Parameter>,
    outputs: Vec<Output>,
}

/// Published ω² (Stein et al. 2019, Table 1): foldx, tmax, cmax, alpha, fb, beta.
pub const OMEGA2: [f64; 6] = [2.4, 0.38, 0.65, 0.91, 0.8, 0.86];
/// Typical values: foldx, tmax, cmax, alpha, fb, beta.
pub const TYPICAL: [f64; 6] = [3900.0, 9.3, 24000.0, 0.16, 0.0079, 0.0032];
/// Typical values with sigma (the published 0.56 on the log scale).
pub const STEIN_TYPICAL: [f64; 7] = [3900.0, 9.3, 24000.0, 0.16, 0.0079, 0.0032, 0.56];
/// Parameter names in model order.
pub const STEIN_NAMES: [&str; 7] = ["foldx", "tmax", "cmax", "alpha", "fb", "beta", "sigma"];

fn p(name: &str, typical: f64, lo: f64, hi: f64, t: Transform, w2: Option<f64>) -> Parameter {
    Parameter {
        name: name.into(),
        typical,
        unit: String::new(),
        lower: lo,
        upper: hi,
        transform: t,
        omega2: w2,
        fixed: false,
        role: Role::Structural,
    }
}

impl Stein {
    /// Without IIV (individual fits).
    pub fn new() -> Self {
        Stein::with_iiv([false; 6])
    }

    /// With IIV on the parameters whose flag in `iiv` is true (order of [`TYPICAL`]).
    pub fn with_iiv(iiv: [bool; 6]) -> Self {
        let w = |i: usize| if iiv[i] { Some(OMEGA2[i]) } else { None };
        let mut params = vec![
            p("foldx", TYPICAL[0], 1.0, 1e8, Transform::Log, w(0)),
            p("tmax", TYPICAL[1], 0.5, 60.0, Transform::Log, w(1)),
            p("cmax", TYPICAL[2], 1.0, 1e9, Transform::Log, w(2)),
            p("alpha", TYPICAL[3], 1e-4, 10.0, Transform::Log, w(3)),
            p("fb", TYPICAL[4], 0.0, 1.0, Transform::Logit, w(4)),
            p("beta", TYPICAL[5], 1e-6, 1.0, Transform::Log, w(5)),
        ];
        let mut sigma = p("sigma", 0.56, 0.0, f64::INFINITY, Transform::Log, None);
        sigma.role = Role::Residual;
        params.push(sigma);
        Stein {
            params,
            outputs: vec![Output {
                analyte: Analyte::new("transgene"),
                unit: "copies/ug".into(),
                error: ErrorModel::LogAdditive { a: 6 },
                lloq: Some(20.0),
            }],
        }
    }

    /// All six parameters with their published IIV.
    pub fn published() -> Self {
        Stein::with_iiv([true; 6])
    }

    /// C(t) for natural-scale θ = (foldx, tmax, cmax, alpha, fb, beta, ...).
    pub fn conc(theta: &[f64], t: f64) -> f64 {
        stein(theta, t)
    }
}

/// The closed form at time t for θ = (foldx, tmax, cmax, alpha, fb, beta, ...).
pub fn stein(theta: &[f64], t: f64) -> f64 {
    let (foldx, tmax, cmax, alpha, fb, beta) =
        (theta[0], theta[1], theta[2], theta[3], theta[4], theta[5]);
    if t < tmax {
        cmax / foldx * (foldx.ln() / tmax * t).exp()
    } else {
        (1.0 - fb) * cmax * (-alpha * (t - tmax)).exp() + fb * cmax * (-beta * (t - tmax)).exp()
    }
}

impl Predict for Stein {
    fn name(&self) -> &str {
        "stein2019_reference"
    }
    fn parameters(&self) -> &[Parameter] {
        &self.params
    }
    fn outputs(&self) -> &[Output] {
        &self.outputs
    }
    fn predict(
        &self,
        theta: &[f64],
        _individual: &Individual<'_>,
        times: &[f64],
        _outputs: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        for (o, &t) in out.iter_mut().zip(times) {
            *o = stein(theta, t);
        }
        Ok(())
    }
}
