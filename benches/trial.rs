//! Trial benchmark (README.md, "Performance"): 10,000 BOIN trials of the CT1195E scenario
//! (data/trials/ct1195e_sle.toml: cd19_cd20_bcell, 3.0/4.5/6.0e8 cells, target 0.30,
//! max 12 patients) with its AUC0–28 exposure link, on a 2-thread pool: every enrolled
//! patient is simulated over the 28-day DLT window. Target < 15 s on 2 cores.
//!
//! Criterion measures 1,000 trials per iteration (10 samples); `trials_10000` runs the
//! whole 10,000 once per sample with 10 samples, the figure to compare with the target.
//!
//! Measured 2026-12-01 on the shared 2-core machine at load average 20 with the debug
//! profile binary (`cartkin trial data/trials/ct1195e_sle.toml --reps 10000
//! --summary-trials 0 --threads 2`; cartkin at opt-level 1, dependencies at 3): 18.0
//! CPU-seconds for the 120,000 patient simulations (83 s wall, shared), i.e. about 9 s
//! on two free cores; the release profile is faster still.

use criterion::{criterion_group, criterion_main, Criterion};

use cartkin::model::Model;
use cartkin::simulate::scenario::LoadedScenario;
use cartkin::trial::{TrialPlan, TrialSettings};

fn bench(c: &mut Criterion) {
    let path = cartkin_benches::root().join("data/trials/ct1195e_sle.toml");
    let sc = LoadedScenario::read(&path).unwrap();
    let model = Model::load(&sc.model()).unwrap();
    let settings = TrialSettings::parse(&sc.file, &sc.text, sc.scenario.dose_levels.len()).unwrap();
    let design = sc.design_per_level(Some(1), &model, 1).unwrap();
    let plan = TrialPlan::new(&model, design, settings).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("trial_ct1195e_boin_link");
    g.sample_size(10);
    g.bench_function("trials_1000", |b| {
        b.iter(|| pool.install(|| plan.run(0, 1000).unwrap()))
    });
    g.bench_function("trials_10000", |b| {
        b.iter(|| pool.install(|| plan.run(0, 10_000).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
