//! Nonparametric bootstrap of a fit (Efron B., Tibshirani R.J., An Introduction to the
//! Bootstrap, 1993; as PsN's `bootstrap`): replicate r = 1 … R resamples the subjects
//! with replacement ([`resample`], stratified by dose level by default), refits the
//! resampled data with the fit's method and settings started from the fitted values
//! ([`method`], [`start`]), and records the replicate's status, objective and parameter
//! estimates ([`table`]). The summary gives, per parameter, the median and the 2.5th and
//! 97.5th percentiles (type 7) over the converged replicates — a 95 % percentile
//! interval — and the fraction of replicates that converged.
//!
//! Replicates are independent: replicate r draws from the crate's random stream r − 1
//! ([`crate::rng::subject_rng`]) and its refit depends only on its resampled data, so the
//! result does not depend on the thread count, and a run split into shards
//! (`--shard i/N`: contiguous slices of the replicates) merges ([`merge`]) into files
//! byte-identical to the unsharded run's.

pub mod merge;
pub mod method;
pub mod resample;
pub mod start;
pub mod table;

pub use method::{Refit, ReplicateFit, ReplicateStatus};
pub use resample::{resample, strata_of, Strata};
pub use start::StartedModel;
pub use table::{summarise, write_replicates, write_summary, Replicate, SummaryRow};

/// A failure of the bootstrap.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// Bad settings or a fit that cannot be bootstrapped.
    #[error("{0}")]
    Input(String),
    /// Writing results.
    #[error(transparent)]
    Output(#[from] crate::report::OutputError),
    /// Reading or checking shards.
    #[error(transparent)]
    Merge(#[from] crate::simulate::SimulateError),
}

/// Run replicates `range` (0-based: replicate r + 1 for r in the range) of a bootstrap of
/// `dataset` with `seed`, strata `strata` (one key per subject, [`strata_of`]) and
/// `refit`, the model started at `start`. Replicates run in parallel (rayon); the rows
/// come back in replicate order.
pub fn run_replicates(
    start: &StartedModel<'_>,
    dataset: &crate::data::Dataset,
    strata: &[String],
    refit: &Refit,
    seed: u64,
    range: std::ops::Range<usize>,
) -> Vec<Replicate> {
    use rayon::prelude::*;
    range
        .into_par_iter()
        .map(|r| {
            let data = resample(dataset, strata, seed, r);
            let fit = refit.refit(start, &data);
            Replicate {
                replicate: r + 1,
                fit,
            }
        })
        .collect()
}
