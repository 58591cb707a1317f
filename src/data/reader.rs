//! Reading the long CSV format (docs/data-format.md) into records, one per data row.
//!
//! Each row becomes an observation, a dose, a reset, or a record set aside (counted and
//! explained). The rules, in NONMEM's terms:
//!
//! - `EVID` 0 → observation, unless `MDV` = 1 (set aside: no value to fit);
//!   `EVID` 1 → dose, `AMT` > 0 required; `EVID` 2 → other event (set aside; its
//!   covariate values are used, e.g. a covariate change); `EVID` 3 → reset (states back
//!   to their initial values, infusions stopped); `EVID` 4 → reset, then dose.
//! - Without `EVID`: `AMT` > 0 → dose (refused if the row also has a `DV`, which would be
//!   ambiguous); else `MDV` = 1 → set aside; else observation.
//! - A dose lasts `DUR` time units, or `AMT`/`RATE` when `RATE` > 0 (zero-order
//!   infusion); `CMT` names its target. `ADDL` = n with `II` = τ > 0 adds n doses at
//!   TIME + τ, ..., TIME + nτ, each like the record's. `SS` must be 0 or empty.
//! - Observations (analyte, value, censoring): see `observation.rs`. `DVID` is an
//!   analyte name, or a numeric code translated by a [`DvidMap`]; without a `DVID`
//!   column the analyte is [`Analyte::unlabelled`] (from `CMT`, or through an explicit
//!   [`DvidMap`] of `CMT` codes).
//!
//! Times are in the data's time unit (days unless the caller says hours); conversion
//! to a model's unit happens when the dataset is bound to a model.
//!
//! Problems are collected, not raised one at a time: the caller sees every one.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;

use super::columns::{ColumnMap, Role};
use super::dvid::{DvidMap, ReadOptions};
use super::fields::{is_missing, parse_flag, parse_number, NumberProblem};
use super::issue::{DataError, Issue};
use super::records::{RawTable, Row, RowKind, SkipReason};
use super::types::{Analyte, STANDARD_ANALYTES};

/// Read the rows of a CSV source. Returns `Err` only for I/O failures and for a header
/// that cannot be used (then the issues are in `DataError::Invalid`).
pub(crate) fn read_table<R: Read>(
    source: R,
    file: &Path,
    options: &ReadOptions,
) -> Result<RawTable, DataError> {
    let mut bytes = Vec::new();
    let mut source = source;
    source
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Io {
            file: file.to_path_buf(),
            source,
        })?;
    // Line of a record: the csv crate's positions do not count blank and comment lines
    // and may point at the end of the previous record, so skip line ends and comment
    // lines from there and count the newlines before the record's first byte.
    let newlines: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let line_of = |pos: Option<&csv::Position>| -> usize {
        pos.map_or(0, |p| {
            let mut i = usize::try_from(p.byte())
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            loop {
                while i < bytes.len() && (bytes[i] == b'\r' || bytes[i] == b'\n') {
                    i += 1;
                }
                let line_start = i == 0 || bytes[i - 1] == b'\n';
                if i < bytes.len() && bytes[i] == b'#' && line_start {
                    i = bytes[i..]
                        .iter()
                        .position(|b| *b == b'\n')
                        .map_or(bytes.len(), |k| i + k + 1);
                    continue;
                }
                break;
            }
            newlines.partition_point(|&nl| nl < i) + 1
        })
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(bytes.as_slice());
    let mut records = reader.byte_records();
    let io_error = |e: csv::Error| DataError::Io {
        file: file.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    let header = match records.next() {
        None => {
            return Err(DataError::Invalid {
                file: file.to_path_buf(),
                issues: vec![Issue::error(
                    file,
                    0,
                    "",
                    None,
                    "a header line (ID,TIME,DV,DVID,...): the file is empty",
                )],
            })
        }
        Some(r) => r.map_err(io_error)?,
    };
    let header_line = line_of(header.position());
    let names: Vec<String> = header
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    let columns =
        ColumnMap::resolve(file, header_line, &names).map_err(|issues| DataError::Invalid {
            file: file.to_path_buf(),
            issues,
        })?;
    let mut ctx = RowReader {
        file,
        columns: &columns,
        options,
        issues: Vec::new(),
        unknown_analytes: BTreeMap::new(),
        default_map_used: None,
        failed_ids: HashSet::new(),
    };
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(io_error)?;
        let line = line_of(record.position());
        if let Some(row) = ctx.read_row(line, &record) {
            rows.push(row);
        }
    }
    let failed_ids = std::mem::take(&mut ctx.failed_ids);
    let mut issues = std::mem::take(&mut ctx.issues);
    for (analyte, (line, count)) in ctx.unknown_analytes {
        issues.push(Issue::warning(
            file,
            line,
            columns.name(Role::Dvid),
            Some(analyte.name()),
            format!(
                "a standard analyte name ({}); '{analyte}' ({count} record{}) is kept as a user-defined analyte that a model must map",
                standard_names(),
                if count == 1 { "" } else { "s" }
            ),
        ));
    }
    if let Some(line) = ctx.default_map_used {
        issues.push(Issue::warning(
            file,
            line,
            columns.name(Role::Dvid),
            None,
            format!(
                "analyte names; numeric codes were read with the default mapping {} (pass --dvid-map to set another)",
                DvidMap::Default.describe()
            ),
        ));
    }
    Ok(RawTable {
        columns,
        rows,
        issues,
        failed_ids,
    })
}

fn standard_names() -> String {
    STANDARD_ANALYTES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads rows one at a time, collecting problems.
pub(super) struct RowReader<'a> {
    pub(super) file: &'a Path,
    pub(super) columns: &'a ColumnMap,
    pub(super) options: &'a ReadOptions,
    pub(super) issues: Vec<Issue>,
    /// Unknown analyte → (first line, count).
    pub(super) unknown_analytes: BTreeMap<Analyte, (usize, usize)>,
    /// First line where a numeric DVID was read with the default mapping.
    pub(super) default_map_used: Option<usize>,
    /// Subjects with at least one row that could not be read.
    pub(super) failed_ids: HashSet<String>,
}

/// The text fields of one row, with the line for messages.
pub(super) struct Fields<'r> {
    pub(super) line: usize,
    pub(super) values: Vec<std::borrow::Cow<'r, str>>,
}

impl RowReader<'_> {
    pub(super) fn error(
        &mut self,
        line: usize,
        column: &str,
        value: Option<&str>,
        expected: impl Into<String>,
    ) {
        self.issues
            .push(Issue::error(self.file, line, column, value, expected));
    }

    pub(super) fn warn(
        &mut self,
        line: usize,
        column: &str,
        value: Option<&str>,
        expected: impl Into<String>,
    ) {
        self.issues
            .push(Issue::warning(self.file, line, column, value, expected));
    }

    /// An error on the column of `role` at the row's line, showing `value`.
    pub(super) fn role_error(
        &mut self,
        f: &Fields<'_>,
        role: Role,
        value: Option<&str>,
        expected: impl Into<String>,
    ) {
        let column = self.columns.name(role).to_string();
        self.error(f.line, &column, value, expected);
    }

    /// An error on the field of `role` (its text shown) at the row's line.
    pub(super) fn bad_field(&mut self, f: &Fields<'_>, role: Role, expected: impl Into<String>) {
        self.role_error(f, role, self.field(f, role), expected);
    }

    /// The field of a role (None when the column is absent or the field missing).
    pub(super) fn field<'f>(&self, f: &'f Fields<'_>, role: Role) -> Option<&'f str> {
        self.columns
            .index(role)
            .map(|i| f.values[i].trim())
            .filter(|v| !is_missing(v))
    }

    /// A number in a role's column: Ok(None) when missing; Err(()) after reporting.
    pub(super) fn number(
        &mut self,
        f: &Fields<'_>,
        role: Role,
        what: &str,
        non_negative: bool,
    ) -> Result<Option<f64>, ()> {
        let Some(text) = self.field(f, role) else {
            return Ok(None);
        };
        match parse_number(text) {
            Ok(x) if non_negative && x < 0.0 => {
                self.role_error(f, role, Some(text), format!("{what}, not negative"));
                Err(())
            }
            Ok(x) => Ok(Some(x)),
            Err(NumberProblem::NotNumeric) => {
                self.role_error(f, role, Some(text), what.to_string());
                Err(())
            }
            Err(NumberProblem::NonFinite) => {
                self.role_error(f, role, Some(text), format!("{what} (finite)"));
                Err(())
            }
        }
    }

    pub(super) fn flag(
        &mut self,
        f: &Fields<'_>,
        role: Role,
        what: &str,
    ) -> Result<Option<bool>, ()> {
        let Some(text) = self.field(f, role) else {
            return Ok(None);
        };
        parse_flag(text)
            .map_err(|()| self.role_error(f, role, Some(text), format!("0 or 1 ({what})")))
    }

    fn read_row(&mut self, line: usize, record: &csv::ByteRecord) -> Option<Row> {
        let n = self.columns.headers.len();
        if record.len() != n {
            let text = record
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect::<Vec<_>>()
                .join(",");
            if let Some(id) = self.columns.index(Role::Id).and_then(|i| record.get(i)) {
                self.failed_ids
                    .insert(String::from_utf8_lossy(id).trim().to_string());
            }
            self.error(
                line,
                "",
                Some(&text),
                format!(
                    "{n} comma-separated fields as in the header (found {})",
                    record.len()
                ),
            );
            return None;
        }
        let mut values = Vec::with_capacity(n);
        let mut ok = true;
        for (i, bytes) in record.iter().enumerate() {
            match std::str::from_utf8(bytes) {
                Ok(s) => values.push(std::borrow::Cow::Borrowed(s)),
                Err(_) => {
                    let lossy = String::from_utf8_lossy(bytes).into_owned();
                    let column = self.columns.headers[i].clone();
                    self.error(line, &column, Some(&lossy), "UTF-8 text");
                    values.push(std::borrow::Cow::Owned(lossy));
                    ok = false;
                }
            }
        }
        let f = Fields { line, values };
        let row = if ok { self.interpret(&f) } else { None };
        if row.is_none() {
            if let Some(id) = self.field(&f, Role::Id) {
                self.failed_ids.insert(id.to_string());
            }
        }
        row
    }

    fn interpret(&mut self, f: &Fields<'_>) -> Option<Row> {
        let line = f.line;
        let id = self.field(f, Role::Id).map(str::to_string);
        if id.is_none() {
            let v = self
                .columns
                .index(Role::Id)
                .map(|i| f.values[i].to_string());
            self.role_error(f, Role::Id, v.as_deref(), "a subject identifier");
        }
        let time = self.number(f, Role::Time, "a number (time since the reference)", false);
        if let Ok(None) = time {
            self.role_error(
                f,
                Role::Time,
                Some(""),
                "a number (time since the reference)",
            );
        }
        if let Ok(Some(x)) = self.number(f, Role::Ss, "a number", false) {
            if x != 0.0 {
                self.bad_field(
                    f,
                    Role::Ss,
                    "0 or empty (steady-state dosing is not supported: write the doses before it, e.g. with ADDL and II)",
                );
            }
        }
        let evid = self.evid(f);
        let mdv = self.flag(f, Role::Mdv, "1 = not an observation");
        let amt = self.number(f, Role::Amt, "a number (cells infused)", true);
        let covariates: Vec<Option<String>> = self
            .columns
            .covariates
            .iter()
            .map(|(_, i)| {
                let v = f.values[*i].trim();
                (!is_missing(v)).then(|| v.to_string())
            })
            .collect();
        // The kind of record decides which fields are checked next; a bad ID or TIME
        // does not stop those checks.
        let (Ok(evid), Ok(mdv), Ok(amt)) = (evid, mdv, amt) else {
            return None;
        };
        let dv_present = self.field(f, Role::Dv).is_some();
        let amt_positive = amt.is_some_and(|a| a > 0.0);
        let kind = match evid {
            Some(1) => self.dose(f, amt, false)?,
            Some(4) => self.dose(f, amt, true)?,
            Some(2) => RowKind::Skipped(SkipReason::OtherEvent),
            Some(3) => RowKind::Reset,
            Some(_) => {
                if amt_positive {
                    self.bad_field(
                        f,
                        Role::Amt,
                        "0 or empty on an observation record (EVID 0); a dose needs EVID 1",
                    );
                    return None;
                }
                if mdv == Some(true) {
                    RowKind::Skipped(SkipReason::MissingDv)
                } else {
                    self.observation(f)?
                }
            }
            None if amt_positive => {
                if dv_present && mdv != Some(true) {
                    self.bad_field(
                        f,
                        Role::Amt,
                        "a dose row without a DV, or an EVID column (this row has both AMT and DV; for a per-subject dose use a DOSE covariate column)",
                    );
                    return None;
                }
                self.dose(f, amt, false)?
            }
            None if mdv == Some(true) => RowKind::Skipped(SkipReason::MissingDv),
            None => self.observation(f)?,
        };
        let (Some(id), Ok(Some(time))) = (id, time) else {
            return None;
        };
        Some(Row {
            line,
            id,
            time,
            kind,
            covariates,
        })
    }

    /// EVID: Ok(None) when absent or missing.
    fn evid(&mut self, f: &Fields<'_>) -> Result<Option<i64>, ()> {
        const EXPECTED: &str =
            "0 (observation), 1 (dose), 2 (other event), 3 (reset) or 4 (reset and dose)";
        match self.number(f, Role::Evid, EXPECTED, false)? {
            None => Ok(None),
            Some(x) if x.fract() == 0.0 && (0.0..=4.0).contains(&x) => Ok(Some(x as i64)),
            Some(_) => {
                self.bad_field(f, Role::Evid, EXPECTED);
                Err(())
            }
        }
    }

    fn dose(&mut self, f: &Fields<'_>, amt: Option<f64>, reset: bool) -> Option<RowKind> {
        let amount = match amt {
            Some(a) if a > 0.0 => a,
            _ => {
                let v = self.field(f, Role::Amt).unwrap_or("");
                self.role_error(
                    f,
                    Role::Amt,
                    Some(v),
                    "a positive amount (cells infused) on a dose record",
                );
                return None;
            }
        };
        let target = self.field(f, Role::Cmt).map(str::to_string);
        let dur = self
            .number(f, Role::Dur, "a duration (in the data's time unit)", true)
            .ok()?;
        let rate = self
            .number(
                f,
                Role::Rate,
                "an infusion rate (amount per time unit; modelled rates -1/-2 are not supported)",
                true,
            )
            .ok()?;
        let (addl, ii) = self.additional_doses(f)?;
        let duration = match (dur.filter(|d| *d > 0.0), rate.filter(|r| *r > 0.0)) {
            (Some(_), Some(_)) => {
                self.bad_field(f, Role::Rate, "RATE or DUR, not both");
                return None;
            }
            (Some(d), None) => Some(d),
            (None, Some(r)) => Some(amount / r),
            (None, None) => None,
        };
        Some(RowKind::Dose {
            amount,
            target,
            duration,
            addl,
            ii,
            reset,
        })
    }

    /// `ADDL` (a whole number of additional doses) and `II` (their interval, > 0 when
    /// ADDL > 0); (0, 0) when absent.
    fn additional_doses(&mut self, f: &Fields<'_>) -> Option<(u32, f64)> {
        const ADDL: &str = "a whole number of additional doses (0, 1, 2, ...)";
        let addl = self.number(f, Role::Addl, ADDL, true).ok()?.unwrap_or(0.0);
        if addl.fract() != 0.0 || addl > f64::from(u16::MAX) {
            self.bad_field(f, Role::Addl, format!("{ADDL}, at most {}", u16::MAX));
            return None;
        }
        let ii = self
            .number(
                f,
                Role::Ii,
                "an interdose interval (in the data's time unit)",
                true,
            )
            .ok()?
            .unwrap_or(0.0);
        if addl > 0.0 && ii <= 0.0 {
            let value = self.field(f, Role::Ii).unwrap_or("");
            self.role_error(
                f,
                Role::Ii,
                Some(value),
                format!("a positive interdose interval on a record with ADDL = {addl}"),
            );
            return None;
        }
        Some((addl as u32, ii))
    }
}
