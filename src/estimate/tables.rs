//! The tables of an individual fit as CSV: `individual.csv`, `parameters.csv` and
//! `predictions.csv` (docs/outputs.md), through the crate's table writer and its conventions
//! ([`crate::report::table`]: numbers in the shortest form that reads back to the same
//! f64, a missing value is an empty field).
//!
//! - `individual.csv`: id, status, reason, neg2ll, n_obs, n_blq, evaluations, condition,
//!   then for each model parameter p: p, p_se, p_rse_pct, p_ci_low, p_ci_high (fixed
//!   parameters: their value and empty uncertainty).
//! - `parameters.csv`: parameter, estimate, se, rse_pct, ci_low, ci_high, cv_pct,
//!   median, min, max, n, fixed (see [`super::summary`]).
//! - `predictions.csv`: id, time, analyte, dv, cens, pred, ipred, iwres — pred at the
//!   typical values (with any `--fix` values), ipred at the subject's estimate, iwres
//!   the individual weighted residual on the error model's scale (empty when censored).

use std::io::Write;

use super::individual::IndividualFit;
use super::likelihood::iwres;
use super::summary::ParameterSummary;
use crate::data::Dataset;
use crate::model::{Individual, Predict};

use crate::report::table::{number, optional as num, TableWriter};

const NO_HEADER: Option<[&str; 0]> = None;

/// Write `individual.csv`.
pub fn write_individual<M: Predict + ?Sized, W: Write>(
    out: W,
    model: &M,
    fit: &IndividualFit,
) -> std::io::Result<()> {
    let mut w = TableWriter::new(out, NO_HEADER)?;
    let mut header: Vec<String> = [
        "id",
        "status",
        "reason",
        "neg2ll",
        "n_obs",
        "n_blq",
        "evaluations",
        "condition",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for p in model.parameters() {
        header.push(p.name.clone());
        for suffix in ["se", "rse_pct", "ci_low", "ci_high"] {
            header.push(format!("{}_{suffix}", p.name));
        }
    }
    w.record(&header)?;
    for s in &fit.subjects {
        let u = s.uncertainty.as_ref();
        let mut row = vec![
            s.id.clone(),
            s.status.as_str().to_string(),
            s.reason.clone(),
            num(s.neg2ll),
            s.records.len().to_string(),
            s.records.n_censored().to_string(),
            s.evaluations.to_string(),
            num(u.map(|u| u.condition)),
        ];
        for i in 0..model.parameters().len() {
            row.push(num(s.theta.as_ref().map(|t| t[i])));
            let k = fit.map.free.iter().position(|&j| j == i);
            let pick = |f: fn(&super::covariance::Uncertainty) -> &Vec<f64>| {
                num(u.zip(k).map(|(u, k)| f(u)[k]))
            };
            row.push(pick(|u| &u.se));
            row.push(pick(|u| &u.rse_pct));
            row.push(pick(|u| &u.ci_low));
            row.push(pick(|u| &u.ci_high));
        }
        w.record(&row)?;
    }
    w.finish().map(|_| ())
}

/// Write `parameters.csv`.
pub fn write_parameters<W: Write>(out: W, rows: &[ParameterSummary]) -> std::io::Result<()> {
    let mut w = TableWriter::new(out, NO_HEADER)?;
    w.record([
        "parameter",
        "estimate",
        "se",
        "rse_pct",
        "ci_low",
        "ci_high",
        "cv_pct",
        "median",
        "min",
        "max",
        "n",
        "fixed",
    ])?;
    for r in rows {
        w.record([
            r.name.clone(),
            num(r.estimate),
            num(r.se),
            num(r.rse_pct),
            num(r.ci_low),
            num(r.ci_high),
            num(r.cv_pct),
            num(r.median),
            num(r.min),
            num(r.max),
            r.n.to_string(),
            r.fixed.to_string(),
        ])?;
    }
    w.finish().map(|_| ())
}

/// Write `predictions.csv` for the subjects of `dataset` (in the order of `fit`).
pub fn write_predictions<M: Predict + ?Sized, W: Write>(
    out: W,
    model: &M,
    dataset: &Dataset,
    fit: &IndividualFit,
) -> std::io::Result<()> {
    let mut w = TableWriter::new(out, NO_HEADER)?;
    w.record([
        "id", "time", "analyte", "dv", "cens", "pred", "ipred", "iwres",
    ])?;
    let typical = &fit.map.base;
    for (subject, s) in dataset.subjects.iter().zip(&fit.subjects) {
        let r = &s.records;
        let ind = Individual {
            doses: &subject.doses,
            covariates: &subject.covariates,
        };
        let mut pred = vec![f64::NAN; r.len()];
        let pred_ok = model
            .predict(typical, &ind, &r.times, &r.outputs, &mut pred)
            .is_ok();
        let mut ipred = vec![f64::NAN; r.len()];
        let ipred_ok = match &s.theta {
            Some(theta) => model
                .predict(theta, &ind, &r.times, &r.outputs, &mut ipred)
                .is_ok(),
            None => false,
        };
        let res = match (&s.theta, ipred_ok) {
            (Some(theta), true) => iwres(model, r, theta, &ipred),
            _ => vec![None; r.len()],
        };
        for i in 0..r.len() {
            w.record([
                s.id.clone(),
                number(r.times[i]),
                r.analytes[i].to_string(),
                number(r.values[i]),
                u8::from(r.censored[i]).to_string(),
                num(pred_ok.then_some(pred[i])),
                num(ipred_ok.then_some(ipred[i])),
                num(res[i]),
            ])?;
        }
    }
    w.finish().map(|_| ())
}
