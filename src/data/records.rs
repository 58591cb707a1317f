//! The records of a file before they are grouped into subjects: observations, doses,
//! and records set aside with the reason.

use std::collections::HashSet;

use super::columns::ColumnMap;
use super::issue::Issue;
use super::types::Analyte;

/// Why a record was set aside (neither an observation nor a dose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// `EVID` = 2: another event; only its covariate values are used.
    OtherEvent,
    /// `MDV` = 1 on a non-dose record: no value to fit; only its covariate values are used.
    MissingDv,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::OtherEvent => {
                "EVID 2 (other event): not an observation or a dose; its covariate values are used"
            }
            SkipReason::MissingDv => {
                "MDV 1 without EVID 1: not an observation; its covariate values are used"
            }
        })
    }
}

/// A record that is neither an observation nor a dose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// Line in the file.
    pub line: usize,
    /// Subject of the record.
    pub id: String,
    /// Why it was set aside.
    pub reason: SkipReason,
}

/// What a row is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RowKind {
    Observation {
        analyte: Analyte,
        value: f64,
        censored: bool,
        lloq: Option<f64>,
    },
    Dose {
        amount: f64,
        target: Option<String>,
        duration: Option<f64>,
        /// Additional doses (ADDL) and their interval (II): `addl` more doses, every `ii`.
        addl: u32,
        ii: f64,
        /// EVID 4: the system is reset before this dose.
        reset: bool,
    },
    /// EVID 3: the system is reset (states to their initial values, infusions stopped).
    Reset,
    Skipped(SkipReason),
}

/// One data row that could be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub line: usize,
    pub id: String,
    pub time: f64,
    pub kind: RowKind,
    /// Covariate fields as written (trimmed), `None` when missing; in `ColumnMap` order.
    pub covariates: Vec<Option<String>>,
}

/// All rows of a file, with the problems found while reading them.
pub(crate) struct RawTable {
    pub columns: ColumnMap,
    pub rows: Vec<Row>,
    pub issues: Vec<Issue>,
    /// Subjects with at least one row that could not be read (already reported).
    pub failed_ids: HashSet<String>,
}
