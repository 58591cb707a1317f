//! The tables of a population fit as CSV (same conventions as
//! [`crate::estimate::tables`]: shortest round-trip numbers, empty field when missing).
//!
//! - `parameters.csv` (the schema of the individual fit): one row per model parameter
//!   (θ and residual parameters by name; fixed ones with `fixed = true`), `omega2_P`
//!   (variance; cv_pct = 100·√(exp(ω²) − 1) for log-scale parameters, 100·ω otherwise)
//!   and `omega2_P_Q` (covariance) rows, then `shrinkage_eta_P` and `shrinkage_eps`
//!   (percent) in the estimate column. `n` is the number of subjects.
//! - `individual.csv`: id, ofv (the subject's OFV contribution without constants),
//!   neg2ll (with them), n_obs, n_blq, ebe_iterations, eta_P per η (the EBE), for SAEM
//!   also the conditional mean `cmean_eta_P` and SD `csd_eta_P` of each η, then every
//!   model parameter at the subject's EBE.
//!
//! The writers take a [`PopulationView`]: the pieces of a fit they need, so FOCE
//! ([`PopulationFit::view`]) and SAEM results share them.
//! - `predictions.csv`: id, time, analyte, dv, cens, pred, ipred, res, wres, iwres,
//!   cwres, npde ([`super::diagnostics`]).
//! - `eta_covariates.csv` (when the data have covariates): id, the baseline value of
//!   each covariate column (constant, or the first step of a time-varying one; the
//!   data's upper-case names), then eta_P per η as in `individual.csv`.

use std::io::Write;

use nalgebra::DMatrix;

use super::covariance::PopulationUncertainty;
use super::diagnostics::RecordDiagnostics;
use super::ebe::Mode;
use super::fit::PopulationFit;
use super::objective::PopulationProblem;
use crate::data::{CovariateValue, Dataset};
use crate::estimate::summary::ParameterSummary;
use crate::estimate::tables::write_parameters;
use crate::model::{Predict, Transform};

/// Per-subject conditional means and SDs of η.
pub type ConditionalView<'a> = (&'a [Vec<f64>], &'a [Vec<f64>]);

/// What the population tables need from a fit.
pub struct PopulationView<'a, M: Predict + ?Sized> {
    /// The problem (model, data, population structure).
    pub problem: &'a PopulationProblem<'a, M>,
    /// Free θ on the estimation scale.
    pub psi: &'a [f64],
    /// Ω.
    pub omega: &'a DMatrix<f64>,
    /// All parameters at their population values (natural scale).
    pub theta: &'a [f64],
    /// Standard errors, when available.
    pub uncertainty: Option<&'a PopulationUncertainty>,
    /// Per-subject diagnostics (problem subject order).
    pub diagnostics: &'a [RecordDiagnostics],
    /// η-shrinkage (%) per η.
    pub eta_shrinkage: &'a [Option<f64>],
    /// ε-shrinkage (%).
    pub eps_shrinkage: Option<f64>,
    /// Per-subject EBEs.
    pub modes: &'a [Mode],
    /// Per-subject −2LL contribution (with constants).
    pub subject_neg2ll: &'a [f64],
    /// Per-subject conditional means and SDs of η (SAEM), when available.
    pub conditional: Option<ConditionalView<'a>>,
}

impl<M: Predict + ?Sized> PopulationFit<'_, M> {
    /// The view of this fit the table writers take.
    pub fn view(&self) -> PopulationView<'_, M> {
        PopulationView {
            problem: &self.problem,
            psi: &self.psi,
            omega: &self.omega,
            theta: &self.theta,
            uncertainty: self.uncertainty.as_ref().ok(),
            diagnostics: &self.diagnostics,
            eta_shrinkage: &self.eta_shrinkage,
            eps_shrinkage: self.eps_shrinkage,
            modes: &self.outer.evaluation.modes,
            subject_neg2ll: &self.outer.evaluation.per_subject,
            conditional: None,
        }
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn csv_err(e: csv::Error) -> std::io::Error {
    std::io::Error::other(e)
}

/// The rows of `parameters.csv`.
pub fn parameter_rows<M: Predict + ?Sized>(fit: &PopulationView<'_, M>) -> Vec<ParameterSummary> {
    let model = fit.problem.model;
    let pop = &fit.problem.pop;
    let n = fit.problem.subjects.len();
    let unc = fit.uncertainty;
    let row = |name: String, estimate: f64, fixed: bool| {
        let k = unc.and_then(|u| u.names.iter().position(|x| *x == name));
        let pick = |f: fn(&PopulationUncertainty) -> &Vec<f64>| unc.zip(k).map(|(u, k)| f(u)[k]);
        ParameterSummary {
            name,
            fixed,
            n,
            estimate: Some(estimate),
            se: pick(|u| &u.se),
            rse_pct: pick(|u| &u.rse_pct),
            ci_low: pick(|u| &u.ci_low),
            ci_high: pick(|u| &u.ci_high),
            cv_pct: None,
            median: None,
            min: None,
            max: None,
        }
    };
    let mut rows = Vec::new();
    for (i, p) in model.parameters().iter().enumerate() {
        rows.push(row(
            p.name.clone(),
            fit.theta[i],
            !pop.map.free.contains(&i),
        ));
    }
    for (k, l) in pop.omega_elements() {
        let mut r = row(pop.omega_name(k, l), fit.omega[(k, l)], false);
        if k == l {
            let w2 = fit.omega[(k, k)];
            let log = model.parameters()[pop.eta_params[k]].transform == Transform::Log;
            r.cv_pct = Some(if log {
                100.0 * w2.exp_m1().sqrt()
            } else {
                100.0 * w2.sqrt()
            });
        }
        rows.push(r);
    }
    for (k, s) in fit.eta_shrinkage.iter().enumerate() {
        let mut r = row(
            format!("shrinkage_eta_{}", pop.names[pop.eta_params[k]]),
            f64::NAN,
            false,
        );
        r.estimate = *s;
        rows.push(r);
    }
    let mut r = row("shrinkage_eps".into(), f64::NAN, false);
    r.estimate = fit.eps_shrinkage;
    rows.push(r);
    rows
}

/// Write `parameters.csv`.
pub fn write_population_parameters<M: Predict + ?Sized, W: Write>(
    out: W,
    fit: &PopulationView<'_, M>,
) -> std::io::Result<()> {
    write_parameters(out, &parameter_rows(fit))
}

/// Write `individual.csv`.
pub fn write_population_individual<M: Predict + ?Sized, W: Write>(
    out: W,
    fit: &PopulationView<'_, M>,
) -> std::io::Result<()> {
    let model = fit.problem.model;
    let pop = &fit.problem.pop;
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = ["id", "ofv", "neg2ll", "n_obs", "n_blq", "ebe_iterations"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for &i in &pop.eta_params {
        header.push(format!("eta_{}", pop.names[i]));
    }
    if fit.conditional.is_some() {
        for prefix in ["cmean_eta", "csd_eta"] {
            for &i in &pop.eta_params {
                header.push(format!("{prefix}_{}", pop.names[i]));
            }
        }
    }
    header.extend(model.parameters().iter().map(|p| p.name.clone()));
    w.write_record(&header).map_err(csv_err)?;
    let omega_inv = fit
        .omega
        .clone()
        .cholesky()
        .map(|c| c.inverse())
        .unwrap_or_else(|| fit.omega.clone());
    for (k, s) in fit.problem.subjects.iter().enumerate() {
        let mode = &fit.modes[k];
        let ofv = fit.subject_neg2ll[k];
        let c = fit.problem.conditional(k, fit.psi, &omega_inv);
        let theta = c.theta(&mode.eta);
        let mut row = vec![
            s.records.subject.clone(),
            (ofv - s.records.constant).to_string(),
            ofv.to_string(),
            s.records.len().to_string(),
            s.records.n_censored().to_string(),
            mode.iterations.to_string(),
        ];
        row.extend(mode.eta.iter().map(|v| v.to_string()));
        if let Some((means, sds)) = fit.conditional {
            row.extend(means[k].iter().map(|v| v.to_string()));
            row.extend(sds[k].iter().map(|v| v.to_string()));
        }
        row.extend(theta.iter().map(|v| v.to_string()));
        w.write_record(&row).map_err(csv_err)?;
    }
    w.flush()
}

/// The covariate columns of `dataset` with a value for at least one subject, in file
/// order: the columns of `eta_covariates.csv` (none: no file).
pub fn baseline_covariates(dataset: &Dataset) -> Vec<&str> {
    dataset
        .covariate_names
        .iter()
        .filter(|c| {
            dataset
                .subjects
                .iter()
                .any(|s| s.covariates.baseline(c).is_some())
        })
        .map(String::as_str)
        .collect()
}

/// Write `eta_covariates.csv`: the fitted subjects' baseline covariates from `dataset`
/// and their η (the EBE, as in `individual.csv`).
pub fn write_eta_covariates<M: Predict + ?Sized, W: Write>(
    out: W,
    fit: &PopulationView<'_, M>,
    dataset: &Dataset,
) -> std::io::Result<()> {
    let pop = &fit.problem.pop;
    let covariates = baseline_covariates(dataset);
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["id".to_string()];
    header.extend(covariates.iter().map(|c| c.to_string()));
    header.extend(
        pop.eta_params
            .iter()
            .map(|&i| format!("eta_{}", pop.names[i])),
    );
    w.write_record(&header).map_err(csv_err)?;
    for (k, s) in fit.problem.subjects.iter().enumerate() {
        let id = &s.records.subject;
        let subject = dataset.subjects.iter().find(|d| &d.id == id);
        let mut row = vec![id.clone()];
        row.extend(covariates.iter().map(
            |c| match subject.and_then(|d| d.covariates.baseline(c)) {
                Some(CovariateValue::Numeric(x)) => x.to_string(),
                Some(CovariateValue::Categorical(level)) => level.clone(),
                None => String::new(),
            },
        ));
        row.extend(fit.modes[k].eta.iter().map(|v| v.to_string()));
        w.write_record(&row).map_err(csv_err)?;
    }
    w.flush()
}

/// Write `predictions.csv`.
pub fn write_population_predictions<M: Predict + ?Sized, W: Write>(
    out: W,
    fit: &PopulationView<'_, M>,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id", "time", "analyte", "dv", "cens", "pred", "ipred", "res", "wres", "iwres", "cwres",
        "npde",
    ])
    .map_err(csv_err)?;
    for (s, d) in fit.problem.subjects.iter().zip(fit.diagnostics) {
        let r = &s.records;
        for j in 0..r.len() {
            w.write_record([
                r.subject.clone(),
                r.times[j].to_string(),
                r.analytes[j].to_string(),
                r.values[j].to_string(),
                u8::from(r.censored[j]).to_string(),
                num(d.pred[j]),
                num(d.ipred[j]),
                num(d.res[j]),
                num(d.wres[j]),
                num(d.iwres[j]),
                num(d.cwres[j]),
                num(d.npde[j]),
            ])
            .map_err(csv_err)?;
        }
    }
    w.flush()
}
