//! Percentiles of the simulated values per dose level × analyte × time (type 7, see
//! [`super::percentile`]): the prediction intervals of `summary.csv`.
//!
//! Dose levels appear in the order of their first subject, analytes in the model's
//! order, times ascending. With residual error, censored values (below the LLOQ) sort
//! first; a percentile whose order statistics include a censored value is missing
//! (its column is empty) and `n_blq` says how many values were censored.

use rayon::prelude::*;

use super::percentile::{type7_censored, PERCENTILES};
use super::run::Simulation;
use crate::data::Analyte;

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Dose level.
    pub dose: f64,
    /// Analyte.
    pub analyte: Analyte,
    /// Time (days).
    pub time: f64,
    /// Subjects.
    pub n: usize,
    /// Censored values.
    pub n_blq: usize,
    /// 5th, 25th, 50th, 75th, 95th percentiles.
    pub percentiles: [Option<f64>; 5],
}

/// Dose levels in the order of their first subject, each with its subjects' positions.
pub fn dose_groups(doses: impl Iterator<Item = f64>) -> Vec<(f64, Vec<usize>)> {
    let mut groups: Vec<(f64, Vec<usize>)> = Vec::new();
    for (i, d) in doses.enumerate() {
        match groups.iter_mut().find(|(g, _)| *g == d) {
            Some((_, v)) => v.push(i),
            None => groups.push((d, vec![i])),
        }
    }
    groups
}

/// Summary rows of a simulation (see the module header for the order).
pub fn summarise(sim: &Simulation) -> Vec<SummaryRow> {
    let groups = dose_groups(sim.subjects.iter().map(|s| s.dose));
    let n_out = sim.analytes.len();
    let mut cells = Vec::new();
    for (g, _) in groups.iter().enumerate() {
        for k in 0..n_out {
            for t in 0..sim.times.len() {
                cells.push((g, k, t));
            }
        }
    }
    cells
        .into_par_iter()
        .map(|(g, k, t)| {
            let (dose, members) = &groups[g];
            let mut censored = Vec::new();
            let mut values = Vec::with_capacity(members.len());
            for &i in members {
                let (v, c) = sim.value(&sim.subjects[i], t, k);
                if c {
                    censored.push(v);
                } else {
                    values.push(v);
                }
            }
            censored.sort_by(f64::total_cmp);
            values.sort_by(f64::total_cmp);
            let n_blq = censored.len();
            censored.extend(values);
            let sorted = censored;
            SummaryRow {
                dose: *dose,
                analyte: sim.analytes[k].clone(),
                time: sim.times[t],
                n: sorted.len(),
                n_blq,
                percentiles: PERCENTILES.map(|p| type7_censored(&sorted, n_blq, p)),
            }
        })
        .collect()
}
