//! FOCE-I against independent truths: for a model linear in η with constant residual
//! variance the FOCE-I objective is the exact marginal −2LL (the Laplace approximation
//! of a Gaussian integral is exact), written out here in closed form; and a fit of such a
//! model reaches the maximum of that closed form.

use approx::assert_relative_eq;
use cartkin::data::Dataset;
use cartkin::estimate::population::{minimise, FoceSettings, PopulationValues};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use crate::common::estimate::{in_memory, problem, subject, Line};

/// f(t) = a + b·t with η on a (ω² 4) and on b (ω² 0.04) when `slope_iiv`, additive error
/// sd.
fn random_line(slope_iiv: bool) -> Line {
    Line::new(10.0, -0.5, 1.0).with_iiv(Some(4.0), slope_iiv.then_some(0.04))
}

/// Eight subjects, 2–5 records each at different times, y = 10 + η_a − 0.5 t + ε
/// (ω_a² = 4, σ = 1), seeded.
fn dataset() -> Dataset {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let subjects = (0..8)
        .map(|i| {
            let n = 2 + i % 4;
            let z: f64 = StandardNormal.sample(&mut rng);
            let eta = 2.0 * z;
            let observations: Vec<(f64, f64, bool)> = (0..n)
                .map(|j| {
                    let t = 0.5 + j as f64 * (1.0 + 0.3 * i as f64);
                    let e: f64 = StandardNormal.sample(&mut rng);
                    (t, 10.0 + eta - 0.5 * t + e, false)
                })
                .collect();
            subject(&format!("S{i}"), "y", &observations, None)
        })
        .collect();
    in_memory(subjects)
}

/// Marginal −2LL of y_i ~ N(a + b·t, ZΩZᵀ + σ²I), Z = [1, t] (or [1] with one η),
/// by LU determinant and solve (nalgebra), summed over subjects.
fn marginal_neg2ll(data: &Dataset, a: f64, b: f64, omega: &DMatrix<f64>, sd: f64) -> f64 {
    let mut total = 0.0;
    for s in &data.subjects {
        let n = s.observations.len();
        let d = omega.nrows();
        let z = DMatrix::from_fn(
            n,
            d,
            |j, k| {
                if k == 0 {
                    1.0
                } else {
                    s.observations[j].time
                }
            },
        );
        let c = &z * omega * z.transpose() + DMatrix::identity(n, n) * (sd * sd);
        let r = DVector::from_fn(n, |j, _| {
            let o = &s.observations[j];
            o.value - a - b * o.time
        });
        let lu = c.clone().lu();
        let quad = r.dot(&lu.solve(&r).expect("C invertible"));
        total += n as f64 * (2.0 * std::f64::consts::PI).ln() + lu.determinant().ln() + quad;
    }
    total
}

#[test]
fn random_intercept_ofv_is_the_closed_form_marginal() {
    let model = random_line(false);
    let data = dataset();
    let p = problem(&model, &data, &[]);
    // One η: closed form by hand too. With C = ω²11ᵀ + σ²I (n×n):
    // |C| = σ^{2(n−1)}(σ² + nω²), C⁻¹ = (I − ω²/(σ² + nω²)·11ᵀ)/σ² (Sherman–Morrison).
    for (a, b, w2, sd) in [
        (10.0, -0.5, 4.0, 1.0),
        (8.0, -0.3, 1.5, 2.0),
        (11.0, -0.6, 9.0, 0.4),
    ] {
        let values = PopulationValues {
            psi: vec![a, b, f64::ln(sd)],
            omega: DMatrix::from_element(1, 1, w2),
        };
        let x = p.pop.pack(&values).expect("pack");
        let foce = p.evaluate(&x, &p.zero_etas()).expect("evaluate").neg2ll;
        let mut hand = 0.0;
        for s in &data.subjects {
            let n = s.observations.len() as f64;
            let r: Vec<f64> = s
                .observations
                .iter()
                .map(|o| o.value - a - b * o.time)
                .collect();
            let sum: f64 = r.iter().sum();
            let ss: f64 = r.iter().map(|v| v * v).sum();
            let s2 = sd * sd;
            let quad = (ss - w2 / (s2 + n * w2) * sum * sum) / s2;
            let ln_det = (n - 1.0) * s2.ln() + (s2 + n * w2).ln();
            hand += n * (2.0 * std::f64::consts::PI).ln() + ln_det + quad;
        }
        let lu = marginal_neg2ll(&data, a, b, &DMatrix::from_element(1, 1, w2), sd);
        assert_relative_eq!(hand, lu, epsilon = 1e-10);
        // Tolerance 1e-8 absolute (issue 13): f is linear in η, so the central-difference
        // sensitivities are exact to rounding, and η̂ is found to 1e-11.
        assert!(
            (foce - hand).abs() < 1e-8,
            "FOCE {foce} vs closed form {hand}"
        );
    }
}

#[test]
fn random_intercept_and_slope_block_ofv_is_the_closed_form_marginal() {
    let model = random_line(true);
    let data = dataset();
    let p = problem(&model, &data, &[vec!["a".into(), "b".into()]]);
    assert_eq!(p.pop.blocks, vec![vec![0, 1]]);
    let omega = DMatrix::from_row_slice(2, 2, &[3.0, -0.2, -0.2, 0.05]);
    let values = PopulationValues {
        psi: vec![9.5, -0.45, f64::ln(0.8)],
        omega: omega.clone(),
    };
    let x = p.pop.pack(&values).expect("pack");
    let foce = p.evaluate(&x, &p.zero_etas()).expect("evaluate").neg2ll;
    let exact = marginal_neg2ll(&data, 9.5, -0.45, &omega, 0.8);
    assert!(
        (foce - exact).abs() < 1e-8,
        "FOCE {foce} vs closed form {exact}"
    );
}

#[test]
fn fit_of_the_linear_model_reaches_the_marginal_maximum() {
    let model = random_line(false);
    let data = dataset();
    let p = problem(&model, &data, &[]);
    let x0 = p.pop.pack(&p.pop.initial(&model)).expect("pack");
    let fit = minimise(&p, &x0, &FoceSettings::default(), &|_| {}).expect("fit");
    assert!(fit.converged, "{}", fit.message);
    // At the FOCE estimate the closed-form marginal −2LL is at its minimum: on the
    // packed scale u = (a, b, ln ω, ln σ), its Newton decrement ½gᵀH⁻¹g (the fall of
    // the OFV still to come, g and H by central differences of the closed form, steps
    // 1e-4: truncation ~1e-8, rounding ~1e-6 on H) is below 1e-4, ten times the
    // optimiser's tolerance on its own BFGS model of H: the estimates are within
    // √(2·1e-4) ≈ 0.014 standard errors of the maximum likelihood (measured: 1.2e-6).
    let v = p.pop.unpack(&fit.x);
    let (a, b, sd, w2) = (v.psi[0], v.psi[1], v.psi[2].exp(), v.omega[(0, 0)]);
    let f = |a: f64, b: f64, w2: f64, sd: f64| {
        marginal_neg2ll(&data, a, b, &DMatrix::from_element(1, 1, w2), sd)
    };
    let u0 = [a, b, 0.5 * w2.ln(), sd.ln()];
    let at = |u: &[f64; 4]| f(u[0], u[1], (2.0 * u[2]).exp(), u[3].exp());
    let h = 1e-4;
    let shifted = |k: usize, dk: f64, l: usize, dl: f64| {
        let mut u = u0;
        u[k] += dk;
        u[l] += dl;
        at(&u)
    };
    let g = DVector::from_fn(4, |k, _| {
        (shifted(k, h, k, 0.0) - shifted(k, -h, k, 0.0)) / (2.0 * h)
    });
    let hess = DMatrix::from_fn(4, 4, |k, l| {
        (shifted(k, h, l, h) - shifted(k, h, l, -h) - shifted(k, -h, l, h) + shifted(k, -h, l, -h))
            / (4.0 * h * h)
    });
    let decrement = 0.5 * g.dot(&hess.cholesky().expect("a minimum").solve(&g));
    assert!(
        decrement < 1e-4,
        "Newton decrement {decrement:e} of the closed form at the FOCE estimate (gradient {g})"
    );
    assert!((fit.evaluation.neg2ll - f(a, b, w2, sd)).abs() < 1e-8);
}
