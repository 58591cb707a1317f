//! `cartkin bootstrap`: stratified resampling (library), the bootstrap of a small
//! population fit against its covariance step, shards merged byte-identically, the
//! individual method, and errors.

use std::path::Path;

use cartkin::bootstrap::{resample, strata_of, Strata};
use cartkin::data::{CovariateValue, Dataset};

use crate::common::cartkin_in;
use crate::common::estimate::subject;
use crate::vpc_cli::{write_decay_data, write_decay_data_at};

fn ok(dir: &Path, args: &[&str]) {
    let o = cartkin_in(dir, args);
    assert!(
        o.status.success(),
        "cartkin {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn fails(dir: &Path, args: &[&str], needle: &str) {
    let o = cartkin_in(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "cartkin {args:?}: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
}

fn table(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// Three subjects at DOSE 1 and five at DOSE 2.
fn two_levels() -> Dataset {
    let subjects = (0..8)
        .map(|i| {
            let mut s = subject(&format!("S{i}"), "y", &[(1.0, 1.0, false)], None);
            let dose = if i < 3 { 1.0 } else { 2.0 };
            s.covariates
                .constant
                .insert("DOSE".into(), CovariateValue::Numeric(dose));
            s
        })
        .collect();
    Dataset {
        source: "memory".into(),
        subjects,
        covariate_names: vec!["DOSE".into()],
    }
}

#[test]
fn resampling_keeps_stratum_sizes_renames_and_is_reproducible() {
    let data = two_levels();
    let keys = strata_of(&data, &Strata::Dose).unwrap();
    assert_eq!(keys, ["1", "1", "1", "2", "2", "2", "2", "2"]);
    let mut seen_differ = false;
    let first = resample(&data, &keys, 9, 0);
    for r in 0..20 {
        let b = resample(&data, &keys, 9, r);
        assert_eq!(b, resample(&data, &keys, 9, r), "same seed and replicate");
        seen_differ |= b != first;
        // Strata in key order: the first 3 drawn from DOSE 1 (S0–S2), then 5 from DOSE 2.
        for (k, s) in b.subjects.iter().enumerate() {
            let (pos, orig) = s.id.split_once('_').unwrap();
            assert_eq!(pos, (k + 1).to_string(), "new id {}", s.id);
            let i: usize = orig[1..].parse().unwrap();
            assert_eq!(i < 3, k < 3, "replicate {r}: {} in the wrong stratum", s.id);
        }
    }
    assert!(seen_differ, "20 replicates all equal");
    assert_ne!(resample(&data, &keys, 9, 0), resample(&data, &keys, 10, 0));
    // No strata: one group of 8; an unknown column is an error naming it.
    assert!(strata_of(&data, &Strata::None)
        .unwrap()
        .iter()
        .all(|k| k.is_empty()));
    let e = strata_of(&data, &Strata::Column("SEX".into())).unwrap_err();
    assert!(e.contains("SEX") && e.contains("S0"), "{e}");
}

#[test]
fn bootstrap_of_a_population_fit_covers_the_covariance_step_and_shards_merge() {
    // 30 subjects at days 1, 3, 7 (no record near the LLOQ: FOCE-I, fast), fitted by FOCE
    // with the sandwich covariance step.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_decay_data_at(d, 30, 21, &[1.0, 3.0, 7.0]);
    ok(
        d,
        &[
            "fit",
            "d.csv",
            "--model",
            "decay.model",
            "--method",
            "foce",
            "--npde-replicates",
            "0",
            "--out",
            "fit",
        ],
    );
    ok(
        d,
        &[
            "bootstrap",
            "fit",
            "--n",
            "30",
            "--seed",
            "2",
            "--threads",
            "2",
            "--out",
            "b",
        ],
    );
    let params = table(&d.join("fit/parameters.csv"));
    let summary = table(&d.join("b/bootstrap_summary.csv"));
    assert_eq!(
        summary[0].join(","),
        "parameter,estimate,median,p2_5,p97_5,n_replicates,n_converged,fraction_converged"
    );
    let names: Vec<&str> = summary[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["A", "k", "sd", "omega2_A"]);
    for row in &summary[1..] {
        let f = |i: usize| row[i].parse::<f64>().unwrap();
        assert!(f(7) >= 0.9, "fraction converged {}", row[7]);
        let p = params.iter().find(|p| p[0] == row[0]).unwrap();
        let (lo, hi) = (p[4].parse::<f64>().unwrap(), p[5].parse::<f64>().unwrap());
        assert_eq!(row[1], p[1], "the summary's estimate is the fit's");
        // The check of the issue: the bootstrap 95 % percentile interval and the
        // covariance step's 95 % CI have the same order of magnitude — the ratio of
        // their widths is within [1/3, 3] — and the bootstrap median lies inside the CI.
        // (30 replicates: the 2.5/97.5th percentiles are the extremes of the sample, so
        // only the order of magnitude is checked.)
        let ratio = (f(4) - f(3)) / (hi - lo);
        assert!(
            (1.0 / 3.0..=3.0).contains(&ratio),
            "{}: bootstrap [{}, {}] vs covariance CI [{lo}, {hi}] (ratio {ratio})",
            row[0],
            f(3),
            f(4)
        );
        assert!(
            f(2) > lo && f(2) < hi,
            "{}: median {} outside [{lo}, {hi}]",
            row[0],
            f(2)
        );
    }
    let rows = table(&d.join("b/bootstrap.csv"));
    assert_eq!(rows[0].join(","), "replicate,status,ofv,A,k,sd,omega2_A");
    assert_eq!(rows.len(), 31);

    // Shards (one thread) merge into the bytes of the unsharded run (two threads): the
    // first 6 replicates of it are those of a 6-replicate run.
    ok(
        d,
        &[
            "bootstrap",
            "fit",
            "--n",
            "6",
            "--seed",
            "2",
            "--threads",
            "1",
            "--out",
            "w",
        ],
    );
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let out = format!("s{i}");
        ok(
            d,
            &[
                "bootstrap",
                "fit",
                "--n",
                "6",
                "--seed",
                "2",
                "--threads",
                "1",
                "--shard",
                &shard,
                "--out",
                &out,
            ],
        );
    }
    ok(d, &["merge", "s3", "s1", "s2", "--out", "m"]);
    for f in ["bootstrap.csv", "bootstrap_summary.csv"] {
        assert_eq!(
            std::fs::read(d.join("m").join(f)).unwrap(),
            std::fs::read(d.join("w").join(f)).unwrap(),
            "{f}"
        );
    }
    let head: Vec<String> = std::fs::read_to_string(d.join("b/bootstrap.csv"))
        .unwrap()
        .lines()
        .take(7)
        .map(String::from)
        .collect();
    let six: Vec<String> = std::fs::read_to_string(d.join("w/bootstrap.csv"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(head, six);
    fails(
        d,
        &["merge", "s1", "s2", "--out", "m2"],
        "missing shards: 3/3",
    );
    fails(
        d,
        &["merge", "s1", "s1", "s2", "s3", "--out", "m3"],
        "also in",
    );
    // The report shows the summary.
    ok(d, &["report", "b"]);
    assert!(std::fs::read_to_string(d.join("b/report.html"))
        .unwrap()
        .contains("Bootstrap"));
}

#[test]
fn bootstrap_of_an_individual_fit_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_decay_data(d, 6, 8);
    ok(
        d,
        &["fit", "d.csv", "--model", "decay.model", "--out", "fit"],
    );
    ok(
        d,
        &[
            "bootstrap",
            "fit",
            "--n",
            "3",
            "--strata",
            "none",
            "--out",
            "b",
        ],
    );
    let rows = table(&d.join("b/bootstrap.csv"));
    assert_eq!(rows[0].join(","), "replicate,status,ofv,A,k,sd");
    assert_eq!(rows.len(), 4);
    assert!(rows[1..].iter().all(|r| r[1] != "failed"), "{rows:?}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("b/run.json")).unwrap()).unwrap();
    assert_eq!(run["fit"]["method"], "individual");
    fails(
        d,
        &["bootstrap", "fit", "--strata", "SEX", "--out", "x"],
        "--strata SEX",
    );
    fails(d, &["bootstrap", "fit", "--n", "0", "--out", "x"], "--n 0");
    fails(
        d,
        &["bootstrap", "nowhere", "--out", "x"],
        "not a directory",
    );
    fails(
        d,
        &["bootstrap", "fit", "--shard", "3/2", "--out", "x"],
        "--shard",
    );
    ok(
        d,
        &[
            "bootstrap",
            "fit",
            "--n",
            "4",
            "--slurm",
            "2",
            "--dry-run",
            "--out",
            "sl",
        ],
    );
    assert!(d.join("sl/slurm").is_dir());
}
