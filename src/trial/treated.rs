//! The CK/PD endpoints of the treated patients: each patient of the first trials is
//! simulated over the scenario's visit schedule and analytes at the dose the rules gave
//! them (the same virtual subject as in the trial), and their endpoints are summarised by
//! dose level exactly as `cartkin simulate` does ([`crate::simulate::endpoints`]).
//! Patients are ordered by level, then trial, then enrolment; the subject id is the
//! patient's stream number + 1 ([`super::run`]).

use rayon::prelude::*;

use super::run::{TrialPlan, TrialResult};
use super::TrialError;
use crate::simulate::endpoints::{endpoints, summarise_endpoints, EndpointSummaryRow};
use crate::simulate::run::predict_subject;
use crate::simulate::{SimulatedSubject, Simulation};

/// Simulate the treated patients of `results` and summarise their endpoints per level.
pub fn treated_endpoints(
    plan: &TrialPlan<'_>,
    results: &[TrialResult],
) -> Result<Vec<EndpointSummaryRow>, TrialError> {
    let design = &plan.design;
    let mut patients: Vec<(usize, usize, usize)> = results
        .iter()
        .flat_map(|r| r.patients.iter().map(move |p| (p.level, r.index, p.slot)))
        .collect();
    patients.sort_unstable();
    let n_out = design.outputs.len();
    let times: Vec<f64> = design
        .design
        .times
        .iter()
        .flat_map(|&t| std::iter::repeat_n(t, n_out))
        .collect();
    let outputs: Vec<usize> = (0..design.design.times.len())
        .flat_map(|_| design.outputs.iter().copied())
        .collect();
    let subjects: Vec<Result<SimulatedSubject, TrialError>> = patients
        .par_iter()
        .map(|&(level, trial, slot)| {
            let subject = plan.subject(trial, slot);
            Ok(predict_subject(
                plan.model(),
                design,
                subject,
                level,
                &times,
                &outputs,
            )?)
        })
        .collect();
    let sim = Simulation {
        times: design.design.times.clone(),
        analytes: design.analytes.clone(),
        lloq: design.lloq.clone(),
        residual_error: false,
        subjects: subjects.into_iter().collect::<Result<_, _>>()?,
    };
    Ok(summarise_endpoints(&endpoints(&sim)))
}
