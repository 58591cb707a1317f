//! Population fits by FOCE-I (`cartkin fit --method foce`), estimation plus covariance
//! step (sandwich), no NPDE, one thread:
//! - `pheno_like_59`: benches/data/pheno_sim.csv, 59 neonates, 155 records, one
//!   compartment with IV loading and maintenance boluses every 12 h, CL and V
//!   proportional to weight, 2 η, proportional error (benches/data/README.md);
//! - `stein2019_24`: benches/data/stein_pop.csv, 24 subjects of the Stein 2019 closed
//!   form with censored records (Laplacian), 6 η.
//!
//! Before the timing, each fit is run once and its outcome printed (OFV, iterations,
//! objective evaluations, EBE iterations), so the figures can be read with the work done.

use cartkin::data::{read_csv_with, Dataset, ReadOptions, TimeUnit};
use cartkin::estimate::population::{fit_population, PopulationOptions};
use cartkin::model::bind::bind;
use cartkin::model::Model;
use criterion::{criterion_group, criterion_main, Criterion};

fn load(model: &str, data: &str, unit: TimeUnit) -> (Model, Dataset) {
    let root = cartkin_benches::root();
    let model = if model.contains('/') {
        Model::load(root.join(model).to_str().expect("utf-8 path"))
    } else {
        Model::load(model)
    }
    .expect("model");
    let loaded = read_csv_with(&root.join(data), &ReadOptions::default()).expect("data");
    let dataset = bind(&model, &loaded.dataset, unit).expect("bind");
    (model, dataset)
}

fn options() -> PopulationOptions {
    PopulationOptions {
        npde_replicates: 0,
        ..PopulationOptions::default()
    }
}

fn bench_fit(c: &mut Criterion, name: &str, model: &Model, data: &Dataset) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let opts = options();
    pool.install(|| {
        let fit = fit_population(model, data, &opts, &|_| {}).expect("fit");
        let ebe: usize = fit
            .outer
            .evaluation
            .modes
            .iter()
            .map(|m| m.iterations)
            .sum();
        eprintln!(
            "{name}: OFV {:.4}, converged {} ({}), {} iterations, {} objective evaluations, \
             {ebe} EBE iterations at the end, covariance {}",
            fit.ofv(),
            fit.outer.converged,
            fit.outer.message,
            fit.outer.iterations,
            fit.outer.evaluations,
            if fit.uncertainty.is_ok() {
                "ok"
            } else {
                "failed"
            },
        );
    });
    let mut g = c.benchmark_group("fit_population");
    g.sample_size(10);
    g.bench_function(name, |b| {
        b.iter(|| pool.install(|| fit_population(model, data, &opts, &|_| {}).expect("fit")))
    });
    g.finish();
}

fn pheno(c: &mut Criterion) {
    let (model, data) = load(
        "benches/data/pheno.model",
        "benches/data/pheno_sim.csv",
        TimeUnit::Hours,
    );
    bench_fit(c, "pheno_like_59", &model, &data);
}

fn stein(c: &mut Criterion) {
    let (model, data) = load("stein2019", "benches/data/stein_pop.csv", TimeUnit::Days);
    bench_fit(c, "stein2019_24", &model, &data);
}

criterion_group!(benches, pheno, stein);
criterion_main!(benches);
