//! Covariate columns: numeric or categorical, constant or time-varying within a subject.
//!
//! - A column is numeric when every non-missing value in the file is a finite number;
//!   otherwise categorical. `DOSE`, `DOSE_PER_KG`, `WT`, `AGE`, `HT`, `BMI` and `BSA`
//!   must be numeric and not negative (`WT`, `HT`, `BMI`, `BSA` positive).
//! - Within a subject, a numeric covariate whose value changes is time-varying: steps
//!   (t_k, x_k) read as last observation carried forward,
//!   x(t) = x_k for t_k <= t < t_{k+1} (NONMEM's convention for covariates on records).
//!   Two different values at the same time are refused. With
//!   [`CovariateRule::Nocb`] (next observation carried backward, NONMEM's convention)
//!   a record's value holds back to the previous record instead:
//!   x(t) = x_{k+1} for t_k < t <= t_{k+1} (x_0 up to t_0; the last value after it);
//!   the steps are stored with the LOCF lookup, a change at the next representable time
//!   after t_k, so [`Covariates::numeric`] answers both rules exactly.
//! - A categorical covariate must be constant within a subject.

use std::path::Path;

use super::dvid::CovariateRule;
use super::issue::Issue;
use super::records::Row;
use super::types::{CovariateValue, Covariates};

/// Covariates that must be numeric, with whether zero is allowed.
pub const NUMERIC_COVARIATES: &[(&str, bool)] = &[
    ("DOSE", true),
    ("DOSE_PER_KG", true),
    ("WT", false),
    ("AGE", true),
    ("HT", false),
    ("BMI", false),
    ("BSA", false),
];

/// The type of a covariate column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Numeric,
    Categorical,
}

/// The steps of next observation carried backward from records (t_k, x_k, line) sorted
/// by time (one value per time): x_0 from t_0, then x_{k+1} from just after t_k.
fn nocb_steps(records: &[(f64, f64, usize)]) -> Vec<(f64, CovariateValue)> {
    let mut steps: Vec<(f64, CovariateValue)> = Vec::new();
    let mut previous: Option<(f64, f64)> = None;
    for &(t, x, _) in records {
        let start = match previous {
            None => t,
            Some((_, px)) if px == x => {
                previous = Some((t, x));
                continue;
            }
            Some((pt, _)) => next_up(pt),
        };
        steps.push((start, CovariateValue::Numeric(x)));
        previous = Some((t, x));
    }
    steps
}

/// The next representable f64 above a finite x.
fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let b = x.to_bits();
    f64::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

/// Decide the type of each covariate column, reporting values that break a column's
/// required type.
pub(crate) fn column_kinds(
    file: &Path,
    headers: &[(String, String)],
    rows: &[Row],
    issues: &mut Vec<Issue>,
) -> Vec<ColumnKind> {
    headers
        .iter()
        .enumerate()
        .map(|(c, (name, header))| {
            let required = NUMERIC_COVARIATES.iter().find(|(n, _)| n == name);
            let mut first_text: Option<(usize, &str)> = None;
            let mut first_number: Option<usize> = None;
            let mut non_finite = Vec::new();
            for row in rows {
                let Some(text) = row.covariates[c].as_deref() else {
                    continue;
                };
                match text.parse::<f64>() {
                    Ok(x) if x.is_finite() => {
                        first_number.get_or_insert(row.line);
                        if let Some((_, zero_ok)) = required {
                            if x < 0.0 || (x == 0.0 && !zero_ok) {
                                let what = if *zero_ok { "not negative" } else { "positive" };
                                issues.push(Issue::error(
                                    file,
                                    row.line,
                                    header,
                                    Some(text),
                                    format!("a number, {what}"),
                                ));
                            }
                        }
                    }
                    Ok(_) => non_finite.push((row.line, text)),
                    Err(_) => {
                        if required.is_some() {
                            issues.push(Issue::error(
                                file,
                                row.line,
                                header,
                                Some(text),
                                format!("a number ({name} is a numeric covariate)"),
                            ));
                        }
                        first_text.get_or_insert((row.line, text));
                    }
                }
            }
            if required.is_some() || first_text.is_none() {
                for (line, text) in non_finite {
                    issues.push(Issue::error(
                        file,
                        line,
                        header,
                        Some(text),
                        "a finite number",
                    ));
                }
                ColumnKind::Numeric
            } else {
                if let (Some((line, text)), Some(num_line)) = (first_text, first_number) {
                    issues.push(Issue::warning(
                        file,
                        line,
                        header,
                        Some(text),
                        format!(
                            "numbers only, or text only: the column mixes text with numbers (e.g. line {num_line}) and is read as categorical"
                        ),
                    ));
                }
                ColumnKind::Categorical
            }
        })
        .collect()
}

/// The covariates of one subject from its rows (any order; sorted by time here).
pub(crate) fn subject_covariates(
    file: &Path,
    headers: &[(String, String)],
    kinds: &[ColumnKind],
    rows: &[&Row],
    rule: CovariateRule,
    issues: &mut Vec<Issue>,
) -> Covariates {
    let mut sorted: Vec<&Row> = rows.to_vec();
    sorted.sort_by(|a, b| a.time.total_cmp(&b.time));
    let mut out = Covariates::default();
    for (c, ((name, header), kind)) in headers.iter().zip(kinds).enumerate() {
        let values: Vec<(f64, &str, usize)> = sorted
            .iter()
            .filter_map(|r| r.covariates[c].as_deref().map(|v| (r.time, v, r.line)))
            .collect();
        let Some(&(_, first, first_line)) = values.first() else {
            continue;
        };
        let id = &sorted[0].id;
        match kind {
            ColumnKind::Categorical => {
                if let Some(&(_, other, line)) = values.iter().find(|(_, v, _)| *v != first) {
                    issues.push(Issue::error(
                        file,
                        line,
                        header,
                        Some(other),
                        format!(
                            "the same level on every record of subject {id}: line {first_line} has '{first}' (a categorical covariate cannot change within a subject)"
                        ),
                    ));
                    continue;
                }
                out.constant
                    .insert(name.clone(), CovariateValue::Categorical(first.to_string()));
            }
            ColumnKind::Numeric => {
                let numbers: Vec<(f64, f64, usize)> = values
                    .iter()
                    .filter_map(|(t, v, l)| {
                        v.parse::<f64>()
                            .ok()
                            .filter(|x| x.is_finite())
                            .map(|x| (*t, x, *l))
                    })
                    .collect();
                let Some(&(_, x0, _)) = numbers.first() else {
                    continue;
                };
                if numbers.iter().all(|(_, x, _)| *x == x0) {
                    out.constant
                        .insert(name.clone(), CovariateValue::Numeric(x0));
                    continue;
                }
                let mut steps: Vec<(f64, CovariateValue)> = Vec::new();
                let mut last: Option<(f64, f64, usize)> = None;
                let mut conflict = false;
                for &(t, x, line) in &numbers {
                    if let Some((lt, lx, lline)) = last {
                        if lt == t && lx != x {
                            issues.push(Issue::error(
                                file,
                                line,
                                header,
                                Some(&format!("{x}")),
                                format!(
                                    "one value at time {t} for subject {id}: line {lline} has {lx} (a time-varying covariate needs one value per time)"
                                ),
                            ));
                            conflict = true;
                            continue;
                        }
                    }
                    let changed = match steps.last() {
                        Some((_, CovariateValue::Numeric(prev))) => *prev != x,
                        _ => true,
                    };
                    if changed {
                        steps.push((t, CovariateValue::Numeric(x)));
                    }
                    last = Some((t, x, line));
                }
                if !conflict {
                    if rule == CovariateRule::Nocb {
                        steps = nocb_steps(&numbers);
                    }
                    out.varying.insert(name.clone(), steps);
                }
            }
        }
    }
    out
}
