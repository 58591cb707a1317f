//! Time per subject of `--method individual` fits (multistart + Nelder–Mead + L-BFGS +
//! Newton polish + Hessian), one thread:
//! - stein2019 (built-in closed form) on benches/data/stein_pop.csv, 24 synthetic subjects
//!   (benches/data/README.md; the data the SciPy comparison fits);
//! - cd19_bcell (ODE, Dopri5 rtol 1e-8) on data/example.csv (18 subjects), transgene +
//!   B cells, kexp, kdM and kkill free.
//!
//! Criterion reports the time of the whole fit; divide by the subjects for per subject.
//!
//! Population: SAEM (`run_saem`, default settings) on the same 24 Stein subjects, all
//! threads.

use cartkin::data::read_csv;
use cartkin::estimate::{fit_individuals, FitOptions, FitSettings};
use cartkin::estimate::{Objective, ParameterMap, Records};
use cartkin::model::Model;
use cartkin::model::{Individual, Predict};
use criterion::{criterion_group, criterion_main, Criterion};

#[allow(dead_code)] // shared with the integration tests; each bench uses a subset
#[path = "../tests/it/common/estimate.rs"]
mod estimate_support;
#[allow(dead_code)]
#[path = "../tests/it/common/stein.rs"]
mod stein;

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
    let path = cartkin_benches::root().join("benches/data/stein_pop.csv");
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
    g.sample_size(10);
    g.bench_function("stein2019_24_subjects", |b| {
        b.iter(|| fit_individuals(&model, &data, &opts).expect("fit"))
    });
    // The same fit with the hand-written closed form (optimiser cost without the VM).
    let hand = stein::Stein::new();
    g.bench_function("stein_hand_written_24_subjects", |b| {
        b.iter(|| fit_individuals(&hand, &data, &opts).expect("fit"))
    });
    // One objective evaluation (13 records) and one prediction.
    let subject = &data.subjects[0];
    let (records, _) = Records::from_subject(subject, &model, None).expect("records");
    let map = ParameterMap::new(&model, &[]);
    let ind = Individual {
        doses: &subject.doses,
        covariates: &subject.covariates,
    };
    let obj = Objective::new(&model, ind, &records, &map);
    let psi = map.typical_psi(&model);
    g.sample_size(50);
    g.bench_function("objective_eval_stein2019", |b| b.iter(|| obj.value(&psi)));
    // The same with the exact gradient and the expected information (one Levenberg–
    // Marquardt iteration's derivatives).
    let (mut grad, mut info) = (vec![0.0; psi.len()], vec![0.0; psi.len() * psi.len()]);
    g.bench_function("scoring_eval_stein2019", |b| {
        b.iter(|| obj.scoring_into(&psi, &mut grad, Some(&mut info)))
    });
    let theta = model.typical();
    let mut out = vec![0.0; records.len()];
    g.bench_function("predict_stein2019_13_points", |b| {
        b.iter(|| model.predict(&theta, &ind, &records.times, &records.outputs, &mut out))
    });
    g.finish();
}

fn cd19(c: &mut Criterion) {
    // data/example.csv (18 subjects, 50e6-class doses), transgene + B cells, kexp, kdM
    // and kkill free, everything else fixed at the typical values.
    let path = cartkin_benches::root().join("data/example.csv");
    let data = read_csv(&path).expect("data/example.csv").dataset;
    let model = Model::load("cd19_bcell").expect("built-in cd19_bcell");
    let free = ["kexp", "kdM", "kkill"];
    let mut opts = options();
    opts.fixed = model
        .parameters()
        .iter()
        .filter(|p| !p.fixed && !free.contains(&p.name.as_str()))
        .map(|p| (p.name.clone(), p.typical))
        .collect();
    opts.analytes = Some(vec![
        cartkin::data::Analyte::new("transgene"),
        cartkin::data::Analyte::new("b_cells"),
    ]);
    let fit = fit_individuals(&model, &data, &opts).expect("fit");
    let ok = fit
        .subjects
        .iter()
        .filter(|s| s.status.optimum_reached())
        .count();
    let evals: u64 = fit.subjects.iter().map(|s| s.evaluations).sum();
    eprintln!(
        "cd19_bcell: {ok}/{} subjects converged, {:.0} objective evaluations per subject",
        data.subjects.len(),
        evals as f64 / data.subjects.len() as f64
    );
    let mut g = c.benchmark_group("fit_individual");
    g.sample_size(10);
    g.bench_function("cd19_bcell_18_subjects_3_free", |b| {
        b.iter(|| fit_individuals(&model, &data, &opts).expect("fit"))
    });
    g.finish();
}

/// SAEM (the estimation itself, defaults: auto-stop, ⌈50/24⌉ = 3 chains) on the 24
/// Stein subjects, with the thread count of the machine; prints iterations, evaluations.
fn saem(c: &mut Criterion) {
    use cartkin::estimate::population::population_problem;
    use cartkin::estimate::population::saem::{run_saem, SaemSettings};
    let path = cartkin_benches::root().join("benches/data/stein_pop.csv");
    let data = read_csv(&path).expect("benches/data/stein_pop.csv").dataset;
    let model = Model::load("stein2019").expect("built-in stein2019");
    let problem = population_problem(&model, &data, None, &[], &[]).expect("problem");
    let settings = SaemSettings::default().check().expect("default settings");
    let started = std::time::Instant::now();
    let est = run_saem(&problem, &settings, &|_| {}).expect("SAEM");
    eprintln!(
        "saem stein2019: K1 = {} (by rule: {}), K2 = {} (by rule: {}), {} chains, {} evaluations, {:.3} s",
        est.k1,
        est.explored,
        est.k2,
        est.smoothed,
        est.chains,
        est.evaluations,
        started.elapsed().as_secs_f64()
    );
    let mut g = c.benchmark_group("fit_population");
    g.sample_size(10);
    g.bench_function("saem_stein2019_24_subjects", |b| {
        b.iter(|| run_saem(&problem, &settings, &|_| {}).expect("SAEM"))
    });
    g.finish();
}

criterion_group!(benches, stein, cd19, saem);
criterion_main!(benches);
