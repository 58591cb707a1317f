//! Simulating the design of a dataset: each subject's own doses (infusions, additional
//! doses and resets included), covariates (time-varying ones inside the ODE) and
//! observation times and outputs — what a visual predictive check needs.
//!
//! For replicate r (1-based) of subject i (0-based position in the dataset, n subjects):
//! - `--typical` (replicates = 0): the typical parameters, no residual error;
//! - else the random stream ChaCha12(seed) number (r − 1)·n + i
//!   ([`super::population::subject_rng`]) draws η and then one ε per record in record
//!   order, exactly as [`super::run`] does for a virtual subject, so the same seed gives
//!   the same values whatever the thread count; y < LLOQ (the record's, else the
//!   output's) is reported censored with value LLOQ.
//!
//! The dataset must already be bound to the model ([`crate::model::bind`]): times in
//! the model's unit, observations labelled with the model's outputs.

use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::population::{subject_rng, Population};
use super::run::observe;
use crate::data::{Analyte, Dataset, Subject};
use crate::model::{Individual, Predict, PredictError};

/// A failure to simulate a dataset's design.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordsError {
    /// An observation of an analyte the model does not predict: file, line, subject,
    /// analyte and the model's outputs.
    #[error("{0}")]
    Analyte(String),
    /// A prediction failed.
    #[error("subject {id}, replicate {replicate}: {source}")]
    Predict {
        /// Subject.
        id: String,
        /// Replicate (1-based; 0 for the typical subject).
        replicate: usize,
        /// What failed.
        source: Box<PredictError>,
    },
}

/// One simulated record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    /// Replicate, 1-based (0 for the typical subject).
    pub replicate: usize,
    /// Subject identifier as in the data.
    pub id: String,
    /// Time of the record (model's unit).
    pub time: f64,
    /// Analyte (model output).
    pub analyte: Analyte,
    /// Individual prediction.
    pub ipred: f64,
    /// Simulated observation (= `ipred` without residual error; the LLOQ when censored).
    pub dv: f64,
    /// Below the LLOQ.
    pub censored: bool,
    /// Line of the observation record in the data file.
    pub line: usize,
}

/// The predictions of `model` with parameters `theta` (natural scale) at the
/// observation records of `subject` (its times and analytes, in record order), with its
/// doses and covariates. The building block of a VPC.
pub fn predict_subject(
    model: &dyn Predict,
    subject: &Subject,
    theta: &[f64],
) -> Result<Vec<f64>, PredictError> {
    let times: Vec<f64> = subject.observations.iter().map(|o| o.time).collect();
    let outputs: Vec<usize> = subject
        .observations
        .iter()
        .map(|o| model.output_index(&o.analyte).unwrap_or(usize::MAX))
        .collect();
    let mut out = vec![0.0; times.len()];
    let individual = Individual {
        doses: &subject.doses,
        covariates: &subject.covariates,
    };
    model.predict(theta, &individual, &times, &outputs, &mut out)?;
    Ok(out)
}

/// Simulate `replicates` copies of the dataset's design (0: the typical subject once,
/// without residual error), parameters from `population`, residual error when
/// `residual_error`. Rows in replicate, subject, record order.
pub fn simulate_records(
    model: &dyn Predict,
    dataset: &Dataset,
    population: &Population,
    replicates: usize,
    seed: u64,
    residual_error: bool,
) -> Result<Vec<RecordRow>, RecordsError> {
    let predicted = || {
        model
            .outputs()
            .iter()
            .map(|o| o.analyte.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for s in &dataset.subjects {
        if let Some(o) = s
            .observations
            .iter()
            .find(|o| model.output_index(&o.analyte).is_none())
        {
            return Err(RecordsError::Analyte(format!(
                "{}:{}: subject {}: model `{}` does not predict analyte `{}` (it predicts: {})",
                dataset.source.display(),
                o.line,
                s.id,
                model.name(),
                o.analyte,
                predicted()
            )));
        }
    }
    let n = dataset.subjects.len();
    let jobs: Vec<(usize, usize)> = if replicates == 0 {
        (0..n).map(|i| (0, i)).collect()
    } else {
        (1..=replicates)
            .flat_map(|r| (0..n).map(move |i| (r, i)))
            .collect()
    };
    let results: Vec<Result<Vec<RecordRow>, RecordsError>> = jobs
        .par_iter()
        .map(|&(r, i)| {
            simulate_subject(
                model,
                &dataset.subjects[i],
                population,
                r,
                replicate_stream(r, i, n),
                seed,
                residual_error && r > 0,
            )
        })
        .collect();
    let mut rows = Vec::new();
    for r in results {
        rows.extend(r?);
    }
    Ok(rows)
}

/// The random stream of replicate `replicate` (1-based; 0 for the typical subject) of
/// subject `index` (0-based) among `n`: (replicate − 1)·n + index.
pub fn replicate_stream(replicate: usize, index: usize, n: usize) -> usize {
    (replicate.max(1) - 1) * n + index
}

/// Simulate one subject's records on random stream `stream` (see the module header):
/// replicate 0 is the typical subject without residual error.
pub fn simulate_subject(
    model: &dyn Predict,
    subject: &Subject,
    population: &Population,
    replicate: usize,
    stream: usize,
    seed: u64,
    residual_error: bool,
) -> Result<Vec<RecordRow>, RecordsError> {
    let mut rng = subject_rng(seed, stream);
    let theta = if replicate == 0 {
        population.typical().to_vec()
    } else {
        population.draw(stream, &mut rng).theta
    };
    let ipred =
        predict_subject(model, subject, &theta).map_err(|source| RecordsError::Predict {
            id: subject.id.clone(),
            replicate,
            source: Box::new(source),
        })?;
    let outputs = model.outputs();
    Ok(subject
        .observations
        .iter()
        .zip(ipred)
        .map(|(o, f)| {
            let k = model.output_index(&o.analyte).unwrap_or(0);
            let (mut dv, mut censored) = (f, false);
            if residual_error {
                let eps: f64 = rng.sample(StandardNormal);
                dv = observe(f, outputs[k].error, &theta, eps);
                if let Some(l) = o.lloq.or(outputs[k].lloq) {
                    if dv < l {
                        dv = l;
                        censored = true;
                    }
                }
            }
            RecordRow {
                replicate,
                id: subject.id.clone(),
                time: o.time,
                analyte: o.analyte.clone(),
                ipred: f,
                dv,
                censored,
                line: o.line,
            }
        })
        .collect())
}
