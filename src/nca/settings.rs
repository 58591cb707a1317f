//! NCA settings: unchecked [`NcaSettings`] / [`BcellSettings`] become
//! [`ValidNcaSettings`] / [`ValidBcellSettings`] through `check()` before any work.
//!
//! | setting | default | unit | range | meaning |
//! |---|---|---|---|---|
//! | `method` | `LinearUpLogDown` | – | `LinearUpLogDown`, `Linear` | trapezoid rule for AUC and for interpolation inside an interval |
//! | `blq.before_first` | `Zero` | – | [`BlqRule`] | BLQ samples before the first quantifiable one |
//! | `blq.between` | `Drop` | – | [`BlqRule`] | BLQ samples between the first and the last quantifiable one |
//! | `blq.after_last` | `Drop` | – | [`BlqRule`] | BLQ samples after Tlast |
//! | `time_zero` | `AssumeZero` | – | [`TimeZero`] | what C(0) is when there is no sample at t = 0 |
//! | `beyond_tlast` | `Missing` | – | [`BeyondTlast`] | a partial AUC whose end lies after Tlast |
//! | `partial_ends` | `[28, 84, 365]` | day | finite, > 0, increasing | ends of the partial AUCs AUC0–x |
//! | `min_lambda_z_points` | 3 | points | ≥ 3 | fewest points in a λz regression |
//! | `adj_r2_tolerance` | 1e-4 | – | [0, 1) | PKNCA's `adj.r.squared.factor` |
//! | `include_tmax_in_lambda_z` | `false` | – | bool | PKNCA's `allow.tmax.in.half.life` |
//! | `lambda_z_window` | `None` | day | start < end, finite | use exactly the quantifiable points in [start, end] |
//!
//! | B-cell setting | default | unit | range | meaning |
//! |---|---|---|---|---|
//! | `aplasia_threshold` | 1 | cells/µL | finite, > 0 | aplasia: a value below this |
//! | `recovery_threshold` | 10 | cells/µL | finite, ≥ `aplasia_threshold` | recovery: back at or above this |
//! | `recovery_confirmations` | 1 | samples | ≥ 0 | later consecutive samples that must also be at or above the recovery threshold |
//!
//! The BLQ rules are PKNCA's `conc.blq = list(first, middle, last)` with cartkin's
//! cellular-kinetics default: first = 0, middle and last = dropped (PKNCA keeps the last
//! BLQ as 0; for CAR-T the long tail below the limit would otherwise pull the log-down
//! trapezoid to a linear one at every contraction-phase sample).

use super::NcaError;

/// Trapezoid rule for AUC (and for interpolating inside an interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AucMethod {
    /// Linear trapezoid when the concentration rises or stays, log trapezoid when it
    /// falls and both ends are > 0 (PKNCA "lin up/log down").
    #[default]
    LinearUpLogDown,
    /// Linear trapezoid throughout.
    Linear,
}

/// What a BLQ sample becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlqRule {
    /// Concentration 0 (PKNCA "keep").
    Zero,
    /// Excluded from the profile (PKNCA "drop").
    Drop,
    /// The sample's limit of quantification.
    Lloq,
    /// Half the sample's limit of quantification.
    HalfLloq,
}

/// BLQ handling by position relative to the quantifiable samples (t ≥ 0 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlqRules {
    /// Before the first quantifiable sample (default 0).
    pub before_first: BlqRule,
    /// Between the first and the last quantifiable sample (default dropped).
    pub between: BlqRule,
    /// After the last quantifiable sample, Tlast (default dropped).
    pub after_last: BlqRule,
}

impl Default for BlqRules {
    fn default() -> Self {
        BlqRules {
            before_first: BlqRule::Zero,
            between: BlqRule::Drop,
            after_last: BlqRule::Drop,
        }
    }
}

/// The concentration at the infusion when no sample is at t = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeZero {
    /// C(0) = 0: no CAR-T cells circulate before the infusion (PKNCA's
    /// `start_conc0` imputation). AUCs start at t = 0 and the imputed point is flagged.
    #[default]
    AssumeZero,
    /// AUCs start at the first sample at or after t = 0; when that sample is after 0,
    /// "AUC0–x" is really AUC_tfirst–x and is flagged.
    FirstSample,
}

/// A partial AUC whose end lies after Tlast (never silent: each case is flagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BeyondTlast {
    /// Not reported (NA).
    #[default]
    Missing,
    /// Extrapolated from Clast with λz: C(t) = Clast·e^(−λz(t − Tlast)); NA if no λz.
    Extrapolate,
    /// Concentration taken as 0 after Tlast (PKNCA's AUCint.last).
    Truncate,
}

/// Unchecked NCA settings; see the module table for defaults, units and ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct NcaSettings {
    /// Trapezoid rule.
    pub method: AucMethod,
    /// BLQ rules.
    pub blq: BlqRules,
    /// C(0) when there is no sample at t = 0.
    pub time_zero: TimeZero,
    /// Partial AUCs ending after Tlast.
    pub beyond_tlast: BeyondTlast,
    /// Ends (days) of the partial AUCs AUC0–x.
    pub partial_ends: Vec<f64>,
    /// Fewest points in a λz regression.
    pub min_lambda_z_points: usize,
    /// Adjusted-R² tolerance within which more points are preferred.
    pub adj_r2_tolerance: f64,
    /// Allow the Tmax sample in the λz regression.
    pub include_tmax_in_lambda_z: bool,
    /// Fixed λz window (days, inclusive); `None` for automatic selection.
    pub lambda_z_window: Option<(f64, f64)>,
}

impl Default for NcaSettings {
    fn default() -> Self {
        NcaSettings {
            method: AucMethod::default(),
            blq: BlqRules::default(),
            time_zero: TimeZero::default(),
            beyond_tlast: BeyondTlast::default(),
            partial_ends: vec![28.0, 84.0, 365.0],
            min_lambda_z_points: 3,
            adj_r2_tolerance: 1e-4,
            include_tmax_in_lambda_z: false,
            lambda_z_window: None,
        }
    }
}

/// NCA settings that passed [`NcaSettings::check`] (the default settings are valid).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidNcaSettings(NcaSettings);

impl ValidNcaSettings {
    /// The checked settings.
    pub fn get(&self) -> &NcaSettings {
        &self.0
    }
}

fn invalid(name: &'static str, value: String, expected: &'static str) -> NcaError {
    NcaError::InvalidSetting {
        name,
        value,
        expected,
    }
}

impl NcaSettings {
    /// Check every setting against the ranges of the module table.
    pub fn check(self) -> Result<ValidNcaSettings, NcaError> {
        for (i, &end) in self.partial_ends.iter().enumerate() {
            if !(end.is_finite() && end > 0.0) {
                return Err(invalid(
                    "partial_ends",
                    end.to_string(),
                    "finite times > 0 (days)",
                ));
            }
            if i > 0 && end <= self.partial_ends[i - 1] {
                return Err(invalid(
                    "partial_ends",
                    format!("{:?}", self.partial_ends),
                    "strictly increasing times",
                ));
            }
        }
        if self.min_lambda_z_points < 3 {
            return Err(invalid(
                "min_lambda_z_points",
                self.min_lambda_z_points.to_string(),
                "at least 3 (the adjusted R² needs n > 2)",
            ));
        }
        if !(self.adj_r2_tolerance.is_finite() && (0.0..1.0).contains(&self.adj_r2_tolerance)) {
            return Err(invalid(
                "adj_r2_tolerance",
                self.adj_r2_tolerance.to_string(),
                "a number in [0, 1)",
            ));
        }
        if let Some((a, b)) = self.lambda_z_window {
            if !(a.is_finite() && b.is_finite() && a < b) {
                return Err(invalid(
                    "lambda_z_window",
                    format!("{a},{b}"),
                    "two finite times start < end (days)",
                ));
            }
        }
        Ok(ValidNcaSettings(self))
    }
}

/// Unchecked B-cell endpoint settings; see the module table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BcellSettings {
    /// Aplasia: a value below this (cells/µL).
    pub aplasia_threshold: f64,
    /// Recovery: back at or above this (cells/µL).
    pub recovery_threshold: f64,
    /// Later consecutive samples that must confirm a recovery.
    pub recovery_confirmations: usize,
}

impl Default for BcellSettings {
    fn default() -> Self {
        BcellSettings {
            aplasia_threshold: 1.0,
            recovery_threshold: 10.0,
            recovery_confirmations: 1,
        }
    }
}

/// B-cell settings that passed [`BcellSettings::check`] (the defaults are valid).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValidBcellSettings(BcellSettings);

impl ValidBcellSettings {
    /// The checked settings.
    pub fn get(&self) -> &BcellSettings {
        &self.0
    }
}

impl BcellSettings {
    /// Check the thresholds: finite, > 0, aplasia ≤ recovery.
    pub fn check(self) -> Result<ValidBcellSettings, NcaError> {
        if !(self.aplasia_threshold.is_finite() && self.aplasia_threshold > 0.0) {
            return Err(invalid(
                "aplasia_threshold",
                self.aplasia_threshold.to_string(),
                "a finite number > 0 (cells/uL)",
            ));
        }
        if !(self.recovery_threshold.is_finite()
            && self.recovery_threshold >= self.aplasia_threshold)
        {
            return Err(invalid(
                "recovery_threshold",
                self.recovery_threshold.to_string(),
                "a finite number >= the aplasia threshold (cells/uL)",
            ));
        }
        Ok(ValidBcellSettings(self))
    }
}
