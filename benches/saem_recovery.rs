//! Recovery benchmark of SAEM (not a test): R replicate Stein populations are simulated
//! from the built-in `stein2019` closed form with known values and fitted by
//! `fit_saem` (defaults; SEs by stochastic approximation, no importance sampling, no
//! NPDE); it prints, per population parameter, the relative bias of the estimates
//! (mean of θ̂/θ − 1) and the coverage of the reported 95 % confidence intervals.
//!
//! Truth: the published typical values (Stein et al. 2019), ω² half the published
//! values on all six parameters (as benches/data/stein_pop_truth.json), log-additive
//! σ = 0.4, 13 visits (days 0–365), LLOQ 20 (censored below). Subjects' η and ε come
//! from `subject_rng(seed, subject)` of each replicate's seed.
//!
//! `cargo bench --bench saem_recovery -- [REPLICATES] [SUBJECTS]` (defaults 50 and 24;
//! a bench target, so `cargo test` does not build it).

use cartkin::data::{Analyte, Covariates, Dataset, Observation, Subject};
use cartkin::estimate::population::saem::{fit_saem, SaemOptions, SaemSettings};
use cartkin::model::{Individual, Model, Predict};
use cartkin::rng::subject_rng;
use rand::Rng;
use rand_distr::StandardNormal;

const DAYS: [f64; 13] = [
    0.0, 1.0, 4.0, 7.0, 10.0, 14.0, 21.0, 28.0, 56.0, 84.0, 168.0, 252.0, 365.0,
];
const OMEGA2: [f64; 6] = [1.2, 0.19, 0.325, 0.455, 0.4, 0.43];
const SIGMA: f64 = 0.4;

fn simulate(model: &Model, n: usize, seed: u64) -> Dataset {
    let params = model.parameters();
    let subjects = (0..n)
        .map(|i| {
            let mut rng = subject_rng(seed, i as u64);
            let mut theta = model.typical();
            for k in 0..6 {
                let z: f64 = rng.sample(StandardNormal);
                let p = &params[k];
                theta[k] = p.to_natural(p.to_estimation(theta[k]) + OMEGA2[k].sqrt() * z);
            }
            let covariates = Covariates::default();
            let ind = Individual {
                doses: &[],
                covariates: &covariates,
            };
            let mut f = vec![0.0; DAYS.len()];
            model
                .predict(&theta, &ind, &DAYS, &vec![0; DAYS.len()], &mut f)
                .expect("prediction");
            let observations = DAYS
                .iter()
                .zip(&f)
                .map(|(&t, &c)| {
                    let e: f64 = rng.sample(StandardNormal);
                    let y = c * (SIGMA * e).exp();
                    let censored = y < 20.0;
                    Observation {
                        time: t,
                        analyte: Analyte::new("transgene"),
                        value: if censored { 20.0 } else { y },
                        censored,
                        lloq: Some(20.0),
                        line: 0,
                    }
                })
                .collect();
            Subject {
                id: format!("{i}"),
                observations,
                doses: vec![],
                covariates,
            }
        })
        .collect();
    Dataset {
        source: "simulated".into(),
        subjects,
        covariate_names: vec![],
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--")) // `cargo bench` passes --bench
        .map(|a| a.parse().expect("REPLICATES SUBJECTS as numbers"))
        .collect();
    let reps = args.first().copied().unwrap_or(50);
    let n = args.get(1).copied().unwrap_or(24);
    let model = Model::load("stein2019").expect("built-in stein2019");
    let params = model.parameters();
    let mut truth: Vec<(String, f64)> =
        params.iter().map(|p| (p.name.clone(), p.typical)).collect();
    truth[6].1 = SIGMA;
    for k in 0..6 {
        truth.push((format!("omega2_{}", params[k].name), OMEGA2[k]));
    }
    let m = truth.len();
    let (mut bias, mut covered, mut with_ci) = (vec![0.0; m], vec![0usize; m], vec![0usize; m]);
    let mut fits = 0;
    let started = std::time::Instant::now();
    for r in 0..reps {
        let data = simulate(&model, n, 1000 + r as u64);
        let settings = SaemSettings {
            is_samples: 0,
            seed: r as u64,
            ..SaemSettings::default()
        };
        let mut options = SaemOptions::new(settings.check().expect("settings"));
        options.npde_replicates = 0;
        let Ok(fit) = fit_saem(&model, &data, &options, &|_| {}) else {
            eprintln!("replicate {r}: fit failed");
            continue;
        };
        fits += 1;
        let mut est: Vec<f64> = fit.theta[..7].to_vec();
        est.extend((0..6).map(|k| fit.omega[(k, k)]));
        for j in 0..m {
            bias[j] += est[j] / truth[j].1 - 1.0;
            if let Ok(u) = &fit.uncertainty {
                if let Some(i) = u.names.iter().position(|x| *x == truth[j].0) {
                    with_ci[j] += 1;
                    covered[j] +=
                        usize::from(u.ci_low[i] <= truth[j].1 && truth[j].1 <= u.ci_high[i]);
                }
            }
        }
    }
    println!(
        "{fits}/{reps} fits of {n} subjects in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("| parameter | true | relative bias % | 95 % CI coverage % (fits with SEs) |");
    println!("|---|---|---|---|");
    for j in 0..m {
        println!(
            "| {} | {} | {:.1} | {:.0} ({}) |",
            truth[j].0,
            truth[j].1,
            100.0 * bias[j] / fits.max(1) as f64,
            100.0 * covered[j] as f64 / with_ci[j].max(1) as f64,
            with_ci[j]
        );
    }
}
