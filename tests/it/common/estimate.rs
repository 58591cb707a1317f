//! Test models for the estimation tests, written out by hand as independent references:
//! the Stein 2019 closed form (Stein et al. CPT PSP 2019) with the parameters, bounds, transforms
//! and error model of models/stein2019.model, and a straight line with
//! additive error (a linear-Gaussian model whose MLE and covariance are known exactly).

use cartkin::data::{Analyte, Covariates, Observation, Subject};
use cartkin::model::{
    ErrorModel, Individual, Output, Parameter, Predict, PredictError, Role, Transform,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn param(name: &str, typical: f64, lo: f64, hi: f64, t: Transform, role: Role) -> Parameter {
    Parameter {
        name: name.into(),
        typical,
        unit: String::new(),
        lower: lo,
        upper: hi,
        transform: t,
        omega2: None,
        fixed: false,
        role,
    }
}

/// Stein 2019 closed form; parameters foldx, tmax, cmax, alpha, fb, beta, sigma.
pub struct Stein {
    params: Vec<Parameter>,
    outputs: Vec<Output>,
}

/// Typical values of Stein et al. 2019 (sigma: the published 0.56 on the log scale).
pub const STEIN_TYPICAL: [f64; 7] = [3900.0, 9.3, 24000.0, 0.16, 0.0079, 0.0032, 0.56];
/// Parameter names in model order.
pub const STEIN_NAMES: [&str; 7] = ["foldx", "tmax", "cmax", "alpha", "fb", "beta", "sigma"];

impl Stein {
    /// The stein2019 model (models/stein2019.model).
    pub fn new() -> Stein {
        use Role::*;
        use Transform::*;
        let t = STEIN_TYPICAL;
        Stein {
            params: vec![
                param("foldx", t[0], 1.0, 1e8, Log, Structural),
                param("tmax", t[1], 0.5, 60.0, Log, Structural),
                param("cmax", t[2], 1.0, 1e9, Log, Structural),
                param("alpha", t[3], 1e-4, 10.0, Log, Structural),
                param("fb", t[4], 0.0, 1.0, Logit, Structural),
                param("beta", t[5], 1e-6, 1.0, Log, Structural),
                param("sigma", t[6], 0.0, f64::INFINITY, Log, Residual),
            ],
            outputs: vec![Output {
                analyte: Analyte::new("transgene"),
                unit: "copies/ug".into(),
                error: ErrorModel::LogAdditive { a: 6 },
                lloq: Some(20.0),
            }],
        }
    }

    /// C(t) for natural-scale parameters (Stein 2019 closed form).
    pub fn conc(theta: &[f64], t: f64) -> f64 {
        let [foldx, tmax, cmax, alpha, fb, beta] =
            [theta[0], theta[1], theta[2], theta[3], theta[4], theta[5]];
        if t < tmax {
            cmax / foldx * (foldx.ln() / tmax * t).exp()
        } else {
            let s = t - tmax;
            (1.0 - fb) * cmax * (-alpha * s).exp() + fb * cmax * (-beta * s).exp()
        }
    }
}

impl Predict for Stein {
    fn name(&self) -> &str {
        "stein_closed_form_test"
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
        _ind: &Individual<'_>,
        times: &[f64],
        _outputs: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        for (o, &t) in out.iter_mut().zip(times) {
            *o = Stein::conc(theta, t);
        }
        Ok(())
    }
}

/// f(t) = a + b·t, additive error sd; all identity scale.
pub struct Line {
    params: Vec<Parameter>,
    outputs: Vec<Output>,
}

impl Line {
    /// Parameters a, b, sd (sd on the log scale).
    pub fn new(a: f64, b: f64, sd: f64) -> Line {
        use Role::*;
        use Transform::*;
        let inf = f64::INFINITY;
        Line {
            params: vec![
                param("a", a, -inf, inf, Identity, Structural),
                param("b", b, -inf, inf, Identity, Structural),
                param("sd", sd, 0.0, inf, Log, Residual),
            ],
            outputs: vec![Output {
                analyte: Analyte::new("y"),
                unit: String::new(),
                error: ErrorModel::Additive { a: 2 },
                lloq: None,
            }],
        }
    }
}

impl Predict for Line {
    fn name(&self) -> &str {
        "line"
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
        _ind: &Individual<'_>,
        times: &[f64],
        _outputs: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        for (o, &t) in out.iter_mut().zip(times) {
            *o = theta[0] + theta[1] * t;
        }
        Ok(())
    }
}

/// A subject with observations (t, value, censored) of `analyte`.
pub fn subject(id: &str, analyte: &str, obs: &[(f64, f64, bool)], lloq: Option<f64>) -> Subject {
    Subject {
        id: id.into(),
        observations: obs
            .iter()
            .map(|&(time, value, censored)| Observation {
                time,
                analyte: Analyte::new(analyte),
                value,
                censored,
                lloq,
                line: 0,
            })
            .collect(),
        doses: vec![],
        covariates: Covariates::default(),
    }
}

/// Stein observations at `times` with log-normal noise sd `sigma` (seeded), censored
/// below `lloq` (value = the limit).
pub fn stein_observations(
    theta: &[f64],
    times: &[f64],
    sigma: f64,
    lloq: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<(f64, f64, bool)> {
    times
        .iter()
        .map(|&t| {
            let e: f64 = StandardNormal.sample(rng);
            let y = Stein::conc(theta, t) * (sigma * e).exp();
            if y < lloq {
                (t, lloq, true)
            } else {
                (t, y, false)
            }
        })
        .collect()
}

/// A seeded generator.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
