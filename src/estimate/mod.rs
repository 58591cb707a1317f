//! Estimation: the −2 log-likelihood of a subject's observations with Beal M3 censoring
//! ([`likelihood`]), the objective on the estimation scale ([`objective`]) and individual
//! maximum-likelihood fits ([`individual`]; method `individual`, outputs in docs/outputs.md).
//!
//! Objective: F = −2 ln L = Σ over records of the contributions tabled in [`likelihood`]
//! (including ln 2π), minimised over the free parameters ψ on their declared scales
//! (log, logit, identity). The pieces — objective, start points, optimiser, covariance —
//! are separate so the population methods can reuse them.
//!
//! ```no_run
//! use cartkin::estimate::{fit_individuals, FitOptions, FitSettings};
//! # fn demo<M: cartkin::model::Predict>(model: &M, data: &cartkin::data::Dataset)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let options = FitOptions {
//!     analytes: None,
//!     fixed: vec![("sigma".into(), 0.5)],
//!     settings: FitSettings::default().check()?,
//! };
//! let fit = fit_individuals(model, data, &options)?;
//! for s in &fit.subjects {
//!     println!("{} {} {:?}", s.id, s.status.as_str(), s.neg2ll);
//! }
//! # Ok(()) }
//! ```

pub mod covariance;
pub mod gradient;
pub mod individual;
pub mod levenberg;
pub mod likelihood;
pub mod objective;
pub mod optimise;
pub mod population;
pub mod settings;
pub mod start;
pub mod summary;
pub mod tables;

pub use individual::{
    fit_individuals, fit_individuals_observed, fit_subject, resolve_fixed, EstimateError,
    FitOptions, FitStatus, IndividualFit, SubjectFit,
};
pub use likelihood::{ln_phi, neg2ll, LikelihoodError, RecordUse, Records};
pub use objective::{Objective, ObjectiveError, ParameterMap};
pub use settings::{CheckedSettings, FitSettings, SettingsError};
pub use summary::{summarise, ParameterSummary};
