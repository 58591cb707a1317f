//! A FOCE-I fit gives the same bytes whatever the thread count: the EBE searches run in
//! parallel over subjects, each warm-started from its own previous mode, the objective
//! sums the subjects in dataset order, and the NPDE draws come from per-subject streams.

use std::path::Path;

use crate::common::{cartkin_in, repo_file};

/// The first `n` subjects of a dataset with the ID in its first column.
fn first_subjects(text: &str, n: u32) -> String {
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().expect("header"));
    for line in lines {
        let id: u32 = line.split(',').next().unwrap().parse().expect("numeric ID");
        if id <= n {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn fit(dir: &Path, threads: &str) -> std::path::PathBuf {
    let model = repo_file("benches/data/pheno.model");
    let out = format!("t{threads}");
    let o = cartkin_in(
        dir,
        &[
            "fit",
            "pheno20.csv",
            "--model",
            model.to_str().expect("utf-8 path"),
            "--method",
            "foce",
            "--time-unit",
            "hours",
            "--threads",
            threads,
            "--npde-replicates",
            "200",
            "--no-plots",
            "--out",
            &out,
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir.join(out)
}

#[test]
fn same_fit_with_one_and_two_threads() {
    // the first 20 neonates of the pheno-like bench data (benches/data/README.md): 2 η,
    // proportional error, multiple IV boluses
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = std::fs::read_to_string(repo_file("benches/data/pheno_sim.csv")).unwrap();
    std::fs::write(dir.path().join("pheno20.csv"), first_subjects(&data, 20)).unwrap();
    let (one, two) = (fit(dir.path(), "1"), fit(dir.path(), "2"));
    for table in ["parameters.csv", "individual.csv", "predictions.csv"] {
        let a = std::fs::read_to_string(one.join(table)).unwrap();
        let b = std::fs::read_to_string(two.join(table)).unwrap();
        assert!(a == b, "{table} differs between 1 and 2 threads");
    }
    let run = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join("run.json")).unwrap()).unwrap()
    };
    let (a, b) = (run(&one), run(&two));
    assert_eq!(a["ofv"], b["ofv"]);
    assert_eq!(a["convergence"], b["convergence"]);
    assert_eq!(a["covariance"], b["covariance"]);
}
