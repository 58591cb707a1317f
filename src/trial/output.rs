//! The result files of `cartkin trial`, written atomically into the output directory.
//!
//! | file | columns | rows |
//! |---|---|---|
//! | `trial.csv` | `dose_level,dose,p_dlt,p_select,mean_n,mean_dlt` | one per level (1-based), then `none` (no MTD: only `p_select`) |
//! | `trials.csv` | `trial,selected_level,selected_dose,n,dlt,stopped_early`, `n_1..n_L`, `dlt_1..dlt_L` | one per simulated trial (1-based; `none` when no MTD) |
//! | `endpoints_summary.csv` | as `cartkin simulate`'s | dose level × analyte, over the treated patients of the first trials |
//! | `run.json` | settings (rule, BOIN boundaries and elimination table, toxicity), seed, trials, model and scenario hashes, files and their sha256 | |
//!
//! `p_dlt` is the true probability, or with an exposure link the mean of the link's
//! probability over the patients treated at the level in all trials. `stopped_early` is
//! 1 when the trial stopped for safety (3+3: level 1 too toxic; BOIN: level 1
//! eliminated) or, for BOIN, at `n_stop`. With `--exact` only `trial.csv` and `run.json`
//! are written. Numbers are written in the shortest form that reads back to the same
//! `f64`; results do not depend on the thread count.

use std::io::{self, Write};

use serde_json::json;

use super::design::Boin;
use super::run::{OperatingCharacteristics, TrialResult};
use super::settings::{Rule, TrialSettings};
use super::toxicity::Toxicity;
use super::TrialError;
use crate::report::{sha256_file, OutputDir, OutputError};
use crate::simulate::endpoints::EndpointSummaryRow;
use crate::simulate::output::{num, write_endpoint_summary};

/// Write trial.csv.
pub fn write_characteristics(oc: &OperatingCharacteristics, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "dose_level,dose,p_dlt,p_select,mean_n,mean_dlt")?;
    for (l, c) in oc.levels.iter().enumerate() {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            l + 1,
            num(c.dose),
            c.p_dlt.map(num).unwrap_or_default(),
            num(c.p_select),
            num(c.mean_n),
            num(c.mean_dlt)
        )?;
    }
    writeln!(w, "none,,,{},,", num(oc.p_none))
}

/// Write trials.csv.
pub fn write_trials(doses: &[f64], results: &[TrialResult], w: &mut dyn Write) -> io::Result<()> {
    let l = doses.len();
    write!(w, "trial,selected_level,selected_dose,n,dlt,stopped_early")?;
    for j in 1..=l {
        write!(w, ",n_{j}")?;
    }
    for j in 1..=l {
        write!(w, ",dlt_{j}")?;
    }
    writeln!(w)?;
    for r in results {
        let rec = &r.record;
        let (level, dose) = match rec.selected {
            Some(j) => ((j + 1).to_string(), num(doses[j])),
            None => ("none".to_string(), String::new()),
        };
        write!(
            w,
            "{},{level},{dose},{},{},{}",
            r.index + 1,
            rec.n.iter().sum::<usize>(),
            rec.dlt.iter().sum::<usize>(),
            u8::from(rec.stopped_early)
        )?;
        for x in rec.n.iter().chain(&rec.dlt) {
            write!(w, ",{x}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}

fn boin_json(b: &Boin) -> serde_json::Value {
    let elimination: Vec<serde_json::Value> = (1..=b.max_n)
        .map(|n| json!({"n": n, "eliminate_if_dlt_at_least": b.elimination_boundary(n)}))
        .collect();
    json!({
        "rule": "boin",
        "target": b.target,
        "phi1": b.phi1,
        "phi2": b.phi2,
        "lambda_e": b.lambda_e,
        "lambda_d": b.lambda_d,
        "cohort_size": b.cohort_size,
        "max_n": b.max_n,
        "n_stop": b.n_stop,
        "elimination_cutoff": b.elimination_cutoff,
        "elimination": elimination,
        "conventions": "BOIN R package get.oc / select.mtd (Liu & Yuan 2015)",
    })
}

/// The settings of a trial run as JSON.
pub fn settings_json(s: &TrialSettings, doses: &[f64]) -> serde_json::Value {
    let rule = match &s.rule {
        Rule::ThreePlusThree => json!({"rule": "3+3", "cohort_size": 3, "de_escalation": true}),
        Rule::Boin(b) => boin_json(b),
    };
    let toxicity = match &s.toxicity {
        Toxicity::Fixed(p) => json!({"p_dlt": p}),
        Toxicity::Logistic(l) => json!({
            "link": "logistic",
            "metric": l.metric.name(),
            "analyte": l.analyte,
            "intercept": l.intercept,
            "slope": l.slope,
            "exposure": "model prediction on the daily grid 0..=dlt_window_days, no residual error",
        }),
    };
    json!({
        "design": rule,
        "start_level": s.start + 1,
        "dlt_window_days": s.dlt_window_days,
        "doses": doses,
        "toxicity": toxicity,
    })
}

/// What the files of a run are made of.
pub struct TrialOutputs<'a> {
    /// The operating characteristics.
    pub characteristics: &'a OperatingCharacteristics,
    /// The simulated trials (none with `--exact`).
    pub trials: Option<&'a [TrialResult]>,
    /// The treated patients' endpoint summary, and how many trials it covers.
    pub endpoints: Option<(&'a [EndpointSummaryRow], usize)>,
    /// Everything else run.json records (command line settings, model, scenario).
    pub run: serde_json::Value,
}

/// Write the files into `out` and return their names.
pub fn write_outputs(
    out: &OutputDir,
    doses: &[f64],
    o: &TrialOutputs<'_>,
) -> Result<Vec<String>, TrialError> {
    let mut files = vec!["trial.csv".to_string()];
    out.write_with("trial.csv", |w| write_characteristics(o.characteristics, w))?;
    if let Some(t) = o.trials {
        out.write_with("trials.csv", |w| write_trials(doses, t, w))?;
        files.push("trials.csv".into());
    }
    if let Some((rows, _)) = o.endpoints {
        out.write_with("endpoints_summary.csv", |w| write_endpoint_summary(rows, w))?;
        files.push("endpoints_summary.csv".into());
    }
    let mut hashes = serde_json::Map::new();
    for f in &files {
        let path = out.file(f);
        let h = sha256_file(&path).map_err(|source| OutputError::Io { path, source })?;
        hashes.insert(f.clone(), json!(h));
    }
    let mut run = o.run.clone();
    if let Some(map) = run.as_object_mut() {
        map.insert(
            "endpoint_summary_trials".into(),
            json!(o.endpoints.map(|(_, n)| n)),
        );
        map.insert("files".into(), serde_json::Value::Object(hashes));
    }
    let text = serde_json::to_string_pretty(&run).unwrap_or_default() + "\n";
    out.write("run.json", text.as_bytes())?;
    Ok(files)
}
