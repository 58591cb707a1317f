//! `cartkin vpc` end to end: a population fit and an individual fit of a closed-form
//! model on simulated data, the files written (vpc.csv columns, PNG, SVG, run.json),
//! the report, reproducibility by thread count and the errors on a bad FIT_DIR.

use std::path::Path;

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use crate::common::cartkin_in;
use crate::common::figures::{assert_png, assert_svg};

/// y = A·exp(−k·t), η on A, log-additive error, LLOQ 5 (closed form: fits in a second).
pub const DECAY_MODEL: &str = "model decay\n\
param A = 100 bounds 1e-3 1e9 log iiv 0.1\n\
param k = 0.2 bounds 1e-4 100 log\n\
param sd = 0.2 residual\n\
output y = A * exp(-k * t) lloq 5\n\
error y logadd(sd)\n";

/// `n` subjects of the decay model at days 1, 3, 7, 14 (see [`write_decay_data_at`]).
pub fn write_decay_data(dir: &Path, n: usize, seed: u64) {
    write_decay_data_at(dir, n, seed, &[1.0, 3.0, 7.0, 14.0]);
}

/// `n` subjects of the decay model at `times` (A = 100·e^η, η ~ N(0, 0.09),
/// k = 0.2, sd 0.2; seeded), censored below 5; DOSE 1 for the first half, 2 for the
/// rest (a stratum label only: the model does not use it).
pub fn write_decay_data_at(dir: &Path, n: usize, seed: u64, times: &[f64]) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut text = String::from("ID,TIME,DV,DVID,CENS,LLOQ,DOSE\n");
    for i in 1..=n {
        let eta: f64 =
            0.3 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
        let dose = if 2 * i <= n { 1 } else { 2 };
        for &t in times {
            let e: f64 = StandardNormal.sample(&mut rng);
            let y = 100.0 * (eta - 0.2 * t + 0.2 * e).exp();
            if y < 5.0 {
                text.push_str(&format!("{i},{t},5,y,1,5,{dose}\n"));
            } else {
                text.push_str(&format!("{i},{t},{y},y,0,5,{dose}\n"));
            }
        }
    }
    std::fs::write(dir.join("decay.model"), DECAY_MODEL).unwrap();
    std::fs::write(dir.join("d.csv"), text).unwrap();
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = cartkin_in(dir, args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "cartkin {args:?}: {err}");
    err
}

fn fails(dir: &Path, args: &[&str], needle: &str) {
    let o = cartkin_in(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "cartkin {args:?}: {err}");
    assert!(
        err.contains(needle),
        "cartkin {args:?}: expected `{needle}` in: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn vpc_of_a_population_fit_writes_table_plots_and_report_independent_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_decay_data(d, 40, 3);
    let fit = [
        "fit",
        "d.csv",
        "--model",
        "decay.model",
        "--method",
        "foce",
        "--covariance",
        "none",
        "--npde-replicates",
        "0",
        "--out",
        "fit",
    ];
    ok(d, &fit);
    ok(
        d,
        &[
            "vpc",
            "fit",
            "--n",
            "60",
            "--seed",
            "4",
            "--threads",
            "1",
            "--out",
            "v1",
        ],
    );
    ok(
        d,
        &[
            "vpc",
            "fit",
            "--n",
            "60",
            "--seed",
            "4",
            "--threads",
            "2",
            "--out",
            "v2",
        ],
    );
    let a = std::fs::read(d.join("v1/vpc.csv")).unwrap();
    assert_eq!(a, std::fs::read(d.join("v2/vpc.csv")).unwrap());
    let text = String::from_utf8(a).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "analyte,bin,time,time_min,time_max,n,n_blq,lloq,blq_obs,blq_sim_lo,blq_sim_median,\
         blq_sim_hi,p05_obs,p05_sim_lo,p05_sim_median,p05_sim_hi,p50_obs,p50_sim_lo,\
         p50_sim_median,p50_sim_hi,p95_obs,p95_sim_lo,p95_sim_median,p95_sim_hi"
    );
    // 4 visits (auto → visits), 40 records each.
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4);
    assert!(rows
        .iter()
        .all(|r| r[0] == "y" && r[5] == "40" && r[7] == "5"));
    assert_png(&d.join("v1/vpc_y.png"));
    assert_svg(&d.join("v1/vpc_y.svg"), 20);
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("v1/run.json")).unwrap()).unwrap();
    assert_eq!(run["command"], "vpc");
    assert_eq!(run["fit"]["method"], "foce");
    assert_eq!(run["omega"]["parameters"][0], "A");
    ok(d, &["report", "v1"]);
    let html = std::fs::read_to_string(d.join("v1/report.html")).unwrap();
    assert!(html.contains("Visual predictive check") && html.contains("<svg"));
    // pcVPC and K bins run; the run still reads a fit moved with its data.
    ok(
        d,
        &[
            "vpc",
            "fit",
            "--n",
            "20",
            "--pred-corrected",
            "--bins",
            "2",
            "--out",
            "pc",
        ],
    );
    let pc = std::fs::read_to_string(d.join("pc/vpc.csv")).unwrap();
    assert_eq!(pc.lines().count(), 3);
}

#[test]
fn vpc_of_an_individual_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_decay_data(d, 12, 5);
    ok(
        d,
        &["fit", "d.csv", "--model", "decay.model", "--out", "fit"],
    );
    ok(
        d,
        &[
            "vpc",
            "fit",
            "--n",
            "30",
            "--bins",
            "visits",
            "--no-plots",
            "--out",
            "v",
        ],
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("v/run.json")).unwrap()).unwrap();
    assert!(run["simulated"]
        .as_str()
        .unwrap()
        .starts_with("individual fit"));
    assert!(!d.join("v/vpc_y.png").exists());
}

#[test]
fn bad_fit_dir_and_options_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_decay_data(d, 6, 1);
    fails(d, &["vpc", "nowhere"], "not a directory");
    std::fs::create_dir(d.join("empty")).unwrap();
    fails(d, &["vpc", "empty"], "cannot read run.json");
    ok(
        d,
        &["fit", "d.csv", "--model", "decay.model", "--out", "fit"],
    );
    fails(d, &["vpc", "fit", "--bins", "jenks"], "--bins");
    fails(d, &["vpc", "fit", "--n", "0"], "--n 0");
    ok(d, &["vpc", "fit", "--n", "5", "--out", "v", "--no-plots"]);
    fails(d, &["vpc", "v"], "expected `cartkin fit`");
    fails(d, &["vpc", "fit", "--n", "5", "--out", "v"], "--force");
    // The data changed since the fit.
    let mut data = std::fs::read_to_string(d.join("d.csv")).unwrap();
    data.push_str("6,20,5,y,1,5,2\n");
    std::fs::write(d.join("d.csv"), data).unwrap();
    fails(
        d,
        &["vpc", "fit", "--out", "v3"],
        "has changed since the fit",
    );
    std::fs::remove_file(d.join("fit/parameters.csv")).unwrap();
    fails(d, &["vpc", "fit", "--out", "v4"], "no parameters.csv");
}
