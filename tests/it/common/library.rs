//! Helpers shared by the library tests (tests/library_*.rs): reading a reference CSV
//! of models/reference/ and predicting every output of a built-in model for one bolus
//! dose at t = 0.

use std::path::{Path, PathBuf};

use cartkin::data::{Covariates, Dose};
use cartkin::model::{Individual, Model, Predict};

/// Path of `models/reference/<name>.csv`.
pub fn reference_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join("reference")
        .join(format!("{name}.csv"))
}

/// A reference CSV: output names (the header after `time`), times, and one column of
/// values per output.
pub struct Reference {
    pub outputs: Vec<String>,
    pub times: Vec<f64>,
    pub values: Vec<Vec<f64>>,
}

/// Read `models/reference/<name>.csv`.
pub fn read_reference(name: &str) -> Reference {
    let path = reference_path(name);
    let mut rdr = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let header = rdr.headers().expect("reference header").clone();
    assert_eq!(
        &header[0],
        "time",
        "{}: first column must be time",
        path.display()
    );
    let outputs: Vec<String> = header.iter().skip(1).map(str::to_string).collect();
    let mut times = Vec::new();
    let mut values = vec![Vec::new(); outputs.len()];
    for (row, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap_or_else(|e| panic!("{} row {row}: {e}", path.display()));
        let num = |i: usize| -> f64 {
            rec[i]
                .parse()
                .unwrap_or_else(|e| panic!("{} row {row} col {i}: {e}", path.display()))
        };
        times.push(num(0));
        for (k, col) in values.iter_mut().enumerate() {
            col.push(num(k + 1));
        }
    }
    Reference {
        outputs,
        times,
        values,
    }
}

/// Load a built-in model (panics with the model error).
pub fn load(name: &str) -> Model {
    Model::load(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Typical parameter vector of a model.
pub fn typical(model: &Model) -> Vec<f64> {
    model.parameters().iter().map(|p| p.typical).collect()
}

/// `theta` with parameter `name` set to `value`.
pub fn with_param(model: &Model, mut theta: Vec<f64>, name: &str, value: f64) -> Vec<f64> {
    let i = model
        .parameter_index(name)
        .unwrap_or_else(|| panic!("{}: no parameter {name}", model.name()));
    theta[i] = value;
    theta
}

/// Predict every output of `model` at `times` for a bolus `dose` at t = 0 (none when
/// `None`), returned as one column per output in model order.
pub fn try_predict_all(
    model: &Model,
    dose: Option<f64>,
    theta: &[f64],
    times: &[f64],
) -> Result<Vec<Vec<f64>>, cartkin::model::PredictError> {
    let nout = model.outputs().len();
    let doses: Vec<Dose> = dose
        .map(|amount| Dose {
            time: 0.0,
            amount,
            target: None,
            duration: None,
            line: 0,
        })
        .into_iter()
        .collect();
    let covariates = Covariates::default();
    let individual = Individual {
        doses: &doses,
        covariates: &covariates,
    };
    let mut ts = Vec::with_capacity(times.len() * nout);
    let mut idx = Vec::with_capacity(times.len() * nout);
    for &t in times {
        for k in 0..nout {
            ts.push(t);
            idx.push(k);
        }
    }
    let mut out = vec![f64::NAN; ts.len()];
    model.predict(theta, &individual, &ts, &idx, &mut out)?;
    Ok((0..nout)
        .map(|k| out.iter().skip(k).step_by(nout).copied().collect())
        .collect())
}

/// As [`try_predict_all`], panicking on a failed prediction.
pub fn predict_all(
    model: &Model,
    dose: Option<f64>,
    theta: &[f64],
    times: &[f64],
) -> Vec<Vec<f64>> {
    try_predict_all(model, dose, theta, times)
        .unwrap_or_else(|e| panic!("{}: predict failed: {e}", model.name()))
}

/// Column of output `analyte` in a [`predict_all`] result.
pub fn column<'a>(model: &Model, cols: &'a [Vec<f64>], analyte: &str) -> &'a [f64] {
    let k = model
        .output_index(&cartkin::data::Analyte::new(analyte))
        .unwrap_or_else(|| panic!("{}: no output {analyte}", model.name()));
    &cols[k]
}
