//! FOCE-I on models nonlinear in η, against truths written here: the interaction term on
//! a proportional-error model (hand-derived), the Laplacian/FOCE-I OFV against the
//! marginal likelihood by quadrature, the covariance step's R against second differences
//! of the closed-form marginal, and the `block` line of the model language.

use std::path::Path;

use cartkin::data::{Dataset, Observation};
use cartkin::estimate::population::covariance::r_matrix;
use cartkin::estimate::population::{
    minimise, Approximation, FoceSettings, PopulationModel, PopulationProblem, PopulationValues,
};
use cartkin::model::{ErrorModel, Model, Predict};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use crate::common::estimate::{in_memory, problem, subject, Decay};

/// f(t) = A·exp(−k·t), A = A_pop·exp(η) (log scale, iiv), k fixed effect; the error
/// model is additive (sd) or proportional (sd as CV).
fn decay(proportional: bool) -> Decay {
    let error = if proportional {
        ErrorModel::Proportional { b: 2 }
    } else {
        ErrorModel::Additive { a: 2 }
    };
    Decay::new((10.0, Some(0.1)), (0.3, None), 0.2, error, None)
}

const TIMES: [f64; 6] = [0.5, 1.0, 2.0, 4.0, 6.0, 8.0];

/// Ten subjects simulated from Decay (A = 10, k = 0.3, ω² = 0.1, additive σ = 0.2), seeded.
fn dataset(k_times: &[f64]) -> Dataset {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2007);
    let subjects = (0..10)
        .map(|i| {
            let z: f64 = StandardNormal.sample(&mut rng);
            let a = 10.0 * (0.1f64.sqrt() * z).exp();
            let observations: Vec<(f64, f64, bool)> = k_times
                .iter()
                .map(|&t| {
                    let e: f64 = StandardNormal.sample(&mut rng);
                    (t, a * (-0.3 * t).exp() + 0.2 * e, false)
                })
                .collect();
            subject(&format!("S{i}"), "y", &observations, None)
        })
        .collect();
    in_memory(subjects)
}

fn packed(p: &PopulationProblem<'_, Decay>, a: f64, k: f64, sd: f64, w2: f64) -> Vec<f64> {
    p.pop
        .pack(&PopulationValues {
            psi: vec![a.ln(), k.ln(), sd.ln()],
            omega: DMatrix::from_element(1, 1, w2),
        })
        .expect("pack")
}

#[test]
fn interaction_term_on_a_proportional_error_model() {
    // Proportional error, f = A·e^η·e^(−kt): g = ∂f/∂η = f, s = b·f, V = b²f²,
    // h = ∂V/∂η = 2b²f². Per record g²/V = 1/b² and ½h²/V² = 2, so the FOCE-I matrix is
    // 1/ω² + n/b² + 2n, while linearising f with V held fixed (C = GΩGᵀ + V, whose
    // ln|C| = ln|V| + ln ω² + ln(1/ω² + GᵀV⁻¹G) by the matrix determinant lemma) gives
    // 1/ω² + n/b². The OFV of a subject differs by exactly
    // ln((1/ω² + n/b² + 2n)/(1/ω² + n/b²)) at the same η̂.
    let model = decay(true);
    let data = dataset(&TIMES);
    let p = problem(&model, &data, &[]);
    let (b, w2) = (0.2, 0.1);
    let x = packed(&p, 10.0, 0.3, b, w2);
    let e = p.evaluate(&x, &p.zero_etas()).expect("evaluate");
    let values = p.pop.unpack(&x);
    let omega_inv = values.omega.clone().try_inverse().expect("Ω⁻¹");
    let n = TIMES.len() as f64;
    let with = 1.0 / w2 + n / (b * b) + 2.0 * n;
    let without = 1.0 / w2 + n / (b * b);
    for (k, mode) in e.modes.iter().enumerate() {
        let c = p.conditional(k, &values.psi, &omega_inv);
        let m = c.foce_matrix(&mode.eta).expect("FOCE matrix")[(0, 0)];
        // Central-difference sensitivities: relative error ~1e-10.
        assert!((m - with).abs() < 1e-6 * with, "{m} vs {with}");
        let c_form = mode.objective + w2.ln() + without.ln();
        let diff = e.per_subject[k] - c_form;
        assert!(
            (diff - (with / without).ln()).abs() < 1e-6,
            "subject {k}: FOCE-I − C-form = {diff}, expected ln({with}/{without})"
        );
    }
    // Here 1/ω² = 10, n/b² = 150, 2n = 12: ln(172/160) = 0.072321 per subject.
    assert!(((with / without).ln() - 0.072_321).abs() < 1e-6);
}

/// −2 ln ∫ p(y|η) p(η) dη of one subject by the trapezoidal rule on η̂ ± 12 posterior
/// SDs (4001 points; for a smooth integrand decaying like a Gaussian the rule converges
/// geometrically, so this is exact to rounding), with the log-integrand shifted by its
/// maximum.
fn marginal_by_quadrature(obs: &[Observation], a: f64, k: f64, sd: f64, w2: f64) -> f64 {
    let log_integrand = |eta: f64| {
        let mut ll = -0.5 * eta * eta / w2 - 0.5 * (2.0 * std::f64::consts::PI * w2).ln();
        for o in obs {
            let f = a * eta.exp() * (-k * o.time).exp();
            let r = (o.value - f) / sd;
            ll += -0.5 * r * r - sd.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
        }
        ll
    };
    // Mode by golden-section search on [−3, 3] (unimodal here), curvature by differences.
    let (mut lo, mut hi) = (-3.0f64, 3.0f64);
    let phi = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..200 {
        let m1 = hi - phi * (hi - lo);
        let m2 = lo + phi * (hi - lo);
        if log_integrand(m1) > log_integrand(m2) {
            hi = m2;
        } else {
            lo = m1;
        }
    }
    let mode = 0.5 * (lo + hi);
    let h = 1e-4;
    let curv =
        -(log_integrand(mode + h) - 2.0 * log_integrand(mode) + log_integrand(mode - h)) / (h * h);
    let sdp = 1.0 / curv.sqrt();
    let peak = log_integrand(mode);
    let m = 4000;
    let width = 24.0 * sdp;
    let step = width / m as f64;
    let mut sum = 0.0;
    for i in 0..=m {
        let eta = mode - 12.0 * sdp + i as f64 * step;
        let w = if i == 0 || i == m { 0.5 } else { 1.0 };
        sum += w * (log_integrand(eta) - peak).exp();
    }
    -2.0 * (peak + (sum * step).ln())
}

#[test]
fn laplacian_and_foce_ofv_match_quadrature_of_the_marginal_likelihood() {
    let model = decay(false);
    let data = dataset(&TIMES);
    let mut p = problem(&model, &data, &[]);
    let (a, k, sd, w2) = (10.0, 0.3, 0.2, 0.1);
    let x = packed(&p, a, k, sd, w2);
    let quad: f64 = data
        .subjects
        .iter()
        .map(|s| marginal_by_quadrature(&s.observations, a, k, sd, w2))
        .sum();
    assert_eq!(p.approximation, Approximation::FoceI);
    let foce = p.evaluate(&x, &p.zero_etas()).expect("FOCE-I").neg2ll;
    p.approximation = Approximation::Laplacian;
    let laplace = p.evaluate(&x, &p.zero_etas()).expect("Laplacian").neg2ll;
    // Laplace's error is O(1/n) per subject times the non-Gaussianity of the posterior of
    // η; with 6 records of σ = 0.2 on f ≈ 1–9 the posterior SD of η is ≈ 0.02, so the
    // posterior is Gaussian to ~1e-3 and Laplace is within 1e-3 per subject (tolerance
    // 0.01 over ten subjects). FOCE-I replaces the observed curvature by its expectation:
    // the difference is Σ r_j·∂²f_j/∂η²/σ² inside the log-determinant, of the order of
    // the residuals (≈ 1 σ per record, ≈ 1/√n relative): tolerance 0.5 over ten subjects.
    assert!(
        (laplace - quad).abs() < 1e-2,
        "Laplacian {laplace} vs quadrature {quad}"
    );
    assert!(
        (foce - quad).abs() < 0.5,
        "FOCE-I {foce} vs quadrature {quad}"
    );
}

#[test]
fn r_matrix_matches_second_differences_of_the_marginal() {
    // With the Laplacian the OFV of this model is within 1e-3 of the exact marginal
    // (previous test), so R must match the Hessian of the quadrature marginal in the
    // packed coordinates (ln A, ln k, ln sd, ln ω) to the difference of curvatures of
    // the two: tolerance 2% of the largest element.
    let model = decay(false);
    let data = dataset(&TIMES);
    let mut p = problem(&model, &data, &[]);
    p.approximation = Approximation::Laplacian;
    let x0 = packed(&p, 10.0, 0.3, 0.2, 0.1);
    let fit = minimise(&p, &x0, &FoceSettings::default(), &|_| {}).expect("fit");
    assert!(fit.converged, "{}", fit.message);
    let warm: Vec<Vec<f64>> = fit.evaluation.modes.iter().map(|m| m.eta.clone()).collect();
    let r = r_matrix(&p, &fit.x, fit.evaluation.neg2ll, &warm, 2e-3).expect("R");
    let f = |x: &[f64]| -> f64 {
        data.subjects
            .iter()
            .map(|s| {
                marginal_by_quadrature(
                    &s.observations,
                    x[0].exp(),
                    x[1].exp(),
                    x[2].exp(),
                    (2.0 * x[3]).exp(),
                )
            })
            .sum()
    };
    let x = &fit.x;
    let h = 1e-3;
    let n = x.len();
    let mut max: f64 = 0.0;
    let mut hq = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let e = |si: f64, sj: f64| {
                let mut y = x.clone();
                y[i] += si * h;
                y[j] += sj * h;
                f(&y)
            };
            hq[i * n + j] =
                (e(1.0, 1.0) - e(1.0, -1.0) - e(-1.0, 1.0) + e(-1.0, -1.0)) / (4.0 * h * h);
            max = max.max(hq[i * n + j].abs());
        }
    }
    for i in 0..n * n {
        assert!(
            (r[i] - hq[i]).abs() < 0.02 * max,
            "R {r:?} vs quadrature Hessian {hq:?}"
        );
    }
}

const BLOCK_MODEL: &str = "model blocky
param CL = 2 bounds 0 inf log iiv 0.1
param V = 10 bounds 0 inf log iiv 0.2
param KA = 1 bounds 0 inf log
param sd = 0.1 residual
block CL V
output y = 1 / V * exp(-CL / V * t)
error y add(sd)
";

#[test]
fn block_line_declares_a_full_omega_block() {
    let model = Model::parse(BLOCK_MODEL, Path::new("blocky.model")).expect("parses");
    assert_eq!(
        model.omega_blocks(),
        &[vec!["CL".to_string(), "V".to_string()]]
    );
    let pop = PopulationModel::new(&model, &[], model.omega_blocks()).expect("population");
    assert_eq!(pop.blocks, vec![vec![0, 1]]);
    // 3 θ (CL, V, KA) + sd, and the 3 elements of the 2×2 block.
    assert_eq!(pop.n_packed(), 4 + 3);
    let bad = BLOCK_MODEL.replace("block CL V", "block CL KA");
    let err = Model::parse(&bad, Path::new("blocky.model"))
        .expect_err("KA has no iiv")
        .to_string();
    assert!(
        err.starts_with("blocky.model:6:10: `block CL KA`: `KA` is not a parameter with `iiv`"),
        "{err}"
    );
}
