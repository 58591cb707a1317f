//! The NONMEM features from the command line: the theophylline-like dataset of
//! data/theoph_nonmem.csv (no DVID, hours) checked and fitted; an hours dataset fitted
//! with a days model (estimates in the model's units); `simulate --data` against
//! analytic solutions; missing covariates refused with exit 1.

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use approx::assert_relative_eq;

use super::common::{cartkin_in, repo_file};
use super::nonmem_dosing::one_cmt;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let o = cartkin_in(dir, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    o
}

/// Rows of a CSV file as maps column → field (quoted fields, e.g. a fit's `reason`,
/// may hold commas).
fn table(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column}: {}", row[column]))
}

/// The estimates of `parameter` per subject, from individual.csv.
/// The estimates of `parameter` of the subjects that converged, by subject id.
fn estimates(dir: &Path, parameter: &str) -> HashMap<String, f64> {
    table(&dir.join("individual.csv"))
        .iter()
        .filter(|r| r["status"] == "converged")
        .map(|r| (r["id"].clone(), num(r, parameter)))
        .collect()
}

#[test]
fn the_theophylline_dataset_is_checked_and_fitted_in_hours_and_in_days() {
    let tmp = tempfile::tempdir().unwrap();
    let data = repo_file("data/theoph_nonmem.csv");
    let data = data.to_str().unwrap();
    let model_h = repo_file("data/theoph/theoph.model");
    let check = run(tmp.path(), &["check", data, "--time-unit", "hours"]);
    let summary = String::from_utf8_lossy(&check.stdout);
    // the span of theoph_nonmem.csv: first dose at 0 h, last sample at 24 h
    assert!(summary.contains("time span     0 to 24 hours"), "{summary}");
    assert!(summary.contains("12"), "{summary}");
    // the model in hours
    run(
        tmp.path(),
        &[
            "fit",
            data,
            "--model",
            model_h.to_str().unwrap(),
            "--time-unit",
            "hours",
            "--seed",
            "3",
            "--out",
            "h",
        ],
    );
    let ind = table(&tmp.path().join("h/individual.csv"));
    assert_eq!(ind.len(), 12);
    // ka is barely identified for some subjects (absorption over before the first
    // sample): most, not all, reach an optimum with standard errors
    let converged = ind.iter().filter(|r| r["status"] == "converged").count();
    assert!(converged >= 9, "{converged} of 12 converged: {ind:?}");
    assert!(ind.iter().all(|r| r["n_obs"] == "10"));
    let run_json = std::fs::read_to_string(tmp.path().join("h/run.json")).unwrap();
    assert!(run_json.contains("\"time_unit\": \"hours\""), "{run_json}");
    // the same model written in days, the data still in hours: cartkin converts, and the
    // estimates come out in 1/day and L/day — 24 times the hourly ones — with V unchanged
    // (typical values and bounds × 24 too, so both fits start from the same point)
    let text = std::fs::read_to_string(&model_h)
        .unwrap()
        .replace("time_unit hours", "time_unit days")
        .replace(
            "ka = 1.57 unit \"1/h\" bounds 1e-3 100",
            "ka = 37.68 unit \"1/day\" bounds 0.024 2400",
        )
        .replace(
            "CL = 2.72 unit \"L/h\" bounds 1e-3 1e3",
            "CL = 65.28 unit \"L/day\" bounds 0.024 24e3",
        );
    assert!(text.contains("time_unit days") && text.contains("37.68") && text.contains("65.28"));
    let model_d = tmp.path().join("theoph_days.model");
    std::fs::write(&model_d, text).unwrap();
    run(
        tmp.path(),
        &[
            "fit",
            data,
            "--model",
            model_d.to_str().unwrap(),
            "--time-unit",
            "hours",
            "--seed",
            "3",
            "--out",
            "d",
        ],
    );
    let run_json = std::fs::read_to_string(tmp.path().join("d/run.json")).unwrap();
    assert!(run_json.contains("\"time_unit\": \"days\""), "{run_json}");
    let (h, d) = (tmp.path().join("h"), tmp.path().join("d"));
    // the same likelihood, reparametrised: the same optimum (−2LL to 1e-6), CL and V to
    // 1e-5; ka to 1e-2 only, as subject 3's absorption is barely identified (ka near
    // 95/h, where the likelihood is flat)
    // (subjects that converged in both fits)
    let (lh, ld) = (estimates(&h, "neg2ll"), estimates(&d, "neg2ll"));
    let both: Vec<&String> = lh.keys().filter(|id| ld.contains_key(*id)).collect();
    assert!(
        both.len() >= 9,
        "{} subjects converged in both fits",
        both.len()
    );
    for id in &both {
        let (a, b) = (lh[*id], ld[*id]);
        assert!(
            (a - b).abs() < 1e-6,
            "subject {id}: -2LL {a} in hours, {b} in days"
        );
    }
    for (p, factor, tolerance) in [("ka", 24.0, 1e-2), ("CL", 24.0, 1e-5), ("V", 1.0, 1e-5)] {
        let (eh, ed) = (estimates(&h, p), estimates(&d, p));
        for id in &both {
            assert_relative_eq!(ed[*id], eh[*id] * factor, max_relative = tolerance);
        }
    }
}

const ALLOMETRIC: &str = "model wt_cl
param CLs = 1.4 unit \"L/day\" iiv 0.1
param V = 3 iiv 0.1
param s = 0.1 residual
covariate WT = 70 unit \"kg\"
let CL = CLs * WT / 70
state A = 0
ddt(A) = -CL / V * A
dose A
output conc = A / V
error conc prop(s)
solver dopri5 rtol 1e-11 atol 1e-13
";

/// Subject 1: infusion 100 over 1 day at 0, boluses of 20 at 2 and 4 (ADDL), WT 70 → 140
/// at t = 5 (EVID 2). Subject 2: the same doses, WT 140 throughout. Times in days.
const DESIGN: &str = "ID,TIME,DV,AMT,EVID,RATE,ADDL,II,WT
1,0,.,100,1,100,.,.,70
1,0.5,1,.,0,.,.,.,70
1,1.5,1,.,0,.,.,.,70
1,2,.,20,1,.,1,2,70
1,3,1,.,0,.,.,.,70
1,5,.,.,2,.,.,.,140
1,6,1,.,0,.,.,.,140
1,9,1,.,0,.,.,.,140
2,0,.,100,1,100,.,.,140
2,2,.,20,1,.,1,2,140
2,4.5,1,.,0,.,.,.,140
2,9,1,.,0,.,.,.,140
";

#[test]
fn simulate_data_follows_the_records_against_analytic_solutions() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("m.model"), ALLOMETRIC).unwrap();
    std::fs::write(tmp.path().join("d.csv"), DESIGN).unwrap();
    let o = run(
        tmp.path(),
        &[
            "simulate",
            "--data",
            "d.csv",
            "--model",
            "m.model",
            "--typical",
            "--out",
            "t",
            "--as-dataset",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("times in days"));
    let rows = table(&tmp.path().join("t/records.csv"));
    assert_eq!(rows.len(), 7);
    let (v, k1, k2) = (3.0, 1.4 / 3.0, 2.8 / 3.0);
    let infusion = [(0.0, 100.0, 1.0)];
    let boluses = [(2.0, 20.0), (4.0, 20.0)];
    for r in &rows {
        let t = num(r, "TIME");
        let exact = match (r["ID"].as_str(), t <= 5.0) {
            ("1", true) => one_cmt(t, k1, v, &boluses, &infusion),
            ("1", false) => one_cmt(5.0, k1, v, &boluses, &infusion) * (-k2 * (t - 5.0)).exp(),
            _ => one_cmt(t, k2, v, &boluses, &infusion),
        };
        assert_relative_eq!(num(r, "IPRED"), exact, max_relative = 1e-6);
        assert_eq!(r["DV"], r["IPRED"], "--typical: no residual error");
        assert_eq!((r["REP"].as_str(), r["DVID"].as_str()), ("0", "conc"));
    }
    // --as-dataset: the data file with DV replaced, which reads back as the same design
    let rewritten = std::fs::read_to_string(tmp.path().join("t/dataset.csv")).unwrap();
    assert_eq!(rewritten.lines().count(), DESIGN.lines().count());
    for (a, b) in rewritten.lines().zip(DESIGN.lines()) {
        let (fa, fb): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        assert_eq!((&fa[..2], &fa[3..]), (&fb[..2], &fb[3..]));
    }
    // with random effects and residual error: the same bytes whatever the thread count
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("n{threads}");
        run(
            tmp.path(),
            &[
                "simulate",
                "--data",
                "d.csv",
                "--model",
                "m.model",
                "--n",
                "3",
                "--with-error",
                "--seed",
                "7",
                "--threads",
                threads,
                "--out",
                &out,
            ],
        );
        outs.push(std::fs::read(tmp.path().join(out).join("records.csv")).unwrap());
    }
    assert!(
        outs[0] == outs[1],
        "records.csv differs between 1 and 2 threads"
    );
    assert_eq!(table(&tmp.path().join("n1/records.csv")).len(), 21);
}

#[test]
fn a_missing_covariate_stops_fit_and_simulate_data_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("m.model"), ALLOMETRIC).unwrap();
    std::fs::write(
        tmp.path().join("d.csv"),
        "ID,TIME,DV,AMT,EVID\n1,0,.,100,1\n1,1,20,.,0\n1,2,14,.,0\n",
    )
    .unwrap();
    for args in [
        &["fit", "d.csv", "--model", "m.model", "--out", "f"][..],
        &[
            "simulate",
            "--data",
            "d.csv",
            "--model",
            "m.model",
            "--typical",
            "--out",
            "s",
        ][..],
    ] {
        let o = cartkin_in(tmp.path(), args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(
            e.contains("covariate `WT`")
                && e.contains("m.model line 6")
                && e.contains("no WT column"),
            "{e}"
        );
    }
    // bad options are named
    let o = cartkin_in(tmp.path(), &["check", "d.csv", "--time-unit", "weeks"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--time-unit: 'weeks': expected hours or days"),
        "{}",
        stderr(&o)
    );
    let o = cartkin_in(tmp.path(), &["check", "d.csv", "--time-varying", "linear"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--time-varying: 'linear': expected locf"),
        "{}",
        stderr(&o)
    );
}
