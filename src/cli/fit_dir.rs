//! A `cartkin fit` output directory read back to work again on its data (`vpc`,
//! `bootstrap`): `run.json` names the data file (its path as given, and relative to the
//! fit directory since this version; its SHA-256 must match), the reading options
//! (`--time-unit`, `--time-varying`, `--dvid-map`; defaults when an older run.json lacks
//! them), the model (built-in name, or file with its SHA-256), the method, the analytes,
//! the fixed parameters and the settings.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::data_args::DataArgs;
use super::input;
use super::simulate::model_of_fit;
use super::CliError;
use cartkin::data::{Analyte, Dataset};
use cartkin::model::Model;
use cartkin::report::sha256_file;

/// A fit directory and what its run.json says.
pub struct FitRun {
    /// The directory.
    pub dir: PathBuf,
    /// Its run.json.
    pub run: Value,
    /// `individual`, `foce`, ...
    pub method: String,
    /// The fitted model.
    pub model: Model,
    /// The data file found (with the recorded SHA-256).
    pub data: PathBuf,
    /// How the data were read.
    pub read: DataArgs,
    /// The analytes fitted (`None`: all the model predicts).
    pub analytes: Option<Vec<Analyte>>,
    /// Parameters held fixed in the fit, with their values.
    pub fixed: Vec<(String, f64)>,
}

impl FitRun {
    /// Read the fit directory `dir` for `command` (used in messages).
    pub fn read(dir: &Path, command: &str) -> Result<FitRun, CliError> {
        let what = format!("{command}: {}", dir.display());
        if !dir.is_dir() {
            return Err(input(format!(
                "{what}: not a directory: expected the output directory of cartkin fit"
            )));
        }
        let path = dir.join("run.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            input(format!(
                "{what}: cannot read run.json ({e}): expected the output directory of cartkin fit"
            ))
        })?;
        let run: Value = serde_json::from_str(&text)
            .map_err(|e| input(format!("{}: not valid JSON: {e}", path.display())))?;
        if run["command"] != "fit" {
            return Err(input(format!(
                "{}: written by `cartkin {}`, expected `cartkin fit`",
                path.display(),
                run["command"].as_str().unwrap_or("?")
            )));
        }
        for f in ["parameters.csv", "individual.csv"] {
            if !dir.join(f).is_file() {
                return Err(input(format!(
                    "{what}: no {f}: expected the output directory of cartkin fit"
                )));
            }
        }
        let method = run["method"].as_str().unwrap_or("individual").to_string();
        let model = model_of_fit(dir, command, "")?;
        let data_json = &run["inputs"]["data"];
        let data = find_data(dir, data_json, &path)?;
        let read = DataArgs {
            dvid_map: data_json["dvid_map"].as_str().map(str::to_string),
            time_unit: data_json["time_unit"]
                .as_str()
                .unwrap_or("days")
                .to_string(),
            time_varying: data_json["time_varying"]
                .as_str()
                .unwrap_or("locf")
                .to_string(),
        };
        let analytes = run["analytes"].as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(Analyte::new)
                .collect()
        });
        let fixed = run["fixed"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(FitRun {
            dir: dir.to_path_buf(),
            run,
            method,
            model,
            data,
            read,
            analytes,
            fixed,
        })
    }

    /// The fitted dataset, read and bound to the model as the fit did.
    pub fn dataset(&self) -> Result<Dataset, CliError> {
        self.read.read_for(&self.data, &self.model)
    }
}

/// The data file of a fit: `relative_path` from the fit directory, then `path` as given
/// (relative to the current directory), then `path` from the fit directory; the first
/// with the recorded SHA-256.
fn find_data(dir: &Path, data: &Value, run_json: &Path) -> Result<PathBuf, CliError> {
    let recorded = data["sha256"].as_str().unwrap_or_default();
    let mut candidates = Vec::new();
    if let Some(p) = data["relative_path"].as_str() {
        candidates.push(dir.join(p));
    }
    let Some(given) = data["path"].as_str() else {
        return Err(input(format!(
            "{}: no inputs.data.path: expected run.json of cartkin fit",
            run_json.display()
        )));
    };
    candidates.push(PathBuf::from(given));
    candidates.push(dir.join(given));
    let mut changed = None;
    for c in &candidates {
        if !c.is_file() {
            continue;
        }
        let sha = sha256_file(c).map_err(|e| input(format!("cannot read {}: {e}", c.display())))?;
        if sha == recorded {
            return Ok(c.clone());
        }
        changed.get_or_insert(c.clone());
    }
    Err(input(match changed {
        Some(c) => format!(
            "data file {} has changed since the fit in {} (its SHA-256 differs from run.json's)",
            c.display(),
            dir.display()
        ),
        None => format!(
            "{}: data file `{given}` not found (tried {})",
            run_json.display(),
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }))
}
