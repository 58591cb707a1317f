//! Domain types of a dataset: subjects with their observations, doses and covariates.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// An analyte: what a record measures. Standard names (docs/data-format.md) carry a unit; any other
/// name is allowed when a model maps it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Analyte(String);

/// Standard analyte names and their units (docs/data-format.md).
pub const STANDARD_ANALYTES: &[(&str, &str)] = &[
    ("transgene", "copies/ug gDNA"),
    ("cart_cells", "cells/uL"),
    ("b_cells", "cells/uL"),
    ("naive_b", "cells/uL"),
    ("memory_b", "cells/uL"),
    ("plasmablast", "cells/uL"),
    ("plasma_cell", "cells/uL"),
    ("igg", "g/L"),
    ("igm", "g/L"),
    ("iga", "g/L"),
    ("anti_dsdna", "IU/mL"),
];

impl Analyte {
    /// An analyte by name; names are compared in lower case.
    pub fn new(name: &str) -> Self {
        Analyte(name.trim().to_ascii_lowercase())
    }

    /// The analyte's name (lower case).
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The unit of a standard analyte, `None` for a user-defined one.
    pub fn unit(&self) -> Option<&'static str> {
        STANDARD_ANALYTES
            .iter()
            .find(|(n, _)| *n == self.0)
            .map(|(_, u)| *u)
    }

    /// Whether this is one of the standard names of docs/data-format.md.
    pub fn is_standard(&self) -> bool {
        self.unit().is_some()
    }

    /// The analyte of an observation record in a file without `DVID`: `dv`, or `cmtN`
    /// when the record has compartment `CMT` = N. A model routes these to its outputs
    /// (one output takes them all; else `output NAME ... cmt N`).
    pub fn unlabelled(cmt: Option<i64>) -> Self {
        match cmt {
            Some(n) => Analyte(format!("cmt{n}")),
            None => Analyte(UNLABELLED.to_string()),
        }
    }

    /// For an analyte made by [`Analyte::unlabelled`]: `Some(cmt)` (`Some(None)` for `dv`).
    pub fn unlabelled_cmt(&self) -> Option<Option<i64>> {
        if self.0 == UNLABELLED {
            return Some(None);
        }
        self.0
            .strip_prefix("cmt")
            .and_then(|n| n.parse::<i64>().ok())
            .map(Some)
    }
}

/// The analyte name of observations without `DVID` or `CMT`.
pub const UNLABELLED: &str = "dv";

/// The target of the marker [`Dose`] that stands for a reset (NONMEM `EVID` 3, and the
/// reset of `EVID` 4 before its dose): states go back to their initial values and
/// running infusions stop. Its amount is 0, so dose totals ignore it.
pub const RESET_TARGET: &str = "(reset)";

impl fmt::Display for Analyte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One measured (or censored) record.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Days since CAR-T infusion (negative for baseline samples).
    pub time: f64,
    /// What was measured.
    pub analyte: Analyte,
    /// The observed value in the analyte's unit; for a censored record, the limit.
    pub value: f64,
    /// Below the limit of quantification (Beal M3 in estimation).
    pub censored: bool,
    /// Lower limit of quantification of this record, when known.
    pub lloq: Option<f64>,
    /// Line in the source file (1-based, header = line 1); 0 when not read from a file.
    pub line: usize,
}

/// One administration of CAR-T cells (or of any dosed quantity).
#[derive(Debug, Clone, PartialEq)]
pub struct Dose {
    /// Days since the reference time (0 for the CAR-T infusion).
    pub time: f64,
    /// Amount: total CAR+ cells for an infusion (per-kg doses are already × WT).
    pub amount: f64,
    /// Target state or compartment by name or number (CMT), `None` for the model's default.
    pub target: Option<String>,
    /// Infusion duration in days; `None` for a bolus.
    pub duration: Option<f64>,
    /// Line in the source file (0 when derived from a DOSE covariate).
    pub line: usize,
}

impl Dose {
    /// The marker of a reset at `time` (see [`RESET_TARGET`]).
    pub fn reset(time: f64, line: usize) -> Dose {
        Dose {
            time,
            amount: 0.0,
            target: Some(RESET_TARGET.to_string()),
            duration: None,
            line,
        }
    }

    /// Whether this is the marker of a reset rather than an administration.
    pub fn is_reset(&self) -> bool {
        self.target.as_deref() == Some(RESET_TARGET)
    }
}

/// The value of one covariate.
#[derive(Debug, Clone, PartialEq)]
pub enum CovariateValue {
    /// A number, e.g. WT or DOSE.
    Numeric(f64),
    /// A level, e.g. SEX = F or PRODUCT = relma-cel.
    Categorical(String),
}

/// A subject's covariates: constant ones, and time-varying ones as (time, value) steps
/// (last observation carried forward).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Covariates {
    /// Covariates constant within the subject, by upper-case column name.
    pub constant: BTreeMap<String, CovariateValue>,
    /// Covariates that change over time, by name: sorted (time, value) pairs.
    pub varying: BTreeMap<String, Vec<(f64, CovariateValue)>>,
}

/// The value of a time-varying covariate at time `t`: the last step at or before `t`, or
/// the first step when `t` precedes all of them (`steps` sorted by time).
pub fn step_at(steps: &[(f64, CovariateValue)], t: f64) -> Option<&CovariateValue> {
    steps
        .iter()
        .rev()
        .find(|(ts, _)| *ts <= t)
        .or_else(|| steps.first())
        .map(|(_, v)| v)
}

impl Covariates {
    /// A numeric covariate at time `t` (constant, or the last step at or before `t`,
    /// or the first step when `t` precedes all of them).
    pub fn numeric(&self, name: &str, t: f64) -> Option<f64> {
        let key = name.to_ascii_uppercase();
        let value = match self.constant.get(&key) {
            Some(v) => Some(v),
            None => self.varying.get(&key).and_then(|steps| step_at(steps, t)),
        };
        match value {
            Some(CovariateValue::Numeric(x)) => Some(*x),
            _ => None,
        }
    }

    /// The baseline value of a covariate: the constant value, or the first step of a
    /// time-varying one.
    pub fn baseline(&self, name: &str) -> Option<&CovariateValue> {
        let key = name.to_ascii_uppercase();
        self.constant
            .get(&key)
            .or_else(|| self.varying.get(&key)?.first().map(|(_, v)| v))
    }

    /// A categorical covariate (constant within the subject).
    pub fn level(&self, name: &str) -> Option<&str> {
        match self.constant.get(&name.to_ascii_uppercase()) {
            Some(CovariateValue::Categorical(s)) => Some(s),
            _ => None,
        }
    }
}

/// One subject: observations sorted by time, doses sorted by time, covariates.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// Subject identifier as written in the file.
    pub id: String,
    /// Observations (including censored ones), sorted by time then analyte.
    pub observations: Vec<Observation>,
    /// Doses, sorted by time.
    pub doses: Vec<Dose>,
    /// Covariates.
    pub covariates: Covariates,
}

impl Subject {
    /// Total amount infused (sum of doses), the usual CAR-T "dose level".
    pub fn total_dose(&self) -> f64 {
        self.doses.iter().map(|d| d.amount).sum()
    }

    /// The observations of one analyte, in time order.
    pub fn observations_of<'a>(
        &'a self,
        analyte: &'a Analyte,
    ) -> impl Iterator<Item = &'a Observation> + 'a {
        self.observations
            .iter()
            .filter(move |o| &o.analyte == analyte)
    }

    /// The analytes this subject has observations of, sorted.
    pub fn analytes(&self) -> Vec<Analyte> {
        let mut v: Vec<Analyte> = self
            .observations
            .iter()
            .map(|o| o.analyte.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// A whole dataset as read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The file it was read from (empty for a dataset built in memory).
    pub source: PathBuf,
    /// Subjects in order of first appearance.
    pub subjects: Vec<Subject>,
    /// Names of the covariate columns (upper case), in file order.
    pub covariate_names: Vec<String>,
}

impl Dataset {
    /// All analytes observed in the dataset, sorted.
    pub fn analytes(&self) -> Vec<Analyte> {
        let mut v: Vec<Analyte> = self.subjects.iter().flat_map(|s| s.analytes()).collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Dataset {
    /// The same records without where they came from (file name, line numbers): two
    /// readings of the same records, e.g. of a file and of its rewritten copy, give equal
    /// results.
    pub fn without_provenance(&self) -> Dataset {
        let mut d = self.clone();
        d.source = PathBuf::new();
        for s in &mut d.subjects {
            for o in &mut s.observations {
                o.line = 0;
            }
            for dose in &mut s.doses {
                dose.line = 0;
            }
        }
        d
    }

    /// The subject with identifier `id`.
    pub fn subject(&self, id: &str) -> Option<&Subject> {
        self.subjects.iter().find(|s| s.id == id)
    }

    /// Number of observation records (censored included).
    pub fn n_observations(&self) -> usize {
        self.subjects.iter().map(|s| s.observations.len()).sum()
    }
}
