//! The numbers of a VPC against independent values: observed percentiles by hand (type 7),
//! simulated percentiles against the known quantiles of a closed-form model, fractions
//! below the LLOQ against the normal CDF, the prediction correction by hand, and
//! reproducibility by seed and thread count.

use cartkin::data::{CovariateValue, Covariates, Dataset, Subject};
use cartkin::model::{ErrorModel, Predict};
use cartkin::simulate::vpc::{bin_stats, run_vpc, Binning, Vpc, VpcSettings};
use cartkin::simulate::{Omega, Population};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::common::estimate::{in_memory, subject, Decay};

/// `n` subjects observed at `times` (values irrelevant to the simulation).
fn design(n: usize, times: &[f64], lloq: Option<f64>) -> Dataset {
    let obs: Vec<(f64, f64, bool)> = times.iter().map(|&t| (t, 1.0, false)).collect();
    in_memory(
        (0..n)
            .map(|i| subject(&format!("S{i}"), "y", &obs, lloq))
            .collect(),
    )
}

fn settings(replicates: usize, seed: u64) -> VpcSettings {
    VpcSettings {
        replicates,
        seed,
        pred_corrected: false,
        binning: Binning::Visits,
    }
}

/// y = DOSE·A·exp(−k·t) (DOSE a covariate, 1 when absent), η on ln A with variance ω²,
/// log-additive error sd: ln y ~ N(ln DOSE + ln A − k·t, ω² + sd²) exactly.
fn decay(omega2: f64, sd: f64, lloq: Option<f64>) -> Decay {
    Decay::new(
        (100.0, Some(omega2)),
        (0.2, None),
        sd,
        ErrorModel::LogAdditive { a: 2 },
        lloq,
    )
}

fn population(model: &Decay) -> Population {
    Population::new("decay", model.parameters(), &[], &Omega::Model, &[]).unwrap()
}

#[test]
fn observed_percentiles_and_blq_fraction_by_hand() {
    // One bin (t = 1) of 6 records: two below the LLOQ 5, and 6, 8, 10, 20.
    // Type 7 (Hyndman & Fan 1996): sorted with the censored lowest, x = [<5, <5, 6, 8, 10, 20],
    // h = 5p. p = 0.05: h = 0.25 uses x0, x1 (censored) → not reported.
    // p = 0.5: h = 2.5 → 6 + 0.5·(8 − 6) = 7. p = 0.95: h = 4.75 → 10 + 0.75·10 = 17.5.
    // Bin t = 2: [1, 2, 3, 4]: h = 3p: 0.15 → 1.15; 1.5 → 2.5; 2.85 → 3.85.
    let values = [
        (5.0, true),
        (6.0, false),
        (20.0, false),
        (5.0, true),
        (10.0, false),
        (8.0, false),
    ];
    let subjects: Vec<Subject> = values
        .iter()
        .enumerate()
        .map(|(i, &(v, c))| {
            let second = (i + 1) as f64;
            let obs = if i < 4 {
                vec![(1.0, v, c), (2.0, second, false)]
            } else {
                vec![(1.0, v, c)]
            };
            subject(&format!("S{i}"), "y", &obs, Some(5.0))
        })
        .collect();
    let model = decay(0.1, 0.2, Some(5.0));
    let vpc = run_vpc(
        &model,
        &in_memory(subjects),
        &population(&model),
        &settings(20, 1),
    )
    .unwrap();
    assert_eq!(vpc.rows.len(), 2);
    let (r1, r2) = (&vpc.rows[0], &vpc.rows[1]);
    assert_eq!((r1.bin, r1.time, r1.n, r1.n_blq), (1, 1.0, 6, 2));
    assert_eq!(r1.lloq, Some(5.0));
    assert!((r1.blq_obs - 2.0 / 6.0).abs() < 1e-15);
    assert_eq!(r1.obs[0], None);
    assert!((r1.obs[1].unwrap() - 7.0).abs() < 1e-12);
    assert!((r1.obs[2].unwrap() - 17.5).abs() < 1e-12);
    assert_eq!((r2.bin, r2.n, r2.n_blq), (2, 4, 0));
    for (q, want) in r2.obs.iter().zip([1.15, 2.5, 3.85]) {
        assert!((q.unwrap() - want).abs() < 1e-12, "{:?}", r2.obs);
    }
    // The same through bin_stats directly; all censored → nothing reported.
    assert_eq!(bin_stats(&values).q[0], None);
    assert_eq!(bin_stats(&[(5.0, true); 3]).q, [None, None, None]);
}

#[test]
fn simulated_percentiles_match_the_closed_form_quantiles() {
    // ln y at time t ~ N(μ(t), s²), μ = ln 100 − 0.2·t, s² = ω² + sd² = 0.1 + 0.04.
    // Quantile p: exp(μ + z_p·s). Monte-Carlo error on the log scale: a type-7 sample
    // quantile of N = 200 normals has SD ≈ s·√(p(1−p)/N)/φ(z_p) (0.1495·s at p = 0.05,
    // 0.0886·s at p = 0.5); the median over R = 200 replicates has SD ≈ 1.2533 times that
    // over √R (0.0133·s at most). Type 7 at p = 0.05 also has a finite-N bias of about
    // 0.03·s (Blom's approximation of E[x₍ₖ₎], k = 10.95 of 200). Tolerance: 0.1·s on
    // the log scale, above 4 Monte-Carlo SDs plus that bias.
    let (w2, sd) = (0.1f64, 0.2f64);
    let s = (w2 + sd * sd).sqrt();
    let (n, reps) = (200, 200);
    let model = decay(w2, sd, None);
    let times = [1.0, 5.0];
    let vpc = run_vpc(
        &model,
        &design(n, &times, None),
        &population(&model),
        &settings(reps, 7),
    )
    .unwrap();
    let z = Normal::standard();
    for (row, &t) in vpc.rows.iter().zip(&times) {
        let mu = 100f64.ln() - 0.2 * t;
        for (k, p) in [0.05, 0.5, 0.95].into_iter().enumerate() {
            let zp = z.inverse_cdf(p);
            let expected = mu + zp * s;
            let got = row.sim[k][1].unwrap().ln();
            assert!(
                (got - expected).abs() < 0.1 * s,
                "t {t} p {p}: median simulated ln q {got} vs closed form {expected}"
            );
            // The 90 % interval of the replicate percentiles: width on the log scale
            // ≈ 2·1.645·s·√(p(1−p)/N)/φ(z_p) (asymptotic); within 35 % (the 5th and 95th
            // of 200 replicates have ≈ 10 % Monte-Carlo error, the asymptotic form a few %).
            let width = row.sim[k][2].unwrap().ln() - row.sim[k][0].unwrap().ln();
            let asym = 2.0 * 1.6449 * s * (p * (1.0 - p) / n as f64).sqrt() / z.pdf(zp);
            assert!(
                (width / asym - 1.0).abs() < 0.35,
                "t {t} p {p}: interval width {width} vs asymptotic {asym}"
            );
        }
    }
}

#[test]
fn simulated_blq_fraction_matches_the_normal_cdf() {
    // P(y < L) = Φ((ln L − μ)/s); at t = 14, μ = ln 100 − 2.8, L = 5: Φ((ln 5 − μ)/s).
    // Per replicate the fraction of N = 200 has SD √(P(1−P)/N) ≤ 0.035; the median over
    // R = 200 replicates is within 4·1.2533·0.035/√200 + 1/N (the fractions are k/N) of P.
    let (w2, sd) = (0.1f64, 0.2f64);
    let s = (w2 + sd * sd).sqrt();
    let model = decay(w2, sd, Some(5.0));
    let vpc = run_vpc(
        &model,
        &design(200, &[14.0], Some(5.0)),
        &population(&model),
        &settings(200, 3),
    )
    .unwrap();
    let mu = 100f64.ln() - 0.2 * 14.0;
    let p = Normal::standard().cdf((5f64.ln() - mu) / s);
    let got = vpc.rows[0].blq_sim[1].unwrap();
    let tol = 4.0 * 1.2533 * (p * (1.0 - p) / 200.0).sqrt() / 200f64.sqrt() + 1.0 / 200.0;
    assert!(
        (got - p).abs() < tol,
        "simulated BLQ fraction {got} vs Φ {p} (tol {tol})"
    );
    // the observed values (all 1 < LLOQ in `design`, but not flagged censored) give 0
    assert_eq!(vpc.rows[0].blq_obs, 0.0);
    assert!(vpc.rows[0].blq_sim[0] <= vpc.rows[0].blq_sim[2]);
}

#[test]
fn prediction_correction_by_hand() {
    // Two subjects in one bin with DOSE 1 and 2: PRED = DOSE·100·e^{−0.2} (typical), the
    // bin median PRED is 1.5·100·e^{−0.2}; factors PRED_bin/PRED = 1.5 and 0.75.
    // Observed 50 and 160 → 75 and 120; type-7 median of two = 97.5.
    let mut subjects = Vec::new();
    for (i, (dose, y)) in [(1.0, 50.0), (2.0, 160.0)].into_iter().enumerate() {
        let mut s = subject(&format!("S{i}"), "y", &[(1.0, y, false)], None);
        s.covariates = Covariates::default();
        s.covariates
            .constant
            .insert("DOSE".into(), CovariateValue::Numeric(dose));
        subjects.push(s);
    }
    let model = decay(0.1, 0.2, None);
    let mut set = settings(50, 5);
    set.pred_corrected = true;
    let vpc: Vpc = run_vpc(&model, &in_memory(subjects), &population(&model), &set).unwrap();
    let values: Vec<f64> = vpc.observed.iter().map(|p| p.value).collect();
    assert!(
        (values[0] - 75.0).abs() < 1e-9 && (values[1] - 120.0).abs() < 1e-9,
        "{values:?}"
    );
    assert!((vpc.rows[0].obs[1].unwrap() - 97.5).abs() < 1e-9);
    // Simulated values are corrected too: the dose difference is gone, so the simulated
    // median is near the typical prediction at DOSE 1.5 (150·e^{−0.2} = 122.8; s = 0.374,
    // two subjects: a wide tolerance of 25 %).
    let med = vpc.rows[0].sim[1][1].unwrap();
    assert!(
        (med / (150.0 * (-0.2f64).exp()) - 1.0).abs() < 0.25,
        "{med}"
    );
}

#[test]
fn same_seed_same_result_whatever_the_threads_and_another_seed_differs() {
    let model = decay(0.1, 0.2, Some(5.0));
    let data = design(30, &[1.0, 7.0, 14.0], Some(5.0));
    let pop = population(&model);
    let run = |threads: usize, seed: u64| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_vpc(&model, &data, &pop, &settings(40, seed)).unwrap())
    };
    let one = run(1, 11);
    assert_eq!(one, run(3, 11));
    assert_ne!(one, run(1, 12));
}
