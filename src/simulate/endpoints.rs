//! Endpoints of each simulated subject × analyte from the NCA library, and their
//! summary by dose level.
//!
//! Each profile is observed through its assay: values below the analyte's LLOQ are
//! censored (with residual error they already are). Then, by analyte kind
//! ([`AnalyteKind`]):
//! - kinetic (transgene, CAR-T cells): [`analyse`] with the library defaults except
//!   partial AUCs AUC0–28 and AUC0–365 and, after Tlast, concentration 0
//!   ([`BeyondTlast::Truncate`], PKNCA's AUCint.last): Cmax, Tmax, AUC0–28, AUC0–365,
//!   Tlast (the last time above the LLOQ);
//! - B cells and subsets: [`bcell_endpoints`] (aplasia below 1 cell/µL, recovery at
//!   ≥ 10 cells/µL, naive fraction at recovery from `naive_b` when simulated);
//! - immunoglobulins and autoantibodies: [`depletion_endpoints`] (baseline, nadir,
//!   nadir % baseline).
//!
//! A metric that does not apply to an analyte, or cannot be computed, is missing.
//! The columns are a named selection ([`METRICS`]) of the NCA library's one endpoint
//! schema ([`crate::nca::endpoint_columns`], the columns of `cartkin nca`'s `nca.csv`),
//! and their values come from the same [`SubjectRow`] as there, so a metric has the same
//! name and definition in both commands; flags are [`SubjectRow::flags`].
//!
//! `endpoints_summary.csv` has one row per dose level × analyte: subjects, then for
//! every metric the number of non-missing values, the median and the 5th and 95th
//! percentiles (type 7, [`super::percentile`]). [`EndpointAccumulator`] keeps 13 `f64`
//! per subject × analyte for it (missing as NaN), so a run streams its rows to the file.

use rayon::prelude::*;

use super::percentile::type7;
use super::run::{SimulatedSubject, Simulation};
use crate::data::Analyte;
use crate::nca::{
    endpoint_columns, BcellSettings, BeyondTlast, NcaSettings, Profile, Sample, SubjectRow,
    ValidBcellSettings, ValidNcaSettings,
};

/// Ends of the partial AUCs of simulated endpoints (days).
pub const AUC_ENDS: [f64; 2] = [28.0, 365.0];

/// Endpoint columns of `endpoints.csv`, in order: names of [`endpoint_columns`]`(AUC_ENDS)`.
pub const METRICS: [&str; 13] = [
    "cmax",
    "tmax",
    "auc0_28",
    "auc0_365",
    "tlast",
    "baseline",
    "nadir",
    "nadir_time",
    "nadir_pct_baseline",
    "time_to_aplasia",
    "aplasia_duration",
    "time_to_recovery",
    "naive_fraction_at_recovery",
];

/// Positions of [`METRICS`] in [`endpoint_columns`]`(AUC_ENDS)`.
fn metric_positions() -> [usize; 13] {
    let all = endpoint_columns(&AUC_ENDS);
    // Every name of METRICS is a column of the schema (unit test below).
    METRICS.map(|m| all.iter().position(|c| c == m).unwrap_or(usize::MAX))
}

/// Endpoints of one subject for one analyte.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRow {
    /// Subject id.
    pub id: usize,
    /// Dose level.
    pub dose: f64,
    /// Analyte.
    pub analyte: Analyte,
    /// Values aligned with [`METRICS`].
    pub values: [Option<f64>; 13],
    /// Remarks of the NCA library, `;`-separated.
    pub flags: String,
}

/// Summary of one metric in one dose level × analyte.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricSummary {
    /// Non-missing values.
    pub n: usize,
    /// Median.
    pub median: Option<f64>,
    /// 5th percentile.
    pub p05: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
}

/// One row of `endpoints_summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSummaryRow {
    /// Dose level.
    pub dose: f64,
    /// Analyte.
    pub analyte: Analyte,
    /// Subjects.
    pub n: usize,
    /// Per metric, aligned with [`METRICS`].
    pub metrics: [MetricSummary; 13],
}

/// The NCA settings of simulated endpoints (see the module header).
pub fn nca_settings() -> ValidNcaSettings {
    let s = NcaSettings {
        partial_ends: AUC_ENDS.to_vec(),
        beyond_tlast: BeyondTlast::Truncate,
        ..NcaSettings::default()
    };
    // The defaults with two increasing positive ends always pass the check.
    s.check().unwrap_or_default()
}

fn profile(sim: &Simulation, s: &SimulatedSubject, k: usize) -> Result<Profile, String> {
    let lloq = sim.lloq[k];
    let samples = (0..sim.times.len())
        .map(|t| {
            let (v, c) = sim.value(s, t, k);
            let time = sim.times[t];
            match lloq {
                Some(l) if c || v < l => Sample::blq(time, l),
                _ => Sample::measured(time, v),
            }
        })
        .collect();
    Profile::new(samples).map_err(|e| e.to_string())
}

/// The settings of the endpoint computation.
pub struct EndpointSettings {
    nca: ValidNcaSettings,
    bcell: ValidBcellSettings,
    positions: [usize; 13],
}

impl Default for EndpointSettings {
    fn default() -> Self {
        EndpointSettings {
            nca: nca_settings(),
            bcell: BcellSettings::default().check().unwrap_or_default(),
            positions: metric_positions(),
        }
    }
}

/// Endpoints of one subject, one row per simulated analyte.
pub fn subject_endpoints(
    sim: &Simulation,
    s: &SimulatedSubject,
    settings: &EndpointSettings,
) -> Vec<EndpointRow> {
    let naive = sim.analytes.iter().position(|a| a.name() == "naive_b");
    (0..sim.analytes.len())
        .map(|k| {
            let analyte = sim.analytes[k].clone();
            let mut values = [None; 13];
            let analysed = profile(sim, s, k).and_then(|p| {
                let naive_profile = naive
                    .filter(|_| analyte.name() == "b_cells")
                    .and_then(|j| profile(sim, s, j).ok());
                SubjectRow::analyse(
                    s.id.to_string(),
                    &analyte,
                    String::new(),
                    Some(s.dose),
                    &p,
                    naive_profile.as_ref(),
                    &settings.nca,
                    &settings.bcell,
                )
                .map_err(|e| e.to_string())
            });
            let flags = match analysed {
                Err(e) => format!("not_analysed: {e}"),
                Ok(row) => {
                    let all = row.endpoint_values(&AUC_ENDS);
                    for (v, &j) in values.iter_mut().zip(&settings.positions) {
                        *v = all.get(j).copied().flatten();
                    }
                    row.flags()
                }
            };
            EndpointRow {
                id: s.id,
                dose: s.dose,
                analyte,
                values,
                flags,
            }
        })
        .collect()
}

/// Endpoints of every subject (in id order, analytes in the simulation's order).
pub fn endpoints(sim: &Simulation) -> Vec<EndpointRow> {
    let settings = EndpointSettings::default();
    sim.subjects
        .par_iter()
        .map(|s| subject_endpoints(sim, s, &settings))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// Per dose level × analyte, the metric values of its rows (missing as NaN), for
/// `endpoints_summary.csv`; rows are added in file order.
#[derive(Debug, Default)]
pub struct EndpointAccumulator {
    analytes: Vec<Analyte>,
    groups: Vec<(f64, Vec<Vec<[f64; 13]>>)>,
}

impl EndpointAccumulator {
    /// Add one row.
    pub fn add(&mut self, r: &EndpointRow) {
        let a = match self.analytes.iter().position(|a| *a == r.analyte) {
            Some(a) => a,
            None => {
                self.analytes.push(r.analyte.clone());
                self.analytes.len() - 1
            }
        };
        let g = match self.groups.iter().position(|(d, _)| *d == r.dose) {
            Some(g) => g,
            None => {
                self.groups.push((r.dose, Vec::new()));
                self.groups.len() - 1
            }
        };
        let per_analyte = &mut self.groups[g].1;
        if per_analyte.len() <= a {
            per_analyte.resize_with(a + 1, Vec::new);
        }
        per_analyte[a].push(r.values.map(|v| v.unwrap_or(f64::NAN)));
    }

    /// Summary by dose level (order of first row) × analyte (order of first row).
    pub fn finish(self) -> Vec<EndpointSummaryRow> {
        let mut out = Vec::new();
        for (dose, per_analyte) in self.groups {
            for (a, rows) in per_analyte.into_iter().enumerate() {
                if rows.is_empty() {
                    continue;
                }
                let metrics = std::array::from_fn(|j| {
                    let mut v: Vec<f64> = rows
                        .iter()
                        .map(|r| r[j])
                        .filter(|x| x.is_finite())
                        .collect();
                    v.sort_by(f64::total_cmp);
                    MetricSummary {
                        n: v.len(),
                        median: type7(&v, 0.5),
                        p05: type7(&v, 0.05),
                        p95: type7(&v, 0.95),
                    }
                });
                out.push(EndpointSummaryRow {
                    dose,
                    analyte: self.analytes[a].clone(),
                    n: rows.len(),
                    metrics,
                });
            }
        }
        out
    }
}

/// Summary by dose level (order of first row) × analyte (order of first row).
pub fn summarise_endpoints(rows: &[EndpointRow]) -> Vec<EndpointSummaryRow> {
    let mut acc = EndpointAccumulator::default();
    for r in rows {
        acc.add(r);
    }
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_columns_of_the_nca_schema() {
        let all = endpoint_columns(&AUC_ENDS);
        for (m, j) in METRICS.iter().zip(metric_positions()) {
            assert_eq!(all.get(j).map(String::as_str), Some(*m));
        }
    }
}
