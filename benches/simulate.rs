//! Simulation benchmarks (the speed targets of README.md, "Performance"):
//! - `stein2019_closed_form`: predictions per second on one core, `Model::predict` of the
//!   built-in stein2019 on the daily grid 0..=365 (366 points per call), 1,000 subjects
//!   drawn from the published IIV; the same with the hand-written Rust closed form of
//!   tests/it/common/stein.rs (the floor: no interpreter). Target ≥ 5e7 predictions/s.
//! - `cd19_bcell_10000x365_2threads`: `cartkin::simulate::simulate` of 10,000 subjects
//!   (one dose level, 50e6 cells, the model's IIV) on the daily grid 0..=365 with the
//!   outputs transgene and b_cells, on a 2-thread pool, at the model file's tolerances
//!   and at the SciPy peer's (rtol 1e-6, atol 1e-9); and the latter followed by the
//!   summaries and per-subject endpoints (no file output). Target < 2 s.
//!
//! SciPy comparison (scripts/compare_scipy.py): an independent SciPy implementation of
//! the same work (vectorised closed form ≈ 3e7 predictions/s, cd19_bcell LSODA ≈ 8 ms
//! per subject on this machine).
//!
//! Measured 2026-11-29 on the shared 2-core machine at load average 7–10 (wall times are
//! inflated by the other jobs; CPU-time rates from /proc/thread-self/stat in brackets):
//! stein2019 model file 5.9–8.2e6 predictions/s wall [2.15e7 per CPU-second], the
//! hand-written closed form 2.2–3.9e7 wall [7.8e7 per CPU-second]; cd19_bcell 10,000 ×
//! 366 days on 2 threads 8.2–8.7 s wall at the model's rtol 1e-8 [3.08 CPU-s, i.e.
//! 1.54 s on two free cores], 3.6 s wall at rtol 1e-6 [1.60 CPU-s, 0.80 s on two free
//! cores], 5.1 s with summaries and endpoints. SciPy at the same load: closed form
//! 5.2e6 predictions/s, LSODA 30.8 ms per subject.

#[allow(dead_code)] // shared with the integration tests; each bench uses a subset
#[path = "../tests/it/common/stein.rs"]
mod stein;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

use cartkin::data::{Covariates, Dose};
use cartkin::model::{Individual, Model, Predict};
use cartkin::simulate::population::subject_rng;
use cartkin::simulate::{simulate, DoseLevel, Omega, Population, SimulationDesign};

const SUBJECTS: usize = 1000;

fn thetas(model: &dyn Predict) -> Vec<Vec<f64>> {
    let pop = Population::new(model.name(), model.parameters(), &[], &Omega::Model, &[]).unwrap();
    (0..SUBJECTS)
        .map(|k| pop.draw(k, &mut subject_rng(1, k)).theta)
        .collect()
}

fn closed_form(c: &mut Criterion) {
    let times: Vec<f64> = (0..=365).map(f64::from).collect();
    let outputs = vec![0usize; times.len()];
    let covariates = Covariates::default();
    let doses = [Dose {
        time: 0.0,
        amount: 50e6,
        target: None,
        duration: None,
        line: 0,
    }];
    let ind = Individual {
        doses: &doses,
        covariates: &covariates,
    };
    let mut g = c.benchmark_group("stein2019_closed_form");
    g.throughput(Throughput::Elements((SUBJECTS * times.len()) as u64));
    let reference = stein::Stein::published();
    let models: Vec<(&str, Box<dyn Predict>)> = vec![
        ("model_file", Box::new(Model::load("stein2019").unwrap())),
        ("hand_written_rust", Box::new(reference)),
    ];
    for (name, model) in &models {
        let th = thetas(model.as_ref());
        let mut out = vec![0.0; times.len()];
        g.bench_function(*name, |b| {
            b.iter(|| {
                for t in &th {
                    model.predict(t, &ind, &times, &outputs, &mut out).unwrap();
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

fn cd19(c: &mut Criterion) {
    let mut model = Model::load("cd19_bcell").unwrap();
    let design = SimulationDesign {
        doses: vec![DoseLevel {
            dose: 50e6,
            n: 10_000,
        }],
        times: (0..=365).map(f64::from).collect(),
        analytes: vec!["transgene".into(), "b_cells".into()],
        seed: 1,
        ..SimulationDesign::default()
    }
    .check(&model)
    .unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("cd19_bcell_10000x365_2threads");
    g.sample_size(10);
    // at the model file's tolerances (cd19_bcell: Dopri5 rtol 1e-8, atol 1e-10)
    g.bench_function("simulate_model_tolerance", |b| {
        b.iter(|| pool.install(|| black_box(simulate(&model, &design, &|_| {}).unwrap())))
    });
    // at the SciPy comparison's tolerances (LSODA rtol 1e-6, atol 1e-9): the
    // equal-tolerance comparison of scripts/compare_scipy.py
    let mut options = model.solver_options().clone();
    options.rtol = 1e-6;
    options.atol = 1e-9;
    model.set_solver_options(options);
    g.bench_function("simulate_rtol1e-6", |b| {
        b.iter(|| pool.install(|| black_box(simulate(&model, &design, &|_| {}).unwrap())))
    });
    g.bench_function("simulate_summaries_endpoints", |b| {
        b.iter(|| {
            pool.install(|| {
                let sim = simulate(&model, &design, &|_| {}).unwrap();
                black_box(cartkin::simulate::summary::summarise(&sim));
                black_box(cartkin::simulate::endpoints::endpoints(&sim));
            })
        })
    });
    g.finish();
}

criterion_group!(benches, closed_form, cd19);
criterion_main!(benches);
