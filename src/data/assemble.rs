//! From rows to subjects, with the checks that need a whole subject or the whole file.
//!
//! - Subjects in order of first appearance; rows of one subject need not be contiguous
//!   (a warning says when they are not, since NONMEM would read two individuals).
//! - Doses: the subject's dose records, each `ADDL` expanded into its additional doses
//!   and each reset (EVID 3, 4) as a [`Dose::reset`] marker in line order; else one dose at time 0 of the subject's `DOSE`
//!   covariate (total cells); else `DOSE_PER_KG` × `WT` (WT at time 0). `DOSE` and `WT`
//!   stay covariates.
//! - Refused: a file without data rows; two observations with the same
//!   (ID, TIME, analyte); a subject without observations; a per-subject `DOSE` that
//!   changes over time.
//! - Warned: a subject without any dose; a `DOSE` covariate that differs from the total
//!   of the subject's dose records.

use std::collections::HashMap;
use std::path::Path;

use super::columns::Role;
use super::covariates::{column_kinds, subject_covariates};
use super::dvid::ReadOptions;
use super::issue::{DataError, Issue};
use super::records::{RawTable, Row, RowKind, SkipReason, SkippedRecord};
use super::types::{Dataset, Dose, Observation, Subject};
use super::Loaded;

/// Build the dataset from the rows of a file; refuse it if any error was found.
pub(crate) fn assemble(
    file: &Path,
    table: RawTable,
    options: &ReadOptions,
) -> Result<Loaded, DataError> {
    let RawTable {
        columns,
        rows,
        mut issues,
        failed_ids,
    } = table;
    let headers: Vec<(String, String)> = columns
        .covariates
        .iter()
        .map(|(name, i)| (name.clone(), columns.headers[*i].clone()))
        .collect();
    let kinds = column_kinds(file, &headers, &rows, &mut issues);
    let id_col = columns.name(Role::Id).to_string();
    let dv_col = columns.name(Role::Dv).to_string();

    // Group rows by subject, in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<&str, Vec<&Row>> = HashMap::new();
    let mut previous_id: Option<&str> = None;
    for row in &rows {
        let id = row.id.as_str();
        match groups.get_mut(id) {
            Some(group) => {
                if previous_id != Some(id) {
                    let last_line = group.last().map_or(0, |r| r.line);
                    issues.push(Issue::warning(
                        file,
                        row.line,
                        &id_col,
                        Some(id),
                        format!(
                            "the records of a subject together: subject {id} also appears up to line {last_line} (they are read as one subject)"
                        ),
                    ));
                }
                group.push(row);
            }
            None => {
                order.push(id.to_string());
                groups.insert(id, vec![row]);
            }
        }
        previous_id = Some(id);
    }

    let mut subjects = Vec::with_capacity(order.len());
    let mut skipped = Vec::new();
    for id in &order {
        let group = groups.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let covariates = subject_covariates(
            file,
            &headers,
            &kinds,
            group,
            options.covariates,
            &mut issues,
        );
        let mut observations = Vec::new();
        let mut doses = Vec::new();
        for row in group {
            match &row.kind {
                RowKind::Observation {
                    analyte,
                    value,
                    censored,
                    lloq,
                } => observations.push(Observation {
                    time: row.time,
                    analyte: analyte.clone(),
                    value: *value,
                    censored: *censored,
                    lloq: *lloq,
                    line: row.line,
                }),
                RowKind::Dose {
                    amount,
                    target,
                    duration,
                    addl,
                    ii,
                    reset,
                } => {
                    if *reset {
                        doses.push(Dose::reset(row.time, row.line));
                    }
                    for k in 0..=*addl {
                        doses.push(Dose {
                            time: row.time + f64::from(k) * ii,
                            amount: *amount,
                            target: target.clone(),
                            duration: *duration,
                            line: row.line,
                        });
                    }
                }
                RowKind::Reset => doses.push(Dose::reset(row.time, row.line)),
                RowKind::Skipped(reason) => skipped.push(SkippedRecord {
                    line: row.line,
                    id: id.clone(),
                    reason: *reason,
                }),
            }
        }
        let first_line = group.first().map_or(0, |r| r.line);
        if doses.iter().all(Dose::is_reset) {
            let derived = derived_dose(file, id, first_line, &covariates, &mut issues);
            doses.splice(0..0, derived);
        } else if let Some(level) = covariates.numeric("DOSE", 0.0) {
            let total: f64 = doses.iter().map(|d| d.amount).sum();
            if (level - total).abs() > 1e-9 * level.abs().max(total.abs()) {
                let line = doses.first().map_or(first_line, |d| d.line);
                issues.push(Issue::warning(
                    file,
                    line,
                    "DOSE",
                    Some(&format!("{level}")),
                    format!(
                        "the total of subject {id}'s dose records ({total}); the dose records are used"
                    ),
                ));
            }
        }
        observations.sort_by(|a, b| {
            a.time
                .total_cmp(&b.time)
                .then_with(|| a.analyte.cmp(&b.analyte))
        });
        doses.sort_by(|a, b| a.time.total_cmp(&b.time));
        for pair in observations.windows(2) {
            if pair[0].time == pair[1].time && pair[0].analyte == pair[1].analyte {
                issues.push(Issue::error(
                    file,
                    pair[1].line,
                    &dv_col,
                    None,
                    format!(
                        "one record per (ID, TIME, analyte): subject {id}, time {}, {} is also on line {}",
                        pair[1].time, pair[1].analyte, pair[0].line
                    ),
                ));
            }
        }
        if observations.is_empty() && !group.is_empty() && !failed_ids.contains(id.as_str()) {
            issues.push(Issue::error(
                file,
                first_line,
                &id_col,
                Some(id),
                "at least one observation for each subject (this subject has only dose or other records)",
            ));
        }
        if doses.iter().all(Dose::is_reset) && !failed_ids.contains(id.as_str()) {
            issues.push(Issue::warning(
                file,
                first_line,
                &id_col,
                Some(id),
                "a dose (EVID=1 record, or a DOSE or DOSE_PER_KG with WT covariate); this subject has none",
            ));
        }
        subjects.push(Subject {
            id: id.clone(),
            observations,
            doses,
            covariates,
        });
    }

    for reason in [SkipReason::OtherEvent, SkipReason::MissingDv] {
        let lines: Vec<usize> = skipped
            .iter()
            .filter(|r: &&SkippedRecord| r.reason == reason)
            .map(|r| r.line)
            .collect();
        if let Some(&first) = lines.first() {
            let shown: Vec<String> = lines.iter().take(20).map(|l| l.to_string()).collect();
            let more = if lines.len() > 20 { ", ..." } else { "" };
            issues.push(Issue::warning(
                file,
                first,
                "",
                None,
                format!(
                    "an observation or a dose record; {} record{} set aside: {reason} (lines {}{more})",
                    lines.len(),
                    if lines.len() == 1 { "" } else { "s" },
                    shown.join(", ")
                ),
            ));
        }
    }
    if subjects.is_empty() && !issues.iter().any(Issue::is_error) {
        issues.push(Issue::error(
            file,
            0,
            "",
            None,
            "at least one data row after the header (the file has none)",
        ));
    }
    issues.sort_by_key(|i| (i.severity, i.line));
    if issues.iter().any(Issue::is_error) {
        return Err(DataError::Invalid {
            file: file.to_path_buf(),
            issues,
        });
    }
    Ok(Loaded {
        dataset: Dataset {
            source: file.to_path_buf(),
            subjects,
            covariate_names: headers.into_iter().map(|(n, _)| n).collect(),
        },
        warnings: issues,
        skipped,
    })
}

/// The dose of a subject without dose records: DOSE, else DOSE_PER_KG × WT.
fn derived_dose(
    file: &Path,
    id: &str,
    line: usize,
    covariates: &super::types::Covariates,
    issues: &mut Vec<Issue>,
) -> Vec<Dose> {
    let varying = &covariates.varying;
    let dose = |amount: f64| Dose {
        time: 0.0,
        amount,
        target: None,
        duration: None,
        line: 0,
    };
    if varying.contains_key("DOSE") {
        issues.push(Issue::error(
            file,
            line,
            "DOSE",
            None,
            format!("one DOSE value for subject {id} (it changes over time; give each dose as an EVID=1 record instead)"),
        ));
        return Vec::new();
    }
    if let Some(amount) = covariates.numeric("DOSE", 0.0) {
        return if amount > 0.0 {
            vec![dose(amount)]
        } else {
            Vec::new()
        };
    }
    if varying.contains_key("DOSE_PER_KG") {
        issues.push(Issue::error(
            file,
            line,
            "DOSE_PER_KG",
            None,
            format!("one DOSE_PER_KG value for subject {id} (it changes over time)"),
        ));
        return Vec::new();
    }
    if let Some(per_kg) = covariates.numeric("DOSE_PER_KG", 0.0) {
        return match covariates.numeric("WT", 0.0) {
            Some(wt) if per_kg > 0.0 => vec![dose(per_kg * wt)],
            Some(_) => Vec::new(),
            None => {
                issues.push(Issue::error(
                    file,
                    line,
                    "WT",
                    None,
                    format!("a body weight WT for subject {id}, whose dose is given per kg (DOSE_PER_KG)"),
                ));
                Vec::new()
            }
        };
    }
    Vec::new()
}
