//! Percentiles of the simulated values per dose level × analyte × time (type 7, see
//! [`super::percentile`]): the prediction intervals of `summary.csv`.
//!
//! Dose levels appear in the order of their first subject, analytes in the model's
//! order, times ascending. With residual error, censored values (below the LLOQ) sort
//! first; a percentile whose order statistics include a censored value is missing
//! (its column is empty) and `n_blq` says how many values were censored.
//!
//! Memory. Exact type-7 percentiles need every value of a cell. Subjects arrive in id
//! order and the subjects of a dose level are contiguous, so [`SummaryAccumulator`]
//! holds one dose level at a time: a cell-major array of `f64`, value of subject i in
//! cell c = k·T + t (analyte k, time t) at `c·n + i`, allocated once at the level's
//! size n, plus one bit per value for the censored flag (with residual error only).
//! When the level is complete its rows are computed and the array is freed:
//! [`summary_bytes`] = max over levels of n·T·A·8 bytes (+ n·T·A/8 with residual
//! error). Values are kept in `f64`, so the percentiles are exactly those of the
//! in-memory computation.

use rayon::prelude::*;

use super::percentile::{type7_censored, PERCENTILES};
use super::run::{SimulatedSubject, Simulation};
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

/// Bytes held by the accumulator for a level of `n` subjects with `cells` = times ×
/// analytes values each (see the module header).
pub fn summary_bytes(n: usize, cells: usize, residual_error: bool) -> u64 {
    let values = n as u64 * cells as u64;
    let bits = if residual_error {
        values.div_ceil(64) * 8
    } else {
        0
    };
    values * 8 + bits
}

/// The values of the dose level being filled.
struct Level {
    dose: f64,
    n: usize,
    filled: usize,
    values: Vec<f64>,
    censored: Vec<u64>,
}

/// Summary rows computed level by level from subjects given in order (see the module
/// header).
pub struct SummaryAccumulator {
    times: Vec<f64>,
    analytes: Vec<Analyte>,
    residual_error: bool,
    sizes: Vec<(f64, usize)>,
    done: Vec<f64>,
    level: Option<Level>,
    rows: Vec<SummaryRow>,
}

impl SummaryAccumulator {
    /// An accumulator for `times` × `analytes`, with the dose levels and their subject
    /// counts `sizes` (from the design).
    pub fn new(
        times: &[f64],
        analytes: &[Analyte],
        residual_error: bool,
        sizes: &[(f64, usize)],
    ) -> Self {
        SummaryAccumulator {
            times: times.to_vec(),
            analytes: analytes.to_vec(),
            residual_error,
            sizes: sizes.to_vec(),
            done: Vec::new(),
            level: None,
            rows: Vec::new(),
        }
    }

    /// Bytes of the value arrays allocated now.
    pub fn allocated_bytes(&self) -> u64 {
        self.level.as_ref().map_or(0, |l| {
            (l.values.capacity() * 8 + l.censored.capacity() * 8) as u64
        })
    }

    /// Add the next subject (values laid out as in [`SimulatedSubject::values`]).
    /// Errors: a dose level not in the design, a level that comes back after another
    /// one, or more subjects than the level has.
    pub fn add(&mut self, s: &SimulatedSubject) -> Result<(), String> {
        if self.level.as_ref().is_some_and(|l| l.dose != s.dose) {
            self.close_level()?;
        }
        if self.level.is_none() {
            if self.done.contains(&s.dose) {
                return Err(format!(
                    "subject {}: dose level {} comes back after another level (levels must be contiguous)",
                    s.id, s.dose
                ));
            }
            let Some(&(_, n)) = self.sizes.iter().find(|(d, _)| *d == s.dose) else {
                return Err(format!(
                    "subject {}: dose level {} is not one of the design's",
                    s.id, s.dose
                ));
            };
            let cells = self.times.len() * self.analytes.len();
            let bits = if self.residual_error {
                (n * cells).div_ceil(64)
            } else {
                0
            };
            self.level = Some(Level {
                dose: s.dose,
                n,
                filled: 0,
                values: vec![0.0; n * cells],
                censored: vec![0; bits],
            });
        }
        let (nt, na) = (self.times.len(), self.analytes.len());
        let Some(level) = self.level.as_mut() else {
            return Ok(());
        };
        if level.filled == level.n {
            return Err(format!(
                "subject {}: dose level {} has more than its {} subjects",
                s.id, s.dose, level.n
            ));
        }
        let i = level.filled;
        for t in 0..nt {
            for k in 0..na {
                let at = (k * nt + t) * level.n + i;
                level.values[at] = s.values[t * na + k];
                if s.censored[t * na + k] && !level.censored.is_empty() {
                    level.censored[at / 64] |= 1 << (at % 64);
                }
            }
        }
        level.filled += 1;
        Ok(())
    }

    fn close_level(&mut self) -> Result<(), String> {
        let Some(level) = self.level.take() else {
            return Ok(());
        };
        if level.filled != level.n {
            return Err(format!(
                "dose level {}: {} subjects, expected {}",
                level.dose, level.filled, level.n
            ));
        }
        let (nt, n) = (self.times.len(), level.n);
        let cells = nt * self.analytes.len();
        let rows: Vec<SummaryRow> = (0..cells)
            .into_par_iter()
            .map(|c| {
                let is_censored = |i: usize| {
                    let at = c * n + i;
                    !level.censored.is_empty() && level.censored[at / 64] & (1 << (at % 64)) != 0
                };
                let column = &level.values[c * n..(c + 1) * n];
                let mut censored = Vec::new();
                let mut values = Vec::with_capacity(n);
                for (i, &v) in column.iter().enumerate() {
                    if is_censored(i) {
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
                    dose: level.dose,
                    analyte: self.analytes[c / nt].clone(),
                    time: self.times[c % nt],
                    n: sorted.len(),
                    n_blq,
                    percentiles: PERCENTILES.map(|p| type7_censored(&sorted, n_blq, p)),
                }
            })
            .collect();
        self.rows.extend(rows);
        self.done.push(level.dose);
        Ok(())
    }

    /// Close the last level and give the rows (levels in the order they came).
    pub fn finish(mut self) -> Result<Vec<SummaryRow>, String> {
        self.close_level()?;
        Ok(self.rows)
    }
}

/// Summary rows of a simulation held in memory (see the module header for the order).
pub fn summarise(sim: &Simulation) -> Vec<SummaryRow> {
    let groups = dose_groups(sim.subjects.iter().map(|s| s.dose));
    let sizes: Vec<(f64, usize)> = groups.iter().map(|(d, m)| (*d, m.len())).collect();
    let mut acc = SummaryAccumulator::new(&sim.times, &sim.analytes, sim.residual_error, &sizes);
    // Group by group, every level is complete and contiguous: `add` cannot fail.
    for (_, members) in &groups {
        for &i in members {
            let _ = acc.add(&sim.subjects[i]);
        }
    }
    acc.finish().unwrap_or_default()
}
