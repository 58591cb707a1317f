//! Reading the long CSV format (SPEC §2) into records, one per data row.
//!
//! Each row becomes an observation, a dose, or a record set aside (counted and
//! explained). The rules, in NONMEM's terms:
//!
//! - `EVID` 0 → observation, unless `MDV` = 1 (set aside: no value to fit);
//!   `EVID` 1 → dose, `AMT` > 0 required; `EVID` 2 → other event (set aside; its
//!   covariate values are used); `EVID` 3/4 (resets) are refused.
//! - Without `EVID`: `AMT` > 0 → dose (refused if the row also has a `DV`, which would be
//!   ambiguous); else `MDV` = 1 → set aside; else observation.
//! - A dose lasts `DUR` days, or `AMT`/`RATE` days when `RATE` > 0; `CMT` names its target.
//! - Censoring: `CENS` = 1, or a DV of `BLQ`, `BQL`, `<LLOQ` (limit from `LLOQ`) or `<x`
//!   (limit x). A censored record's value is its limit (Beal 2001, method M3).
//! - `DVID` is an analyte name, or a numeric code translated by a [`DvidMap`].
//!
//! Problems are collected, not raised one at a time: the caller sees every one.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;

use super::columns::{ColumnMap, Role};
use super::fields::{is_missing, parse_dv, parse_flag, parse_number, DvText, NumberProblem};
use super::issue::{DataError, Issue};
use super::types::{Analyte, STANDARD_ANALYTES};

/// How numeric `DVID` codes translate to analyte names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DvidMap {
    /// The documented default: code k is the k-th standard analyte, in the order of
    /// [`STANDARD_ANALYTES`] (1 = transgene, 2 = cart_cells, 3 = b_cells, 4 = naive_b,
    /// 5 = memory_b, 6 = plasmablast, 7 = plasma_cell, 8 = igg, 9 = igm, 10 = iga,
    /// 11 = anti_dsdna). Its use is reported as a warning.
    Default,
    /// An explicit mapping from code (as an integer) to analyte.
    Explicit(BTreeMap<i64, Analyte>),
}

impl DvidMap {
    /// Parse `1=transgene,2=b_cells`.
    pub fn parse(text: &str) -> Result<DvidMap, String> {
        let mut map = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (code, name) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}': expected CODE=ANALYTE, e.g. 1=transgene"))?;
            let code: i64 = code
                .trim()
                .parse()
                .map_err(|_| format!("'{part}': the code '{}' is not an integer", code.trim()))?;
            let name = name.trim();
            if name.is_empty() || parse_number(name).is_ok() {
                return Err(format!("'{part}': expected an analyte name after '='"));
            }
            if map.insert(code, Analyte::new(name)).is_some() {
                return Err(format!("code {code} is mapped twice"));
            }
        }
        if map.is_empty() {
            return Err("an empty mapping: expected e.g. 1=transgene,2=b_cells".into());
        }
        Ok(DvidMap::Explicit(map))
    }

    /// The analyte of a code.
    pub fn analyte(&self, code: i64) -> Option<Analyte> {
        match self {
            DvidMap::Default => usize::try_from(code)
                .ok()
                .and_then(|k| k.checked_sub(1))
                .and_then(|k| STANDARD_ANALYTES.get(k))
                .map(|(n, _)| Analyte::new(n)),
            DvidMap::Explicit(m) => m.get(&code).cloned(),
        }
    }

    /// The mapping as text, `1=transgene, 2=b_cells`.
    pub fn describe(&self) -> String {
        let pairs: Vec<String> = match self {
            DvidMap::Default => STANDARD_ANALYTES
                .iter()
                .enumerate()
                .map(|(k, (n, _))| format!("{}={n}", k + 1))
                .collect(),
            DvidMap::Explicit(m) => m.iter().map(|(k, a)| format!("{k}={a}")).collect(),
        };
        pairs.join(", ")
    }
}

/// Options of the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Translation of numeric `DVID` codes.
    pub dvid_map: DvidMap,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            dvid_map: DvidMap::Default,
        }
    }
}

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
    },
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

/// Read the rows of a CSV source. Returns `Err` only for I/O failures and for a header
/// that cannot be used (then the issues are in `DataError::Invalid`).
pub(crate) fn read_table<R: Read>(
    source: R,
    file: &Path,
    options: &ReadOptions,
) -> Result<RawTable, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(source);
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
    let header_line = header.position().map_or(1, |p| p.line() as usize);
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
        let line = record.position().map_or(0, |p| p.line() as usize);
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
struct RowReader<'a> {
    file: &'a Path,
    columns: &'a ColumnMap,
    options: &'a ReadOptions,
    issues: Vec<Issue>,
    /// Unknown analyte → (first line, count).
    unknown_analytes: BTreeMap<Analyte, (usize, usize)>,
    /// First line where a numeric DVID was read with the default mapping.
    default_map_used: Option<usize>,
    /// Subjects with at least one row that could not be read.
    failed_ids: HashSet<String>,
}

/// The text fields of one row, with the line for messages.
struct Fields<'r> {
    line: usize,
    values: Vec<std::borrow::Cow<'r, str>>,
}

impl RowReader<'_> {
    fn error(
        &mut self,
        line: usize,
        column: &str,
        value: Option<&str>,
        expected: impl Into<String>,
    ) {
        self.issues
            .push(Issue::error(self.file, line, column, value, expected));
    }

    fn warn(
        &mut self,
        line: usize,
        column: &str,
        value: Option<&str>,
        expected: impl Into<String>,
    ) {
        self.issues
            .push(Issue::warning(self.file, line, column, value, expected));
    }

    /// The field of a role (None when the column is absent or the field missing).
    fn field<'f>(&self, f: &'f Fields<'_>, role: Role) -> Option<&'f str> {
        self.columns
            .index(role)
            .map(|i| f.values[i].trim())
            .filter(|v| !is_missing(v))
    }

    /// A number in a role's column: Ok(None) when missing; Err(()) after reporting.
    fn number(
        &mut self,
        f: &Fields<'_>,
        role: Role,
        what: &str,
        non_negative: bool,
    ) -> Result<Option<f64>, ()> {
        let Some(text) = self.field(f, role) else {
            return Ok(None);
        };
        let column = self.columns.name(role).to_string();
        match parse_number(text) {
            Ok(x) if non_negative && x < 0.0 => {
                self.error(f.line, &column, Some(text), format!("{what}, not negative"));
                Err(())
            }
            Ok(x) => Ok(Some(x)),
            Err(NumberProblem::NotNumeric) => {
                self.error(f.line, &column, Some(text), what.to_string());
                Err(())
            }
            Err(NumberProblem::NonFinite) => {
                self.error(f.line, &column, Some(text), format!("{what} (finite)"));
                Err(())
            }
        }
    }

    fn flag(&mut self, f: &Fields<'_>, role: Role, what: &str) -> Result<Option<bool>, ()> {
        let Some(text) = self.field(f, role) else {
            return Ok(None);
        };
        parse_flag(text).map_err(|()| {
            let column = self.columns.name(role).to_string();
            self.error(f.line, &column, Some(text), format!("0 or 1 ({what})"));
        })
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
        let row = self.interpret(&f);
        if row.is_none() || !ok {
            if let Some(id) = self.field(&f, Role::Id) {
                self.failed_ids.insert(id.to_string());
            }
        }
        if ok {
            row
        } else {
            None
        }
    }

    fn interpret(&mut self, f: &Fields<'_>) -> Option<Row> {
        let line = f.line;
        let id = self.field(f, Role::Id).map(str::to_string);
        if id.is_none() {
            let v = self
                .columns
                .index(Role::Id)
                .map(|i| f.values[i].to_string());
            let column = self.columns.name(Role::Id).to_string();
            self.error(line, &column, v.as_deref(), "a subject identifier");
        }
        let time = self.number(f, Role::Time, "a number (days since infusion)", false);
        if let Ok(None) = time {
            let column = self.columns.name(Role::Time).to_string();
            self.error(line, &column, Some(""), "a number (days since infusion)");
        }
        for role in [Role::Addl, Role::Ii, Role::Ss] {
            if let Ok(Some(x)) = self.number(f, role, "a number", false) {
                if x != 0.0 {
                    let column = self.columns.name(role).to_string();
                    self.error(
                        line,
                        &column,
                        self.field(f, role),
                        "0 or empty (repeated and steady-state dosing are not supported: write one EVID=1 row per dose)",
                    );
                }
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
        let (Some(id), Ok(Some(time)), Ok(evid), Ok(mdv), Ok(amt)) = (id, time, evid, mdv, amt)
        else {
            return None;
        };
        let dv_present = self.field(f, Role::Dv).is_some();
        let amt_positive = amt.is_some_and(|a| a > 0.0);
        let kind = match evid {
            Some(1) => self.dose(f, amt)?,
            Some(2) => RowKind::Skipped(SkipReason::OtherEvent),
            Some(_) => {
                if amt_positive {
                    let column = self.columns.name(Role::Amt).to_string();
                    self.error(
                        line,
                        &column,
                        self.field(f, Role::Amt),
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
                    let column = self.columns.name(Role::Amt).to_string();
                    self.error(
                        line,
                        &column,
                        self.field(f, Role::Amt),
                        "a dose row without a DV, or an EVID column (this row has both AMT and DV; for a per-subject dose use a DOSE covariate column)",
                    );
                    return None;
                }
                self.dose(f, amt)?
            }
            None if mdv == Some(true) => RowKind::Skipped(SkipReason::MissingDv),
            None => self.observation(f)?,
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
            "0 (observation), 1 (dose) or 2 (other event); resets (3, 4) are not supported";
        match self.number(f, Role::Evid, EXPECTED, false)? {
            None => Ok(None),
            Some(x) if x == 0.0 || x == 1.0 || x == 2.0 => Ok(Some(x as i64)),
            Some(_) => {
                let column = self.columns.name(Role::Evid).to_string();
                self.error(f.line, &column, self.field(f, Role::Evid), EXPECTED);
                Err(())
            }
        }
    }

    fn dose(&mut self, f: &Fields<'_>, amt: Option<f64>) -> Option<RowKind> {
        let line = f.line;
        let amount = match amt {
            Some(a) if a > 0.0 => a,
            _ => {
                let column = self.columns.name(Role::Amt).to_string();
                let v = self.field(f, Role::Amt).unwrap_or("");
                self.error(
                    line,
                    &column,
                    Some(v),
                    "a positive amount (cells infused) on a dose record",
                );
                return None;
            }
        };
        let target = self.field(f, Role::Cmt).map(str::to_string);
        let dur = self.number(f, Role::Dur, "a duration in days", true).ok()?;
        let rate = self
            .number(
                f,
                Role::Rate,
                "an infusion rate (amount per day; modelled rates -1/-2 are not supported)",
                true,
            )
            .ok()?;
        let duration = match (dur.filter(|d| *d > 0.0), rate.filter(|r| *r > 0.0)) {
            (Some(_), Some(_)) => {
                let column = self.columns.name(Role::Rate).to_string();
                self.error(
                    line,
                    &column,
                    self.field(f, Role::Rate),
                    "RATE or DUR, not both",
                );
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
        })
    }

    fn observation(&mut self, f: &Fields<'_>) -> Option<RowKind> {
        let line = f.line;
        let dvid_col = self.columns.name(Role::Dvid).to_string();
        let dv_col = self.columns.name(Role::Dv).to_string();
        let analyte = match self.field(f, Role::Dvid) {
            None => {
                self.error(
                    line,
                    &dvid_col,
                    Some(""),
                    "an analyte name (e.g. transgene, b_cells) on an observation record",
                );
                None
            }
            Some(text) => self.analyte(line, text),
        };
        let cens = self.flag(f, Role::Cens, "1 = below the limit of quantification");
        let lloq = self.number(
            f,
            Role::Lloq,
            "a positive number (limit of quantification)",
            false,
        );
        let (Some(analyte), Ok(cens), Ok(lloq)) = (analyte, cens, lloq) else {
            return None;
        };
        if let Some(l) = lloq {
            if l <= 0.0 {
                let column = self.columns.name(Role::Lloq).to_string();
                self.error(
                    line,
                    &column,
                    self.field(f, Role::Lloq),
                    "a positive number (limit of quantification)",
                );
                return None;
            }
        }
        let dv_text = self.field(f, Role::Dv).unwrap_or("").to_string();
        let lloq_col = self.columns.name(Role::Lloq).to_string();
        let (value, censored) = match parse_dv(&dv_text) {
            DvText::Number(x) => {
                if x < 0.0 && analyte.is_standard() {
                    self.error(
                        line,
                        &dv_col,
                        Some(&dv_text),
                        format!("a value >= 0 ({analyte} cannot be negative)"),
                    );
                    return None;
                }
                let censored = cens == Some(true);
                if censored && x <= 0.0 {
                    self.error(line, &dv_col, Some(&dv_text), "a positive limit on a censored record (or an empty DV with the limit in LLOQ)");
                    return None;
                }
                if censored && lloq.is_some_and(|l| l != x) {
                    self.warn(line, &dv_col, Some(&dv_text), format!("the limit on a censored record; it differs from {lloq_col} {} and is used as the limit", lloq.unwrap_or(x)));
                }
                if !censored && lloq.is_some_and(|l| x < l) {
                    self.warn(line, &dv_col, Some(&dv_text), format!("a value at or above {lloq_col} {}, or CENS=1; it is used as a quantified value", lloq.unwrap_or(x)));
                }
                (x, censored)
            }
            DvText::Missing => {
                if cens != Some(true) {
                    self.error(line, &dv_col, Some(""), "a value (a number, or BLQ, BQL, <LLOQ, <x for a censored record); mark a record without a value with MDV=1 or EVID=2");
                    return None;
                }
                match lloq {
                    Some(l) => (l, true),
                    None => {
                        self.error(line, &lloq_col, Some(""), "a limit for the censored record (CENS=1 with empty DV): a number in LLOQ or DV");
                        return None;
                    }
                }
            }
            DvText::BelowLimit(limit) => {
                if cens == Some(false) {
                    let column = self.columns.name(Role::Cens).to_string();
                    self.error(
                        line,
                        &column,
                        Some("0"),
                        format!("1 or empty: DV '{dv_text}' says the record is below the limit"),
                    );
                    return None;
                }
                match (limit, lloq) {
                    (Some(x), _) if x <= 0.0 => {
                        self.error(line, &dv_col, Some(&dv_text), "a positive limit after '<'");
                        return None;
                    }
                    (Some(x), Some(l)) if x != l => {
                        self.error(line, &dv_col, Some(&dv_text), format!("a limit equal to {lloq_col} {l} (the two limits of this record differ)"));
                        return None;
                    }
                    (Some(x), _) => (x, true),
                    (None, Some(l)) => (l, true),
                    (None, None) => {
                        self.error(line, &lloq_col, Some(""), format!("a limit for the censored record (DV '{dv_text}'): a number in LLOQ, or write DV as <x"));
                        return None;
                    }
                }
            }
            DvText::Invalid(NumberProblem::NotNumeric) => {
                self.error(
                    line,
                    &dv_col,
                    Some(&dv_text),
                    "a number, or BLQ, BQL, <LLOQ, <x for a censored record",
                );
                return None;
            }
            DvText::Invalid(NumberProblem::NonFinite) => {
                self.error(line, &dv_col, Some(&dv_text), "a finite number");
                return None;
            }
        };
        Some(RowKind::Observation {
            analyte,
            value,
            censored,
            lloq,
        })
    }

    fn analyte(&mut self, line: usize, text: &str) -> Option<Analyte> {
        let dvid_col = self.columns.name(Role::Dvid).to_string();
        if let Ok(x) = parse_number(text) {
            let code = (x.fract() == 0.0 && x.abs() < 1e15).then_some(x as i64);
            let found = code.and_then(|c| self.options.dvid_map.analyte(c));
            return match found {
                Some(a) => {
                    if self.options.dvid_map == DvidMap::Default && self.default_map_used.is_none()
                    {
                        self.default_map_used = Some(line);
                    }
                    Some(a)
                }
                None => {
                    self.error(
                        line,
                        &dvid_col,
                        Some(text),
                        format!(
                            "an analyte name, or a code of the mapping {} (set it with --dvid-map, e.g. 1=transgene,2=b_cells)",
                            self.options.dvid_map.describe()
                        ),
                    );
                    None
                }
            };
        }
        if parse_number(text) == Err(NumberProblem::NonFinite) {
            // "inf", "nan": not a code and not a name
            self.error(
                line,
                &dvid_col,
                Some(text),
                "an analyte name (e.g. transgene, b_cells)",
            );
            return None;
        }
        let analyte = Analyte::new(text);
        if !analyte.is_standard() {
            let e = self
                .unknown_analytes
                .entry(analyte.clone())
                .or_insert((line, 0));
            e.1 += 1;
        }
        Some(analyte)
    }
}
