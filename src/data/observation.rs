//! Observation records: analyte (name or code), value, censoring and limit.
//!
//! - Censoring: `CENS` = 1, or a DV of `BLQ`, `BQL`, `<LLOQ` (limit from `LLOQ`) or `<x`
//!   (limit x). A censored record's value is its limit, as the likelihood of Beal's
//!   method M3 needs it: P(y < LLOQ) (Beal 2001, J Pharmacokinet Pharmacodyn 28:481).
//! - A censored record needs a limit (in DV or LLOQ); `<x` and `LLOQ` must agree.
//! - Values of standard analytes cannot be negative; a quantified value below its LLOQ
//!   is kept with a warning.

use super::columns::Role;
use super::dvid::DvidMap;
use super::fields::{parse_dv, parse_number, DvText, NumberProblem};
use super::reader::{Fields, RowReader};
use super::records::RowKind;
use super::types::Analyte;

impl RowReader<'_> {
    pub(super) fn observation(&mut self, f: &Fields<'_>) -> Option<RowKind> {
        let line = f.line;
        let dvid_col = self.columns.name(Role::Dvid).to_string();
        let dv_col = self.columns.name(Role::Dv).to_string();
        let analyte = match self.field(f, Role::Dvid) {
            None if self.columns.index(Role::Dvid).is_none() => self.unlabelled(f),
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
        // An unreadable analyte does not stop the checks of the value; an unreadable
        // flag or limit does (the value's checks depend on them).
        let (Ok(cens), Ok(lloq)) = (cens, lloq) else {
            return None;
        };
        if let Some(l) = lloq {
            if l <= 0.0 {
                self.bad_field(f, Role::Lloq, "a positive number (limit of quantification)");
                return None;
            }
        }
        let dv_text = self.field(f, Role::Dv).unwrap_or("").to_string();
        let lloq_col = self.columns.name(Role::Lloq).to_string();
        let (value, censored) = match parse_dv(&dv_text) {
            DvText::Number(x) => {
                if let Some(a) = analyte.as_ref().filter(|a| x < 0.0 && a.is_standard()) {
                    self.error(
                        line,
                        &dv_col,
                        Some(&dv_text),
                        format!("a value >= 0 ({a} cannot be negative)"),
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
                    self.role_error(
                        f,
                        Role::Cens,
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
            analyte: analyte?,
            value,
            censored,
            lloq,
        })
    }

    /// The analyte of an observation in a file without `DVID`: through an explicit
    /// mapping of its `CMT` code, else [`Analyte::unlabelled`] (`dv` or `cmtN`).
    fn unlabelled(&mut self, f: &Fields<'_>) -> Option<Analyte> {
        let Some(text) = self.field(f, Role::Cmt) else {
            return Some(Analyte::unlabelled(None));
        };
        let code = parse_number(text)
            .ok()
            .filter(|x| x.fract() == 0.0 && x.abs() < 1e15)
            .map(|x| x as i64);
        let Some(code) = code else {
            self.role_error(
                f,
                Role::Cmt,
                Some(text),
                "a whole compartment number on an observation record (the file has no DVID column, so CMT says which output it is)",
            );
            return None;
        };
        match &self.options.dvid_map {
            DvidMap::Explicit(map) => match map.get(&code) {
                Some(a) => Some(a.clone()),
                None => {
                    self.role_error(
                        f,
                        Role::Cmt,
                        Some(text),
                        format!(
                            "a compartment of the mapping {} (the file has no DVID column, so --dvid-map maps CMT codes)",
                            self.options.dvid_map.describe()
                        ),
                    );
                    None
                }
            },
            DvidMap::Default => Some(Analyte::unlabelled(Some(code))),
        }
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
