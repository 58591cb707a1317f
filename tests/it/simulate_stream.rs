//! Bounded memory in `simulate`: the streamed run (subjects simulated and written chunk
//! by chunk) gives the bytes of the in-memory run whatever the chunk size and thread
//! count, `--profiles none` leaves out only simulation.csv (also through shards and
//! `merge`), and the summary memory estimate is what the summary arrays allocate.

use crate::common::stein::Stein;

use std::fs;
use std::path::Path;

use cartkin::report::OutputDir;
use cartkin::simulate::memory::RunSize;
use cartkin::simulate::merge::merge;
use cartkin::simulate::output::{write_results, ModelInfo, RunContext};
use cartkin::simulate::percentile::PERCENTILES;
use cartkin::simulate::summary::{summary_bytes, SummaryAccumulator};
use cartkin::simulate::{
    simulate, simulate_streamed, CovariateDistribution, DoseLevel, DoseUnit, Profiles, ResultSink,
    Shard, SimulationDesign, ValidDesign,
};

const FILES: [&str; 5] = [
    "simulation.csv",
    "summary.csv",
    "endpoints.csv",
    "endpoints_summary.csv",
    "dataset.csv",
];

fn design(shard: Option<Shard>, residual_error: bool) -> ValidDesign {
    SimulationDesign {
        doses: vec![
            DoseLevel { dose: 1e5, n: 13 },
            DoseLevel { dose: 5e5, n: 8 },
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
        residual_error,
        seed: 7,
        shard,
        ..SimulationDesign::default()
    }
    .check(&Stein::published())
    .unwrap()
}

fn context(profiles: Profiles) -> RunContext {
    RunContext {
        model: ModelInfo {
            name: "stein2019_reference".into(),
            origin: "tests/it/common/simulate.rs".into(),
            sha256: "0".repeat(64),
        },
        threads: 1,
        elapsed_seconds: 0.0,
        as_dataset: true,
        scenario: None,
        profiles,
    }
}

fn in_memory(dir: &Path, d: &ValidDesign, profiles: Profiles) {
    let sim = simulate(&Stein::published(), d, &|_| {}).unwrap();
    let out = OutputDir::prepare(dir, false).unwrap();
    write_results(&out, d, &sim, &context(profiles)).unwrap();
}

fn streamed(dir: &Path, d: &ValidDesign, profiles: Profiles, chunk: usize, threads: usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let out = OutputDir::prepare(dir, false).unwrap();
    pool.install(|| {
        let mut sink = ResultSink::new(&out, d, profiles, true).unwrap();
        let n = simulate_streamed(&Stein::published(), d, &mut sink, chunk, &|_| {}).unwrap();
        assert_eq!(n, d.subject_range().len());
        sink.finish(&context(profiles)).unwrap();
    });
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

#[test]
fn streamed_runs_equal_the_in_memory_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = design(None, true);
    let whole = tmp.path().join("memory");
    in_memory(&whole, &d, Profiles::All);
    // Chunks of 1, 4 (a chunk across the dose levels at subject 13) and more than all.
    for (chunk, threads) in [(1, 1), (4, 2), (1000, 2)] {
        let dir = tmp.path().join(format!("stream-{chunk}-{threads}"));
        streamed(&dir, &d, Profiles::All, chunk, threads);
        for f in FILES {
            assert!(
                read(&whole, f) == read(&dir, f),
                "{f}: chunk {chunk}, {threads} threads"
            );
        }
        // no temporary file is left
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }
    // 21 subjects × 10 times + header, censored flags present
    let text = String::from_utf8(read(&whole, "simulation.csv")).unwrap();
    assert_eq!(text.lines().count(), 21 * 10 + 1);
    assert!(text.lines().skip(1).any(|l| l.ends_with(",1")));
}

#[test]
fn profiles_none_leaves_out_only_simulation_csv_also_through_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    let none = tmp.path().join("none");
    in_memory(&all, &design(None, true), Profiles::All);
    streamed(&none, &design(None, true), Profiles::None, 5, 2);
    assert!(!none.join("simulation.csv").exists());
    for f in &FILES[1..] {
        assert!(read(&all, f) == read(&none, f), "{f}");
    }
    let run: serde_json::Value = serde_json::from_slice(&read(&none, "run.json")).unwrap();
    assert_eq!(run["profiles"], "none");
    assert!(run["files"].get("simulation.csv").is_none());

    // Shards without profiles: merged endpoints are those of the unsharded run; no
    // summary.csv (its exact percentiles need the profiles).
    let shards: Vec<_> = (1..=2)
        .map(|i| {
            let dir = tmp.path().join(format!("shard{i}"));
            let d = design(Some(Shard { index: i, count: 2 }), true);
            streamed(&dir, &d, Profiles::None, 3, 1);
            dir
        })
        .collect();
    let merged = tmp.path().join("merged");
    merge(&shards, &OutputDir::prepare(&merged, false).unwrap()).unwrap();
    for f in ["endpoints.csv", "endpoints_summary.csv", "dataset.csv"] {
        assert!(read(&all, f) == read(&merged, f), "{f}");
    }
    assert!(!merged.join("simulation.csv").exists());
    assert!(!merged.join("summary.csv").exists());

    // Shards with and without profiles do not mix.
    let other = tmp.path().join("shard2-all");
    streamed(
        &other,
        &design(Some(Shard { index: 2, count: 2 }), true),
        Profiles::All,
        3,
        1,
    );
    let out = OutputDir::prepare(&tmp.path().join("mixed"), false).unwrap();
    let e = merge(&[shards[0].clone(), other], &out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("profiles"), "{e}");
}

#[test]
fn summary_memory_estimate_is_what_the_arrays_allocate() {
    for residual_error in [false, true] {
        let d = design(None, residual_error);
        let sim = simulate(&Stein::published(), &d, &|_| {}).unwrap();
        let cells = d.design.times.len() * d.analytes.len();
        let sizes: Vec<(f64, usize)> = d.design.doses.iter().map(|l| (l.dose, l.n)).collect();
        let mut acc = SummaryAccumulator::new(&d.design.times, &d.analytes, residual_error, &sizes);
        assert_eq!(acc.allocated_bytes(), 0);
        let mut peak = 0;
        for s in &sim.subjects {
            acc.add(s).unwrap();
            peak = peak.max(acc.allocated_bytes());
        }
        // The largest level (13 subjects) × 10 times × 1 analyte: 130 f64 = 1040 bytes,
        // + 130 bits → 3 words = 24 bytes with residual error (hand computation).
        let expected = if residual_error { 1040 + 24 } else { 1040 };
        assert_eq!(peak, expected);
        assert_eq!(summary_bytes(13, cells, residual_error), expected);
        let size = RunSize {
            largest_level: 13,
            subjects: 21,
            times: 10,
            analytes: 1,
            residual_error,
            summaries: true,
        };
        assert_eq!(size.estimate().summary, expected as u128);
        // The rows are the type-7 percentiles of each cell computed directly: censored
        // values first, then the others sorted (dose-major, then analyte, then time).
        let rows = acc.finish().unwrap();
        assert_eq!(rows.len(), 2 * 10);
        for r in &rows {
            let t = d.design.times.iter().position(|&x| x == r.time).unwrap();
            let mut cens = Vec::new();
            let mut vals = Vec::new();
            for s in sim.subjects.iter().filter(|s| s.dose == r.dose) {
                let (v, c) = sim.value(s, t, 0);
                if c {
                    cens.push(v)
                } else {
                    vals.push(v)
                }
            }
            vals.sort_by(f64::total_cmp);
            assert_eq!((r.n, r.n_blq), (cens.len() + vals.len(), cens.len()));
            for (p, q) in PERCENTILES.iter().zip(r.percentiles) {
                let n = r.n as f64;
                let h = (n - 1.0) * p;
                let lo = h.floor() as usize;
                let want = (lo >= cens.len()).then(|| {
                    let x = |i: usize| vals[(i - cens.len()).min(vals.len() - 1)];
                    x(lo) + (h - lo as f64) * (x(lo + 1) - x(lo))
                });
                assert_eq!(q, want, "dose {} time {} p {p}", r.dose, r.time);
            }
        }
    }
}
