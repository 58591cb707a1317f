//! Individual (per-subject) maximum-likelihood estimation: each subject's free parameters
//! minimise its own −2LL ([`super::likelihood`]) on the estimation scale
//! ([`super::objective`]), from a multistart ([`super::start`]) through Nelder–Mead and
//! BFGS ([`super::optimise`]), with SEs from the Hessian ([`super::covariance`]).
//!
//! Estimated per subject: every parameter not `fixed` in the model file and not fixed by
//! the caller (`--fix p=v`), structural and residual alike. Subjects are fitted in
//! parallel (rayon); each uses only its own random stream, so the results are the same
//! bytes whatever the thread count. A subject whose fit fails, does not converge or has a
//! Hessian that is not positive definite is reported with the reason; the others go on.

use rayon::prelude::*;

use super::covariance::{hessian_of_values, uncertainty, Uncertainty};
use super::likelihood::{LikelihoodError, RecordUse, Records};
use super::objective::{Objective, ParameterMap};
use super::optimise::minimise;
use super::settings::CheckedSettings;
use super::start::{start_points, subject_rng};
use crate::data::{Analyte, Dataset, Subject};
use crate::model::{Individual, Predict};

/// Errors that stop an individual fit before any subject is fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstimateError {
    /// `--fix` names a parameter the model does not have.
    #[error("model `{model}` has no parameter `{name}` (its parameters: {available})")]
    UnknownParameter {
        /// Model name.
        model: String,
        /// The name given.
        name: String,
        /// The model's parameter names, comma-separated.
        available: String,
    },
    /// A fixed value outside the parameter's bounds.
    #[error("--fix {name}={value}: outside the bounds [{lower}, {upper}] of model `{model}`")]
    FixOutOfBounds {
        /// Model name.
        model: String,
        /// Parameter.
        name: String,
        /// The value given.
        value: f64,
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// No observation in the dataset is of an analyte the model predicts (and selected).
    #[error("no observation in {data} is of an analyte model `{model}` predicts{selected} (the data has: {in_data}; the model predicts: {predicted})")]
    NothingToFit {
        /// Model name.
        model: String,
        /// Data file.
        data: String,
        /// " among the selected analytes …" or empty.
        selected: String,
        /// Analytes in the data.
        in_data: String,
        /// Analytes the model predicts.
        predicted: String,
    },
    /// An observation cannot be used (e.g. a non-positive value under `logadd`).
    #[error(transparent)]
    Data(#[from] LikelihoodError),
    /// The thread pool could not be built.
    #[error("cannot start {threads} threads: {message}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Cause.
        message: String,
    },
}

/// What to fit.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Use only these analytes (`None`: every analyte the model predicts).
    pub analytes: Option<Vec<Analyte>>,
    /// Parameters fixed by name to natural-scale values, besides those fixed in the model.
    pub fixed: Vec<(String, f64)>,
    /// Validated settings.
    pub settings: CheckedSettings,
}

/// Outcome of one subject's fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitStatus {
    /// Converged, Hessian positive definite: estimates with SEs.
    Converged,
    /// Converged, but the Hessian is not positive definite: estimates without SEs.
    HessianNotPd,
    /// The optimiser stopped without meeting the convergence test: estimates as found.
    NotConverged,
    /// No estimate (no usable observations, no feasible start, a failure at the optimum).
    Failed,
}

impl FitStatus {
    /// Name used in output files.
    pub fn as_str(self) -> &'static str {
        match self {
            FitStatus::Converged => "converged",
            FitStatus::HessianNotPd => "hessian_not_pd",
            FitStatus::NotConverged => "not_converged",
            FitStatus::Failed => "failed",
        }
    }

    /// The optimiser converged (estimates usable in summaries).
    pub fn optimum_reached(self) -> bool {
        matches!(self, FitStatus::Converged | FitStatus::HessianNotPd)
    }
}

/// One subject's fit.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectFit {
    /// Subject id.
    pub id: String,
    /// Outcome.
    pub status: FitStatus,
    /// Why (optimiser message, non-PD reason, failure); empty when converged cleanly.
    pub reason: String,
    /// −2LL at the estimate.
    pub neg2ll: Option<f64>,
    /// All parameters on the natural scale at the estimate (fixed ones as fixed).
    pub theta: Option<Vec<f64>>,
    /// Free parameters on the estimation scale.
    pub psi: Option<Vec<f64>>,
    /// SEs, CIs, correlation (when the Hessian is positive definite).
    pub uncertainty: Option<Uncertainty>,
    /// The curvature the uncertainty comes from: `"expected information"` or
    /// `"second differences"` (super::covariance).
    pub curvature: Option<&'static str>,
    /// Objective evaluations used.
    pub evaluations: u64,
    /// Exact gradient evaluations used (each one prediction with its sensitivities; 0
    /// with finite differences, whose probes count as objective evaluations).
    pub gradient_evaluations: u64,
    /// The records fitted.
    pub records: Records,
    /// How the subject's observations were used.
    pub usage: RecordUse,
}

/// The result of fitting every subject.
#[derive(Debug, Clone, PartialEq)]
pub struct IndividualFit {
    /// Free and fixed parameters.
    pub map: ParameterMap,
    /// One per subject, in dataset order.
    pub subjects: Vec<SubjectFit>,
}

/// Resolve `--fix` names against the model.
pub fn resolve_fixed<M: Predict + ?Sized>(
    model: &M,
    fixed: &[(String, f64)],
) -> Result<Vec<(usize, f64)>, EstimateError> {
    fixed
        .iter()
        .map(|(name, v)| {
            let Some(i) = model.parameter_index(name) else {
                return Err(EstimateError::UnknownParameter {
                    model: model.name().into(),
                    name: name.clone(),
                    available: model
                        .parameters()
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            let p = &model.parameters()[i];
            if !(v.is_finite() && *v >= p.lower && *v <= p.upper) {
                return Err(EstimateError::FixOutOfBounds {
                    model: model.name().into(),
                    name: name.clone(),
                    value: *v,
                    lower: p.lower,
                    upper: p.upper,
                });
            }
            Ok((i, *v))
        })
        .collect()
}

/// Fit one subject (number `index` in the dataset).
pub fn fit_subject<M: Predict + ?Sized>(
    model: &M,
    subject: &Subject,
    index: usize,
    records: Records,
    usage: RecordUse,
    map: &ParameterMap,
    settings: &CheckedSettings,
) -> SubjectFit {
    let s = settings.get();
    let mut fit = SubjectFit {
        id: subject.id.clone(),
        status: FitStatus::Failed,
        reason: String::new(),
        neg2ll: None,
        theta: None,
        psi: None,
        uncertainty: None,
        curvature: None,
        evaluations: 0,
        gradient_evaluations: 0,
        records,
        usage,
    };
    if fit.records.is_empty() {
        fit.reason = "no observations of the model's outputs".into();
        return fit;
    }
    let individual = Individual {
        doses: &subject.doses,
        covariates: &subject.covariates,
    };
    let obj =
        Objective::new(model, individual, &fit.records, map).with_exact_gradient(s.exact_gradient);
    if map.is_empty() {
        // Nothing to estimate: the −2LL at the given values.
        match obj.value(&[]) {
            Ok(v) => {
                fit.status = FitStatus::Converged;
                fit.neg2ll = Some(v);
                fit.theta = Some(map.base.clone());
                fit.psi = Some(Vec::new());
            }
            Err(e) => fit.reason = e.to_string(),
        }
        fit.evaluations = obj.evaluations();
        return fit;
    }
    let typical = map.typical_psi(model);
    let mut rng = subject_rng(s.seed, index as u64);
    let starts = start_points(&typical, map, s.start_width, s.n_starts, &mut rng);
    let optimum = match minimise(&obj, &starts, s) {
        Ok(o) => o,
        Err(why) => {
            fit.reason = why;
            fit.evaluations = obj.evaluations();
            return fit;
        }
    };
    fit.neg2ll = Some(optimum.neg2ll);
    fit.theta = Some(obj.theta(&optimum.psi));
    fit.status = if optimum.converged {
        FitStatus::Converged
    } else {
        FitStatus::NotConverged
    };
    if !optimum.converged {
        fit.reason = optimum.message.clone();
    }
    if !map.is_empty() {
        let params = model.parameters();
        let names: Vec<&str> = map.free.iter().map(|&i| params[i].name.as_str()).collect();
        let natural = |k: usize, x: f64| params[map.free[k]].to_natural(x);
        let slope = |k: usize, x: f64| {
            let p = &params[map.free[k]];
            p.transform.derivative(x, p.lower, p.upper)
        };
        // With a converged Levenberg–Marquardt run, the expected information there
        // (Fisher information, the Gauss–Newton matrix of nonlinear least squares, with
        // the exact M3 curvature of censored records) at no extra cost; otherwise, or
        // when it is singular, second differences of values (covariance::hessian_of_values)
        let from_values = || {
            hessian_of_values(&obj, &optimum.psi)
                .and_then(|h| uncertainty(&h, &optimum.psi, &names, &natural, &slope))
                .map(|u| (u, "second differences"))
        };
        let cov = match (&optimum.hessian, &optimum.information, obj.exact_gradient()) {
            (_, Some(j), true) => uncertainty(j, &optimum.psi, &names, &natural, &slope)
                .map(|u| (u, "expected information"))
                .or_else(|_| from_values()),
            (Some(h), _, false) => uncertainty(h, &optimum.psi, &names, &natural, &slope)
                .map(|u| (u, "second differences")),
            _ => from_values(),
        };
        match cov {
            Ok((u, curvature)) => {
                fit.uncertainty = Some(u);
                fit.curvature = Some(curvature);
            }
            Err(why) => {
                if fit.status == FitStatus::Converged {
                    fit.status = FitStatus::HessianNotPd;
                }
                fit.reason = if fit.reason.is_empty() {
                    why
                } else {
                    format!("{}; {why}", fit.reason)
                };
            }
        }
    }
    fit.psi = Some(optimum.psi);
    fit.evaluations = obj.evaluations();
    fit.gradient_evaluations = obj.gradient_evaluations();
    fit
}

/// Fit every subject of `dataset` (in parallel; deterministic).
pub fn fit_individuals<M: Predict + ?Sized>(
    model: &M,
    dataset: &Dataset,
    options: &FitOptions,
) -> Result<IndividualFit, EstimateError> {
    fit_individuals_observed(model, dataset, options, &|_| {})
}

/// [`fit_individuals`] calling `progress(1)` as each subject finishes (from any thread;
/// e.g. a progress bar). The results do not depend on it.
pub fn fit_individuals_observed<M: Predict + ?Sized>(
    model: &M,
    dataset: &Dataset,
    options: &FitOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<IndividualFit, EstimateError> {
    let fixed = resolve_fixed(model, &options.fixed)?;
    let map = ParameterMap::new(model, &fixed);
    let mut prepared = Vec::with_capacity(dataset.subjects.len());
    for subject in &dataset.subjects {
        prepared.push(Records::from_subject(
            subject,
            model,
            options.analytes.as_deref(),
        )?);
    }
    if prepared.iter().all(|(r, _)| r.is_empty()) {
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        return Err(EstimateError::NothingToFit {
            model: model.name().into(),
            data: dataset.source.display().to_string(),
            selected: options
                .analytes
                .as_ref()
                .map(|a| {
                    let names: Vec<String> = a.iter().map(|x| x.to_string()).collect();
                    format!(" among the selected analytes {}", names.join(", "))
                })
                .unwrap_or_default(),
            in_data: list(dataset.analytes().iter().map(|a| a.to_string()).collect()),
            predicted: list(
                model
                    .outputs()
                    .iter()
                    .map(|o| o.analyte.to_string())
                    .collect(),
            ),
        });
    }
    let settings = &options.settings;
    let run = || {
        dataset
            .subjects
            .par_iter()
            .zip(prepared.into_par_iter())
            .enumerate()
            .map(|(i, (subject, (records, usage)))| {
                let fit = fit_subject(model, subject, i, records, usage, &map, settings);
                progress(1);
                fit
            })
            .collect::<Vec<_>>()
    };
    let threads = settings.get().threads;
    let subjects = if threads == 0 {
        run()
    } else {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| EstimateError::Threads {
                threads,
                message: e.to_string(),
            })?
            .install(run)
    };
    Ok(IndividualFit { map, subjects })
}
