//! `--method foce` recovers a simulated Stein 2019 population of 100 subjects with
//! about 30 % of the records below the LLOQ: with the Laplacian (the approximation for
//! censored records) and with FOCE-I (censored records by their expected information,
//! the exact outer gradient). The data come from the hand-written closed form of
//! common::stein, the fit uses the model language's stein2019 with η on three
//! parameters. The likelihood has kinks (an individual Tmax between two samples), so
//! the fits end by the kink test of the outer optimiser.

use cartkin::estimate::population::{fit_population, Approximation, PopulationOptions};

use crate::common::estimate::stein_population;
use crate::common::stein::{OMEGA2, TYPICAL};
use cartkin::model::Model;
use std::path::Path;

/// models/stein2019.model with η on tmax, cmax and alpha only.
const MODEL: &str = "model stein3
param foldx = 3900 bounds 1 1e8 log
param tmax = 9.3 bounds 0.5 60 log iiv 0.38
param cmax = 24000 bounds 1 1e9 log iiv 0.65
param alpha = 0.16 bounds 1e-4 10 log iiv 0.91
param fb = 0.0079 bounds 0 1 logit
param beta = 0.0032 bounds 1e-6 1 log
param sigma = 0.56 residual
let rho = log(foldx) / tmax
let r0 = cmax / foldx
stop tmax
output transgene = if(t < tmax, r0 * exp(rho * t),
    (1 - fb) * cmax * exp(-alpha * (t - tmax)) + fb * cmax * exp(-beta * (t - tmax)))
error transgene logadd(sigma)
";

/// Fit with `approximation` and check the estimates against the truth.
fn recovers(approximation: Approximation) {
    // Truth (Stein et al. 2019, Table 1, the values of common::stein): foldx 3900,
    // tmax 9.3 d, cmax 24000, alpha 0.16/d, fb 0.0079, beta 0.0032/d; η on tmax, cmax,
    // alpha with ω² 0.38, 0.65, 0.91; log-additive σ = 0.4; LLOQ 75 copies/µg.
    let n = 100;
    let data = stein_population(n, 2027, 75.0);
    let records: usize = data.subjects.iter().map(|s| s.observations.len()).sum();
    let censored = data
        .subjects
        .iter()
        .flat_map(|s| &s.observations)
        .filter(|o| o.censored)
        .count();
    let fraction = censored as f64 / records as f64;
    assert!(
        (0.25..0.40).contains(&fraction),
        "{censored} of {records} censored"
    );
    let model = Model::parse(MODEL, Path::new("stein3.model")).expect("model");
    let options = PopulationOptions {
        npde_replicates: 0,
        covariance: None,
        approximation: Some(approximation),
        ..PopulationOptions::default()
    };
    let fit = fit_population(&model, &data, &options, &|_| {}).expect("fit");
    assert_eq!(fit.approximation(), approximation);
    assert!(fit.outer.converged, "{}", fit.outer.message);
    // Tolerances from the sampling error of N = 100 subjects (as the SAEM recovery
    // test): |ln(θ̂/θ)| < 3√(ω²/N) for the typical values with η, |ω̂² − ω²| <
    // 3ω²√(2/N) (the SE of a variance), the parameters without η within 25 %, σ within
    // 10 %. Model order: foldx, tmax, cmax, alpha, fb, beta, sigma; η: tmax, cmax, alpha.
    let names = ["foldx", "tmax", "cmax", "alpha", "fb", "beta"];
    for (j, k) in [1, 2, 3].into_iter().enumerate() {
        let err = (fit.theta[k] / TYPICAL[k]).ln().abs();
        let tol = 3.0 * (OMEGA2[k] / n as f64).sqrt();
        assert!(
            err < tol,
            "{}: {} (truth {})",
            names[k],
            fit.theta[k],
            TYPICAL[k]
        );
        let w2 = fit.omega[(j, j)];
        let tol = 3.0 * OMEGA2[k] * (2.0 / n as f64).sqrt();
        assert!(
            (w2 - OMEGA2[k]).abs() < tol,
            "ω² {}: {w2} (truth {})",
            names[k],
            OMEGA2[k]
        );
    }
    for k in [0, 4, 5] {
        let rel = fit.theta[k] / TYPICAL[k] - 1.0;
        assert!(
            rel.abs() < 0.25,
            "{}: {} (truth {})",
            names[k],
            fit.theta[k],
            TYPICAL[k]
        );
    }
    assert!(
        (fit.theta[6] / 0.4 - 1.0).abs() < 0.10,
        "σ {}",
        fit.theta[6]
    );
}

#[test]
fn laplacian_recovers_a_stein_population_with_a_third_censored() {
    recovers(Approximation::Laplacian);
}

#[test]
fn foce_i_with_the_exact_gradient_recovers_the_same_population() {
    recovers(Approximation::FoceI);
}
