//! The four seed-trial scenarios of data/trials run end to end through `cartkin
//! simulate --scenario` (2 subjects per dose level to stay fast), with residual error,
//! and their endpoints summary has one row per dose level × simulated analyte.

use std::path::Path;
use std::process::Command;

fn scenario_runs(file: &str, doses: &[&str], analytes: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/trials")
        .join(file);
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_cartkin"))
        .args(["simulate", "--scenario"])
        .arg(&scenario)
        .args([
            "--n",
            "2",
            "--with-error",
            "--as-dataset",
            "--seed",
            "3",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{file}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(out.join("endpoints_summary.csv")).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(3).map(String::from).collect())
        .collect();
    let mut expected = Vec::new();
    for d in doses {
        for a in analytes {
            expected.push(vec![d.to_string(), a.to_string(), "2".to_string()]);
        }
    }
    assert_eq!(
        rows, expected,
        "{file}: (dose, analyte, n) of endpoints_summary.csv"
    );
    // run.json records the scenario and its hash
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run["scenario"]["sha256"].as_str().unwrap().len() == 64);
    // the simulated dataset is valid input
    cartkin::data::read_csv(&out.join("dataset.csv")).unwrap();
}

#[test]
fn relma_cel_sle() {
    scenario_runs(
        "relma-cel_sle.toml",
        &["15000000", "25000000", "50000000", "100000000", "150000000"],
        &["transgene", "b_cells", "naive_b", "igg", "anti_dsdna"],
    );
}

#[test]
fn relma_cel_ssc() {
    scenario_runs(
        "relma-cel_ssc.toml",
        &["25000000", "50000000", "100000000"],
        &["transgene", "b_cells", "igg"],
    );
}

#[test]
fn rd06_04_sle_per_kg() {
    scenario_runs(
        "rd06-04_sle.toml",
        &["100000", "500000"],
        &["transgene", "b_cells", "naive_b", "igg", "anti_dsdna"],
    );
}

#[test]
fn ct1195e_sle_cd19_cd20() {
    scenario_runs(
        "ct1195e_sle.toml",
        &["300000000", "450000000", "600000000"],
        &[
            "transgene",
            "b_cells",
            "naive_b",
            "memory_b",
            "plasmablast",
            "igg",
            "igm",
            "iga",
        ],
    );
}

#[test]
fn example_sle_with_covariates() {
    scenario_runs(
        "example_sle.toml",
        &["25000000", "50000000", "100000000"],
        &["transgene", "b_cells", "igg"],
    );
}

/// A scenario whose schedule is in hours (`time_unit = "hours"`) with a model whose `t`
/// is in hours: the schedule is converted to days for the outputs, and the model is
/// solved at the hours. Against the analytic one-compartment IV bolus
/// C(t_h) = D/V·exp(−k·t_h), k in 1/h, to 1e-6 relative (the solver's tolerance).
#[test]
fn scenario_in_hours_with_a_model_in_hours() {
    let tmp = tempfile::tempdir().unwrap();
    let model = "\
model iv_hours
time_unit hours
param k = 0.1 unit \"1/h\" bounds 1e-3 10 log
param V = 2 unit \"L\" bounds 0.1 100 log
param sd = 0.1 residual
state A = 0
ddt(A) = -k * A
dose A
output conc = A / V unit \"cells/L\"
error conc add(sd)
";
    std::fs::write(tmp.path().join("iv_hours.model"), model).unwrap();
    let scenario = "\
name = \"hours\"
model = \"iv_hours.model\"
follow_up_days = 2
schedule = [0, 6, 12, 36, 48]
time_unit = \"hours\"

[product]
name = \"test product\"
targets = [\"CD19\"]

[[dose_levels]]
dose = 100
n = 1

[analytes]
conc = {}
";
    let file = tmp.path().join("hours.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_cartkin"))
        .args(["simulate", "--scenario"])
        .arg(&file)
        .args(["--typical", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("simulation.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (t_col, v_col) = (col("time"), col("value"));
    let rows: Vec<(f64, f64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[t_col].parse().unwrap(), f[v_col].parse().unwrap())
        })
        .collect();
    let hours = [0.0, 6.0, 12.0, 36.0, 48.0];
    assert_eq!(rows.len(), hours.len());
    for ((day, value), h) in rows.iter().zip(hours) {
        assert!((day - h / 24.0).abs() < 1e-12, "time {day} days for {h} h");
        let exact = 100.0 / 2.0 * (-0.1 * h).exp();
        assert!(
            (value - exact).abs() <= 1e-6 * exact,
            "{h} h: {value} vs {exact}"
        );
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["settings"]["time_unit"], "days");

    // A schedule beyond the follow-up, in hours, is refused with the unit named.
    std::fs::write(&file, scenario.replace("48]", "49]")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cartkin"))
        .args(["simulate", "--scenario"])
        .arg(&file)
        .args(["--typical", "--force", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("schedule time 49 hours"), "{err}");
}

/// Without a scenario, `--times` are in `--time-unit`: hours become days in the outputs,
/// and a model in days sees them in days. One-compartment IV bolus with k in 1/day:
/// C = D/V·exp(−k·t_day), to 1e-6 relative.
#[test]
fn times_in_hours_on_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let model = "\
model iv_days
param k = 0.5 unit \"1/day\" bounds 1e-3 10 log
param V = 4 unit \"L\" bounds 0.1 100 log
param sd = 0.1 residual
state A = 0
ddt(A) = -k * A
dose A
output conc = A / V unit \"cells/L\"
error conc add(sd)
";
    let file = tmp.path().join("iv_days.model");
    std::fs::write(&file, model).unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_cartkin"))
        .args(["simulate", "--model"])
        .arg(&file)
        .args([
            "--dose",
            "100",
            "--typical",
            "--times",
            "0,12,36",
            "--time-unit",
            "hours",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("simulation.csv")).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .skip(1)
                .take(4)
                .filter_map(|f| f.parse().ok())
                .collect()
        })
        .collect();
    // columns id, dose, time, analyte, value: after skipping id and the analyte name,
    // each row holds dose, time, value.
    let days = [0.0, 0.5, 1.5];
    assert_eq!(rows.len(), 3);
    for (row, day) in rows.iter().zip(days) {
        assert!((row[1] - day).abs() < 1e-12, "{row:?}");
        let exact = 100.0 / 4.0 * (-0.5 * day).exp();
        assert!((row[2] - exact).abs() <= 1e-6 * exact, "{row:?} vs {exact}");
    }
}
