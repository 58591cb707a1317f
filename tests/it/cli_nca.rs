//! `cartkin nca` end to end: the real binary on small CSV files written here, results
//! checked against hand computations (arithmetic in the comments, relative 1e-12), and
//! every bad-input path checked for its message and exit code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use approx::assert_relative_eq;

const DATA: &str = "\
ID,TIME,DV,DVID,CENS,LLOQ,DOSE,SEX
A,0,BLQ,transgene,,20,50000000,F
A,7,1000,transgene,0,20,50000000,F
A,14,500,transgene,0,20,50000000,F
A,21,250,transgene,0,20,50000000,F
A,35,62.5,transgene,0,20,50000000,F
A,56,<20,transgene,,20,50000000,F
B,7,2000,transgene,0,20,50000000,M
B,14,1000,transgene,0,20,50000000,M
B,28,250,transgene,0,20,50000000,M
C,-7,200,b_cells,0,1,100000000,F
C,7,1,b_cells,1,1,100000000,F
C,28,0.5,b_cells,0,1,100000000,F
C,90,15,b_cells,0,1,100000000,F
C,90,12,naive_b,0,1,100000000,F
C,120,20,b_cells,0,1,100000000,F
C,-7,10,igg,0,0.3,100000000,F
C,90,8,igg,0,0.3,100000000,F
";

use crate::common::cartkin_in as cartkin;

fn setup(data: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.csv");
    std::fs::write(&file, data).unwrap();
    (dir, file)
}

/// Rows of a CSV file as maps column → field.
fn read_table(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn row<'a>(
    rows: &'a [HashMap<String, String>],
    id: &str,
    analyte: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["id"] == id && r["analyte"] == analyte)
        .unwrap_or_else(|| panic!("no row {id} {analyte}"))
}

fn num(r: &HashMap<String, String>, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = '{}' is not a number", r[col]))
}

fn ln2() -> f64 {
    2f64.ln()
}

// A: 0→7 up 7·1000/2 = 3500; 7→14 7·500/ln 2; 14→21 7·250/ln 2;
//    21→35 (250 → 62.5) 14·187.5/ln 4 = 1312.5/ln 2 → AUClast = 3500 + 6562.5/ln 2.
//    AUC0–28: C(28) = 250·(62.5/250)^(1/2) = 125 (log), 21→28 = 7·125/ln 2
//    → 3500 + (3500 + 1750 + 875)/ln 2 = 3500 + 6125/ln 2.
//    λz on 14, 21, 35 (after Tmax 7): exactly ln 2/7 (t½ 7).
// B: no sample at 0, C(0) = 0: 0→7 7000; 7→14 7·1000/ln 2; 14→28 14·750/ln 4 = 5250/ln 2
//    → AUC0–28 = 7000 + 12250/ln 2 at a sample.
fn auc28_a() -> f64 {
    3500.0 + 6125.0 / ln2()
}
fn auc28_b() -> f64 {
    7000.0 + 12250.0 / ln2()
}

#[test]
fn nca_writes_per_subject_metrics_that_match_hand_computation() {
    let (dir, _) = setup(DATA);
    let out = cartkin(dir.path(), &["nca", "data.csv", "--out", "res"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_table(&dir.path().join("res/nca.csv"));
    // A: transgene; B: transgene; C: b_cells, igg, naive_b
    assert_eq!(rows.len(), 5);

    let a = row(&rows, "A", "transgene");
    assert_eq!(a["dose_level"], "50000000");
    assert_eq!((num(a, "cmax"), num(a, "tmax")), (1000.0, 7.0));
    assert_eq!((num(a, "clast"), num(a, "tlast")), (62.5, 35.0));
    assert_relative_eq!(
        num(a, "auclast"),
        3500.0 + 6562.5 / ln2(),
        max_relative = 1e-12
    );
    assert_relative_eq!(num(a, "auc0_28"), auc28_a(), max_relative = 1e-12);
    assert_eq!(a["auc0_28_status"], "interpolated");
    assert_eq!(a["auc0_84"], ""); // missing: an empty field
    assert_eq!(a["auc0_84_status"], "na_beyond_tlast");
    assert_relative_eq!(num(a, "lambda_z"), ln2() / 7.0, max_relative = 1e-12);
    assert_relative_eq!(num(a, "half_life"), 7.0, max_relative = 1e-12);
    assert_eq!(a["lambda_z_times"], "14;21;35");
    assert_eq!(num(a, "time_below_lloq"), 56.0);
    assert_eq!((num(a, "n_obs"), num(a, "n_blq")), (6.0, 2.0));
    assert_eq!(a["baseline"], "");

    let b = row(&rows, "B", "transgene");
    assert_relative_eq!(num(b, "auc0_28"), auc28_b(), max_relative = 1e-12);
    assert_eq!(b["auc0_28_status"], "at_sample");
    assert!(b["flags"].contains("c0_imputed"), "{}", b["flags"]);
    assert!(
        b["flags"].contains("lambda_z_too_few_points"),
        "{}",
        b["flags"]
    );

    // C: baseline 200 (day −7); nadir 0.5 at 28; aplasia from the BLQ (<1) at 7 until 15 at
    // 90 → 83 days; recovery at 90 (confirmed by 20 at 120); naive fraction 12/15 = 0.8
    let c = row(&rows, "C", "b_cells");
    assert_eq!(c["dose_level"], "100000000");
    assert_eq!(
        (num(c, "baseline"), num(c, "nadir"), num(c, "nadir_time")),
        (200.0, 0.5, 28.0)
    );
    assert_relative_eq!(num(c, "nadir_pct_baseline"), 0.25, max_relative = 1e-12);
    assert_eq!(
        (num(c, "time_to_aplasia"), num(c, "aplasia_duration")),
        (7.0, 83.0)
    );
    assert_eq!(num(c, "time_to_recovery"), 90.0);
    assert_relative_eq!(
        num(c, "naive_fraction_at_recovery"),
        0.8,
        max_relative = 1e-12
    );
    assert_eq!(c["cmax"], "");
    // IgG 10 → 8: 80 % of baseline
    let g = row(&rows, "C", "igg");
    assert_relative_eq!(num(g, "nadir_pct_baseline"), 80.0, max_relative = 1e-12);
}

#[test]
fn nca_summary_by_dose_level_matches_hand_computation() {
    let (dir, _) = setup(DATA);
    let out = cartkin(dir.path(), &["nca", "data.csv", "--out", "res"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_table(&dir.path().join("res/nca_summary.csv"));
    let s = rows
        .iter()
        .find(|r| {
            r["dose_level"] == "50000000" && r["analyte"] == "transgene" && r["metric"] == "auc0_28"
        })
        .unwrap();
    // two subjects: geometric mean √(a·b), arithmetic (a + b)/2, SD |a − b|/√2,
    // geometric CV 100·sqrt(exp(s²) − 1) with s² = (ln a − ln b)²/2
    let (x, y) = (auc28_a(), auc28_b());
    assert_eq!((num(s, "n"), num(s, "n_missing")), (2.0, 0.0));
    assert_relative_eq!(num(s, "geo_mean"), (x * y).sqrt(), max_relative = 1e-12);
    assert_relative_eq!(num(s, "mean"), (x + y) / 2.0, max_relative = 1e-12);
    assert_relative_eq!(
        num(s, "sd"),
        (x - y).abs() / 2f64.sqrt(),
        max_relative = 1e-12
    );
    let s2 = (x.ln() - y.ln()).powi(2) / 2.0;
    assert_relative_eq!(
        num(s, "geo_cv_pct"),
        100.0 * s2.exp_m1().sqrt(),
        max_relative = 1e-9
    );
    assert_relative_eq!(num(s, "min"), x.min(y), max_relative = 1e-12);
    assert_relative_eq!(num(s, "max"), x.max(y), max_relative = 1e-12);
    // AUC0–84: missing for A (beyond Tlast) and B → n 0, 2 missing, statistics NA
    let s = rows
        .iter()
        .find(|r| r["dose_level"] == "50000000" && r["metric"] == "auc0_84")
        .unwrap();
    assert_eq!(
        (
            s["n"].as_str(),
            s["n_missing"].as_str(),
            s["geo_mean"].as_str()
        ),
        ("0", "2", "")
    );
    // dose levels in increasing order
    let first_level: Vec<&str> = rows.iter().map(|r| r["dose_level"].as_str()).collect();
    assert_eq!(first_level[0], "50000000");
    assert_eq!(*first_level.last().unwrap(), "100000000");
}

#[test]
fn options_method_analyte_and_by() {
    let (dir, _) = setup(DATA);
    let out = cartkin(
        dir.path(),
        &[
            "nca",
            "data.csv",
            "--out",
            "res",
            "--method",
            "linear",
            "--analyte",
            "transgene",
            "--by",
            "sex",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_table(&dir.path().join("res/nca.csv"));
    assert_eq!(rows.len(), 2);
    let a = row(&rows, "A", "transgene");
    assert_eq!(a["sex"], "F");
    // linear: 3500 + 7·1500/2 + 7·750/2 + C(28) = 156.25 → 7·(250 + 156.25)/2
    assert_relative_eq!(
        num(a, "auc0_28"),
        3500.0 + 5250.0 + 2625.0 + 7.0 * 406.25 / 2.0,
        max_relative = 1e-12
    );
    let summary = read_table(&dir.path().join("res/nca_summary.csv"));
    assert!(summary.iter().any(|r| r["sex"] == "M"));
}

#[test]
fn extrapolation_past_tlast_is_opt_in_and_labelled() {
    // A: AUC0–84 = AUClast + 62.5·(1 − e^(−(ln 2/7)·49))/(ln 2/7) = AUClast + 437.5·(1 − 2^−7)/ln 2
    let (dir, _) = setup(DATA);
    let out = cartkin(
        dir.path(),
        &[
            "nca",
            "data.csv",
            "--out",
            "res",
            "--beyond-tlast",
            "extrapolate",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_table(&dir.path().join("res/nca.csv"));
    let a = row(&rows, "A", "transgene");
    assert_eq!(a["auc0_84_status"], "extrapolated");
    let expected = 3500.0 + 6562.5 / ln2() + 437.5 * (1.0 - 2f64.powi(-7)) / ln2();
    assert_relative_eq!(num(a, "auc0_84"), expected, max_relative = 1e-12);
}

fn fails_with(dir: &Path, args: &[&str], needles: &[&str]) {
    let out = cartkin(dir, args);
    assert_eq!(out.status.code(), Some(1), "args {args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "stderr for {args:?} lacks '{n}':\n{err}");
    }
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let (dir, _) = setup(DATA);
    let d = dir.path();
    fails_with(d, &["nca", "missing.csv", "--out", "r1"], &["missing.csv"]);
    fails_with(
        d,
        &["nca", "data.csv", "--out", "r2", "--analyte", "il6"],
        &["--analyte", "il6", "transgene"],
    );
    fails_with(
        d,
        &["nca", "data.csv", "--out", "r3", "--by", "weight"],
        &["--by", "weight", "DOSE, SEX"],
    );
    fails_with(
        d,
        &["nca", "data.csv", "--out", "r4", "--lambda-z-window", "28"],
        &["--lambda-z-window", "START,END"],
    );
    fails_with(
        d,
        &["nca", "data.csv", "--out", "r5", "--auc-ends", "84,28"],
        &["partial_ends", "strictly increasing"],
    );
    fails_with(
        d,
        &[
            "nca",
            "data.csv",
            "--out",
            "r6",
            "--aplasia-threshold",
            "20",
        ],
        &["recovery_threshold"],
    );
    fails_with(d, &["nca", "data.csv", "--method", "loglog"], &["loglog"]);
    // an existing result directory is not overwritten without --force
    assert!(cartkin(d, &["nca", "data.csv", "--out", "r7"])
        .status
        .success());
    fails_with(d, &["nca", "data.csv", "--out", "r7"], &["--force"]);
    assert!(cartkin(d, &["nca", "data.csv", "--out", "r7", "--force"])
        .status
        .success());
    // nothing written for failed runs
    assert!(!d.join("r2").exists() && !d.join("r5").exists());
}

#[test]
fn unusable_data_names_file_line_and_column() {
    // duplicate record and a non-numeric time: refused by the reader, every problem listed
    let (dir, _) = setup("ID,TIME,DV,DVID\nA,0,5,transgene\nA,0,6,transgene\nA,x,1,transgene\n");
    fails_with(
        dir.path(),
        &["nca", "data.csv", "--out", "r"],
        &["data.csv:3", "data.csv:4", "TIME"],
    );
}

#[test]
fn nca_works_in_the_data_time_unit_and_says_so_in_run_json() {
    let (dir, _) = setup(DATA);
    let out = cartkin(
        dir.path(),
        &[
            "nca",
            "data.csv",
            "--time-unit",
            "hours",
            "--auc-ends",
            "21",
            "--out",
            "h",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_table(&dir.path().join("h/nca.csv"));
    let a = row(&rows, "A", "transgene");
    // no conversion: Tmax is the 7 of the file, now read as hours; AUC0-21 by trapezoids:
    // 0→7 linear up ½·7·1000 = 3500, 7→14 and 14→21 log down
    // (500 − 1000)·7/ln(0.5) = 3500/ln2 and (250 − 500)·7/ln(0.5) = 1750/ln2
    assert_eq!(num(a, "tmax"), 7.0);
    assert_relative_eq!(
        num(a, "auc0_21"),
        3500.0 + 5250.0 / ln2(),
        max_relative = 1e-12
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("h/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["command"], "nca");
    assert_eq!(run["time_unit"], "hours");
    assert_eq!(run["inputs"]["data"]["time_unit"], "hours");
    assert_eq!(run["settings"]["auc_ends"], serde_json::json!([21.0]));
    assert_eq!(run["settings"]["method"], "linlog");
    assert_eq!(run["inputs"]["data"]["sha256"].as_str().unwrap().len(), 64);
}
