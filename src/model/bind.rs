//! Binding a dataset to a model: what fit and `simulate --data` do before predicting.
//!
//! 1. **Outputs.** Observations read without `DVID` carry the analyte `dv`, or `cmtN`
//!    for compartment `CMT` = N ([`Analyte::unlabelled`]). A model with one output takes
//!    them all; otherwise `cmtN` goes to the output declared `output NAME = ... cmt N`.
//!    An observation that no output takes is an error naming its line.
//! 2. **Time unit.** Data are in `data_unit` (days unless the user says hours); when the
//!    model's `time_unit` differs, every time (observations, doses, covariate changes)
//!    and every infusion duration is multiplied by the factor between the two units
//!    (1/24 from hours to days), so the parameters are estimated in the model's units.
//! 3. **Covariates.** Every covariate that a model expression uses must be in the data,
//!    numeric, for every subject: otherwise an error naming the covariate, the model line
//!    that uses it and the subject. The model file's default value applies only to
//!    simulations without data.

use super::Model;
use super::Predict;
use crate::data::{Analyte, CovariateValue, Dataset, TimeUnit};

/// Why a dataset cannot be used with a model; every problem is listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the data {data} cannot be used with model `{model}`:\n  {}", problems.join("\n  "))]
pub struct BindError {
    /// The data file.
    pub data: String,
    /// The model's name.
    pub model: String,
    /// One line per problem.
    pub problems: Vec<String>,
}

/// The dataset as the model sees it: observations routed to its outputs, times in its
/// unit, its covariates checked. `data_unit` is the unit the data were written in.
pub fn bind(model: &Model, dataset: &Dataset, data_unit: TimeUnit) -> Result<Dataset, BindError> {
    let mut problems = Vec::new();
    let file = dataset.source.display().to_string();
    let mut out = dataset.clone();
    route_outputs(model, &mut out, &file, &mut problems);
    check_covariates(model, &out, &mut problems);
    let factor = data_unit.factor_to(model.time_unit());
    if factor != 1.0 {
        convert_times(&mut out, factor);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(BindError {
            data: file,
            model: model.name().to_string(),
            problems,
        })
    }
}

/// Give unlabelled observations (no `DVID`) the analyte of the model output they belong
/// to.
fn route_outputs(model: &Model, data: &mut Dataset, file: &str, problems: &mut Vec<String>) {
    let outputs: Vec<&Analyte> = model.outputs().iter().map(|o| &o.analyte).collect();
    let names: Vec<String> = model
        .outputs()
        .iter()
        .zip(model.output_cmts())
        .map(|(o, c)| match c {
            Some(c) => format!("{} (cmt {c})", o.analyte),
            None => o.analyte.to_string(),
        })
        .collect();
    let mut reported = std::collections::BTreeSet::new();
    for s in &mut data.subjects {
        for o in &mut s.observations {
            let Some(cmt) = o.analyte.unlabelled_cmt() else {
                continue;
            };
            if outputs.len() == 1 {
                o.analyte = outputs[0].clone();
                continue;
            }
            let by_cmt = cmt.and_then(|c| {
                model
                    .output_cmts()
                    .iter()
                    .position(|x| *x == Some(c))
                    .map(|k| outputs[k].clone())
            });
            match by_cmt {
                Some(a) => o.analyte = a,
                None if reported.insert(cmt) => problems.push(match cmt {
                    Some(c) => format!(
                        "{file}:{}: observation with CMT {c} and no DVID: no output of the model declares `cmt {c}` (outputs: {}); add `cmt {c}` to an `output` line, or a DVID column",
                        o.line,
                        names.join(", ")
                    ),
                    None => format!(
                        "{file}:{}: observation without DVID or CMT, and the model has {} outputs ({}): add a DVID column (or CMT with `output NAME ... cmt N` in the model)",
                        o.line,
                        outputs.len(),
                        names.join(", ")
                    ),
                }),
                None => {}
            }
        }
    }
}

/// Every covariate a model expression uses must be numeric in every subject.
fn check_covariates(model: &Model, data: &Dataset, problems: &mut Vec<String>) {
    for (name, line) in model.covariate_uses() {
        let Some(line) = line else { continue };
        let key = name.to_ascii_uppercase();
        let used = format!(
            "covariate `{name}`, used by model `{}` ({} line {line})",
            model.name(),
            model.origin()
        );
        if !data.covariate_names.contains(&key) {
            problems.push(format!(
                "{used}, is not in the data (no {key} column; the columns are read case-insensitively)"
            ));
            continue;
        }
        let mut missing = Vec::new();
        for s in &data.subjects {
            let numeric = match s.covariates.constant.get(&key) {
                Some(CovariateValue::Numeric(_)) => true,
                Some(CovariateValue::Categorical(_)) => false,
                None => s.covariates.varying.contains_key(&key),
            };
            if !numeric {
                missing.push(s.id.clone());
            }
        }
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
            problems.push(format!(
                "{used}, has no numeric value for subject{} {}{}",
                if missing.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if missing.len() > 10 { ", ..." } else { "" }
            ));
        }
    }
}

/// Multiply every time and duration by `factor`.
fn convert_times(data: &mut Dataset, factor: f64) {
    for s in &mut data.subjects {
        for o in &mut s.observations {
            o.time *= factor;
        }
        for d in &mut s.doses {
            d.time *= factor;
            d.duration = d.duration.map(|x| x * factor);
        }
        for steps in s.covariates.varying.values_mut() {
            for (t, _) in steps.iter_mut() {
                *t *= factor;
            }
        }
    }
}
