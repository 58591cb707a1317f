//! FOCE-I parameter recovery on a simulated population: a multiple-dose one-compartment
//! IV model (three 100 mg boluses every 12 h, hours) with a weight power effect on CL and
//! a categorical (sex) effect on V, 2 η and proportional error. The data are simulated
//! by `cartkin simulate --data` from the true values written here; the fit starts from
//! other values. Truth is recovered when every estimate lies within 3 of its own
//! (sandwich) standard errors of the true value, and the standard errors are informative
//! (RSE < 50 %), so the test fails for a fit that wanders or reports vague SEs.

use std::collections::HashMap;
use std::path::Path;

use crate::common::cartkin_in;

/// The model with its true values (CL L/h, V L, ω² on the log scale, CV 10 %); also
/// the data generator of the SAEM test on the same design (tests/it/saem.rs).
pub(crate) const TRUTH: &str = "\
model md_iv_cov
time_unit hours
covariate WT = 70
covariate SEX = 0
param CL = 4 unit \"L/h\" bounds 0.01 100 log iiv 0.09
param V = 40 unit \"L\" bounds 1 1000 log iiv 0.04
param CL_WT = 0.75 bounds -5 5 identity
param V_SEX = -0.2 bounds -0.9 5 identity
param cv = 0.1 residual
let CLi = CL * (WT / 70) ^ CL_WT
let Vi = V * (1 + V_SEX * (SEX == 1))
state A = 0
ddt(A) = -CLi / Vi * A
dose A
output conc = A / Vi unit \"mg/L\"
error conc prop(cv)
";

/// (name, true value, start value): the start model differs in every estimate.
pub(crate) const VALUES: [(&str, f64, f64); 7] = [
    ("CL", 4.0, 6.0),
    ("V", 40.0, 30.0),
    ("CL_WT", 0.75, 0.3),
    ("V_SEX", -0.2, 0.0),
    ("cv", 0.1, 0.2),
    ("omega2_CL", 0.09, 0.2),
    ("omega2_V", 0.04, 0.1),
];

/// 40 subjects, weights spread over 45–105 kg, sexes alternating; doses at 0, 12, 24 h
/// (ADDL 2, II 12); samples at 1, 6, 11.5, 25, 30 and 48 h.
pub(crate) fn design() -> String {
    let mut s = String::from("ID,TIME,DV,AMT,EVID,ADDL,II,WT,SEX\n");
    for id in 1..=40 {
        let wt = 45.0 + ((id * 37) % 61) as f64;
        let sex = id % 2;
        s += &format!("{id},0,.,100,1,2,12,{wt},{sex}\n");
        for t in [1.0, 6.0, 11.5, 25.0, 30.0, 48.0] {
            s += &format!("{id},{t},1,.,0,.,.,{wt},{sex}\n");
        }
    }
    s
}

pub(crate) fn start_model() -> String {
    let mut m = TRUTH.to_string();
    let swaps = [
        ("CL = 4 ", "CL = 6 "),
        ("V = 40 ", "V = 30 "),
        ("CL_WT = 0.75", "CL_WT = 0.3"),
        ("V_SEX = -0.2", "V_SEX = 0"),
        ("cv = 0.1", "cv = 0.2"),
        ("iiv 0.09", "iiv 0.2"),
        ("iiv 0.04", "iiv 0.1"),
    ];
    for (a, b) in swaps {
        assert!(m.contains(a), "{a}");
        m = m.replacen(a, b, 1);
    }
    m
}

fn run(dir: &Path, args: &[&str]) {
    let o = cartkin_in(dir, args);
    assert!(
        o.status.success(),
        "cartkin {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn foce_recovers_a_multiple_dose_iv_model_with_weight_and_sex_effects() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("truth.model"), TRUTH).unwrap();
    std::fs::write(dir.join("start.model"), start_model()).unwrap();
    std::fs::write(dir.join("design.csv"), design()).unwrap();
    let hours = ["--time-unit", "hours"];
    let mut sim = vec![
        "simulate",
        "--data",
        "design.csv",
        "--model",
        "truth.model",
        "--n",
        "1",
        "--with-error",
        "--as-dataset",
        "--seed",
        "20261201",
        "--out",
        "sim",
    ];
    sim.extend(hours);
    run(dir, &sim);
    let mut fit = vec![
        "fit",
        "sim/dataset.csv",
        "--model",
        "start.model",
        "--method",
        "foce",
        "--npde-replicates",
        "0",
        "--out",
        "fit",
    ];
    fit.extend(hours);
    run(dir, &fit);

    let mut reader = csv::Reader::from_path(dir.join("fit/parameters.csv")).unwrap();
    let rows: HashMap<String, (f64, f64)> = reader
        .deserialize::<HashMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            let num = |c: &str| r[c].parse::<f64>().unwrap_or(f64::NAN);
            (r["parameter"].clone(), (num("estimate"), num("se")))
        })
        .collect();
    for (name, truth, start) in VALUES {
        let (est, se) = rows[name];
        assert!(se.is_finite() && se > 0.0, "{name}: SE {se}");
        assert!(se < 0.5 * truth.abs().max(0.1), "{name}: SE {se} is vague");
        assert!(
            (est - truth).abs() < 3.0 * se,
            "{name}: estimate {est} ± {se}, truth {truth} (start {start})"
        );
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("fit/run.json")).unwrap()).unwrap();
    assert_eq!(run["converged"], true, "{}", run["convergence"]);
    assert_eq!(run["objective"], "FOCE-I");
    // a population fit draws the fit plots (profiles, GOF, CWRES) like an individual one,
    // and η against the covariates
    #[cfg(feature = "plots")]
    for name in [
        "fit_profiles_conc_1",
        "fit_gof_conc",
        "fit_residuals_conc",
        "eta_covariates",
    ] {
        let png = std::fs::read(dir.join(format!("fit/{name}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5000,
            "{name}.png"
        );
        assert!(dir.join(format!("fit/{name}.svg")).exists(), "{name}.svg");
    }
    eta_covariates_match_the_fit_and_the_data(&dir.join("fit"));
    #[cfg(feature = "plots")]
    {
        let report = cartkin_in(dir, &["report", "fit"]);
        assert!(report.status.success(), "cartkin report failed");
        let html = std::fs::read_to_string(dir.join("fit/report.html")).unwrap();
        assert!(
            html.contains("η CL vs SEX"),
            "the report shows eta_covariates.svg"
        );
    }
}

/// `eta_covariates.csv` holds each subject's WT and SEX of the design and the η of
/// `individual.csv`; its plot has a panel per η and covariate.
fn eta_covariates_match_the_fit_and_the_data(fit: &Path) {
    let table = |name: &str| -> Vec<HashMap<String, String>> {
        csv::Reader::from_path(fit.join(name))
            .unwrap()
            .deserialize()
            .map(|r| r.unwrap())
            .collect()
    };
    let rows = table("eta_covariates.csv");
    let individual = table("individual.csv");
    let header = std::fs::read_to_string(fit.join("eta_covariates.csv")).unwrap();
    assert!(header.starts_with("id,WT,SEX,eta_CL,eta_V\n"), "{header}");
    assert_eq!(rows.len(), 40);
    for (row, ind) in rows.iter().zip(&individual) {
        assert_eq!(row["id"], ind["id"]);
        for eta in ["eta_CL", "eta_V"] {
            assert_eq!(row[eta], ind[eta], "subject {}: {eta}", row["id"]);
        }
        let id: usize = row["id"].parse().unwrap();
        let wt: f64 = row["WT"].parse().unwrap();
        assert_eq!(wt, 45.0 + ((id * 37) % 61) as f64, "subject {id}: WT");
        assert_eq!(row["SEX"], (id % 2).to_string(), "subject {id}: SEX");
    }
    #[cfg(feature = "plots")]
    {
        use crate::common::figures::{assert_png, assert_svg};
        let (w, h) = assert_png(&fit.join("eta_covariates.png"));
        assert!(w >= 800 && h >= 600, "a 2 × 2 grid: {w}x{h}");
        let svg = assert_svg(&fit.join("eta_covariates.svg"), 40);
        for text in [
            "η CL vs WT",
            "η CL vs SEX",
            "η V vs WT",
            "η V vs SEX",
            "LOWESS",
        ] {
            assert!(svg.contains(text), "eta_covariates.svg: no `{text}`");
        }
    }
}
