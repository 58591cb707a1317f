//! Non-compartmental analysis (NCA) of cellular kinetics, and B-cell / immunoglobulin
//! endpoints, for observed or simulated profiles.
//!
//! The library works on a [`Profile`] (time, value, BLQ, LLOQ) of one analyte in one
//! subject and never touches files, so the same code serves `cartkin nca` and
//! simulated trials:
//!
//! ```
//! use cartkin::nca::{analyse, NcaSettings, Profile};
//! let profile = Profile::from_values(&[0.0, 7.0, 14.0, 28.0], &[0.0, 100.0, 50.0, 25.0])?;
//! let settings = NcaSettings::default().check()?;
//! let r = analyse(&profile, &settings)?;
//! assert_eq!(r.cmax, Some(100.0));
//! // AUC0–28 = 7·(0 + 100)/2 + 7·(100 − 50)/ln 2 + 14·(50 − 25)/ln 2 (linear up, log down)
//! let expected = 350.0 + 350.0 / 2f64.ln() + 350.0 / 2f64.ln();
//! assert!((r.partial_auc(28.0).unwrap() - expected).abs() < 1e-9);
//! # Ok::<(), cartkin::nca::NcaError>(())
//! ```
//!
//! | module | content |
//! |---|---|
//! | [`profile`] | [`Profile`], [`Sample`]: checked input |
//! | [`settings`] | [`NcaSettings`] → [`ValidNcaSettings`], [`BcellSettings`] → [`ValidBcellSettings`], with the table of defaults |
//! | [`auc`] | linear and linear-up/log-down trapezoids, consistent interpolation |
//! | [`blq`] | BLQ rules before the first, between, after the last quantifiable sample |
//! | [`lambda_z`] | terminal λz with PKNCA's choice of points |
//! | [`analysis`] | [`analyse`]: Cmax, Tmax, AUClast, AUC0–x, λz, AUCinf, persistence |
//! | [`bcell`] | [`bcell_endpoints`], [`depletion_endpoints`]: baseline, nadir, aplasia, recovery |
//! | [`summary`] | [`summarise`]: n, geometric mean and CV%, mean, SD, median, range |
//! | [`dataset`] | a whole [`crate::data::Dataset`]: one row per subject × analyte, summaries by dose level |
//!
//! References: PKNCA (Denney W.S., Duvvuri S., Buckeridge C., J Pharmacokinet
//! Pharmacodyn 42:S65, 2015); Gabrielsson J., Weiner D., Pharmacokinetic and
//! Pharmacodynamic Data Analysis, 4th ed., 2000, §2.8.

pub mod analysis;
pub mod auc;
pub mod bcell;
pub mod blq;
pub mod dataset;
pub mod lambda_z;
pub mod profile;
pub mod settings;
pub mod summary;

pub use analysis::{analyse, Flag, NcaResult, PartialAuc, PartialStatus};
pub use auc::Point;
pub use bcell::{
    bcell_endpoints, depletion_endpoints, BcellEndpoints, BcellFlag, DepletionEndpoints,
};
pub use dataset::{
    analyse_dataset, endpoint_columns, summarise_rows, AnalyteKind, GroupSummary, Grouping,
    SubjectRow,
};
pub use lambda_z::LambdaZ;
pub use profile::{Profile, Sample};
pub use settings::{
    AucMethod, BcellSettings, BeyondTlast, BlqRule, BlqRules, NcaSettings, TimeZero,
    ValidBcellSettings, ValidNcaSettings,
};
pub use summary::{summarise, SummaryStats};

/// Errors of the NCA layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NcaError {
    /// A profile without samples.
    #[error("the profile has no samples")]
    EmptyProfile,
    /// A time that is NaN or infinite.
    #[error("time {time}: expected a finite number of days")]
    NonFiniteTime {
        /// The time.
        time: f64,
    },
    /// A quantified value that is NaN or infinite.
    #[error("time {time}: value {value}: expected a finite number")]
    NonFiniteValue {
        /// Time of the sample.
        time: f64,
        /// The value.
        value: f64,
    },
    /// A quantified value below zero.
    #[error("time {time}: value {value}: expected a value >= 0")]
    NegativeValue {
        /// Time of the sample.
        time: f64,
        /// The value.
        value: f64,
    },
    /// Two samples at the same time.
    #[error("two samples at time {time}: expected one sample per time (remove or average the duplicate)")]
    DuplicateTime {
        /// The repeated time.
        time: f64,
    },
    /// Times and values of different lengths.
    #[error("{times} times but {values} values: expected equal lengths")]
    LengthMismatch {
        /// Number of times.
        times: usize,
        /// Number of values.
        values: usize,
    },
    /// A BLQ rule substitutes the limit but the sample has none.
    #[error("time {time}: BLQ sample without a limit of quantification, which the BLQ rule (lloq or half-lloq) needs")]
    MissingLimit {
        /// Time of the sample.
        time: f64,
    },
    /// A problem in one subject's profile of one analyte (from a dataset).
    #[error("subject {subject}, analyte {analyte} (lines {lines}): {source}")]
    InSubject {
        /// Subject identifier.
        subject: String,
        /// Analyte name.
        analyte: String,
        /// Source lines of the records involved, comma-separated.
        lines: String,
        /// The problem.
        source: Box<NcaError>,
    },
    /// A setting outside its range.
    #[error("setting {name}: value '{value}': expected {expected}")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
}
