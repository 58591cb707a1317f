//! What to simulate: unchecked [`SimulationDesign`] → [`ValidDesign`] (checked against
//! the model) before any work.
//!
//! | setting | default | unit | range | meaning |
//! |---|---|---|---|---|
//! | `doses` | – | cells, or cells/kg | finite, > 0, distinct; n ≥ 1 each | dose levels and subjects per level |
//! | `dose_unit` | `Total` | – | `Total`, `PerKg` | per kg: amount = dose × WT (WT must have a distribution) |
//! | `times` | – | day | finite; sorted and de-duplicated here | sampling times (daily grid or visit schedule) |
//! | `analytes` | all outputs | – | the model's outputs | outputs simulated, always in the model's order |
//! | `lloq` | the model's | analyte unit | finite, > 0 | limits of quantification (censoring, endpoints) |
//! | `covariates` | none | – | see [`CovariateDistribution`] | covariate distributions, drawn in this order |
//! | `parameters` | none | – | within bounds | typical values replacing the model's |
//! | `variability` | population, model Ω | – | [`Variability`] | random effects, or the typical subject |
//! | `residual_error` | false | – | bool | add residual error and censor at the LLOQ |
//! | `seed` | 0 (the command line's default is 1) | – | u64 | random seed |
//! | `shard` | none | – | 1 ≤ i ≤ N | simulate only the i-th of N contiguous slices of subjects |
//!
//! Subjects are numbered over all dose levels in order (level 1 first), global index
//! k = 0..K; shard i/N takes k in [⌊K(i−1)/N⌋, ⌊Ki/N⌋).

use std::str::FromStr;

use super::population::{CovariateDistribution, Omega, Population};
use super::SimulateError;
use crate::data::Analyte;
use crate::model::Predict;

/// The covariate that per-kg doses multiply (upper case, as the data layer stores it).
pub const WEIGHT: &str = "WT";

/// How dose levels are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DoseUnit {
    /// Total cells per subject.
    #[default]
    Total,
    /// Cells per kg of body weight (× WT).
    PerKg,
}

/// One dose level and its number of subjects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseLevel {
    /// The dose (total cells, or cells/kg).
    pub dose: f64,
    /// Subjects at this level.
    pub n: usize,
}

/// Random effects or the typical subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Variability {
    /// Subjects drawn with this between-subject covariance.
    Population(Omega),
    /// Every subject is the typical one (typical parameters and covariates, no error).
    Typical,
}

impl Default for Variability {
    fn default() -> Self {
        Variability::Population(Omega::Model)
    }
}

/// A slice of the subjects: the `index`-th (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = SimulateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SimulateError::setting("--shard", s, "i/N with whole numbers 1 <= i <= N");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The global subject indices of this shard among `total` subjects.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        let at = |i: usize| ((total as u128 * i as u128) / self.count as u128) as usize;
        at(self.index - 1)..at(self.index)
    }
}

/// An unchecked simulation design; see the module table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimulationDesign {
    /// Dose levels in order.
    pub doses: Vec<DoseLevel>,
    /// Total or per kg.
    pub dose_unit: DoseUnit,
    /// Sampling times (days).
    pub times: Vec<f64>,
    /// Analytes to simulate (empty: every output of the model).
    pub analytes: Vec<String>,
    /// LLOQ per analyte, replacing the model's.
    pub lloq: Vec<(String, f64)>,
    /// Covariate distributions.
    pub covariates: Vec<(String, CovariateDistribution)>,
    /// Typical values replacing the model's.
    pub parameters: Vec<(String, f64)>,
    /// Random effects or typical subject.
    pub variability: Variability,
    /// Residual error and censoring.
    pub residual_error: bool,
    /// Random seed.
    pub seed: u64,
    /// Optional slice of subjects.
    pub shard: Option<Shard>,
}

/// A design checked against a model.
#[derive(Debug, Clone)]
pub struct ValidDesign {
    /// The design as given (times sorted and de-duplicated, covariate names upper case).
    pub design: SimulationDesign,
    /// The population (typical values, Ω, covariates).
    pub population: Population,
    /// Model output indices simulated, in the model's order.
    pub outputs: Vec<usize>,
    /// Their analytes.
    pub analytes: Vec<Analyte>,
    /// Their limits of quantification.
    pub lloq: Vec<Option<f64>>,
    /// Index of WT among the covariates, for per-kg doses.
    pub weight: Option<usize>,
    /// First global index of each dose level, and the total at the end.
    pub level_start: Vec<usize>,
    /// Model name.
    pub model: String,
}

impl SimulationDesign {
    /// Check the design against `model` (see the module table).
    pub fn check(mut self, model: &dyn Predict) -> Result<ValidDesign, SimulateError> {
        if self.doses.is_empty() {
            return Err(SimulateError::setting(
                "dose",
                "(none)",
                "at least one dose level",
            ));
        }
        for (i, d) in self.doses.iter().enumerate() {
            if !(d.dose.is_finite() && d.dose > 0.0) {
                return Err(SimulateError::setting(
                    "dose",
                    d.dose,
                    "a finite number of cells > 0",
                ));
            }
            if d.n == 0 {
                return Err(SimulateError::setting(
                    format!("subjects at dose {}", d.dose),
                    0,
                    "at least 1",
                ));
            }
            if self.doses[..i].iter().any(|e| e.dose == d.dose) {
                return Err(SimulateError::setting(
                    "dose",
                    d.dose,
                    "distinct dose levels",
                ));
            }
        }
        if self.times.is_empty() {
            return Err(SimulateError::setting(
                "times",
                "(none)",
                "at least one sampling time",
            ));
        }
        if let Some(t) = self.times.iter().find(|t| !t.is_finite()) {
            return Err(SimulateError::setting("times", t, "finite times in days"));
        }
        self.times.sort_by(f64::total_cmp);
        self.times.dedup();
        for (name, _) in &mut self.covariates {
            *name = name.trim().to_ascii_uppercase();
        }
        for (i, (name, _)) in self.covariates.iter().enumerate() {
            if name.is_empty() || self.covariates[..i].iter().any(|(n, _)| n == name) {
                return Err(SimulateError::setting(
                    "covariate",
                    name,
                    "a non-empty name given once",
                ));
            }
        }
        let weight = self.covariates.iter().position(|(n, _)| n == WEIGHT);
        if self.dose_unit == DoseUnit::PerKg && weight.is_none() {
            return Err(SimulateError::setting(
                "per-kg doses",
                "no WT distribution",
                "a body-weight distribution, e.g. --covariate WT~lognormal:70:20 (median kg, CV%)",
            ));
        }
        if self.variability == Variability::Typical && self.residual_error {
            return Err(SimulateError::setting(
                "residual error",
                "with the typical subject",
                "either the typical subject or residual error, not both",
            ));
        }
        let omega = match &self.variability {
            Variability::Population(o) => o.clone(),
            Variability::Typical => Omega::Model,
        };
        let population = Population::new(
            model.name(),
            model.parameters(),
            &self.parameters,
            &omega,
            &self.covariates,
        )?;

        let all = model.outputs();
        let unknown = |name: &str| SimulateError::UnknownName {
            model: model.name().to_string(),
            what: "output",
            name: name.to_string(),
            known: all
                .iter()
                .map(|o| o.analyte.name())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let wanted: Vec<Analyte> = self.analytes.iter().map(|a| Analyte::new(a)).collect();
        for (a, name) in wanted.iter().zip(&self.analytes) {
            if model.output_index(a).is_none() {
                return Err(unknown(name));
            }
        }
        let outputs: Vec<usize> = (0..all.len())
            .filter(|&i| wanted.is_empty() || wanted.contains(&all[i].analyte))
            .collect();
        if outputs.is_empty() {
            return Err(SimulateError::setting(
                "analytes",
                "(none)",
                "a model with outputs",
            ));
        }
        let analytes: Vec<Analyte> = outputs.iter().map(|&i| all[i].analyte.clone()).collect();
        let mut lloq: Vec<Option<f64>> = outputs.iter().map(|&i| all[i].lloq).collect();
        for (name, value) in &self.lloq {
            let a = Analyte::new(name);
            if !(value.is_finite() && *value > 0.0) {
                return Err(SimulateError::setting(
                    format!("lloq of {name}"),
                    value,
                    "a finite number > 0",
                ));
            }
            match analytes.iter().position(|x| x == &a) {
                Some(k) => lloq[k] = Some(*value),
                None if model.output_index(&a).is_some() => {}
                None => return Err(unknown(name)),
            }
        }
        let mut level_start = vec![0];
        for d in &self.doses {
            let last = *level_start.last().unwrap_or(&0);
            level_start.push(last + d.n);
        }
        Ok(ValidDesign {
            model: model.name().to_string(),
            design: self,
            population,
            outputs,
            analytes,
            lloq,
            weight,
            level_start,
        })
    }
}

impl ValidDesign {
    /// Total number of subjects over all dose levels (all shards).
    pub fn total_subjects(&self) -> usize {
        *self.level_start.last().unwrap_or(&0)
    }

    /// Global indices simulated by this run (its shard, or all).
    pub fn subject_range(&self) -> std::ops::Range<usize> {
        match self.design.shard {
            Some(s) => s.range(self.total_subjects()),
            None => 0..self.total_subjects(),
        }
    }

    /// Dose level (index) of global subject index `k`.
    pub fn level_of(&self, k: usize) -> usize {
        self.level_start
            .partition_point(|&s| s <= k)
            .saturating_sub(1)
    }
}

/// The daily grid 0, 1, …, `days`.
pub fn daily_grid(days: u32) -> Vec<f64> {
    (0..=days).map(f64::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_subjects_in_order() {
        for total in [0usize, 1, 7, 10, 101] {
            for count in 1..=5 {
                let mut next = 0;
                for index in 1..=count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("a/3".parse::<Shard>().is_err());
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
    }
}
