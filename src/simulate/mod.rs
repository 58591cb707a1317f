//! Simulation of virtual populations and dose levels over the one-year follow-up
//! (`cartkin simulate`, docs/outputs.md), written against the [`crate::model::Predict`]
//! contract only.
//!
//! For subject i (global index k, 0-based, id k + 1) of dose level d:
//! 1. a random stream ChaCha12(seed) with stream number k ([`population::subject_rng`]),
//!    so a subject's draws depend neither on the thread count nor on sharding;
//! 2. covariates from their distributions (e.g. WT ~ log-normal), in declared order;
//! 3. random effects η = L·z, z ~ N(0, I), with L the Cholesky factor of Ω (diagonal
//!    from the model's ω², or a full Ω); parameters
//!    θᵢ = h⁻¹(h(θ_pop) + ηᵢ) with h the parameter's transform (log, logit, identity);
//! 4. dose amount = dose (flat, total cells) or dose × WT (per kg);
//! 5. predictions f at the sampling times for every selected output; with residual
//!    error, y = f + a·ε, f·(1 + b·ε), f + sqrt(a² + b²f²)·ε or f·exp(a·ε), ε ~ N(0, 1),
//!    and y < LLOQ is reported censored (value = LLOQ), as a laboratory would.
//!
//! Summaries per dose × analyte × time are percentiles of type 7 (Hyndman & Fan 1996,
//! the default of R's `quantile` and NumPy's `percentile`): with the n values sorted,
//! h = (n − 1)·p, Q(p) = x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎) (0-based). Endpoints per
//! subject come from the NCA library ([`crate::nca`]).
//!
//! ```
//! use cartkin::model::Model;
//! use cartkin::simulate::{simulate, summary::summarise, DoseLevel, SimulationDesign};
//! let model = Model::load("stein2019")?;
//! let design = SimulationDesign {
//!     doses: vec![DoseLevel { dose: 50e6, n: 200 }],
//!     times: vec![0.0, 7.0, 14.0, 28.0],
//!     seed: 1,
//!     ..SimulationDesign::default()
//! }
//! .check(&model)?;
//! let sim = simulate(&model, &design, &|_| {})?;
//! let rows = summarise(&sim); // one row per dose × analyte × time
//! assert_eq!(rows.len(), 4);
//! assert!(rows[1].percentiles[0] < rows[1].percentiles[4]); // 5th < 95th at day 7
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | module | content |
//! |---|---|
//! | [`population`] | Ω, covariate distributions, the per-subject random stream, virtual subjects |
//! | [`design`] | [`SimulationDesign`] → checked [`design::ValidDesign`]: dose levels, times, analytes, LLOQs, shards |
//! | [`run`] | [`simulate`]: rayon over subjects, predictions, residual error, censoring |
//! | [`stream`] | a run in bounded memory: chunks of subjects streamed to the files, `--profiles` |
//! | [`memory`] | the memory a run needs, checked against what is available |
//! | [`percentile`] | type-7 percentiles |
//! | [`summary`] | per dose × analyte × time percentiles, one dose level in memory at a time |
//! | [`endpoints`] | per subject × analyte endpoints and their summary by dose |
//! | [`output`] | the result files and run.json |
//! | [`merge`] | reading result files back, `cartkin merge` |
//! | [`scenario`] | trial scenario files (TOML, `data/trials/`) |
//! | [`dataset`] | simulated observations as a [`crate::data::Dataset`] (`--as-dataset`) |

pub mod dataset;
pub mod design;
pub mod endpoints;
pub mod from_fit;
pub mod memory;
pub mod merge;
pub mod output;
pub mod percentile;
pub mod population;
pub mod records;
pub mod run;
pub mod scenario;
pub mod stream;
pub mod summary;
pub mod vpc;

use std::path::PathBuf;

pub use design::{DoseLevel, DoseUnit, Shard, SimulationDesign, ValidDesign, Variability};
pub use population::{CovariateDistribution, Omega, Population, VirtualSubject};
pub use run::{simulate, SimulatedSubject, Simulation};
pub use stream::{simulate_streamed, Profiles, ResultSink};

use crate::model::PredictError;

/// Errors of the simulation layer.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// A setting outside its range.
    #[error("{name}: value '{value}': expected {expected}")]
    InvalidSetting {
        /// The setting.
        name: String,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// A name the model does not have.
    #[error("model `{model}` has no {what} `{name}`; it has: {known}")]
    UnknownName {
        /// Model name.
        model: String,
        /// "parameter", "output", ...
        what: &'static str,
        /// The name given.
        name: String,
        /// The names it has.
        known: String,
    },
    /// A prediction failed for a virtual subject.
    #[error("subject {id} (dose {dose}): {source}")]
    Predict {
        /// Subject id.
        id: usize,
        /// Dose level.
        dose: f64,
        /// The failure.
        source: PredictError,
    },
    /// A scenario file that cannot be used.
    #[error("{file}: {message}")]
    Scenario {
        /// The file.
        file: PathBuf,
        /// What is wrong, with the expectation.
        message: String,
    },
    /// Shard directories that cannot be merged.
    #[error("cannot merge {dir}: {message}")]
    Merge {
        /// The shard directory (or file) at fault.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A result file that cannot be read back.
    #[error("{file}, line {line}: {message}")]
    ReadBack {
        /// The file.
        file: PathBuf,
        /// Line (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Writing results failed.
    #[error(transparent)]
    Output(#[from] crate::report::OutputError),
}

impl SimulateError {
    /// A setting error.
    pub(crate) fn setting(
        name: impl Into<String>,
        value: impl ToString,
        expected: impl Into<String>,
    ) -> Self {
        SimulateError::InvalidSetting {
            name: name.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}
