//! Percentiles of simulated Stein 2019 populations against their analytic distributions.
//!
//! Monte-Carlo error: for N draws of a normal variable with SD ω, the sample p-quantile
//! has standard error ≈ sqrt(p(1 − p)/N)·ω/φ(z_p) (asymptotic normality of sample
//! quantiles; Serfling 1980, §2.3.3): 1.2533·ω/√N for the median and 2.1130·ω/√N for the
//! 5th and 95th percentiles (φ(1.6449) = 0.10314). The tolerances are 4 standard errors
//! (a fixed seed makes each test deterministic; 4 SE would be exceeded by chance with
//! probability 6e-5). Percentiles of log values are logs of percentiles: type-7
//! interpolation between adjacent order statistics, which differ by O(1/N), changes
//! this by far less than the tolerance.

use crate::common::stein::{stein, Stein, OMEGA2, TYPICAL};
use cartkin::model::Model;
use cartkin::simulate::endpoints::{endpoints, summarise_endpoints, MetricSummary, METRICS};
use cartkin::simulate::summary::summarise;
use cartkin::simulate::{simulate, DoseLevel, Omega, SimulationDesign, Variability};

const N: usize = 20_000;
const Z95: f64 = 1.6448536269514722; // Φ⁻¹(0.95)

fn se_median(omega: f64) -> f64 {
    1.2533141373155 * omega / (N as f64).sqrt()
}

fn se_p05(omega: f64) -> f64 {
    // sqrt(0.05·0.95)/φ(1.6449) = 0.217945/0.103136
    2.113187 * omega / (N as f64).sqrt()
}

/// The N subjects' Cmax summary is that of a log-normal around the typical Cmax with
/// the published ω² (median, 5th and 95th percentiles within 4 standard errors).
fn assert_lognormal_cmax(m: MetricSummary) {
    assert_eq!(m.n, N);
    let omega = OMEGA2[2].sqrt();
    let mu = TYPICAL[2].ln();
    let (median, p05, p95) = (m.median.unwrap(), m.p05.unwrap(), m.p95.unwrap());
    assert!(
        (median.ln() - mu).abs() < 4.0 * se_median(omega),
        "median {median}"
    );
    assert!(
        (p05.ln() - (mu - Z95 * omega)).abs() < 4.0 * se_p05(omega),
        "p05 {p05}"
    );
    assert!(
        (p95.ln() - (mu + Z95 * omega)).abs() < 4.0 * se_p05(omega),
        "p95 {p95}"
    );
}

fn design(times: Vec<f64>, residual_error: bool) -> SimulationDesign {
    SimulationDesign {
        doses: vec![DoseLevel { dose: 50e6, n: N }],
        times,
        residual_error,
        seed: 20261123,
        ..SimulationDesign::default()
    }
}

#[test]
fn cmax_is_lognormal_around_the_typical_cmax() {
    // IIV on cmax only, and a sample at Tmax = 9.3 d: each subject's observed Cmax is its
    // cmax parameter exactly, so log Cmax ~ N(log 24000, 0.65) (Stein et al. 2019).
    let model = Stein::with_iiv([false, false, true, false, false, false]);
    let d = design(vec![0.0, 4.0, 9.3, 14.0, 28.0, 56.0, 365.0], false)
        .check(&model)
        .unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    let rows = endpoints(&sim);
    let s = summarise_endpoints(&rows);
    assert_eq!(s.len(), 1);
    let cmax = METRICS.iter().position(|m| *m == "cmax").unwrap();
    let tmax = METRICS.iter().position(|m| *m == "tmax").unwrap();
    assert_lognormal_cmax(s[0].metrics[cmax]);
    // Tmax is 9.3 for every subject (no IIV on tmax).
    assert_eq!(s[0].metrics[tmax].median, Some(9.3));
    assert_eq!(s[0].metrics[tmax].p05, Some(9.3));
}

#[test]
fn day0_values_follow_the_analytic_distribution_with_all_six_random_effects() {
    // C(0) = cmax/foldx: log C(0) ~ N(log(24000/3900), 0.65 + 2.4) whatever the other
    // four random effects (Stein 2019 closed form at t = 0).
    let model = Stein::published();
    let d = design(vec![0.0, 28.0], false).check(&model).unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    let rows = summarise(&sim);
    let day0 = rows.iter().find(|r| r.time == 0.0).unwrap();
    assert_eq!((day0.n, day0.n_blq), (N, 0));
    let omega = (OMEGA2[0] + OMEGA2[2]).sqrt();
    let mu = (TYPICAL[2] / TYPICAL[0]).ln();
    let [p05, _, median, _, p95] = day0.percentiles.map(Option::unwrap);
    assert!(
        (median.ln() - mu).abs() < 4.0 * se_median(omega),
        "median {median}"
    );
    assert!(
        (p05.ln() - (mu - Z95 * omega)).abs() < 4.0 * se_p05(omega),
        "p05 {p05}"
    );
    assert!(
        (p95.ln() - (mu + Z95 * omega)).abs() < 4.0 * se_p05(omega),
        "p95 {p95}"
    );
}

#[test]
fn log_additive_residual_error_and_censoring_at_the_lloq() {
    // No IIV: at t = Tmax the prediction is 24000 and y = 24000·exp(0.56·ε), so log y ~
    // N(log 24000, 0.56²); at t = 0 the prediction 24000/3900 = 6.15 is below the LLOQ
    // of 20 for all but a negligible share (P(y ≥ 20) = P(ε > 2.10) = 1.8 %)...
    let model = Stein::with_iiv([false; 6]);
    let d = design(vec![0.0, 9.3], true).check(&model).unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    let rows = summarise(&sim);
    let peak = rows.iter().find(|r| r.time == 9.3).unwrap();
    assert_eq!(peak.n_blq, 0);
    let sigma = 0.56;
    let mu = TYPICAL[2].ln();
    let [p05, _, median, _, p95] = peak.percentiles.map(Option::unwrap);
    assert!(
        (median.ln() - mu).abs() < 4.0 * se_median(sigma),
        "median {median}"
    );
    assert!((p05.ln() - (mu - Z95 * sigma)).abs() < 4.0 * se_p05(sigma));
    assert!((p95.ln() - (mu + Z95 * sigma)).abs() < 4.0 * se_p05(sigma));
    // ... so at day 0 the censored share is Φ(ln(20/6.1538)/0.56) = Φ(2.1046) = 0.98234,
    // binomial SE sqrt(p(1 − p)/N) = 9.3e-4; and the percentiles up to the 75th involve
    // censored values (missing) while the 95th may not.
    let day0 = rows.iter().find(|r| r.time == 0.0).unwrap();
    let share = day0.n_blq as f64 / N as f64;
    assert!(
        (share - 0.98234).abs() < 4.0 * 9.3e-4,
        "censored share {share}"
    );
    assert_eq!(day0.percentiles[..4], [None, None, None, None]);
    // Every censored value is written as the LLOQ.
    for s in &sim.subjects {
        let (v, c) = sim.value(s, 0, 0);
        if c {
            assert_eq!(v, 20.0);
        } else {
            assert!(v >= 20.0, "{v}");
        }
    }
}

#[test]
fn the_typical_subject_is_the_closed_form_at_typical_values() {
    let model = Stein::published();
    let times: Vec<f64> = (0..=365).map(f64::from).collect();
    let mut d = design(times.clone(), false);
    d.doses = vec![
        DoseLevel { dose: 25e6, n: 1 },
        DoseLevel { dose: 50e6, n: 1 },
    ];
    d.variability = Variability::Typical;
    let d = d.check(&model).unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    assert_eq!(sim.subjects.len(), 2);
    let mut theta = TYPICAL.to_vec();
    theta.push(0.56);
    for s in &sim.subjects {
        assert_eq!(s.subject.theta, theta);
        for (t, &time) in times.iter().enumerate() {
            // Same closed form, same operations: equal to the last bit.
            assert_eq!(sim.value(s, t, 0), (stein(&theta, time), false));
        }
    }
}

#[test]
fn built_in_stein2019_with_a_full_omega_on_cmax_only() {
    // The model file's stein2019 with Ω = [0.65] over cmax alone (a full Ω replacing the
    // model's diagonal): Cmax at the sample at Tmax = 9.3 d is log-normal (log 24000, 0.65).
    let model = Model::load("stein2019").unwrap();
    let mut d = design(vec![0.0, 4.0, 9.3, 14.0, 28.0], false);
    d.variability = Variability::Population(Omega::Full {
        parameters: vec!["cmax".into()],
        matrix: vec![OMEGA2[2]],
    });
    let d = d.check(&model).unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    let s = summarise_endpoints(&endpoints(&sim));
    let cmax = METRICS.iter().position(|m| *m == "cmax").unwrap();
    assert_lognormal_cmax(s[0].metrics[cmax]);
}

#[test]
fn correlated_random_effects_follow_the_full_omega() {
    // log C(0) = log(cmax/foldx) = const + η_cmax − η_foldx. With var(η_foldx) = 2.4,
    // var(η_cmax) = 0.65 and correlation 0.5 (covariance 0.5·sqrt(2.4·0.65) = 0.62450),
    // var(log C(0)) = 2.4 + 0.65 − 2·0.62450 = 1.80100 (hand computation).
    let model = Model::load("stein2019").unwrap();
    let cov = 0.5 * (OMEGA2[0] * OMEGA2[2]).sqrt();
    let mut d = design(vec![0.0], false);
    d.variability = Variability::Population(Omega::Full {
        parameters: vec!["foldx".into(), "cmax".into()],
        matrix: vec![OMEGA2[0], cov, cov, OMEGA2[2]],
    });
    let d = d.check(&model).unwrap();
    let sim = simulate(&model, &d, &|_| {}).unwrap();
    let day0 = &summarise(&sim)[0];
    let omega = (OMEGA2[0] + OMEGA2[2] - 2.0 * cov).sqrt();
    assert!((omega * omega - 1.80100).abs() < 1e-5);
    let mu = (TYPICAL[2] / TYPICAL[0]).ln();
    let [p05, _, median, _, p95] = day0.percentiles.map(Option::unwrap);
    assert!(
        (median.ln() - mu).abs() < 4.0 * se_median(omega),
        "median {median}"
    );
    assert!(
        (p05.ln() - (mu - Z95 * omega)).abs() < 4.0 * se_p05(omega),
        "p05 {p05}"
    );
    assert!(
        (p95.ln() - (mu + Z95 * omega)).abs() < 4.0 * se_p05(omega),
        "p95 {p95}"
    );
    // without the correlation the spread would be sqrt(3.05) = 1.746, not 1.342: the
    // 95th percentile tells them apart by far more than the tolerance
    assert!(((mu + Z95 * 3.05f64.sqrt()) - p95.ln()).abs() > 10.0 * se_p05(omega));
}
