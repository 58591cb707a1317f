//! `cartkin merge` of the shards of one `cartkin trial --shard i/N` run.
//!
//! Shard i of N runs the trials ⌊R(i−1)/N⌋ … ⌊Ri/N⌋ − 1 of R (each trial's random
//! streams depend only on the seed and the trial's number, see [`super::run`]), and
//! writes them to `trials.csv` and `patients.csv` with their global numbers; shard 1
//! also simulates the treated patients of the first trials for `endpoints_summary.csv`.
//! The merge checks that the shards make one whole run (the same model, scenario,
//! settings, seed and number of trials, every shard present once), reads the trials and
//! patients back (numbers are written in the shortest form that reads back to the same
//! `f64`), and recomputes `trial.csv` from them with the same code and in the same
//! order as the unsharded run: the merged files are byte-identical to it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::design::TrialRecord;
use super::output::{write_characteristics, write_patients, write_run_json, write_trials};
use super::run::{characteristics, Patient, TrialResult};
use super::toxicity::{Link, Metric, Toxicity};
use super::TrialError;
use crate::report::OutputDir;
use crate::simulate::merge::{check_shards, mark_merged};
use crate::simulate::SimulateError;

fn merge_err(dir: &Path, message: impl Into<String>) -> TrialError {
    TrialError::Simulate(SimulateError::Merge {
        dir: dir.to_path_buf(),
        message: message.into(),
    })
}

/// The settings of run.json that must agree across shards.
const SAME: [&str; 5] = ["model", "scenario", "settings", "seed", "reps"];

/// Merge the shard directories `dirs` of a trial run into `out`.
pub fn merge(dirs: &[PathBuf], out: &OutputDir) -> Result<(), TrialError> {
    let shards = check_shards(dirs, "trial", &SAME)?;
    let template = shards[0].2.clone();
    let first = &shards[0].1;
    let doses: Vec<f64> = template["settings"]["doses"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    if doses.is_empty() {
        return Err(merge_err(first, "run.json has no settings.doses"));
    }
    let toxicity = toxicity_of(&template["settings"]["toxicity"])
        .ok_or_else(|| merge_err(first, "run.json: settings.toxicity is not readable"))?;
    let mut results: Vec<TrialResult> = Vec::new();
    for (_, dir, _) in &shards {
        results.extend(read_trials(dir, doses.len())?);
    }
    if let Some((k, r)) = results.iter().enumerate().find(|(k, r)| r.index != *k) {
        return Err(merge_err(
            first,
            format!("trial {} where trial {} was expected", r.index + 1, k + 1),
        ));
    }
    let reps = template["reps"].as_u64().unwrap_or(0) as usize;
    if results.len() != reps {
        return Err(merge_err(
            first,
            format!(
                "the shards hold {} trials, run.json says {reps}",
                results.len()
            ),
        ));
    }
    let oc = characteristics(&doses, &toxicity, &results);
    out.write_with("trial.csv", |w| write_characteristics(&oc, w))?;
    out.write_with("trials.csv", |w| write_trials(&doses, &results, w))?;
    out.write_with("patients.csv", |w| write_patients(&doses, &results, w))?;
    let mut files: Vec<String> = ["trial.csv", "trials.csv", "patients.csv"]
        .map(String::from)
        .to_vec();
    let summary = first.join("endpoints_summary.csv");
    if summary.exists() {
        let bytes = std::fs::read(&summary)
            .map_err(|e| merge_err(first, format!("cannot read endpoints_summary.csv: {e}")))?;
        out.write("endpoints_summary.csv", &bytes)?;
        files.push("endpoints_summary.csv".into());
    }
    let mut run = template.clone();
    mark_merged(&mut run, &shards);
    run["trials_in_shard"] = Value::Null;
    let summary_trials = template["endpoint_summary_trials"]
        .as_u64()
        .map(|n| n as usize);
    write_run_json(out, &files, run, summary_trials)
}

/// The toxicity model recorded in run.json's settings.
fn toxicity_of(v: &Value) -> Option<Toxicity> {
    if let Some(p) = v["p_dlt"].as_array() {
        return p
            .iter()
            .map(Value::as_f64)
            .collect::<Option<Vec<f64>>>()
            .map(Toxicity::Fixed);
    }
    let metric = match v["metric"].as_str()? {
        "cmax" => Metric::Cmax,
        "auc0_28" => Metric::Auc0To28,
        _ => return None,
    };
    Some(Toxicity::Logistic(Link {
        metric,
        analyte: v["analyte"].as_str()?.to_string(),
        intercept: v["intercept"].as_f64()?,
        slope: v["slope"].as_f64()?,
    }))
}

/// The rows of a CSV file without its header, split at commas, with their line numbers.
fn rows(dir: &Path, name: &str) -> Result<Vec<(usize, Vec<String>)>, TrialError> {
    let text = std::fs::read_to_string(dir.join(name))
        .map_err(|e| merge_err(dir, format!("cannot read {name}: {e}")))?;
    Ok(text
        .lines()
        .enumerate()
        .skip(1)
        .map(|(i, l)| (i + 1, l.split(',').map(str::to_string).collect()))
        .collect())
}

/// Read back the trials (trials.csv) and their patients (patients.csv) of one shard.
fn read_trials(dir: &Path, levels: usize) -> Result<Vec<TrialResult>, TrialError> {
    let bad = |name: &str, line: usize, what: &str| {
        merge_err(dir, format!("{name} line {line}: expected {what}"))
    };
    let mut results = Vec::new();
    for (line, f) in rows(dir, "trials.csv")? {
        if f.len() != 6 + 2 * levels {
            return Err(bad(
                "trials.csv",
                line,
                &format!("{} fields", 6 + 2 * levels),
            ));
        }
        let whole = |s: &str| s.parse::<usize>().ok();
        let index = whole(&f[0])
            .and_then(|t| t.checked_sub(1))
            .ok_or_else(|| bad("trials.csv", line, "a trial number"))?;
        let selected = match f[1].as_str() {
            "none" => None,
            s => Some(
                whole(s)
                    .and_then(|l| l.checked_sub(1))
                    .filter(|&l| l < levels)
                    .ok_or_else(|| bad("trials.csv", line, "a dose level or none"))?,
            ),
        };
        let counts = |from: usize| -> Result<Vec<usize>, TrialError> {
            f[from..from + levels]
                .iter()
                .map(|s| whole(s).ok_or_else(|| bad("trials.csv", line, "whole numbers")))
                .collect()
        };
        results.push(TrialResult {
            index,
            record: TrialRecord {
                selected,
                n: counts(6)?,
                dlt: counts(6 + levels)?,
                stopped_early: f[5] == "1",
            },
            patients: Vec::new(),
        });
    }
    let first = results.first().map_or(0, |r| r.index);
    for (line, f) in rows(dir, "patients.csv")? {
        let parsed = (|| {
            if f.len() != 7 {
                return None;
            }
            let trial = f[0].parse::<usize>().ok()?.checked_sub(1)?;
            let patient = Patient {
                slot: f[1].parse::<usize>().ok()?.checked_sub(1)?,
                level: f[2].parse::<usize>().ok()?.checked_sub(1)?,
                exposure: match f[4].as_str() {
                    "" => None,
                    s => Some(s.parse::<f64>().ok()?),
                },
                p_dlt: f[5].parse().ok()?,
                dlt: f[6] == "1",
            };
            Some((trial, patient))
        })();
        let (trial, patient) =
            parsed.ok_or_else(|| bad("patients.csv", line, "a patient row of cartkin trial"))?;
        let r = trial
            .checked_sub(first)
            .and_then(|k| results.get_mut(k))
            .ok_or_else(|| bad("patients.csv", line, "a trial of this shard"))?;
        r.patients.push(patient);
    }
    Ok(results)
}
