//! Recovery benchmark of SAEM (not a test): R replicate Stein populations are simulated
//! from the built-in `stein2019` closed form with known values and fitted by
//! `fit_saem` (default settings: auto-stop, ⌈50/N⌉ chains; SEs by stochastic
//! approximation (Louis); no importance sampling, no NPDE). It prints, per population
//! parameter (θ, σ, ω²): the true value, the mean estimate, the relative bias
//! (mean of θ̂/θ − 1), the relative RMSE (√mean (θ̂/θ − 1)²) and the coverage of the
//! reported 95 % confidence intervals; then how many fits ended each phase by its rule
//! and the time per fit.
//!
//! Truth: the published typical values (Stein et al. 2019), ω² half the published
//! values on all six parameters (as benches/data/stein_pop_truth.json), log-additive
//! σ = 0.4, 13 visits (days 0–365), censored below the LLOQ: 75 copies/µg by default,
//! which censors about 30 % of the records (the model's LLOQ 20 censors about 14.5 %;
//! both fractions checked by an independent pure-Python simulation of the same design,
//! 20,000 subjects: 14.5 % at 20, 24.6 % at 50, 35.2 % at 100). Subjects' η and ε come
//! from `subject_rng(1000 + r, subject)` of replicate r; the fit of replicate r uses
//! seed r.
//!
//! Start: SAEM starts from the model file's values with the typical values moved away
//! from the truth (`START`, between −50 % and +90 %) and σ = 0.56; the initial ω² are
//! the model file's (the published values, twice the truth). Starting at the truth
//! would flatter the exploration phase.
//!
//! `cargo bench -p cartkin-benches --bench saem_recovery -- [REPLICATES] [SUBJECTS] [LLOQ]` (defaults 50,
//! 24 and 75; a bench target, so `cargo test` does not build it).

use std::path::Path;
use std::time::Instant;

use cartkin::data::{Analyte, Covariates, Dataset, Observation, Subject};
use cartkin::estimate::population::saem::{fit_saem, SaemOptions, SaemSettings};
use cartkin::model::{Individual, Model, Predict};
use cartkin::rng::subject_rng;
use rand::Rng;
use rand_distr::StandardNormal;

const DAYS: [f64; 13] = [
    0.0, 1.0, 4.0, 7.0, 10.0, 14.0, 21.0, 28.0, 56.0, 84.0, 168.0, 252.0, 365.0,
];
/// True typical values (Stein 2019) of foldx, tmax, cmax, alpha, fb, beta.
const TYPICAL: [f64; 6] = [3900.0, 9.3, 24000.0, 0.16, 0.0079, 0.0032];
/// True ω² (half the published values).
const OMEGA2: [f64; 6] = [1.2, 0.19, 0.325, 0.455, 0.4, 0.43];
/// True residual SD on the log scale.
const SIGMA: f64 = 0.4;
/// Initial typical values of SAEM (module docs).
const START: [(&str, f64); 6] = [
    ("foldx", 2000.0),
    ("tmax", 12.0),
    ("cmax", 15000.0),
    ("alpha", 0.25),
    ("fb", 0.015),
    ("beta", 0.005),
];

fn simulate(model: &Model, n: usize, seed: u64, lloq: f64) -> Dataset {
    let params = model.parameters();
    let subjects = (0..n)
        .map(|i| {
            let mut rng = subject_rng(seed, i as u64);
            let mut theta = model.typical();
            for k in 0..6 {
                let z: f64 = rng.sample(StandardNormal);
                let p = &params[k];
                theta[k] = p.to_natural(p.to_estimation(TYPICAL[k]) + OMEGA2[k].sqrt() * z);
            }
            let covariates = Covariates::default();
            let ind = Individual {
                doses: &[],
                covariates: &covariates,
            };
            let mut f = vec![0.0; DAYS.len()];
            model
                .predict(&theta, &ind, &DAYS, &[0; DAYS.len()], &mut f)
                .expect("prediction");
            let observations = DAYS
                .iter()
                .zip(&f)
                .map(|(&t, &c)| {
                    let e: f64 = rng.sample(StandardNormal);
                    let y = c * (SIGMA * e).exp();
                    let censored = y < lloq;
                    Observation {
                        time: t,
                        analyte: Analyte::new("transgene"),
                        value: if censored { lloq } else { y },
                        censored,
                        lloq: Some(lloq),
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

/// The built-in stein2019 with the typical values of `START` (module docs).
fn start_model() -> Model {
    let built_in = Model::load("stein2019").expect("built-in stein2019");
    let source: String = built_in
        .source()
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match START.iter().find(|(name, _)| {
                words.len() > 3 && words[0] == "param" && words[1] == *name && words[2] == "="
            }) {
                Some((name, value)) => {
                    let rest = words[4..].join(" ");
                    format!("param {name} = {value} {rest}\n")
                }
                None => format!("{line}\n"),
            }
        })
        .collect();
    let model = Model::parse(&source, Path::new("stein2019 (start values)")).expect("model");
    for (k, (name, value)) in START.iter().enumerate() {
        assert_eq!(model.parameters()[k].name, *name);
        assert_eq!(model.parameters()[k].typical, *value);
    }
    model
}

/// `x` with 4 significant digits (no exponent).
fn sig(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--")) // `cargo bench` passes --bench
        .map(|a| a.parse().expect("REPLICATES SUBJECTS LLOQ as numbers"))
        .collect();
    let reps = args.first().map_or(50, |&r| r as usize);
    let n = args.get(1).map_or(24, |&n| n as usize);
    let lloq = args.get(2).copied().unwrap_or(75.0);
    let truth_model = Model::load("stein2019").expect("built-in stein2019");
    let model = start_model();
    let params = model.parameters();
    let mut truth: Vec<(String, f64)> = (0..6)
        .map(|k| (params[k].name.clone(), TYPICAL[k]))
        .collect();
    assert_eq!(params[6].name, "sigma");
    truth.push(("sigma".into(), SIGMA));
    for k in 0..6 {
        truth.push((format!("omega2_{}", params[k].name), OMEGA2[k]));
    }
    let m = truth.len();
    let mut sum = vec![0.0; m];
    let mut all: Vec<Vec<f64>> = vec![Vec::with_capacity(reps); m];
    let mut rel = vec![0.0; m];
    let mut rel2 = vec![0.0; m];
    let (mut covered, mut with_ci) = (vec![0usize; m], vec![0usize; m]);
    let (mut fits, mut explored, mut smoothed, mut with_se) = (0, 0, 0, 0);
    let (mut k1, mut k2, mut evaluations) = (0usize, 0usize, 0u64);
    let mut censored = (0usize, 0usize);
    let mut seconds = Vec::with_capacity(reps);
    let started = Instant::now();
    for r in 0..reps {
        let data = simulate(&truth_model, n, 1000 + r as u64, lloq);
        for o in data.subjects.iter().flat_map(|s| &s.observations) {
            censored.0 += usize::from(o.censored);
            censored.1 += 1;
        }
        let settings = SaemSettings {
            is_samples: 0,
            seed: r as u64,
            ..SaemSettings::default()
        };
        let mut options = SaemOptions::new(settings.check().expect("settings"));
        options.npde_replicates = 0;
        let t0 = Instant::now();
        let fit = fit_saem(&model, &data, &options, &|_| {});
        seconds.push(t0.elapsed().as_secs_f64());
        let fit = match fit {
            Ok(fit) => fit,
            Err(e) => {
                eprintln!("replicate {r}: fit failed: {e}");
                continue;
            }
        };
        fits += 1;
        explored += usize::from(fit.saem.explored);
        smoothed += usize::from(fit.saem.smoothed);
        k1 += fit.saem.k1;
        k2 += fit.saem.k2;
        evaluations += fit.saem.evaluations;
        if let Err(e) = &fit.uncertainty {
            eprintln!("replicate {r}: no SEs: {e}");
        } else {
            with_se += 1;
        }
        let mut est: Vec<f64> = fit.theta[..7].to_vec();
        est.extend((0..6).map(|k| fit.omega[(k, k)]));
        eprintln!(
            "replicate {r}: K1 {} K2 {} {:.2} s, estimates {}",
            fit.saem.k1,
            fit.saem.k2,
            seconds[r],
            est.iter().map(|v| sig(*v)).collect::<Vec<_>>().join(" ")
        );
        for j in 0..m {
            let e = est[j] / truth[j].1 - 1.0;
            all[j].push(est[j]);
            sum[j] += est[j];
            rel[j] += e;
            rel2[j] += e * e;
            if let Ok(u) = &fit.uncertainty {
                if let Some(i) = u.names.iter().position(|x| *x == truth[j].0) {
                    with_ci[j] += 1;
                    covered[j] +=
                        usize::from(u.ci_low[i] <= truth[j].1 && truth[j].1 <= u.ci_high[i]);
                }
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    let f = fits.max(1) as f64;
    seconds.sort_by(f64::total_cmp);
    let median = seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "{fits}/{reps} fits of {n} subjects, LLOQ {lloq} ({:.1} % of records censored), {:.1} s in all",
        100.0 * censored.0 as f64 / censored.1.max(1) as f64,
        total
    );
    println!(
        "exploration ended by its rule in {explored}/{fits}, smoothing in {smoothed}/{fits}; \
         SEs in {with_se}/{fits}; mean K1 {:.0}, K2 {:.0}, {:.0} evaluations per fit",
        k1 as f64 / f,
        k2 as f64 / f,
        evaluations as f64 / f
    );
    println!(
        "time per fit (SAEM + conditional distributions + Louis SEs + linearised −2LL): \
         mean {:.2} s, median {:.2} s, max {:.2} s",
        seconds.iter().sum::<f64>() / seconds.len().max(1) as f64,
        median,
        seconds.last().copied().unwrap_or(f64::NAN)
    );
    println!();
    println!(
        "| parameter | true | mean estimate | median estimate | relative bias % | relative RMSE % | 95 % CI coverage % (fits with SEs) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for j in 0..m {
        all[j].sort_by(f64::total_cmp);
        let median = all[j].get(all[j].len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "| {} | {} | {} | {} | {:+.1} | {:.1} | {:.0} ({}) |",
            truth[j].0,
            truth[j].1,
            sig(sum[j] / f),
            sig(median),
            100.0 * rel[j] / f,
            100.0 * (rel2[j] / f).sqrt(),
            100.0 * covered[j] as f64 / with_ci[j].max(1) as f64,
            with_ci[j]
        );
    }
}
