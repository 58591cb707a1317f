//! Test models for the estimation tests, written out by hand as independent references
//! (the Stein 2019 closed form is in [`super::stein`]): a straight line with additive
//! error (a linear-Gaussian model whose MLE and covariance are known exactly) and a
//! mono-exponential decay.

use cartkin::data::{Analyte, Covariates, Dataset, Observation, Subject};
use cartkin::estimate::likelihood::Records;
use cartkin::estimate::population::{PopulationModel, PopulationProblem};
use cartkin::model::{
    ErrorModel, Individual, Output, Parameter, Predict, PredictError, Role, Transform,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::stein::stein;

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

/// f(t) = a + b·t, additive error sd; a and b on the identity scale.
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

    /// With IIV (ω²) on a and b.
    pub fn with_iiv(mut self, omega2_a: Option<f64>, omega2_b: Option<f64>) -> Line {
        self.params[0].omega2 = omega2_a;
        self.params[1].omega2 = omega2_b;
        self
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

/// y = DOSE·A·exp(−k·t) (DOSE a covariate, 1 when absent), A, k and the residual sd on
/// the log scale.
pub struct Decay {
    params: Vec<Parameter>,
    outputs: Vec<Output>,
}

impl Decay {
    /// Typical A and k with their ω² (IIV when given), the sd of the residual `error`
    /// (its parameter index 2) and the LLOQ.
    pub fn new(
        (a, omega2_a): (f64, Option<f64>),
        (k, omega2_k): (f64, Option<f64>),
        sd: f64,
        error: ErrorModel,
        lloq: Option<f64>,
    ) -> Decay {
        use Role::*;
        let log = |name: &str, typical: f64, omega2: Option<f64>, role: Role| Parameter {
            omega2,
            ..param(name, typical, 0.0, f64::INFINITY, Transform::Log, role)
        };
        Decay {
            params: vec![
                log("A", a, omega2_a, Structural),
                log("k", k, omega2_k, Structural),
                log("sd", sd, None, Residual),
            ],
            outputs: vec![Output {
                analyte: Analyte::new("y"),
                unit: String::new(),
                error,
                lloq,
            }],
        }
    }
}

impl Predict for Decay {
    fn name(&self) -> &str {
        "decay"
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
        ind: &Individual<'_>,
        times: &[f64],
        _outputs: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        let dose = ind.covariates.numeric("DOSE", 0.0).unwrap_or(1.0);
        for (o, &t) in out.iter_mut().zip(times) {
            *o = dose * theta[0] * (-theta[1] * t).exp();
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

/// An in-memory dataset of `subjects`, without covariate columns.
pub fn in_memory(subjects: Vec<Subject>) -> Dataset {
    Dataset {
        source: "memory".into(),
        subjects,
        covariate_names: vec![],
    }
}

/// The population problem of `model` on `data`, nothing fixed, with the Ω `blocks`.
pub fn problem<'a, M: Predict>(
    model: &'a M,
    data: &'a Dataset,
    blocks: &[Vec<String>],
) -> PopulationProblem<'a, M> {
    let pop = PopulationModel::new(model, &[], blocks).expect("population model");
    let prepared = data
        .subjects
        .iter()
        .map(|s| Records::from_subject(s, model, None).expect("records"))
        .collect();
    PopulationProblem::new(model, pop, data, prepared)
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
            let y = stein(theta, t) * (sigma * e).exp();
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

/// Stein sampling days (13 visits, the seed-trial design).
pub const STEIN_DAYS: [f64; 13] = [
    0.0, 1.0, 4.0, 7.0, 10.0, 14.0, 21.0, 28.0, 56.0, 84.0, 168.0, 252.0, 365.0,
];

/// `n` Stein subjects with log-normal IIV on tmax, cmax, alpha (published ω²), the
/// other parameters at their typical values, log-additive error σ = 0.4, censored
/// below `lloq`.
pub fn stein_population(n: usize, seed: u64, lloq: f64) -> Dataset {
    use super::stein::{OMEGA2, TYPICAL};
    let mut r = rng(seed);
    let subjects = (0..n)
        .map(|i| {
            let mut theta: Vec<f64> = TYPICAL.to_vec();
            for k in [1, 2, 3] {
                let z: f64 = StandardNormal.sample(&mut r);
                theta[k] *= (OMEGA2[k].sqrt() * z).exp();
            }
            let obs = stein_observations(&theta, &STEIN_DAYS, 0.4, lloq, &mut r);
            subject(&format!("S{i}"), "transgene", &obs, Some(lloq))
        })
        .collect();
    in_memory(subjects)
}
