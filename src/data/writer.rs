//! Writing a dataset in the long CSV format, so that reading it back gives the same
//! dataset (up to the line numbers and the file name).
//!
//! Columns: `ID,TIME,DV,DVID,CENS,LLOQ,EVID,AMT`, then `CMT` and `DUR` when a dose has a
//! target or a duration, then the covariates. Per subject, rows are in time order:
//! doses (`EVID=1`), rows that only carry a change of a time-varying covariate
//! (`EVID=2`), then observations (`EVID=0`; censored ones with `CENS=1` and the limit in
//! `DV`). A constant covariate is written on every row of its subject; a time-varying
//! one as its last value at or before the row's time (empty before its first step).
//! The table follows the crate's one table convention ([`crate::report::table`]):
//! numbers in the shortest form that reads back to the same `f64`, a missing field empty.

use std::io::Write;

use super::columns::Role;
use super::fields::{is_missing, parse_number};
use super::issue::DataError;
use super::types::{CovariateValue, Dataset, Subject};
use crate::report::table::{number, TableWriter};

/// Write `dataset` as CSV to `w`.
pub fn write_csv<W: Write>(dataset: &Dataset, w: W) -> Result<(), DataError> {
    let names = covariate_columns(dataset)?;
    let has_cmt = dataset
        .subjects
        .iter()
        .any(|s| s.doses.iter().any(|d| d.target.is_some()));
    let has_dur = dataset
        .subjects
        .iter()
        .any(|s| s.doses.iter().any(|d| d.duration.is_some()));
    let mut header: Vec<String> = ["ID", "TIME", "DV", "DVID", "CENS", "LLOQ", "EVID", "AMT"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if has_cmt {
        header.push("CMT".into());
    }
    if has_dur {
        header.push("DUR".into());
    }
    header.extend(names.iter().cloned());
    let mut out = TableWriter::new(w, Some(&header)).map_err(write_error)?;
    for subject in &dataset.subjects {
        for row in subject_rows(subject, has_cmt, has_dur)? {
            let mut record = row.fields;
            for name in &names {
                record.push(covariate_text(subject, name, row.time)?);
            }
            out.record(&record).map_err(write_error)?;
        }
    }
    out.finish().map(|_| ()).map_err(write_error)
}

fn write_error(e: std::io::Error) -> DataError {
    DataError::Write {
        reason: e.to_string(),
    }
}

/// Covariate columns: the dataset's names, then any other name a subject carries.
fn covariate_columns(dataset: &Dataset) -> Result<Vec<String>, DataError> {
    let mut names: Vec<String> = dataset
        .covariate_names
        .iter()
        .map(|n| n.to_ascii_uppercase())
        .collect();
    let mut extra: Vec<String> = dataset
        .subjects
        .iter()
        .flat_map(|s| {
            s.covariates
                .constant
                .keys()
                .chain(s.covariates.varying.keys())
        })
        .filter(|n| !names.contains(n))
        .cloned()
        .collect();
    extra.sort();
    extra.dedup();
    names.extend(extra);
    for n in &names {
        if n.is_empty() || Role::of_name(n).is_some() {
            return Err(DataError::Write {
                reason: format!(
                    "covariate name '{n}' is empty or is the name of a data column ({})",
                    Role::of_name(n).map_or("", |r| r.canonical())
                ),
            });
        }
    }
    Ok(names)
}

struct OutRow {
    time: f64,
    fields: Vec<String>,
}

fn finite(x: f64, what: &str, subject: &Subject) -> Result<String, DataError> {
    if x.is_finite() {
        Ok(number(x))
    } else {
        Err(DataError::Write {
            reason: format!("subject {}: {what} is {x}, not a finite number", subject.id),
        })
    }
}

fn subject_rows(subject: &Subject, has_cmt: bool, has_dur: bool) -> Result<Vec<OutRow>, DataError> {
    if subject.id.trim().is_empty() || subject.id.trim() != subject.id {
        return Err(DataError::Write {
            reason: format!(
                "subject id '{}' is empty or has surrounding spaces",
                subject.id
            ),
        });
    }
    let extra = |target: &str, duration: String| {
        let mut v = Vec::new();
        if has_cmt {
            v.push(target.to_string());
        }
        if has_dur {
            v.push(duration);
        }
        v
    };
    // (time, order within a time, fields)
    let mut rows: Vec<(f64, u8, Vec<String>)> = Vec::new();
    for d in &subject.doses {
        if d.is_reset() {
            // EVID 3: the states go back to their initial values (a reset with a dose is
            // read as a reset then a dose at the same time, and written back so).
            let mut f = vec![
                subject.id.clone(),
                finite(d.time, "a reset time", subject)?,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                "3".into(),
                String::new(),
            ];
            f.extend(extra("", String::new()));
            rows.push((d.time, 0, f));
            continue;
        }
        if d.amount.is_nan() || d.amount <= 0.0 {
            return Err(DataError::Write {
                reason: format!(
                    "subject {}: dose amount {} is not positive",
                    subject.id, d.amount
                ),
            });
        }
        let time = finite(d.time, "a dose time", subject)?;
        let mut f = vec![
            subject.id.clone(),
            time,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "1".into(),
            finite(d.amount, "a dose amount", subject)?,
        ];
        let dur = match d.duration {
            Some(x) => finite(x, "a dose duration", subject)?,
            None => String::new(),
        };
        f.extend(extra(d.target.as_deref().unwrap_or(""), dur));
        rows.push((d.time, 0, f));
    }
    let occupied: Vec<f64> = subject
        .doses
        .iter()
        .map(|d| d.time)
        .chain(subject.observations.iter().map(|o| o.time))
        .collect();
    let mut step_times: Vec<f64> = subject
        .covariates
        .varying
        .values()
        .flat_map(|steps| steps.iter().map(|(t, _)| *t))
        .filter(|t| !occupied.contains(t))
        .collect();
    step_times.sort_by(f64::total_cmp);
    step_times.dedup();
    for t in step_times {
        let mut f = vec![
            subject.id.clone(),
            finite(t, "a covariate time", subject)?,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "2".into(),
            String::new(),
        ];
        f.extend(extra("", String::new()));
        rows.push((t, 1, f));
    }
    for o in &subject.observations {
        let name = o.analyte.name();
        if name.is_empty() || parse_number(name).is_ok() || name.contains('\n') {
            return Err(DataError::Write {
                reason: format!(
                    "subject {}: analyte name '{name}' cannot be written (empty or a number)",
                    subject.id
                ),
            });
        }
        let mut f = vec![
            subject.id.clone(),
            finite(o.time, "an observation time", subject)?,
            finite(o.value, "an observed value", subject)?,
            name.to_string(),
            if o.censored { "1" } else { "0" }.into(),
            match o.lloq {
                Some(l) => finite(l, "an LLOQ", subject)?,
                None => String::new(),
            },
            "0".into(),
            String::new(),
        ];
        f.extend(extra("", String::new()));
        rows.push((o.time, 2, f));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(rows
        .into_iter()
        .map(|(time, _, fields)| OutRow { time, fields })
        .collect())
}

/// The text of a covariate on a row of `subject` at `time`.
fn covariate_text(subject: &Subject, name: &str, time: f64) -> Result<String, DataError> {
    let value = match subject.covariates.constant.get(name) {
        Some(v) => Some(v),
        None => subject
            .covariates
            .varying
            .get(name)
            .and_then(|steps| steps.iter().rev().find(|(t, _)| *t <= time).map(|(_, v)| v)),
    };
    match value {
        None => Ok(String::new()),
        Some(CovariateValue::Numeric(x)) => finite(*x, name, subject),
        Some(CovariateValue::Categorical(level)) => {
            if subject.covariates.varying.contains_key(name) {
                return Err(DataError::Write {
                    reason: format!(
                        "subject {}: categorical covariate {name} varies over time (it must be constant)",
                        subject.id
                    ),
                });
            }
            if is_missing(level) || level.trim() != level {
                return Err(DataError::Write {
                    reason: format!(
                        "subject {}: level '{level}' of {name} would read back as missing or changed",
                        subject.id
                    ),
                });
            }
            Ok(level.clone())
        }
    }
}
