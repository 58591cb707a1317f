//! Dose-escalation trials driven by cellular-kinetic exposure (`cartkin trial`, docs/outputs.md;
//! Liu & Yuan 2015 for BOIN): 3+3 and BOIN over the dose levels of a trial scenario, each enrolled patient a
//! virtual subject of the scenario's model whose DLT probability is fixed per level or
//! a logistic function of the patient's simulated exposure in the DLT window.
//!
//! References: Storer BE. Design and analysis of phase I clinical trials. Biometrics
//! 1989;45:925–937 (3+3). Liu S, Yuan Y. Bayesian optimal interval designs for phase I
//! clinical trials. J R Stat Soc C 2015;64:507–523 (BOIN). Yan F et al. BOIN: an R
//! package for designing single-agent and drug-combination dose-finding trials. J Stat
//! Softw 2020;94(13) (the `get.oc` and `select.mtd` conventions followed here).
//!
//! ```
//! use cartkin::trial::design::boin_boundaries;
//! let (e, d) = boin_boundaries(0.30, 0.18, 0.42);
//! // Liu & Yuan (2015), target 0.30: λe = 0.236, λd = 0.358 (0.35852).
//! assert!((e - 0.236).abs() < 1e-3 && (d - 0.358).abs() < 1e-3);
//! ```
//!
//! | module | content |
//! |---|---|
//! | [`settings`] | the `[design]` and `[toxicity]` sections of a scenario, checked |
//! | [`design`] | the rules: [`design::ThreePlusThree`], [`design::Boin`] (boundaries, elimination, PAVA selection) |
//! | [`toxicity`] | fixed probabilities or the logistic exposure link |
//! | [`run`] | replicate trials in parallel, seeded per patient slot; operating characteristics |
//! | [`exact`] | exact 3+3 operating characteristics by enumeration |
//! | [`treated`] | CK/PD endpoint summary of the treated patients |
//! | [`output`] | `trial.csv`, `trials.csv`, `endpoints_summary.csv`, `run.json` |

pub mod design;
pub mod exact;
pub mod output;
pub mod run;
pub mod settings;
pub mod toxicity;
pub mod treated;

use std::path::PathBuf;

pub use design::{Boin, ThreePlusThree, TrialRecord};
pub use run::{OperatingCharacteristics, Patient, TrialPlan, TrialResult};
pub use settings::{Rule, TrialSettings};
pub use toxicity::{Link, Metric, Toxicity};

use crate::simulate::SimulateError;

/// Errors of the trial layer.
#[derive(Debug, thiserror::Error)]
pub enum TrialError {
    /// A scenario file whose trial sections cannot be used.
    #[error("{file}: {message}")]
    Scenario {
        /// The file.
        file: PathBuf,
        /// What is wrong, with the expectation.
        message: String,
    },
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
    /// Simulating a patient failed, or the scenario's design is invalid.
    #[error(transparent)]
    Simulate(#[from] SimulateError),
    /// Writing results failed.
    #[error(transparent)]
    Output(#[from] crate::report::OutputError),
}

impl TrialError {
    pub(crate) fn setting(
        name: impl Into<String>,
        value: impl ToString,
        expected: impl Into<String>,
    ) -> Self {
        TrialError::InvalidSetting {
            name: name.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}
