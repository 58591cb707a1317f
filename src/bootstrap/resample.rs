//! Resampling subjects with replacement, within strata.
//!
//! Each subject has a stratum key ([`strata_of`]): its dose level (`--strata dose`, the
//! default: the constant covariate `DOSE` when the data have it, else the sum of the
//! subject's dose amounts), one stratum for all (`none`), or the value of a covariate
//! column. Replicate r (0-based) draws from [`crate::rng::subject_rng`](seed, r): for
//! each stratum in the order of its key (text order), as many uniform draws
//! (`random_range`) of its members as it has members, so every replicate keeps the
//! number of subjects of each stratum. The resampled subjects are renumbered
//! `<k>_<id>` (k = 1 … N, their position in the replicate, then the original id), so a
//! subject drawn twice is two subjects.

use std::collections::BTreeMap;

use rand::Rng;

use crate::data::{CovariateValue, Dataset, Subject};
use crate::report::table::number;

/// How subjects are grouped for resampling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strata {
    /// By dose level (module header).
    Dose,
    /// No strata.
    None,
    /// By the value of this covariate column (upper case).
    Column(String),
}

impl std::str::FromStr for Strata {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "dose" => Ok(Strata::Dose),
            "none" => Ok(Strata::None),
            "" => Err("--strata: expected dose, none or a covariate column".into()),
            c => Ok(Strata::Column(c.to_ascii_uppercase())),
        }
    }
}

impl std::fmt::Display for Strata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strata::Dose => f.write_str("dose"),
            Strata::None => f.write_str("none"),
            Strata::Column(c) => f.write_str(c),
        }
    }
}

fn covariate_text(s: &Subject, name: &str) -> Option<String> {
    let value = s.covariates.constant.get(name).or_else(|| {
        s.covariates
            .varying
            .get(name)
            .and_then(|v| v.first())
            .map(|(_, v)| v)
    })?;
    Some(match value {
        CovariateValue::Numeric(x) => number(*x),
        CovariateValue::Categorical(c) => c.clone(),
    })
}

/// The stratum key of every subject of `dataset` (an error names a subject without the
/// covariate).
pub fn strata_of(dataset: &Dataset, strata: &Strata) -> Result<Vec<String>, String> {
    dataset
        .subjects
        .iter()
        .map(|s| match strata {
            Strata::None => Ok(String::new()),
            Strata::Dose => Ok(covariate_text(s, "DOSE").unwrap_or_else(|| {
                let total: f64 = s
                    .doses
                    .iter()
                    .filter(|d| !d.is_reset())
                    .map(|d| d.amount)
                    .sum();
                number(total)
            })),
            Strata::Column(c) => covariate_text(s, c).ok_or_else(|| {
                format!(
                    "--strata {c}: subject {} of {} has no value of covariate {c} (covariates: {})",
                    s.id,
                    dataset.source.display(),
                    dataset.covariate_names.join(", ")
                )
            }),
        })
        .collect()
}

/// Replicate `replicate` (0-based) of `dataset` resampled within `strata` (one key per
/// subject) with `seed` (module header).
pub fn resample(dataset: &Dataset, strata: &[String], seed: u64, replicate: usize) -> Dataset {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k) in strata.iter().enumerate() {
        groups.entry(k.as_str()).or_default().push(i);
    }
    let mut rng = crate::rng::subject_rng(seed, replicate as u64);
    let mut subjects = Vec::with_capacity(dataset.subjects.len());
    for members in groups.values() {
        for _ in 0..members.len() {
            let pick = members[rng.random_range(0..members.len())];
            let mut s = dataset.subjects[pick].clone();
            s.id = format!("{}_{}", subjects.len() + 1, s.id);
            subjects.push(s);
        }
    }
    Dataset {
        source: dataset.source.clone(),
        subjects,
        covariate_names: dataset.covariate_names.clone(),
    }
}
