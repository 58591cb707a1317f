//! `cartkin simulate` and `cartkin merge` end to end with the built-in stein2019 model:
//! the typical subject equals the model's own prediction, threads and shards do not
//! change the bytes, and every bad argument exits 1 with a message naming it.

use std::path::Path;

use cartkin::data::{Covariates, Dose};
use cartkin::model::{Individual, Model, Predict};

use crate::common::cartkin_in as cartkin;

fn ok(dir: &Path, args: &[&str]) {
    let o = cartkin(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn fails(dir: &Path, args: &[&str], code: i32, message: &str) {
    let o = cartkin(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        err.contains(message),
        "{args:?}: expected '{message}' in: {err}"
    );
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn typical_trajectories_are_the_models_prediction_at_typical_values() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(
        d,
        &[
            "simulate",
            "--model",
            "stein2019",
            "--dose",
            "25e6,50e6",
            "--typical",
            "--days",
            "365",
            "--out",
            "typ",
        ],
    );
    let model = Model::load("stein2019").unwrap();
    let theta: Vec<f64> = model.parameters().iter().map(|p| p.typical).collect();
    let times: Vec<f64> = (0..=365).map(f64::from).collect();
    let mut expected = vec![0.0; times.len()];
    let covariates = Covariates::default();
    let doses = [Dose {
        time: 0.0,
        amount: 25e6,
        target: None,
        duration: None,
        line: 0,
    }];
    let ind = Individual {
        doses: &doses,
        covariates: &covariates,
    };
    model
        .predict(&theta, &ind, &times, &vec![0; times.len()], &mut expected)
        .unwrap();
    let text = read(&d.join("typ"), "simulation.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,dose,time,analyte,value"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2 * 366);
    for (i, r) in rows.iter().enumerate() {
        let (id, dose) = if i < 366 {
            ("1", "25000000")
        } else {
            ("2", "50000000")
        };
        assert_eq!((r[0], r[1], r[3]), (id, dose, "transgene"));
        assert_eq!(r[2].parse::<f64>().unwrap(), times[i % 366]);
        // written in the shortest form that reads back exactly: equal to the last bit
        assert_eq!(r[4].parse::<f64>().unwrap(), expected[i % 366], "row {i}");
    }
}

#[test]
fn thread_count_and_shards_do_not_change_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = [
        "simulate",
        "--model",
        "stein2019",
        "--dose",
        "25e6,100e6",
        "--n",
        "30",
        "--times",
        "0,1,4,7,14,28,56,84,168,365",
        "--with-error",
        "--seed",
        "7",
        "--as-dataset",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |extra: &[&str]| {
        let args = with(extra);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(d, &a);
    };
    run(&["--threads", "1", "--out", "t1"]);
    run(&["--threads", "2", "--out", "t2"]);
    run(&["--threads", "2", "--shard", "1/2", "--out", "s1"]);
    run(&["--threads", "1", "--shard", "2/2", "--out", "s2"]);
    ok(d, &["merge", "s2", "s1", "--out", "merged"]);
    for f in [
        "simulation.csv",
        "summary.csv",
        "endpoints.csv",
        "endpoints_summary.csv",
        "dataset.csv",
    ] {
        let one = read(&d.join("t1"), f);
        assert_eq!(one, read(&d.join("t2"), f), "{f}: 1 vs 2 threads");
        assert_eq!(
            one,
            read(&d.join("merged"), f),
            "{f}: merged shards vs whole run"
        );
    }
    // a full Ω from a file (here the model's own diagonal, written out) gives the same
    // files as the model's Ω: the same draws z and the same Cholesky factor diag(ω)
    std::fs::write(
        d.join("omega.csv"),
        "parameter,foldx,tmax,cmax,alpha,fb,beta\n\
         foldx,2.4,0,0,0,0,0\ntmax,0,0.38,0,0,0,0\ncmax,0,0,0.65,0,0,0\n\
         alpha,0,0,0,0.91,0,0\nfb,0,0,0,0,0.8,0\nbeta,0,0,0,0,0,0.86\n",
    )
    .unwrap();
    run(&["--omega", "omega.csv", "--out", "om"]);
    assert_eq!(
        read(&d.join("t1"), "simulation.csv"),
        read(&d.join("om"), "simulation.csv")
    );
    // the dataset is readable input for cartkin (round trip of the format)
    ok(d, &["check", "t1/dataset.csv"]);
    // the summary has one row per dose × analyte × time
    assert_eq!(
        read(&d.join("t1"), "summary.csv").lines().count(),
        1 + 2 * 10
    );
    assert_eq!(
        read(&d.join("t1"), "endpoints_summary.csv").lines().count(),
        1 + 2
    );
}

#[test]
fn cd19_bcell_with_a_pre_dose_baseline_and_quiet_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let o = cartkin(
        d,
        &[
            "simulate",
            "--model",
            "cd19_bcell",
            "--dose",
            "50e6",
            "--n",
            "3",
            "--times",
            "-7,0,7,28",
            "--analyte",
            "b_cells,transgene",
            "--out",
            "bl",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // not a terminal: no progress bar, nothing on stderr
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let sim = read(&d.join("bl"), "simulation.csv");
    // analytes in the model's order (transgene before b_cells), times from day -7
    assert!(sim.contains("\n1,50000000,-7,transgene,0\n"), "{sim}");
    assert!(sim.contains("\n1,50000000,-7,b_cells,"), "{sim}");
    // B-cell endpoints take the day -7 sample as baseline: no baseline flag
    let ep = read(&d.join("bl"), "endpoints.csv");
    let b_rows: Vec<&str> = ep.lines().filter(|l| l.contains(",b_cells,")).collect();
    assert_eq!(b_rows.len(), 3);
    assert!(b_rows
        .iter()
        .all(|l| !l.contains("baseline_at_day_0") && !l.contains("no_baseline")));
}

#[test]
fn bad_arguments_exit_1_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sim = |extra: &[&str]| -> Vec<String> {
        ["simulate", "--out", "x"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let check = |extra: &[&str], message: &str| {
        let args = sim(extra);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(d, &a, 1, message);
    };
    check(
        &["--model", "stein2019", "--dose", "0"],
        "dose: value '0': expected a finite number of cells > 0",
    );
    check(
        &["--model", "stein2019", "--dose", "-5e6"],
        "dose: value '-5000000'",
    );
    check(
        &["--model", "stein2019", "--dose", "abc"],
        "invalid value 'abc'",
    );
    check(&["--model", "stien2019", "--dose", "1e6"], "stien2019");
    check(
        &["--model", "stein2019", "--dose", "1e6", "--shard", "3/2"],
        "--shard \"3/2\": expected i/N",
    );
    check(
        &["--model", "stein2019", "--dose", "1e6", "--shard", "x"],
        "--shard",
    );
    check(
        &["--model", "stein2019", "--dose", "1e6", "--per-kg"],
        "--covariate WT~lognormal",
    );
    check(
        &["--model", "stein2019", "--dose", "1e6", "--n", "0"],
        "subjects at dose 1000000",
    );
    // (`--threads 0` means all cores, as in every command: see cli_flags)
    check(
        &["--model", "stein2019", "--dose", "1e6", "--analyte", "99"],
        "--analyte: code 99 is not in the DVID map",
    );
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--profiles",
            "some",
        ],
        "--profiles: value 'some': expected all or none",
    );
    // Memory: 10^12 subjects × 366 days, refused before the grid is built, and 2·10^9
    // subjects × 366 times after the design check, both with the numbers and the ways out.
    for n in ["1000000000000", "2000000000"] {
        let days: &[&str] = if n.len() > 10 {
            &["--days", "365"]
        } else {
            &[]
        };
        let args = [
            &["--model", "stein2019", "--dose", "1e6", "--n", n][..],
            days,
        ]
        .concat();
        check(&args, "subjects per dose level × 366 times");
        check(&args, "--shard i/N");
    }
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--analyte",
            "b_cells",
        ],
        "has no output `b_cells`; it has: transgene",
    );
    check(
        &["--model", "stein2019", "--dose", "1e6", "--param", "cmx=1"],
        "has no parameter `cmx`",
    );
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--param",
            "cmax=-1",
        ],
        "parameter cmax: value '-1'",
    );
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--covariate",
            "WT~lognormal:70",
        ],
        "--covariate",
    );
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--typical",
            "--with-error",
        ],
        "cannot be used with",
    );
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--schedule",
            "missing.txt",
        ],
        "missing.txt: cannot read",
    );
    std::fs::write(d.join("visits.txt"), "0, 7\n14 x\n").unwrap();
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--schedule",
            "visits.txt",
        ],
        "visits.txt:2: 'x': expected a time in days",
    );
    std::fs::write(
        d.join("bad.toml"),
        "name = \"x\"\nmodel = \"stein2019\"\nfollow_up_days = 365\nbogus = 1\n",
    )
    .unwrap();
    check(&["--scenario", "bad.toml"], "bad.toml");
    check(
        &["--scenario", "bad.toml", "--model", "stein2019"],
        "cannot be used with",
    );
    std::fs::write(
        d.join("omega.csv"),
        "parameter,foldx,cmax\nfoldx,2.4,0.6\ncmax,0.6\n",
    )
    .unwrap();
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--omega",
            "omega.csv",
        ],
        "omega.csv:3: 1 values: expected 2",
    );
    std::fs::write(
        d.join("omega.csv"),
        "parameter,foldx,cmax\nfoldx,2.4,2\ncmax,2,0.65\n",
    )
    .unwrap();
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--omega",
            "omega.csv",
        ],
        "positive semi-definite",
    );
    std::fs::write(
        d.join("omega.csv"),
        "parameter,foldx,cmx\nfoldx,2.4,0\ncmx,0,0.65\n",
    )
    .unwrap();
    check(
        &[
            "--model",
            "stein2019",
            "--dose",
            "1e6",
            "--omega",
            "omega.csv",
        ],
        "has no parameter `cmx`",
    );
    // nothing was written by the failures
    assert!(!d.join("x").exists());
    fails(
        d,
        &["merge", "nowhere", "--out", "m"],
        1,
        "cannot merge nowhere",
    );
}

#[test]
fn profiles_none_writes_no_simulation_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = [
        "simulate",
        "--model",
        "stein2019",
        "--dose",
        "5e6,50e6",
        "--n",
        "30",
        "--days",
        "60",
    ];
    ok(d, &[&base[..], &["--out", "all"]].concat());
    ok(
        d,
        &[&base[..], &["--profiles", "none", "--out", "none"]].concat(),
    );
    assert!(d.join("all/simulation.csv").exists());
    assert!(!d.join("none/simulation.csv").exists());
    for f in ["summary.csv", "endpoints.csv", "endpoints_summary.csv"] {
        assert_eq!(read(&d.join("all"), f), read(&d.join("none"), f), "{f}");
    }
}
