//! Time per subject of `--method individual` fits (multistart + Nelder–Mead + L-BFGS +
//! Newton polish + Hessian), one thread:
//! - stein2019 (built-in closed form) on benches/data/stein_pop.csv, 24 subjects made by
//!   /work/shared/peers/gen_stein_pop.py --seed 1 (the data SciPy's bench_scipy.py fits);
//! - cd19_bcell (ODE) when the built-in is available, on data simulated from it.
//!
//! Criterion reports the time of the whole 24-subject fit; divide by 24 for per subject.

use std::path::Path;

use cartkin::data::read_csv;
use cartkin::estimate::{fit_individuals, FitOptions, FitSettings};
use cartkin::model::Model;
use criterion::{criterion_group, criterion_main, Criterion};

fn options() -> FitOptions {
    FitOptions {
        analytes: None,
        fixed: vec![],
        settings: FitSettings {
            threads: 1,
            seed: 1,
            ..FitSettings::default()
        }
        .check()
        .expect("default settings are valid"),
    }
}

fn stein(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/stein_pop.csv");
    let data = read_csv(&path).expect("benches/data/stein_pop.csv").dataset;
    let model = Model::load("stein2019").expect("built-in stein2019");
    let opts = options();
    let fit = fit_individuals(&model, &data, &opts).expect("fit");
    let ok = fit
        .subjects
        .iter()
        .filter(|s| s.status.optimum_reached())
        .count();
    let evals: u64 = fit.subjects.iter().map(|s| s.evaluations).sum();
    eprintln!(
        "stein2019: {ok}/{} subjects converged, {:.0} objective evaluations per subject",
        data.subjects.len(),
        evals as f64 / data.subjects.len() as f64
    );
    let mut g = c.benchmark_group("fit_individual");
    g.sample_size(20);
    g.bench_function("stein2019_24_subjects", |b| {
        b.iter(|| fit_individuals(&model, &data, &opts).expect("fit"))
    });
    g.finish();
}

criterion_group!(benches, stein);
criterion_main!(benches);
