//! Visual predictive check (VPC) of a fitted model on the design of its data, with the
//! censored VPC for records below the LLOQ and the prediction-corrected VPC.
//!
//! **Simulation.** Replicate r = 1 … R of the dataset's design (each subject's doses,
//! covariates, observation times and analytes) is simulated with between-subject
//! variability and residual error from the fitted population, on the random streams of
//! [`super::records`] (stream (r − 1)·n + i for subject i of n), so the same seed gives
//! the same result whatever the thread count. A simulated value below the record's LLOQ
//! (else the output's) is censored, as an observation would be.
//!
//! **Bins.** Per analyte ([`bins`]). In every bin, of the observed data and of each
//! replicate: the 5th, 50th and 95th percentiles (type 7, [`super::percentile`]) and the
//! fraction of records below the LLOQ.
//!
//! **Censoring** (the censored VPC of the `vpc` R package and PsN; Bergstrand M., Karlsson
//! M.O., AAPS J 2009;11:371, "Handling data below the limit of quantification in
//! mixed effect models"). Censored records count as the lowest values of their bin; a
//! percentile whose order statistics include a censored record is below the LLOQ and
//! is not reported (empty field, nothing drawn). The fraction below the LLOQ is reported
//! instead, observed and simulated, in its own columns and panel.
//!
//! **Intervals.** For each bin and percentile p, the R simulated percentiles give the
//! 5th, 50th and 95th percentiles across replicates (type 7; a replicate whose
//! percentile is below the LLOQ counts as the lowest): the median and the 90 % interval
//! the observed percentile is compared with. The same for the fraction below the LLOQ.
//!
//! **Prediction correction** (Bergstrand M., Hooker A.C., Wallin J.E., Karlsson M.O.,
//! AAPS J 2011;13:143, "Prediction-corrected visual predictive checks", eq. 1 with lower
//! bound 0): every observed and simulated value is multiplied by PRED_bin/PRED_ij, with
//! PRED_ij the typical prediction (η = 0) of the record and PRED_bin the median PRED of
//! its bin; this removes the spread that comes from differences in dose and covariates
//! within a bin. On the log scale it is the additive correction. Predictions must be
//! positive. Censored records stay censored (their corrected value is not used).

pub mod bins;
pub mod table;

use rayon::prelude::*;

use super::percentile::{type7, type7_censored};
use super::population::Population;
use super::records::{predict_subject, replicate_stream, simulate_subject, RecordsError};
use crate::data::{Analyte, Dataset};
use crate::model::Predict;
pub use bins::Binning;
pub use table::{write_vpc, VpcRow};

/// The percentiles compared: 5th, 50th, 95th.
pub const VPC_PERCENTILES: [f64; 3] = [0.05, 0.5, 0.95];
/// The percentiles across replicates that make the interval: 5th, 50th, 95th (90 %).
pub const INTERVAL: [f64; 3] = [0.05, 0.5, 0.95];

/// Settings of a VPC.
#[derive(Debug, Clone, PartialEq)]
pub struct VpcSettings {
    /// Simulated replicates of the design (R ≥ 1).
    pub replicates: usize,
    /// Seed of the simulation.
    pub seed: u64,
    /// Prediction-corrected VPC.
    pub pred_corrected: bool,
    /// Binning of observation times.
    pub binning: Binning,
}

/// A failure of the VPC.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VpcError {
    /// Simulation or prediction failed.
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// No observation of an analyte the model predicts.
    #[error("no observation of an analyte the model predicts: nothing to check")]
    NoObservations,
    /// `replicates` is 0.
    #[error("--n 0: expected at least 1 replicate")]
    NoReplicates,
    /// A typical prediction that is not positive (prediction correction divides by it).
    #[error("subject {id}, time {time}: typical prediction {pred} is not positive; the prediction-corrected VPC needs PRED > 0")]
    PredNotPositive {
        /// Subject.
        id: String,
        /// Time of the record.
        time: f64,
        /// The prediction.
        pred: f64,
    },
}

/// An observation as it enters the VPC (prediction-corrected when asked).
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPoint {
    /// Analyte.
    pub analyte: Analyte,
    /// Time (model's unit).
    pub time: f64,
    /// Value (the LLOQ for a censored record).
    pub value: f64,
    /// Below the LLOQ.
    pub censored: bool,
}

/// The result of a VPC: one row per analyte and bin, and the observations.
#[derive(Debug, Clone, PartialEq)]
pub struct Vpc {
    /// Rows in analyte (model output order), bin order.
    pub rows: Vec<VpcRow>,
    /// The observations (corrected when prediction-corrected).
    pub observed: Vec<ObservedPoint>,
}

/// The dataset restricted to the observations of analytes `model` predicts (and in
/// `analytes` when given); subjects without any are dropped.
pub fn restrict(dataset: &Dataset, model: &dyn Predict, analytes: Option<&[Analyte]>) -> Dataset {
    let mut out = dataset.clone();
    for s in &mut out.subjects {
        s.observations.retain(|o| {
            model.output_index(&o.analyte).is_some()
                && analytes.is_none_or(|a| a.contains(&o.analyte))
        });
    }
    out.subjects.retain(|s| !s.observations.is_empty());
    out
}

/// Percentiles and BLQ count of one bin's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinStats {
    /// Records.
    pub n: usize,
    /// Records below the LLOQ.
    pub n_blq: usize,
    /// The [`VPC_PERCENTILES`], `None` when below the LLOQ (module header).
    pub q: [Option<f64>; 3],
}

/// [`BinStats`] of (value, censored) pairs: censored records count as the lowest.
pub fn bin_stats(values: &[(f64, bool)]) -> BinStats {
    let n_blq = values.iter().filter(|v| v.1).count();
    let mut sorted: Vec<f64> = Vec::with_capacity(values.len());
    sorted.extend(std::iter::repeat_n(f64::NEG_INFINITY, n_blq));
    let start = sorted.len();
    sorted.extend(values.iter().filter(|v| !v.1).map(|v| v.0));
    sorted[start..].sort_by(f64::total_cmp);
    BinStats {
        n: values.len(),
        n_blq,
        q: VPC_PERCENTILES.map(|p| type7_censored(&sorted, n_blq, p)),
    }
}

/// The [`INTERVAL`] percentiles of values that may be below the LLOQ (`None`, lowest).
pub fn interval(values: &[Option<f64>]) -> [Option<f64>; 3] {
    let pairs: Vec<(f64, bool)> = values
        .iter()
        .map(|v| (v.unwrap_or(f64::NEG_INFINITY), v.is_none()))
        .collect();
    let s = bin_stats(&pairs);
    // bin_stats uses VPC_PERCENTILES, which are the INTERVAL percentiles.
    debug_assert_eq!(VPC_PERCENTILES, INTERVAL);
    s.q
}

/// One observation record of the VPC: where it sits and how it is corrected.
struct Slot {
    /// Global bin index (bins of all analytes numbered together).
    bin: usize,
    /// Prediction-correction factor PRED_bin / PRED (1 without correction).
    factor: f64,
}

/// Run the VPC of `model` with `population` on the design of `dataset` (bound to the
/// model and [`restrict`]ed to predicted analytes).
pub fn run_vpc(
    model: &dyn Predict,
    dataset: &Dataset,
    population: &Population,
    settings: &VpcSettings,
) -> Result<Vpc, VpcError> {
    if settings.replicates == 0 {
        return Err(VpcError::NoReplicates);
    }
    let analytes: Vec<Analyte> = model
        .outputs()
        .iter()
        .map(|o| o.analyte.clone())
        .filter(|a| {
            dataset
                .subjects
                .iter()
                .any(|s| s.observations.iter().any(|o| &o.analyte == a))
        })
        .collect();
    if analytes.is_empty() {
        return Err(VpcError::NoObservations);
    }
    // Bins per analyte, numbered globally; records in subject, record order.
    let records: Vec<(usize, &crate::data::Observation)> = dataset
        .subjects
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.observations.iter().map(move |o| (i, o)))
        .collect();
    let mut bin = vec![0usize; records.len()];
    let mut bin_analyte: Vec<usize> = Vec::new();
    for (k, a) in analytes.iter().enumerate() {
        let idx: Vec<usize> = (0..records.len())
            .filter(|&j| &records[j].1.analyte == a)
            .collect();
        let times: Vec<f64> = idx.iter().map(|&j| records[j].1.time).collect();
        let (b, nb) = bins::assign(&times, settings.binning);
        let offset = bin_analyte.len();
        for (&j, &bj) in idx.iter().zip(&b) {
            bin[j] = offset + bj;
        }
        bin_analyte.extend(std::iter::repeat_n(k, nb));
    }
    let n_bins = bin_analyte.len();
    let factors = if settings.pred_corrected {
        correction_factors(model, dataset, population, &bin, n_bins)?
    } else {
        vec![1.0; records.len()]
    };
    let slots: Vec<Slot> = bin
        .iter()
        .zip(&factors)
        .map(|(&bin, &factor)| Slot { bin, factor })
        .collect();

    let observed: Vec<ObservedPoint> = records
        .iter()
        .zip(&slots)
        .map(|((_, o), s)| ObservedPoint {
            analyte: o.analyte.clone(),
            time: o.time,
            value: if o.censored {
                o.value
            } else {
                o.value * s.factor
            },
            censored: o.censored,
        })
        .collect();
    let mut per_bin: Vec<Vec<(f64, bool)>> = vec![Vec::new(); n_bins];
    for (p, s) in observed.iter().zip(&slots) {
        per_bin[s.bin].push((p.value, p.censored));
    }
    let obs_stats: Vec<BinStats> = per_bin.iter().map(|v| bin_stats(v)).collect();

    let n = dataset.subjects.len();
    let sims: Vec<Vec<BinStats>> = (1..=settings.replicates)
        .into_par_iter()
        .map(|r| -> Result<Vec<BinStats>, VpcError> {
            let mut per_bin: Vec<Vec<(f64, bool)>> = vec![Vec::new(); n_bins];
            let mut at = 0;
            for (i, s) in dataset.subjects.iter().enumerate() {
                let rows = simulate_subject(
                    model,
                    s,
                    population,
                    r,
                    replicate_stream(r, i, n),
                    settings.seed,
                    true,
                )?;
                for row in rows {
                    let slot = &slots[at];
                    let v = if row.censored {
                        row.dv
                    } else {
                        row.dv * slot.factor
                    };
                    per_bin[slot.bin].push((v, row.censored));
                    at += 1;
                }
            }
            Ok(per_bin.iter().map(|v| bin_stats(v)).collect())
        })
        .collect::<Result<_, _>>()?;

    let outputs = model.outputs();
    let mut rows = Vec::with_capacity(n_bins);
    for (b, &k) in bin_analyte.iter().enumerate() {
        let mine: Vec<usize> = (0..records.len()).filter(|&j| bin[j] == b).collect();
        let mut times: Vec<f64> = mine.iter().map(|&j| records[j].1.time).collect();
        times.sort_by(f64::total_cmp);
        let out_lloq = model
            .output_index(&analytes[k])
            .and_then(|o| outputs[o].lloq);
        let lloq = mine
            .iter()
            .filter_map(|&j| records[j].1.lloq.or(out_lloq))
            .fold(None, |m: Option<f64>, l| Some(m.map_or(l, |m| m.max(l))));
        let o = &obs_stats[b];
        let blq: Vec<Option<f64>> = sims
            .iter()
            .map(|s| Some(s[b].n_blq as f64 / s[b].n.max(1) as f64))
            .collect();
        let sim_q =
            [0, 1, 2].map(|p| interval(&sims.iter().map(|s| s[b].q[p]).collect::<Vec<_>>()));
        rows.push(VpcRow {
            analyte: analytes[k].clone(),
            bin: b + 1 - bin_analyte.iter().position(|&x| x == k).unwrap_or(0),
            time: type7(&times, 0.5).unwrap_or(f64::NAN),
            time_min: times.first().copied().unwrap_or(f64::NAN),
            time_max: times.last().copied().unwrap_or(f64::NAN),
            n: o.n,
            n_blq: o.n_blq,
            lloq,
            blq_obs: o.n_blq as f64 / o.n.max(1) as f64,
            blq_sim: interval(&blq),
            obs: o.q,
            sim: sim_q,
        });
    }
    Ok(Vpc { rows, observed })
}

/// PRED_bin / PRED_ij for every record (module header).
fn correction_factors(
    model: &dyn Predict,
    dataset: &Dataset,
    population: &Population,
    bin: &[usize],
    n_bins: usize,
) -> Result<Vec<f64>, VpcError> {
    let mut pred = Vec::with_capacity(bin.len());
    for s in &dataset.subjects {
        let p = predict_subject(model, s, population.typical()).map_err(|source| {
            RecordsError::Predict {
                id: s.id.clone(),
                replicate: 0,
                source: Box::new(source),
            }
        })?;
        for (o, f) in s.observations.iter().zip(p) {
            if !(f > 0.0 && f.is_finite()) {
                return Err(VpcError::PredNotPositive {
                    id: s.id.clone(),
                    time: o.time,
                    pred: f,
                });
            }
            pred.push(f);
        }
    }
    let mut by_bin: Vec<Vec<f64>> = vec![Vec::new(); n_bins];
    for (&b, &p) in bin.iter().zip(&pred) {
        by_bin[b].push(p);
    }
    let median: Vec<f64> = by_bin
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            type7(v, 0.5).unwrap_or(f64::NAN)
        })
        .collect();
    Ok(bin
        .iter()
        .zip(&pred)
        .map(|(&b, &p)| median[b] / p)
        .collect())
}
