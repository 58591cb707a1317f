//! `cartkin fit --method individual` end to end: the real binary on data/example.csv with
//! the built-in stein2019 (transgene), in a scratch directory; output columns, run.json
//! provenance, thread-count independence, and every bad-input path with its exit code.

use std::path::{Path, PathBuf};
use std::process::Output;

use approx::assert_relative_eq;

use crate::common::cartkin_in as cartkin;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example.csv")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn stein2019_on_the_example_writes_the_four_files_independent_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = example();
    let data = data.to_str().unwrap();
    let mut outputs = Vec::new();
    let mut messages = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("out{threads}");
        let o = cartkin(
            tmp.path(),
            &[
                "fit",
                data,
                "--model",
                "stein2019",
                "--seed",
                "11",
                "--threads",
                threads,
                "--out",
                &out,
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        messages.push(stderr(&o));
        outputs.push(tmp.path().join(out));
    }
    // Same seed, 1 or 2 threads: the same bytes.
    for f in ["individual.csv", "parameters.csv", "predictions.csv"] {
        let a = std::fs::read(outputs[0].join(f)).unwrap();
        let b = std::fs::read(outputs[1].join(f)).unwrap();
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
    let dir = &outputs[0];
    let params = std::fs::read_to_string(dir.join("parameters.csv")).unwrap();
    assert!(params.starts_with(
        "parameter,estimate,se,rse_pct,ci_low,ci_high,cv_pct,median,min,max,n,fixed\n"
    ));
    assert_eq!(params.lines().count(), 1 + 7);
    let ind = std::fs::read_to_string(dir.join("individual.csv")).unwrap();
    let header = ind.lines().next().unwrap();
    assert!(header.starts_with("id,status,reason,neg2ll,n_obs,n_blq,evaluations,condition,foldx,foldx_se,foldx_rse_pct,foldx_ci_low,foldx_ci_high,tmax,"));
    assert_eq!(
        ind.lines().count(),
        1 + 18,
        "18 subjects in data/example.csv"
    );
    let pred = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
    assert!(pred.starts_with("id,time,analyte,dv,cens,pred,ipred,iwres\n"));
    // Every transgene record (252 in the file) and nothing else.
    assert_eq!(pred.lines().count(), 1 + 252);
    assert!(pred
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(2) == Some("transgene")));

    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let sha = cartkin::report::sha256_file(&example()).unwrap();
    assert_eq!(run["inputs"]["data"]["sha256"], sha.as_str());
    assert_eq!(run["model"]["origin"], "built-in stein2019");
    let model = cartkin::model::Model::load("stein2019").unwrap();
    assert_eq!(
        run["model"]["sha256"],
        cartkin::report::sha256_hex(model.source().as_bytes()).as_str()
    );
    assert_eq!(run["seed"], 11);
    // The closing line counts each status apart, as run.json does.
    let converged = run["n_converged"].as_u64().unwrap();
    let not_pd = run["n_hessian_not_pd"].as_u64().unwrap();
    let tally = format!("fit: {converged} of 18 subjects converged");
    assert!(messages[0].contains(&tally), "{}", messages[0]);
    let without_se = format!("{not_pd} at an optimum without standard errors");
    assert_eq!(
        messages[0].contains(&without_se),
        not_pd > 0,
        "{}",
        messages[0]
    );
    assert_eq!(run["observations"]["used"], 252);
    assert_eq!(run["observations"]["not_in_model"]["b_cells"], 252);
    assert_eq!(run["observations"]["not_in_model"]["igg"], 252);
    // AIC = −2LL + 2k with k = 7 free parameters × subjects with an estimate.
    let n = run["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["neg2ll"].is_null())
        .count() as f64;
    let total = run["neg2ll"].as_f64().unwrap();
    assert_relative_eq!(
        run["aic"].as_f64().unwrap(),
        total + 14.0 * n,
        max_relative = 1e-12
    );
    // −2LL total is the sum of the per-subject values.
    let sum: f64 = run["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["neg2ll"].as_f64())
        .sum();
    assert_relative_eq!(total, sum, max_relative = 1e-12);
    assert!(run["n_converged"].as_u64().unwrap() + run["n_hessian_not_pd"].as_u64().unwrap() >= 15);
}

#[test]
fn fix_and_analytes_are_applied_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let data = example();
    let o = cartkin(
        tmp.path(),
        &[
            "fit",
            data.to_str().unwrap(),
            "--model",
            "stein2019",
            "--fix",
            "sigma=0.4,fb=0.01",
            "--analytes",
            "transgene",
            "--out",
            "o",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("o/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["fixed"]["sigma"], 0.4);
    assert_eq!(run["fixed"]["fb"], 0.01);
    assert_eq!(run["free_parameters"].as_array().unwrap().len(), 5);
    assert_eq!(run["observations"]["excluded_by_analytes"]["b_cells"], 252);
    let params = std::fs::read_to_string(tmp.path().join("o/parameters.csv")).unwrap();
    assert!(
        params
            .lines()
            .any(|l| l.starts_with("sigma,0.4,,,,,,,,,0,true")),
        "{params}"
    );
}

#[test]
fn bad_input_exits_1_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let data = example();
    let data = data.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--model", "stein2091"], "stein2019"),
        (
            &["--model", "stein2019", "--fix", "sigmaa=0.4"],
            "no parameter `sigmaa`",
        ),
        (
            &["--model", "stein2019", "--fix", "sigma"],
            "expected NAME=VALUE",
        ),
        (
            &["--model", "stein2019", "--fix", "fb=2"],
            "outside the bounds",
        ),
        (
            &["--model", "stein2019", "--analytes", "b_cells"],
            "does not predict `b_cells`",
        ),
    ];
    for (i, (extra, needle)) in cases.iter().enumerate() {
        let out = format!("o{i}");
        let mut args = vec!["fit", data];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", &out]);
        let o = cartkin(tmp.path(), &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    // A dataset without any analyte the model predicts.
    std::fs::write(
        tmp.path().join("b.csv"),
        "ID,TIME,DV,DVID\nA,1,200,b_cells\nA,7,2,b_cells\n",
    )
    .unwrap();
    let o = cartkin(
        tmp.path(),
        &["fit", "b.csv", "--model", "stein2019", "--out", "ob"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no observation in b.csv is of an analyte model `stein2019` predicts"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_subject_failing_exits_2() {
    // A model whose prediction is never a finite number: every start is infeasible.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("broken.model"),
        "model broken\nparam k = 1 bounds 0.1 10\nparam sigma = 0.5 residual\n\
         output transgene = log(0 - k)\nerror transgene logadd(sigma)\n",
    )
    .unwrap();
    let data = example();
    let o = cartkin(
        tmp.path(),
        &[
            "fit",
            data.to_str().unwrap(),
            "--model",
            "broken.model",
            "--out",
            "o",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no subject's fit converged"),
        "{}",
        stderr(&o)
    );
    let ind = std::fs::read_to_string(tmp.path().join("o/individual.csv")).unwrap();
    assert!(ind.lines().skip(1).all(|l| l.contains(",failed,")), "{ind}");
}

#[test]
fn cd19_bcell_fits_transgene_and_b_cells_jointly() {
    // kexp, kdM, kkill free (the CAR-T expansion, memory decline and B-cell killing);
    // everything else fixed at the model's typical values through --fix.
    let model = cartkin::model::Model::load("cd19_bcell").unwrap();
    use cartkin::model::Predict;
    let fix: Vec<String> = model
        .parameters()
        .iter()
        .filter(|p| !p.fixed && !["kexp", "kdM", "kkill"].contains(&p.name.as_str()))
        .map(|p| format!("{}={}", p.name, p.typical))
        .collect();
    let fix = fix.join(",");
    let tmp = tempfile::tempdir().unwrap();
    let data = example();
    let o = cartkin(
        tmp.path(),
        &[
            "fit",
            data.to_str().unwrap(),
            "--model",
            "cd19_bcell",
            "--analytes",
            "transgene,b_cells",
            "--fix",
            &fix,
            "--out",
            "o",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("o/run.json")).unwrap())
            .unwrap();
    assert_eq!(
        run["free_parameters"],
        serde_json::json!(["kexp", "kdM", "kkill"])
    );
    // 252 transgene + 252 b_cells records used; igg excluded by --analytes.
    assert_eq!(run["observations"]["used"], 252 + 252);
    assert_eq!(run["observations"]["excluded_by_analytes"]["igg"], 252);
    let reached = run["n_converged"].as_u64().unwrap() + run["n_hessian_not_pd"].as_u64().unwrap();
    assert!(reached >= 15, "{run}");
    let pred = std::fs::read_to_string(tmp.path().join("o/predictions.csv")).unwrap();
    assert!(pred.lines().any(|l| l.split(',').nth(2) == Some("b_cells")));
}

#[test]
fn estimate_frees_only_the_named_parameters_like_fixing_all_the_others() {
    // `--estimate kexp,kdM,kkill` is shorthand for fixing every other free parameter at
    // its typical value: the two runs give the same bytes.
    let model = cartkin::model::Model::load("cd19_bcell").unwrap();
    use cartkin::model::Predict;
    let fix: Vec<String> = model
        .parameters()
        .iter()
        .filter(|p| !p.fixed && !["kexp", "kdM", "kkill"].contains(&p.name.as_str()))
        .map(|p| format!("{}={}", p.name, p.typical))
        .collect();
    let fix = fix.join(",");
    let tmp = tempfile::tempdir().unwrap();
    // the first four subjects of the example (the identity holds subject by subject)
    let text = std::fs::read_to_string(example()).unwrap();
    let subset: Vec<&str> = text
        .lines()
        .filter(|l| {
            let id = l.split(',').next().unwrap_or("");
            id == "ID" || matches!(id.parse::<u32>(), Ok(1..=4))
        })
        .collect();
    let data = tmp.path().join("four.csv");
    std::fs::write(&data, subset.join("\n") + "\n").unwrap();
    let data = data.to_str().unwrap();
    let common = [
        "fit",
        data,
        "--model",
        "cd19_bcell",
        "--analytes",
        "b_cells",
    ];
    let by_fix = cartkin(
        tmp.path(),
        &[&common[..], &["--fix", &fix, "--out", "a"]].concat(),
    );
    assert_eq!(by_fix.status.code(), Some(0), "{}", stderr(&by_fix));
    let by_estimate = cartkin(
        tmp.path(),
        &[&common[..], &["--estimate", "kexp,kdM,kkill", "--out", "b"]].concat(),
    );
    assert_eq!(
        by_estimate.status.code(),
        Some(0),
        "{}",
        stderr(&by_estimate)
    );
    for f in ["individual.csv", "parameters.csv", "predictions.csv"] {
        let a = std::fs::read(tmp.path().join("a").join(f)).unwrap();
        let b = std::fs::read(tmp.path().join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs between --fix and --estimate");
    }

    // Bad names: unknown, fixed in the file, or both estimated and fixed.
    for (args, expected) in [
        (
            vec!["--estimate", "kexp,foo"],
            "--estimate: model `cd19_bcell` has no parameter `foo`",
        ),
        (
            vec!["--estimate", "c_tg"],
            "`c_tg` is fixed in model `cd19_bcell`",
        ),
        (
            vec!["--estimate", "kexp", "--fix", "kexp=3"],
            "--estimate and --fix both name `kexp`",
        ),
    ] {
        let o = cartkin(
            tmp.path(),
            &[&common[..], &args[..], &["--out", "bad"]].concat(),
        );
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
        assert!(
            !tmp.path().join("bad").exists(),
            "nothing written for {args:?}"
        );
    }
}
