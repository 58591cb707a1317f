//! The population objective: the sum over subjects of their contributions
//! ([`super::ebe`]) at packed population parameters x (θ, log-Cholesky Ω; see
//! [`super::model`]). Subjects are evaluated in parallel (rayon); each contribution
//! depends only on x and the subject's warm start, and the sum is taken in subject
//! order, so the value is the same bytes whatever the thread count.
//!
//! Reported OFVs: `neg2ll` = Σ_i OFV_i, the approximate −2 ln L including N·ln 2π (and,
//! for `logadd` outputs, the Jacobian Σ 2 ln y, see [`crate::estimate::likelihood`]);
//! `ofv` = `neg2ll` minus those constants, as NONMEM reports it.

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::ebe::{Approximation, Conditional, Contribution, Mode};
use super::model::PopulationModel;
use crate::data::Dataset;
use crate::estimate::likelihood::{RecordUse, Records};
use crate::model::{Individual, Predict};

/// One subject of the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectRecords {
    /// Index in the dataset.
    pub index: usize,
    /// The records used.
    pub records: Records,
    /// How the subject's observations were used.
    pub usage: RecordUse,
}

/// The data, the model and the approximation of a population fit.
pub struct PopulationProblem<'a, M: Predict + ?Sized> {
    /// The model.
    pub model: &'a M,
    /// Its population structure.
    pub pop: PopulationModel,
    /// The dataset.
    pub dataset: &'a Dataset,
    /// Subjects with at least one record.
    pub subjects: Vec<SubjectRecords>,
    /// The marginal-likelihood approximation.
    pub approximation: Approximation,
    /// EBE searches run to rounding, without the whole last step
    /// ([`super::ebe::Conditional::mode`]): for the covariance step, whose second
    /// differences of the OFV need its noise at the rounding level.
    pub polish: bool,
}

/// The population objective at one x.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Σ_i OFV_i (with constants).
    pub neg2ll: f64,
    /// Per-subject OFV_i.
    pub per_subject: Vec<f64>,
    /// Per-subject EBEs.
    pub modes: Vec<Mode>,
    /// Subjects whose Laplacian Hessian was replaced by the expected information.
    pub fallbacks: usize,
}

impl<'a, M: Predict + ?Sized> PopulationProblem<'a, M> {
    /// A problem over the subjects of `dataset` with records (`prepared` holds each
    /// subject's records, in dataset order). The approximation is FOCE-I, or the
    /// Laplacian when any record is censored (module docs of [`super::ebe`]).
    pub fn new(
        model: &'a M,
        pop: PopulationModel,
        dataset: &'a Dataset,
        prepared: Vec<(Records, RecordUse)>,
    ) -> Self {
        let subjects: Vec<SubjectRecords> = prepared
            .into_iter()
            .enumerate()
            .filter(|(_, (r, _))| !r.is_empty())
            .map(|(index, (records, usage))| SubjectRecords {
                index,
                records,
                usage,
            })
            .collect();
        let censored = subjects.iter().any(|s| s.records.n_censored() > 0);
        PopulationProblem {
            model,
            pop,
            dataset,
            subjects,
            approximation: if censored {
                Approximation::Laplacian
            } else {
                Approximation::FoceI
            },
            polish: false,
        }
    }

    /// The parameter-free constants in `neg2ll` (N·ln 2π and Jacobians).
    pub fn constant(&self) -> f64 {
        self.subjects.iter().map(|s| s.records.constant).sum()
    }

    /// Number of records.
    pub fn n_records(&self) -> usize {
        self.subjects.iter().map(|s| s.records.len()).sum()
    }

    /// Number of censored (BLQ) records over all subjects.
    pub fn n_censored(&self) -> usize {
        self.subjects.iter().map(|s| s.records.n_censored()).sum()
    }

    /// The conditional problem of subject `k` (index into `subjects`).
    pub fn conditional<'b>(
        &'b self,
        k: usize,
        psi: &'b [f64],
        omega_inv: &'b DMatrix<f64>,
    ) -> Conditional<'b, M> {
        let s = &self.subjects[k];
        let subject = &self.dataset.subjects[s.index];
        Conditional {
            model: self.model,
            pop: &self.pop,
            psi,
            omega_inv,
            individual: Individual {
                doses: &subject.doses,
                covariates: &subject.covariates,
            },
            records: &s.records,
            polish: self.polish,
        }
    }

    /// Zero warm starts.
    pub fn zero_etas(&self) -> Vec<Vec<f64>> {
        vec![vec![0.0; self.pop.n_eta()]; self.subjects.len()]
    }

    /// The objective at packed x, each EBE searched from `warm` (one per subject).
    pub fn evaluate(&self, x: &[f64], warm: &[Vec<f64>]) -> Result<Evaluation, String> {
        let values = self.pop.unpack(x);
        let omega_inv = values
            .omega
            .clone()
            .cholesky()
            .ok_or("Ω is not positive definite")?
            .inverse();
        let how = self.approximation;
        let results: Vec<Result<Contribution, String>> = (0..self.subjects.len())
            .into_par_iter()
            .map(|k| {
                self.conditional(k, &values.psi, &omega_inv)
                    .contribution(&warm[k], how)
            })
            .collect();
        let mut neg2ll = 0.0;
        let mut per_subject = Vec::with_capacity(results.len());
        let mut modes = Vec::with_capacity(results.len());
        let mut fallbacks = 0;
        for r in results {
            let c = r?;
            neg2ll += c.ofv;
            per_subject.push(c.ofv);
            fallbacks += usize::from(c.fallback);
            modes.push(c.mode);
        }
        if !neg2ll.is_finite() {
            return Err(format!("the population objective is {neg2ll}"));
        }
        Ok(Evaluation {
            neg2ll,
            per_subject,
            modes,
            fallbacks,
        })
    }
}
