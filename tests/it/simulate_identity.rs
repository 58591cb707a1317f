//! Reproducibility: the same seed gives byte-identical files with 1 and 2 threads, and
//! shards merged with `merge` give the files of the unsharded run. The dataset written
//! with `--as-dataset` reads back with the simulated values.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::stein::Stein;
use cartkin::data::read_csv;
use cartkin::report::OutputDir;
use cartkin::simulate::merge::merge;
use cartkin::simulate::output::{write_results, ModelInfo, RunContext};
use cartkin::simulate::{
    simulate, CovariateDistribution, DoseLevel, DoseUnit, Shard, SimulateError, SimulationDesign,
};

const FILES: [&str; 5] = [
    "simulation.csv",
    "summary.csv",
    "endpoints.csv",
    "endpoints_summary.csv",
    "dataset.csv",
];

fn design(shard: Option<Shard>) -> SimulationDesign {
    SimulationDesign {
        doses: vec![
            DoseLevel { dose: 1e5, n: 23 },
            DoseLevel { dose: 5e5, n: 17 },
        ],
        dose_unit: DoseUnit::PerKg,
        times: vec![-7.0, 0.0, 1.0, 4.0, 7.0, 9.3, 14.0, 28.0, 84.0, 365.0],
        covariates: vec![(
            "WT".into(),
            CovariateDistribution::LogNormal {
                median: 70.0,
                cv_pct: 20.0,
            },
        )],
        residual_error: true,
        seed: 42,
        shard,
        ..SimulationDesign::default()
    }
}

fn run(dir: &Path, threads: usize, shard: Option<Shard>) {
    let model = Stein::published();
    let d = design(shard).check(&model).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let sim = pool.install(|| simulate(&model, &d, &|_| {})).unwrap();
    let out = OutputDir::prepare(dir, false).unwrap();
    let ctx = RunContext {
        model: ModelInfo {
            name: "stein2019_reference".into(),
            origin: "tests/simulate_common".into(),
            sha256: "0".repeat(64),
        },
        threads,
        elapsed_seconds: 0.0,
        as_dataset: true,
        scenario: None,
        profiles: Default::default(),
    };
    pool.install(|| write_results(&out, &d, &sim, &ctx))
        .unwrap();
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

#[test]
fn one_and_two_threads_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t2"));
    run(&a, 1, None);
    run(&b, 2, None);
    for f in FILES {
        assert!(
            read(&a, f) == read(&b, f),
            "{f} differs between 1 and 2 threads"
        );
    }
    // and the files are not trivially empty: 40 subjects × 10 times + header
    let sim = String::from_utf8(read(&a, "simulation.csv")).unwrap();
    assert_eq!(sim.lines().count(), 40 * 10 + 1);
    assert!(sim.starts_with("id,dose,time,analyte,value,cens\n1,100000,-7,transgene,"));
}

#[test]
fn merged_shards_equal_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    run(&whole, 2, None);
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let d = tmp.path().join(format!("shard{i}"));
            run(&d, 1, Some(Shard { index: i, count: 3 }));
            d
        })
        .collect();
    // a shard has no summaries
    assert!(!shards[0].join("summary.csv").exists());
    let merged = tmp.path().join("merged");
    let out = OutputDir::prepare(&merged, false).unwrap();
    // any order of the directories
    merge(
        &[shards[2].clone(), shards[0].clone(), shards[1].clone()],
        &out,
    )
    .unwrap();
    for f in FILES {
        assert!(
            read(&whole, f) == read(&merged, f),
            "{f} differs between the merged shards and the unsharded run"
        );
    }
    let run_json: serde_json::Value = serde_json::from_slice(&read(&merged, "run.json")).unwrap();
    assert_eq!(run_json["shard"], serde_json::Value::Null);
    assert_eq!(run_json["subjects"]["count"], 40);
}

#[test]
fn merge_refuses_missing_duplicate_and_foreign_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let s1 = tmp.path().join("s1");
    let s2 = tmp.path().join("s2");
    run(&s1, 1, Some(Shard { index: 1, count: 2 }));
    run(&s2, 1, Some(Shard { index: 2, count: 2 }));
    let out = |name: &str| OutputDir::prepare(&tmp.path().join(name), false).unwrap();
    let msg = |e: SimulateError| e.to_string();

    let e = merge(std::slice::from_ref(&s1), &out("m1")).unwrap_err();
    assert!(msg(e).contains("missing shards: 2/2"));
    let e = merge(&[s1.clone(), s1.clone()], &out("m2")).unwrap_err();
    assert!(msg(e).contains("shard 1/2 also in"));

    // a shard of another seed
    let other = tmp.path().join("other");
    let model = Stein::published();
    let mut d = design(Some(Shard { index: 2, count: 2 }));
    d.seed = 43;
    let d = d.check(&model).unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    let ctx = RunContext {
        model: ModelInfo {
            name: "stein2019_reference".into(),
            origin: "tests/simulate_common".into(),
            sha256: "0".repeat(64),
        },
        threads: 1,
        elapsed_seconds: 0.0,
        as_dataset: true,
        scenario: None,
        profiles: Default::default(),
    };
    write_results(&OutputDir::prepare(&other, false).unwrap(), &d, &sim, &ctx).unwrap();
    let e = merge(&[s1.clone(), other], &out("m3")).unwrap_err();
    assert!(msg(e).contains("its settings differ"));

    // an unsharded run is not a shard
    let whole = tmp.path().join("whole");
    run(&whole, 1, None);
    let e = merge(&[whole], &out("m4")).unwrap_err();
    assert!(msg(e).contains("not a shard"));
}

#[test]
fn the_dataset_reads_back_with_the_simulated_values() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run(&dir, 1, None);
    let loaded = read_csv(&dir.join("dataset.csv")).unwrap();
    let data = loaded.dataset;
    assert_eq!(data.subjects.len(), 40);
    let model = Stein::published();
    let d = design(None).check(&model).unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    for (subject, s) in data.subjects.iter().zip(&sim.subjects) {
        assert_eq!(subject.id, s.id.to_string());
        // per-kg dose: AMT = dose/kg × WT, with DOSE_PER_KG and WT as covariates
        assert_eq!(subject.doses.len(), 1);
        assert_eq!(subject.doses[0].amount, s.amount);
        let wt = subject.covariates.numeric("WT", 0.0).unwrap();
        assert_eq!(wt, s.subject.covariates[0]);
        assert_eq!(subject.covariates.numeric("DOSE_PER_KG", 0.0), Some(s.dose));
        assert_eq!(s.amount, s.dose * wt);
        assert_eq!(subject.observations.len(), sim.times.len());
        for (o, (t, &time)) in subject
            .observations
            .iter()
            .zip(sim.times.iter().enumerate())
        {
            let (v, c) = sim.value(s, t, 0);
            assert_eq!(
                (o.time, o.value, o.censored, o.lloq),
                (time, v, c, Some(20.0))
            );
        }
    }
}
