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
//! `endpoints_summary.csv` has one row per dose level × analyte: subjects, then for
//! every metric the number of non-missing values, the median and the 5th and 95th
//! percentiles (type 7, [`super::percentile`]).

use rayon::prelude::*;

use super::percentile::type7;
use super::run::{SimulatedSubject, Simulation};
use super::summary::dose_groups;
use crate::data::Analyte;
use crate::nca::{
    analyse, bcell_endpoints, depletion_endpoints, AnalyteKind, BcellSettings, BeyondTlast,
    NcaSettings, Profile, Sample, ValidBcellSettings, ValidNcaSettings,
};

/// Endpoint columns of `endpoints.csv`, in order.
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
        partial_ends: vec![28.0, 365.0],
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

/// Endpoints of one subject, one row per simulated analyte.
pub fn subject_endpoints(
    sim: &Simulation,
    s: &SimulatedSubject,
    nca: &ValidNcaSettings,
    bcell: &ValidBcellSettings,
) -> Vec<EndpointRow> {
    let naive = sim.analytes.iter().position(|a| a.name() == "naive_b");
    (0..sim.analytes.len())
        .map(|k| {
            let analyte = sim.analytes[k].clone();
            let mut values = [None; 13];
            let flags = match profile(sim, s, k) {
                Err(e) => format!("not_analysed: {e}"),
                Ok(p) => match AnalyteKind::of(&analyte) {
                    AnalyteKind::Kinetic => match analyse(&p, nca) {
                        Err(e) => format!("not_analysed: {e}"),
                        Ok(r) => {
                            values[0] = r.cmax;
                            values[1] = r.tmax;
                            values[2] = r.partial_auc(28.0);
                            values[3] = r.partial_auc(365.0);
                            values[4] = r.tlast;
                            r.flags
                                .iter()
                                .map(|f| f.to_string())
                                .collect::<Vec<_>>()
                                .join(";")
                        }
                    },
                    AnalyteKind::Bcell => {
                        let naive_profile = match naive {
                            Some(j) if analyte.name() == "b_cells" => profile(sim, s, j).ok(),
                            _ => None,
                        };
                        let b = bcell_endpoints(&p, naive_profile.as_ref(), bcell);
                        let d = b.depletion;
                        values[5] = d.baseline;
                        values[6] = d.nadir;
                        values[7] = d.nadir_time;
                        values[8] = d.nadir_pct_baseline;
                        values[9] = b.time_to_aplasia;
                        values[10] = b.aplasia_duration;
                        values[11] = b.time_to_recovery;
                        values[12] = b.naive_fraction_at_recovery;
                        b.flags
                            .iter()
                            .map(|f| f.to_string())
                            .collect::<Vec<_>>()
                            .join(";")
                    }
                    AnalyteKind::Depletion => {
                        let d = depletion_endpoints(&p);
                        values[5] = d.baseline;
                        values[6] = d.nadir;
                        values[7] = d.nadir_time;
                        values[8] = d.nadir_pct_baseline;
                        String::new()
                    }
                },
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
    let nca = nca_settings();
    let bcell = BcellSettings::default().check().unwrap_or_default();
    sim.subjects
        .par_iter()
        .map(|s| subject_endpoints(sim, s, &nca, &bcell))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// Summary by dose level (order of first subject) × analyte (order of first row).
pub fn summarise_endpoints(rows: &[EndpointRow]) -> Vec<EndpointSummaryRow> {
    let mut analytes: Vec<Analyte> = Vec::new();
    for r in rows {
        if !analytes.contains(&r.analyte) {
            analytes.push(r.analyte.clone());
        }
    }
    let groups = dose_groups(rows.iter().map(|r| r.dose));
    let mut out = Vec::new();
    for (dose, members) in groups {
        for a in &analytes {
            let mine: Vec<&EndpointRow> = members
                .iter()
                .map(|&i| &rows[i])
                .filter(|r| &r.analyte == a)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let metrics = std::array::from_fn(|j| {
                let mut v: Vec<f64> = mine
                    .iter()
                    .filter_map(|r| r.values[j].filter(|x| x.is_finite()))
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
                analyte: a.clone(),
                n: mine.len(),
                metrics,
            });
        }
    }
    out
}
