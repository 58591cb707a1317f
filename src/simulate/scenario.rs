//! Trial scenarios in TOML (`data/trials/*.toml`): a seed trial's product, model, dose
//! levels and cohort sizes, visit schedule, analytes and their LLOQs, covariate
//! distributions and follow-up, run by `cartkin simulate --scenario FILE`.
//!
//! ```toml
//! name = "relma-cel_sle"
//! description = "relma-cel in SLE (NCT05765006), flat dose escalation"
//! references = ["NCT05765006"]
//! model = "cd19_bcell"            # built-in name or a path (relative to this file)
//! dose_unit = "cells"             # or "cells/kg" (then covariates.WT is required)
//! follow_up_days = 365
//! schedule = [-7, 0, 1, 4, 7, 10, 14, 21, 28, 56, 84, 168, 252, 365]
//! time_unit = "days"              # unit of the schedule: "days" (default) or "hours"
//! seed = 20261123                 # optional; --seed overrides
//!
//! [product]
//! name = "relmacabtagene autoleucel"
//! targets = ["CD19"]              # CD19, CD20, BCMA: set the model's 0/1 parameters
//!                                 # cd19, cd20, bcma when it has them
//!
//! [[dose_levels]]
//! dose = 25e6
//! n = 6
//! label = "starting dose"         # optional
//!
//! [analytes]                      # simulated analytes and their LLOQs
//! transgene = { lloq = 20 }
//! b_cells = { lloq = 1 }
//!
//! [covariates]                    # drawn in name order
//! WT = { distribution = "lognormal", median = 70, cv_pct = 20 }
//!
//! [parameters]                    # optional typical values replacing the model's
//! ```
//!
//! A schedule in hours is converted to days: simulations run and report in days, and a
//! model whose `t` is in hours is solved at 24 × the day ([`super::run`]).
//!
//! Distributions: `fixed` (value), `lognormal` (median, cv_pct), `normal` (mean, sd,
//! optional lower, upper), `uniform` (lower, upper), `list` (values). Unknown keys are
//! errors; messages give the file, line and column (from the TOML parser).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::design::{DoseLevel, DoseUnit, SimulationDesign};
use super::population::CovariateDistribution;
use super::SimulateError;
use crate::data::TimeUnit;
use crate::model::Predict;

/// Target antigens a product may have; a model with a 0/1 parameter of that name (lower
/// case) kills the subsets carrying it.
pub const ANTIGENS: [&str; 3] = ["cd19", "cd20", "bcma"];

/// A scenario file as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// Sources (registry numbers, papers).
    #[serde(default)]
    pub references: Vec<String>,
    /// Built-in model name or path.
    pub model: String,
    /// "cells" (total) or "cells/kg".
    #[serde(default = "default_unit")]
    pub dose_unit: String,
    /// Follow-up in days (the schedule must end within it).
    pub follow_up_days: f64,
    /// Visit times (in `time_unit`); default the daily grid 0..=follow_up_days.
    #[serde(default)]
    pub schedule: Option<Vec<f64>>,
    /// The unit of `schedule`: "days" (default) or "hours".
    #[serde(default)]
    pub time_unit: Option<String>,
    /// Default seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The product.
    pub product: Product,
    /// Dose levels in escalation order.
    pub dose_levels: Vec<ScenarioDose>,
    /// Analytes and their LLOQs.
    pub analytes: BTreeMap<String, ScenarioAnalyte>,
    /// Covariate distributions.
    #[serde(default)]
    pub covariates: BTreeMap<String, ScenarioCovariate>,
    /// Typical values replacing the model's.
    #[serde(default)]
    pub parameters: BTreeMap<String, f64>,
    /// The dose-escalation design, read and checked by [`crate::trial`].
    #[serde(default)]
    pub design: Option<toml::Table>,
    /// The true DLT probabilities or exposure link, read and checked by [`crate::trial`].
    #[serde(default)]
    pub toxicity: Option<toml::Table>,
}

fn default_unit() -> String {
    "cells".into()
}

/// The CAR-T product.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Product name.
    pub name: String,
    /// Target antigens (CD19, CD20, BCMA).
    pub targets: Vec<String>,
}

/// One dose level: a `[[dose_levels]]` table, or a plain number in a list
/// (`dose_levels = [3.0e8, 4.5e8]`, no cohort size: trials assign the patients).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "DoseEntry")]
pub struct ScenarioDose {
    /// Dose (cells or cells/kg).
    pub dose: f64,
    /// Cohort size (`cartkin simulate` needs one).
    pub n: Option<usize>,
    /// Optional label.
    pub label: Option<String>,
}

/// A dose level as written: a number or a table.
#[derive(Deserialize)]
#[serde(untagged)]
enum DoseEntry {
    Plain(f64),
    Table(DoseTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoseTable {
    dose: f64,
    #[serde(default)]
    n: Option<usize>,
    #[serde(default)]
    label: Option<String>,
}

impl From<DoseEntry> for ScenarioDose {
    fn from(e: DoseEntry) -> Self {
        match e {
            DoseEntry::Plain(dose) => ScenarioDose {
                dose,
                n: None,
                label: None,
            },
            DoseEntry::Table(t) => ScenarioDose {
                dose: t.dose,
                n: t.n,
                label: t.label,
            },
        }
    }
}

/// An analyte entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioAnalyte {
    /// Lower limit of quantification (default: the model's).
    #[serde(default)]
    pub lloq: Option<f64>,
}

/// A covariate distribution as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "distribution", rename_all = "lowercase", deny_unknown_fields)]
pub enum ScenarioCovariate {
    /// A constant.
    Fixed {
        /// The value.
        value: f64,
    },
    /// Log-normal.
    Lognormal {
        /// Median.
        median: f64,
        /// CV%.
        cv_pct: f64,
    },
    /// Normal, optionally truncated.
    Normal {
        /// Mean.
        mean: f64,
        /// SD.
        sd: f64,
        /// Lower bound.
        #[serde(default)]
        lower: Option<f64>,
        /// Upper bound.
        #[serde(default)]
        upper: Option<f64>,
    },
    /// Uniform.
    Uniform {
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// One of a list.
    List {
        /// The values.
        values: Vec<f64>,
    },
}

impl From<&ScenarioCovariate> for CovariateDistribution {
    fn from(c: &ScenarioCovariate) -> Self {
        match c {
            ScenarioCovariate::Fixed { value } => CovariateDistribution::Fixed(*value),
            ScenarioCovariate::Lognormal { median, cv_pct } => CovariateDistribution::LogNormal {
                median: *median,
                cv_pct: *cv_pct,
            },
            ScenarioCovariate::Normal {
                mean,
                sd,
                lower,
                upper,
            } => CovariateDistribution::Normal {
                mean: *mean,
                sd: *sd,
                lower: *lower,
                upper: *upper,
            },
            ScenarioCovariate::Uniform { lower, upper } => CovariateDistribution::Uniform {
                lower: *lower,
                upper: *upper,
            },
            ScenarioCovariate::List { values } => CovariateDistribution::List(values.clone()),
        }
    }
}

/// A scenario read from a file, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedScenario {
    /// The file.
    pub file: PathBuf,
    /// Its text (run.json stores its sha256).
    pub text: String,
    /// The parsed scenario.
    pub scenario: Scenario,
}

impl LoadedScenario {
    /// Read and parse a scenario file.
    pub fn read(path: &Path) -> Result<Self, SimulateError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimulateError::Scenario {
            file: path.to_path_buf(),
            message: format!("cannot read: {e}"),
        })?;
        let scenario: Scenario = toml::from_str(&text).map_err(|e| SimulateError::Scenario {
            file: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        Ok(LoadedScenario {
            file: path.to_path_buf(),
            text,
            scenario,
        })
    }

    /// The model reference: a built-in name as written, or a path resolved against the
    /// scenario's directory when such a file exists.
    pub fn model(&self) -> String {
        let m = &self.scenario.model;
        if let Some(dir) = self.file.parent() {
            let p = dir.join(m);
            if m.contains(['/', '.']) && p.is_file() {
                return p.display().to_string();
            }
        }
        m.clone()
    }

    /// The simulation design of the scenario for `model` (seed `seed`, else the file's,
    /// else 1). The product's targets set the model's antigen flags: each of the
    /// parameters `cd19`, `cd20`, `bcma` the model has is 1 when the product targets that
    /// antigen and 0 otherwise; a `[parameters]` entry for a flag must agree.
    pub fn design(
        &self,
        seed: Option<u64>,
        model: &dyn Predict,
    ) -> Result<SimulationDesign, SimulateError> {
        self.design_with(seed, model, None)
    }

    /// The design with `n` subjects at every level (cohort sizes of the file ignored,
    /// and not required): the dose levels of a trial, whose rules assign the patients.
    pub fn design_per_level(
        &self,
        seed: Option<u64>,
        model: &dyn Predict,
        n: usize,
    ) -> Result<SimulationDesign, SimulateError> {
        self.design_with(seed, model, Some(n))
    }

    fn design_with(
        &self,
        seed: Option<u64>,
        model: &dyn Predict,
        n: Option<usize>,
    ) -> Result<SimulationDesign, SimulateError> {
        let s = &self.scenario;
        let err = |message: String| SimulateError::Scenario {
            file: self.file.clone(),
            message,
        };
        let mut parameters: Vec<(String, f64)> =
            s.parameters.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let targets: Vec<String> = s
            .product
            .targets
            .iter()
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        if let Some(t) = targets.iter().find(|t| !ANTIGENS.contains(&t.as_str())) {
            return Err(err(format!(
                "product target '{t}': expected CD19, CD20 or BCMA"
            )));
        }
        for antigen in ANTIGENS {
            if model.parameter_index(antigen).is_none() {
                continue;
            }
            let flag = if targets.iter().any(|t| t == antigen) {
                1.0
            } else {
                0.0
            };
            match s.parameters.get(antigen) {
                Some(v) if *v != flag => {
                    return Err(err(format!(
                        "[parameters] {antigen} = {v} contradicts the product targets {:?}",
                        s.product.targets
                    )))
                }
                Some(_) => {}
                None => parameters.push((antigen.to_string(), flag)),
            }
        }
        let dose_unit = match s.dose_unit.as_str() {
            "cells" => DoseUnit::Total,
            "cells/kg" => DoseUnit::PerKg,
            other => {
                return Err(err(format!(
                    "dose_unit '{other}': expected \"cells\" or \"cells/kg\""
                )))
            }
        };
        if !(s.follow_up_days.is_finite() && s.follow_up_days > 0.0) {
            return Err(err(format!(
                "follow_up_days {}: expected a number of days > 0",
                s.follow_up_days
            )));
        }
        let unit = match &s.time_unit {
            Some(u) => TimeUnit::parse(u).map_err(|e| err(format!("time_unit: {e}")))?,
            None => TimeUnit::Days,
        };
        let to_days = unit.factor_to(TimeUnit::Days);
        let times = match &s.schedule {
            Some(v) => {
                if let Some(t) = v.iter().find(|t| **t * to_days > s.follow_up_days) {
                    return Err(err(format!(
                        "schedule time {t} {unit}: expected times within the follow-up ({} days)",
                        s.follow_up_days
                    )));
                }
                v.iter().map(|t| t * to_days).collect()
            }
            None => (0..=s.follow_up_days.floor() as u32)
                .map(f64::from)
                .collect(),
        };
        if s.analytes.is_empty() {
            return Err(err("[analytes]: expected at least one analyte".into()));
        }
        let mut doses = Vec::with_capacity(s.dose_levels.len());
        for d in &s.dose_levels {
            let n = n.or(d.n).ok_or_else(|| {
                err(format!(
                    "dose_levels: dose {} has no cohort size: expected a [[dose_levels]] table with n",
                    d.dose
                ))
            })?;
            doses.push(DoseLevel { dose: d.dose, n });
        }
        Ok(SimulationDesign {
            doses,
            dose_unit,
            times,
            analytes: s.analytes.keys().cloned().collect(),
            lloq: s
                .analytes
                .iter()
                .filter_map(|(k, a)| a.lloq.map(|l| (k.clone(), l)))
                .collect(),
            covariates: s
                .covariates
                .iter()
                .map(|(k, c)| (k.clone(), c.into()))
                .collect(),
            parameters,
            seed: seed.or(s.seed).unwrap_or(1),
            ..SimulationDesign::default()
        })
    }
}
