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
