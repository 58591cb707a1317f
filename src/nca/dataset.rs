//! NCA of a whole dataset: one [`SubjectRow`] per subject × analyte, and summaries of
//! every metric by dose level and analyte.
//!
//! What is computed depends on the analyte ([`AnalyteKind`]):
//! - kinetics (`transgene`, `cart_cells` and any non-standard name): [`super::analyse`];
//! - B cells (`b_cells`, `naive_b`, `memory_b`, `plasmablast`, `plasma_cell`):
//!   [`super::bcell_endpoints`], with the naive fraction at recovery for `b_cells`
//!   taken from the subject's `naive_b` records;
//! - immunoglobulins and autoantibodies (`igg`, `igm`, `iga`, `anti_dsdna`):
//!   [`super::depletion_endpoints`] (baseline, nadir, nadir % baseline).
//!
//! Dose level of a subject ([`Grouping`]): by default the `DOSE` covariate when the
//! dataset has one, else the subject's total dose (sum of its dose records), else
//! missing; or the value of a chosen covariate (at t = 0 when it varies over time); a
//! subject without a value is in the group with a missing (empty) label, the missing
//! value of every cartkin table ([`crate::report::table::MISSING`]). Numeric groups come first in increasing order,
//! then the others by label.

use std::collections::BTreeMap;

use super::bcell::{bcell_endpoints, depletion_endpoints, BcellEndpoints, DepletionEndpoints};
use super::profile::{Profile, Sample};
use super::settings::{ValidBcellSettings, ValidNcaSettings};
use super::summary::{summarise, SummaryStats};
use super::{analyse, NcaError, NcaResult};
use crate::data::{Analyte, Dataset, Subject};
use crate::report::table::MISSING;

/// Which endpoints an analyte gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyteKind {
    /// Cellular kinetics: Cmax, AUC, λz, persistence.
    Kinetic,
    /// B cells and subsets: baseline, nadir, aplasia, recovery.
    Bcell,
    /// Immunoglobulins and autoantibodies: baseline, nadir, nadir % baseline.
    Depletion,
}

impl AnalyteKind {
    /// The kind of an analyte by its name.
    pub fn of(analyte: &Analyte) -> Self {
        match analyte.name() {
            "b_cells" | "naive_b" | "memory_b" | "plasmablast" | "plasma_cell" => {
                AnalyteKind::Bcell
            }
            "igg" | "igm" | "iga" | "anti_dsdna" => AnalyteKind::Depletion,
            _ => AnalyteKind::Kinetic,
        }
    }
}

/// How subjects are grouped into dose levels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Grouping {
    /// `DOSE` covariate if present, else total dose.
    #[default]
    Dose,
    /// The value of this covariate (numeric or categorical).
    Covariate(String),
}

/// The results of one subject for one analyte.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectRow {
    /// Subject identifier.
    pub id: String,
    /// The analyte.
    pub analyte: Analyte,
    /// Dose level (or covariate value) label.
    pub group: String,
    /// Numeric value of the group, when it is a number (for ordering).
    pub group_value: Option<f64>,
    /// Records of this analyte.
    pub n_obs: usize,
    /// Censored records of this analyte.
    pub n_blq: usize,
    /// Kinetic results (kind `Kinetic`).
    pub pk: Option<NcaResult>,
    /// B-cell endpoints (kind `Bcell`).
    pub bcell: Option<BcellEndpoints>,
    /// Baseline and nadir (kind `Depletion`).
    pub depletion: Option<DepletionEndpoints>,
}

/// Summary statistics of one metric in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSummary {
    /// Dose level label.
    pub group: String,
    /// The analyte.
    pub analyte: Analyte,
    /// Metric name (a column of `nca.csv`).
    pub metric: String,
    /// The statistics.
    pub stats: SummaryStats,
}

/// Names of the kinetic metrics, in column order, for partial-AUC ends `ends`.
pub fn kinetic_metric_names(ends: &[f64]) -> Vec<String> {
    let mut v: Vec<String> = ["cmax", "tmax", "clast", "tlast", "auclast"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(ends.iter().map(|e| partial_auc_name(*e)));
    v.extend(
        [
            "lambda_z",
            "half_life",
            "r_squared",
            "adj_r_squared",
            "lambda_z_n_points",
            "lambda_z_time_first",
            "lambda_z_time_last",
            "aucinf_obs",
            "auc_pct_extrap",
            "time_below_lloq",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v
}

/// Names of the B-cell / depletion metrics, in column order.
pub const BCELL_METRICS: [&str; 8] = [
    "baseline",
    "nadir",
    "nadir_time",
    "nadir_pct_baseline",
    "time_to_aplasia",
    "aplasia_duration",
    "time_to_recovery",
    "naive_fraction_at_recovery",
];

/// The endpoint columns of a subject × analyte row, in order: the kinetic metrics
/// ([`kinetic_metric_names`]) then the B-cell / depletion ones ([`BCELL_METRICS`]). The
/// one schema of `nca.csv` and of `cartkin simulate`'s `endpoints.csv` (which reports a
/// named selection of these columns).
pub fn endpoint_columns(ends: &[f64]) -> Vec<String> {
    let mut v = kinetic_metric_names(ends);
    v.extend(BCELL_METRICS.iter().map(|s| s.to_string()));
    v
}

/// Column name of the partial AUC ending at `end`: `auc0_28`.
pub fn partial_auc_name(end: f64) -> String {
    format!("auc0_{end}")
}

impl SubjectRow {
    /// Kinetic metric values aligned with [`kinetic_metric_names`] (all `None` for other kinds).
    pub fn kinetic_values(&self, ends: &[f64]) -> Vec<Option<f64>> {
        let Some(r) = &self.pk else {
            return vec![None; kinetic_metric_names(ends).len()];
        };
        let l = r.lambda_z.as_ref();
        let mut v = vec![r.cmax, r.tmax, r.clast, r.tlast, r.auclast];
        v.extend(ends.iter().map(|&e| r.partial_auc(e)));
        v.extend([
            l.map(|l| l.lambda_z),
            l.map(|l| l.half_life()),
            l.map(|l| l.r_squared),
            l.map(|l| l.adj_r_squared),
            l.map(|l| l.n_points() as f64),
            l.and_then(|l| l.times.first().copied()),
            l.and_then(|l| l.times.last().copied()),
            r.aucinf_obs,
            r.auc_pct_extrap,
            r.time_below_lloq,
        ]);
        v
    }

    /// Values aligned with [`endpoint_columns`].
    pub fn endpoint_values(&self, ends: &[f64]) -> Vec<Option<f64>> {
        let mut v = self.kinetic_values(ends);
        v.extend(self.bcell_values());
        v
    }

    /// The row of one profile of `analyte`, analysed by its kind ([`AnalyteKind`]);
    /// `naive` is the subject's `naive_b` profile, used for `b_cells`. `n_obs` and
    /// `n_blq` count the profile's samples.
    #[allow(clippy::too_many_arguments)]
    pub fn analyse(
        id: String,
        analyte: &Analyte,
        group: String,
        group_value: Option<f64>,
        profile: &Profile,
        naive: Option<&Profile>,
        nca: &ValidNcaSettings,
        bcell: &ValidBcellSettings,
    ) -> Result<SubjectRow, NcaError> {
        let mut row = SubjectRow {
            id,
            analyte: analyte.clone(),
            group,
            group_value,
            n_obs: profile.samples().len(),
            n_blq: profile.samples().iter().filter(|s| s.censored).count(),
            pk: None,
            bcell: None,
            depletion: None,
        };
        match AnalyteKind::of(analyte) {
            AnalyteKind::Kinetic => row.pk = Some(analyse(profile, nca)?),
            AnalyteKind::Bcell => {
                let naive = naive.filter(|_| analyte.name() == "b_cells");
                row.bcell = Some(bcell_endpoints(profile, naive, bcell));
            }
            AnalyteKind::Depletion => row.depletion = Some(depletion_endpoints(profile)),
        }
        Ok(row)
    }

    /// B-cell / depletion values aligned with [`BCELL_METRICS`].
    pub fn bcell_values(&self) -> Vec<Option<f64>> {
        let (d, b) = match (&self.bcell, &self.depletion) {
            (Some(b), _) => (Some(b.depletion), Some(b)),
            (None, Some(d)) => (Some(*d), None),
            (None, None) => (None, None),
        };
        vec![
            d.and_then(|d| d.baseline),
            d.and_then(|d| d.nadir),
            d.and_then(|d| d.nadir_time),
            d.and_then(|d| d.nadir_pct_baseline),
            b.and_then(|b| b.time_to_aplasia),
            b.and_then(|b| b.aplasia_duration),
            b.and_then(|b| b.time_to_recovery),
            b.and_then(|b| b.naive_fraction_at_recovery),
        ]
    }

    /// All remarks of the row, `;`-separated (empty when none).
    pub fn flags(&self) -> String {
        let mut v: Vec<String> = Vec::new();
        if let Some(r) = &self.pk {
            v.extend(r.flags.iter().map(|f| f.to_string()));
        }
        if let Some(b) = &self.bcell {
            v.extend(b.flags.iter().map(|f| f.to_string()));
        }
        if let Some(d) = self
            .bcell
            .as_ref()
            .map(|b| &b.depletion)
            .or(self.depletion.as_ref())
        {
            if d.baseline_censored {
                v.push("baseline_blq".into());
            }
            if d.nadir_censored {
                v.push("nadir_blq".into());
            }
        }
        v.join(";")
    }
}

/// The profile of `analyte` in `subject`, with the source lines in messages on error.
pub fn profile_of(subject: &Subject, analyte: &Analyte) -> Result<Profile, NcaError> {
    let obs: Vec<_> = subject.observations_of(analyte).collect();
    let samples = obs
        .iter()
        .map(|o| Sample {
            time: o.time,
            value: o.value,
            censored: o.censored,
            lloq: o.lloq,
        })
        .collect();
    Profile::new(samples).map_err(|e| {
        let involved: Vec<String> = obs
            .iter()
            .filter(|o| match &e {
                NcaError::DuplicateTime { time }
                | NcaError::NonFiniteValue { time, .. }
                | NcaError::NegativeValue { time, .. } => o.time == *time,
                _ => true,
            })
            .map(|o| o.line.to_string())
            .collect();
        NcaError::InSubject {
            subject: subject.id.clone(),
            analyte: analyte.name().to_string(),
            lines: involved.join(", "),
            source: Box::new(e),
        }
    })
}

fn group_of(dataset: &Dataset, subject: &Subject, grouping: &Grouping) -> (String, Option<f64>) {
    let covariate = match grouping {
        Grouping::Covariate(name) => Some(name.as_str()),
        Grouping::Dose if dataset.covariate_names.iter().any(|c| c == "DOSE") => Some("DOSE"),
        Grouping::Dose => None,
    };
    match covariate {
        Some(name) => match subject.covariates.numeric(name, 0.0) {
            Some(x) => (x.to_string(), Some(x)),
            None => match subject.covariates.level(name) {
                Some(level) => (level.to_string(), None),
                None => (MISSING.to_string(), None),
            },
        },
        None if !subject.doses.is_empty() => {
            let d = subject.total_dose();
            (d.to_string(), Some(d))
        }
        None => (MISSING.to_string(), None),
    }
}

/// Analyse every subject × analyte of `analytes` (in that order within each subject;
/// subjects without records of an analyte get no row). Errors name subject, analyte and
/// lines.
pub fn analyse_dataset(
    dataset: &Dataset,
    analytes: &[Analyte],
    grouping: &Grouping,
    nca: &ValidNcaSettings,
    bcell: &ValidBcellSettings,
) -> Result<Vec<SubjectRow>, NcaError> {
    let naive = Analyte::new("naive_b");
    let mut rows = Vec::new();
    for subject in &dataset.subjects {
        let (group, group_value) = group_of(dataset, subject, grouping);
        for analyte in analytes {
            let n_obs = subject.observations_of(analyte).count();
            if n_obs == 0 {
                continue;
            }
            let n_blq = subject
                .observations_of(analyte)
                .filter(|o| o.censored)
                .count();
            let profile = profile_of(subject, analyte)?;
            let in_subject = |e: NcaError| NcaError::InSubject {
                subject: subject.id.clone(),
                analyte: analyte.name().to_string(),
                lines: subject
                    .observations_of(analyte)
                    .map(|o| o.line.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                source: Box::new(e),
            };
            let naive_profile = if analyte.name() == "b_cells"
                && subject.observations_of(&naive).next().is_some()
            {
                Some(profile_of(subject, &naive)?)
            } else {
                None
            };
            let mut row = SubjectRow::analyse(
                subject.id.clone(),
                analyte,
                group.clone(),
                group_value,
                &profile,
                naive_profile.as_ref(),
                nca,
                bcell,
            )
            .map_err(in_subject)?;
            // Counted on the dataset's records of the analyte.
            row.n_obs = n_obs;
            row.n_blq = n_blq;
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Summaries of every applicable metric by dose level × analyte (numeric groups in
/// increasing order, then the others by label; analytes by name; metrics in column order).
pub fn summarise_rows(rows: &[SubjectRow], ends: &[f64]) -> Vec<GroupSummary> {
    type Key = (bool, Option<OrderedValue>, String, Analyte);
    let mut groups: BTreeMap<Key, Vec<&SubjectRow>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((
                r.group_value.is_none(),
                r.group_value.map(OrderedValue),
                r.group.clone(),
                r.analyte.clone(),
            ))
            .or_default()
            .push(r);
    }
    let kinetic_names = kinetic_metric_names(ends);
    let mut out = Vec::new();
    for ((_, _, group, analyte), members) in groups {
        let (names, columns): (Vec<String>, Vec<Vec<Option<f64>>>) = match AnalyteKind::of(&analyte)
        {
            AnalyteKind::Kinetic => (
                kinetic_names.clone(),
                members.iter().map(|r| r.kinetic_values(ends)).collect(),
            ),
            kind => {
                let n = if kind == AnalyteKind::Bcell { 8 } else { 4 };
                (
                    BCELL_METRICS[..n].iter().map(|s| s.to_string()).collect(),
                    members
                        .iter()
                        .map(|r| r.bcell_values()[..n].to_vec())
                        .collect(),
                )
            }
        };
        for (j, metric) in names.into_iter().enumerate() {
            let values: Vec<Option<f64>> = columns.iter().map(|c| c[j]).collect();
            out.push(GroupSummary {
                group: group.clone(),
                analyte: analyte.clone(),
                metric,
                stats: summarise(&values),
            });
        }
    }
    out
}

/// An f64 with a total order, for sorting groups.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrderedValue(f64);

impl Eq for OrderedValue {}

impl PartialOrd for OrderedValue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedValue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
