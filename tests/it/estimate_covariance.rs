//! Covariance of an individual estimate against a case with an exact answer: a straight
//! line f(t) = a + b·t with additive Gaussian error of known SD σ (held fixed). Then
//! −2LL = n ln 2π + 2n ln σ + Σ(yᵢ − a − btᵢ)²/σ², the MLE is ordinary least squares
//! and Cov(â, b̂) = σ²(XᵀX)⁻¹ exactly (X = [1, t]); the identity scale makes the
//! delta method trivial and the CI symmetric: â ± 1.959964·SE.

use crate::common::estimate as estimate_support;

use approx::assert_relative_eq;
use cartkin::data::Dataset;
use cartkin::estimate::{fit_individuals, FitOptions, FitSettings, FitStatus};
use estimate_support::{subject, Line};

#[test]
fn line_with_known_sd_gives_the_least_squares_covariance() {
    let t = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0];
    let y = [1.2, 2.9, 5.3, 6.8, 11.1, 17.2];
    let sigma = 0.5;
    let obs: Vec<_> = t.iter().zip(&y).map(|(&t, &y)| (t, y, false)).collect();
    let data = Dataset {
        source: "in-memory".into(),
        subjects: vec![subject("L1", "y", &obs, None)],
        covariate_names: vec![],
    };
    let options = FitOptions {
        analytes: None,
        fixed: vec![("sd".into(), sigma)],
        settings: FitSettings::default().check().unwrap(),
    };
    let fit = fit_individuals(&Line::new(0.0, 1.0, sigma), &data, &options).unwrap();
    let s = &fit.subjects[0];
    assert_eq!(s.status, FitStatus::Converged, "{}", s.reason);

    // Hand computation: XᵀX = [[n, Σt], [Σt, Σt²]], OLS and σ²(XᵀX)⁻¹.
    let n = t.len() as f64;
    let st: f64 = t.iter().sum();
    let stt: f64 = t.iter().map(|v| v * v).sum();
    let sy: f64 = y.iter().sum();
    let sty: f64 = t.iter().zip(&y).map(|(a, b)| a * b).sum();
    let det = n * stt - st * st;
    let b = (n * sty - st * sy) / det;
    let a = (sy - b * st) / n;
    let var_a = sigma * sigma * stt / det;
    let var_b = sigma * sigma * n / det;
    let cov_ab = -sigma * sigma * st / det;

    let theta = s.theta.as_ref().unwrap();
    // Optimiser tolerance: Newton decrement < 1e-6 ⇒ |Δ| ≲ 1e-3 SE.
    assert_relative_eq!(theta[0], a, epsilon = 1e-3 * var_a.sqrt());
    assert_relative_eq!(theta[1], b, epsilon = 1e-3 * var_b.sqrt());
    let u = s.uncertainty.as_ref().unwrap();
    // Central-difference Hessian of a quadratic: exact up to rounding (~1e-8 relative).
    assert_relative_eq!(u.se[0], var_a.sqrt(), max_relative = 1e-6);
    assert_relative_eq!(u.se[1], var_b.sqrt(), max_relative = 1e-6);
    assert_relative_eq!(u.covariance[1], cov_ab, max_relative = 1e-6);
    assert_relative_eq!(
        u.correlation[1],
        cov_ab / (var_a * var_b).sqrt(),
        max_relative = 1e-6
    );
    assert_relative_eq!(
        u.ci_low[1],
        theta[1] - 1.959_963_984_540_054 * var_b.sqrt(),
        max_relative = 1e-6
    );
    assert_relative_eq!(
        u.rse_pct[1],
        100.0 * var_b.sqrt() / theta[1],
        max_relative = 1e-6
    );
    // Condition number of H = 2XᵀX/σ²: ratio of the eigenvalues of XᵀX.
    let tr = n + stt;
    let disc = ((n - stt).powi(2) + 4.0 * st * st).sqrt();
    assert_relative_eq!(u.condition, (tr + disc) / (tr - disc), max_relative = 1e-5);
    // −2LL at the optimum (hand formula).
    let rss: f64 = t
        .iter()
        .zip(&y)
        .map(|(&ti, &yi)| (yi - a - b * ti).powi(2))
        .sum();
    let want = n * (2.0 * std::f64::consts::PI).ln() + 2.0 * n * sigma.ln() + rss / (sigma * sigma);
    assert_relative_eq!(s.neg2ll.unwrap(), want, max_relative = 1e-10);
}

#[test]
fn estimated_sd_on_the_log_scale_has_the_delta_method_se() {
    // Same line, σ estimated on the log scale. MLE σ̂² = RSS/n, and for the Gaussian the
    // information for ln σ is 2n, independent of (a, b): SE(ln σ̂) = 1/√(2n), so by the
    // delta method SE(σ̂) = σ̂/√(2n) and the 95% CI is σ̂·exp(±1.959964/√(2n)).
    let t = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 9.0, 12.0];
    let y = [1.2, 2.9, 5.3, 6.8, 11.1, 17.2, 18.5, 25.9];
    let obs: Vec<_> = t.iter().zip(&y).map(|(&t, &y)| (t, y, false)).collect();
    let data = Dataset {
        source: "in-memory".into(),
        subjects: vec![subject("L1", "y", &obs, None)],
        covariate_names: vec![],
    };
    let options = FitOptions {
        analytes: None,
        fixed: vec![],
        settings: FitSettings::default().check().unwrap(),
    };
    let fit = fit_individuals(&Line::new(0.0, 1.0, 1.0), &data, &options).unwrap();
    let s = &fit.subjects[0];
    assert_eq!(s.status, FitStatus::Converged, "{}", s.reason);
    let n = t.len() as f64;
    let theta = s.theta.as_ref().unwrap();
    let rss: f64 = t
        .iter()
        .zip(&y)
        .map(|(&ti, &yi)| (yi - theta[0] - theta[1] * ti).powi(2))
        .sum();
    assert_relative_eq!(theta[2], (rss / n).sqrt(), max_relative = 1e-4);
    let u = s.uncertainty.as_ref().unwrap();
    let se_log = 1.0 / (2.0 * n).sqrt();
    assert_relative_eq!(u.se_psi[2], se_log, max_relative = 1e-4);
    assert_relative_eq!(u.se[2], theta[2] * se_log, max_relative = 1e-4);
    assert_relative_eq!(
        u.ci_high[2],
        theta[2] * (1.959_963_984_540_054 * se_log).exp(),
        max_relative = 1e-4
    );
}

#[test]
fn with_every_parameter_fixed_the_objective_is_evaluated_at_the_given_values() {
    // −2LL = n ln 2π + 2n ln σ + Σ(y − a − bt)²/σ² at a = 1, b = 2, σ = 0.5 (hand formula).
    let t = [0.0, 1.0, 2.0];
    let y = [1.2, 2.9, 5.3];
    let obs: Vec<_> = t.iter().zip(&y).map(|(&t, &y)| (t, y, false)).collect();
    let data = Dataset {
        source: "in-memory".into(),
        subjects: vec![subject("L1", "y", &obs, None)],
        covariate_names: vec![],
    };
    let options = FitOptions {
        analytes: None,
        fixed: vec![("a".into(), 1.0), ("b".into(), 2.0), ("sd".into(), 0.5)],
        settings: FitSettings::default().check().unwrap(),
    };
    let fit = fit_individuals(&Line::new(0.0, 1.0, 1.0), &data, &options).unwrap();
    let s = &fit.subjects[0];
    assert_eq!(s.status, FitStatus::Converged, "{}", s.reason);
    let rss = 0.2f64.powi(2) + 0.1f64.powi(2) + 0.3f64.powi(2);
    let want = 3.0 * (2.0 * std::f64::consts::PI).ln() + 6.0 * 0.5f64.ln() + rss / 0.25;
    assert_relative_eq!(s.neg2ll.unwrap(), want, max_relative = 1e-12);
}
