//! Run a simulation: rayon over subjects, one [`Predict::predict`] call per subject for
//! all outputs and times, then residual error and censoring.
//!
//! Residual error of output value f with the model's error model (parameters from the
//! subject's θ, ε ~ N(0, 1) drawn from the subject's stream in time-major, output order):
//!
//! | error model | observation y |
//! |---|---|
//! | additive a | f + a·ε |
//! | proportional b | f·(1 + b·ε) |
//! | combined a, b | f + sqrt(a² + b²·f²)·ε |
//! | log-additive a | f·exp(a·ε) (0 when f ≤ 0) |
//!
//! With residual error, y < LLOQ is reported censored with value = LLOQ. Without it the
//! values are the model's predictions (no censoring in the values; the endpoints still
//! apply the LLOQ, see [`super::endpoints`]).
//!
//! Each subject's result depends only on (seed, its global index, the design), and the
//! results are collected in subject order, so the output does not depend on the thread
//! count.
//!
//! Design times are days; for a model whose `t` is in hours (`time_unit hours`) the
//! solve runs at 24 × the design times, so outputs and endpoints stay in days.

use std::borrow::Cow;

use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::design::{DoseUnit, ValidDesign, Variability};
use super::population::{subject_rng, VirtualSubject};
use super::SimulateError;
use crate::data::{Analyte, CovariateValue, Covariates, Dose, TimeUnit};
use crate::model::{ErrorModel, Individual, Predict};

/// One simulated subject.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedSubject {
    /// Identifier (global index + 1).
    pub id: usize,
    /// Dose level as given (total cells or cells/kg).
    pub dose: f64,
    /// Cells infused (dose × WT for per-kg doses).
    pub amount: f64,
    /// Parameters and covariates (empty when read back from files).
    pub subject: VirtualSubject,
    /// Values, `values[time * n_outputs + output]`.
    pub values: Vec<f64>,
    /// Censored flags in the same layout (all false without residual error).
    pub censored: Vec<bool>,
}

/// The result of a simulation run (or of reading one back).
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Sampling times.
    pub times: Vec<f64>,
    /// Simulated analytes, in the model's order.
    pub analytes: Vec<Analyte>,
    /// Their LLOQ.
    pub lloq: Vec<Option<f64>>,
    /// Whether values carry residual error and censoring.
    pub residual_error: bool,
    /// Subjects in id order.
    pub subjects: Vec<SimulatedSubject>,
}

impl Simulation {
    /// Value and censored flag of `subject` for analyte `k` at time index `t`.
    pub fn value(&self, subject: &SimulatedSubject, t: usize, k: usize) -> (f64, bool) {
        let i = t * self.analytes.len() + k;
        (subject.values[i], subject.censored[i])
    }
}

/// The covariates handed to the model for a subject: the drawn ones, plus DOSE (cells
/// infused) and, for per-kg doses, DOSE_PER_KG.
pub fn subject_covariates(design: &ValidDesign, s: &SimulatedSubject) -> Covariates {
    let mut c = Covariates::default();
    for ((name, _), x) in design
        .population
        .covariates()
        .iter()
        .zip(&s.subject.covariates)
    {
        c.constant.insert(name.clone(), CovariateValue::Numeric(*x));
    }
    c.constant
        .insert("DOSE".into(), CovariateValue::Numeric(s.amount));
    if design.design.dose_unit == DoseUnit::PerKg {
        c.constant
            .insert("DOSE_PER_KG".into(), CovariateValue::Numeric(s.dose));
    }
    c
}

/// Simulate every subject of `design` (its shard) with `model`, in memory. `progress` is
/// called with 1 after each subject (from any thread). The first failing subject (in id
/// order) ends the run with its error. For runs too large for memory, see
/// [`super::stream`], which simulates the same subjects chunk by chunk.
pub fn simulate(
    model: &dyn Predict,
    design: &ValidDesign,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Simulation, SimulateError> {
    simulate_range(model, design, design.subject_range(), progress)
}

/// Simulate the subjects of global indices `range` (a part of the design's range).
pub fn simulate_range(
    model: &dyn Predict,
    design: &ValidDesign,
    range: std::ops::Range<usize>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Simulation, SimulateError> {
    let n_out = design.outputs.len();
    let times = &design.design.times;
    let rep_times: Vec<f64> = times
        .iter()
        .flat_map(|&t| std::iter::repeat_n(t, n_out))
        .collect();
    let rep_outputs: Vec<usize> = (0..times.len())
        .flat_map(|_| design.outputs.iter().copied())
        .collect();
    let results: Vec<Result<SimulatedSubject, SimulateError>> = range
        .into_par_iter()
        .map(|k| {
            let r = simulate_one(model, design, k, &rep_times, &rep_outputs);
            progress(1);
            r
        })
        .collect();
    let subjects = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(Simulation {
        times: times.clone(),
        analytes: design.analytes.clone(),
        lloq: design.lloq.clone(),
        residual_error: design.design.residual_error,
        subjects,
    })
}

fn simulate_one(
    model: &dyn Predict,
    design: &ValidDesign,
    k: usize,
    times: &[f64],
    outputs: &[usize],
) -> Result<SimulatedSubject, SimulateError> {
    let mut rng = subject_rng(design.design.seed, k);
    let subject = match design.design.variability {
        Variability::Typical => design.population.typical_subject(k),
        Variability::Population(_) => design.population.draw(k, &mut rng),
    };
    let mut s = predict_subject(model, design, subject, design.level_of(k), times, outputs)?;
    if design.design.residual_error {
        let n_out = design.outputs.len();
        let all = model.outputs();
        for (i, v) in s.values.iter_mut().enumerate() {
            let k_out = i % n_out;
            let eps: f64 = rng.sample(StandardNormal);
            *v = observe(*v, all[design.outputs[k_out]].error, &s.subject.theta, eps);
            if let Some(l) = design.lloq[k_out] {
                if *v < l {
                    *v = l;
                    s.censored[i] = true;
                }
            }
        }
    }
    Ok(s)
}

/// The predictions (no residual error) of a drawn `subject` (id = its index + 1) at
/// dose level `level` of `design`, at `times` × `outputs` given point by point (each
/// time repeated once per output, the layout of [`SimulatedSubject::values`]). Trials
/// ([`crate::trial`]) use it to simulate a patient at the dose the design assigns.
pub fn predict_subject(
    model: &dyn Predict,
    design: &ValidDesign,
    subject: VirtualSubject,
    level: usize,
    times: &[f64],
    outputs: &[usize],
) -> Result<SimulatedSubject, SimulateError> {
    let k = subject.index;
    let dose = design.design.doses[level].dose;
    let amount = match (design.design.dose_unit, design.weight) {
        (DoseUnit::PerKg, Some(w)) => dose * subject.covariates[w],
        _ => dose,
    };
    let mut s = SimulatedSubject {
        id: k + 1,
        dose,
        amount,
        subject,
        values: vec![0.0; times.len()],
        censored: vec![false; times.len()],
    };
    let covariates = subject_covariates(design, &s);
    let doses = [Dose {
        time: 0.0,
        amount,
        target: None,
        duration: None,
        line: 0,
    }];
    let individual = Individual {
        doses: &doses,
        covariates: &covariates,
    };
    // Designs are in days; a model whose `t` is in hours is solved at t = 24 × day.
    let factor = TimeUnit::Days.factor_to(model.time_unit());
    let model_times: Cow<[f64]> = if factor == 1.0 {
        Cow::Borrowed(times)
    } else {
        Cow::Owned(times.iter().map(|t| t * factor).collect())
    };
    model
        .predict(
            &s.subject.theta,
            &individual,
            &model_times,
            outputs,
            &mut s.values,
        )
        .map_err(|source| SimulateError::Predict {
            id: s.id,
            dose,
            source,
        })?;
    Ok(s)
}

/// An observation of prediction `f` with error model `e`, parameters `theta`, and
/// standard normal deviate `eps` (see the module table).
pub fn observe(f: f64, e: ErrorModel, theta: &[f64], eps: f64) -> f64 {
    match e {
        ErrorModel::Additive { a } => f + theta[a] * eps,
        ErrorModel::Proportional { b } => f * (1.0 + theta[b] * eps),
        ErrorModel::Combined { a, b } => {
            f + (theta[a] * theta[a] + theta[b] * theta[b] * f * f).sqrt() * eps
        }
        ErrorModel::LogAdditive { a } => {
            if f > 0.0 {
                f * (theta[a] * eps).exp()
            } else {
                0.0
            }
        }
    }
}
