//! The gradient the optimiser uses (central finite differences of −2LL on the estimation
//! scale) against the analytic gradient of the Stein 2019 closed form with log-additive
//! error and M3 censoring, derived by hand below; seeded proptest over parameter space.
//!
//! With z = (ln y − ln f)/σ for quantified and u = (ln L − ln f)/σ for censored records,
//! F = Σ(ln 2π + 2 ln σ + z² + 2 ln y) − 2 Σ ln Φ(u), so for a structural ψₖ
//! ∂F/∂ψₖ = −(2/σ) Σ z·∂ln f/∂ψₖ + (2/σ) Σ λ(u)·∂ln f/∂ψₖ, λ = φ/Φ,
//! and ∂F/∂ln σ = Σ(2 − 2z²) + 2 Σ λ(u)·u.
//! ∂ln f/∂ψ before Tmax (ln f = ln Cmax − ln foldx + ln(foldx)·t/Tmax): ln foldx:
//! t/Tmax − 1; ln Tmax: −ln(foldx)·t/Tmax; ln Cmax: 1. After (s = t − Tmax,
//! E₁ = (1−F_B)e^(−αs), E₂ = F_B e^(−βs), g = E₁ + E₂): ln Cmax: 1; ln α: −αsE₁/g;
//! ln β: −βsE₂/g; ln Tmax: Tmax(αE₁ + βE₂)/g; logit F_B: F_B(1−F_B)(e^(−βs) − e^(−αs))/g.

use crate::common::estimate as estimate_support;

use crate::common::stein::{stein, Stein};
use cartkin::data::Covariates;
use cartkin::estimate::{Objective, ParameterMap, Records};
use cartkin::model::{Individual, Predict};
use estimate_support::subject;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn dlnf(th: &[f64], t: f64) -> [f64; 6] {
    let [foldx, tmax, _cmax, alpha, fb, beta] = [th[0], th[1], th[2], th[3], th[4], th[5]];
    if t < tmax {
        [t / tmax - 1.0, -foldx.ln() * t / tmax, 1.0, 0.0, 0.0, 0.0]
    } else {
        let s = t - tmax;
        let (ea, eb) = ((-alpha * s).exp(), (-beta * s).exp());
        let (e1, e2) = ((1.0 - fb) * ea, fb * eb);
        let g = e1 + e2;
        [
            0.0,
            tmax * (alpha * e1 + beta * e2) / g,
            1.0,
            -alpha * s * e1 / g,
            fb * (1.0 - fb) * (eb - ea) / g,
            -beta * s * e2 / g,
        ]
    }
}

fn analytic(th: &[f64], obs: &[(f64, f64, bool)]) -> [f64; 7] {
    let sigma = th[6];
    let mut grad = [0.0; 7];
    for &(t, y, cens) in obs {
        let lf = stein(th, t).ln();
        let d = dlnf(th, t);
        let z = (y.ln() - lf) / sigma;
        if cens {
            // λ = φ/Φ in logs (Φ underflows for very negative z).
            let lam = (-0.5 * z * z
                - 0.5 * (2.0 * std::f64::consts::PI).ln()
                - cartkin::estimate::ln_phi(z))
            .exp();
            for k in 0..6 {
                grad[k] += 2.0 / sigma * lam * d[k];
            }
            grad[6] += 2.0 * lam * z;
        } else {
            for k in 0..6 {
                grad[k] -= 2.0 / sigma * z * d[k];
            }
            grad[6] += 2.0 - 2.0 * z * z;
        }
    }
    grad
}

proptest! {
    #![proptest_config(Config { cases: 64, rng_seed: RngSeed::Fixed(2026), failure_persistence: None, ..Config::default() })]
    #[test]
    fn finite_difference_gradient_matches_the_analytic_one(
        lfold in (100f64).ln()..(1e5f64).ln(),
        ltmax in (5f64).ln()..(15f64).ln(),
        lcmax in (1e3f64).ln()..(1e6f64).ln(),
        lalpha in (0.05f64).ln()..(1f64).ln(),
        lfb in -7f64..-1.0,
        lbeta in (1e-3f64).ln()..(2e-2f64).ln(),
        lsigma in (0.1f64).ln()..(1f64).ln(),
    ) {
        // Sampling times away from the Tmax range [5, 15] (the change point is a kink).
        let obs = [
            (0.5, 20.0, true), (1.0, 35.0, false), (2.0, 160.0, false), (3.0, 700.0, false),
            (4.0, 2500.0, false), (20.0, 9000.0, false), (28.0, 3000.0, false),
            (42.0, 900.0, false), (84.0, 300.0, false), (168.0, 120.0, false),
            (252.0, 50.0, false), (365.0, 20.0, true),
        ];
        let model = Stein::new();
        let subj = subject("G", "transgene", &obs, Some(20.0));
        let (records, _) = Records::from_subject(&subj, &model, None).unwrap();
        let map = ParameterMap::new(&model, &[]);
        let cov = Covariates::default();
        let ind = Individual { doses: &[], covariates: &cov };
        let obj = Objective::new(&model, ind, &records, &map);
        let psi = [lfold, ltmax, lcmax, lalpha, lfb, lbeta, lsigma];
        let mut g = [0.0; 7];
        obj.gradient_into(&psi, &mut g).unwrap();
        let th = obj.theta(&psi);
        let want = analytic(&th, &obs);
        for k in 0..7 {
            // Central differences, h ≈ 6e-6·max(1, |ψ|): truncation O(h²F''') and rounding
            // O(εF/h) are both below 1e-6 relative to the gradient scale here.
            let tol = 1e-6 * (1.0 + want[k].abs()) + 1e-8 * obj.value(&psi).unwrap().abs();
            prop_assert!((g[k] - want[k]).abs() <= tol,
                "{}: fd {} vs analytic {}", model.parameters()[k].name, g[k], want[k]);
        }
    }
}

/// The expected information of Fisher scoring (the curvature of the Levenberg–Marquardt
/// stage) against the Hessian of −2LL where they coincide: for f = a + b·t with additive
/// error and the SD fixed, −2LL = const + Σ_quantified (y − f)²/s² +
/// Σ_censored −2 ln Φ((L − f)/s), whose exact Hessian in (a, b) is Σ_q 2xxᵀ/s² + Σ_c 2λ(u + λ)·xxᵀ/s²,
/// x = (1, t), u = (L − f)/s, λ = φ(u)/Φ(u). Checked against central differences of the
/// exact gradient (step 1e-5, truncation error 0 for the quadratic part; tolerance 1e-6
/// relative) and against that sum written out.
#[test]
fn expected_information_is_the_hessian_of_a_linear_model_with_censoring() {
    use estimate_support::Line;
    let model = Line::new(1.0, 0.5, 0.3);
    let obs = [
        (0.0, 1.2, false),
        (1.0, 1.4, false),
        (2.0, 2.1, false),
        (3.0, 2.0, true),
        (4.0, 2.0, true),
    ];
    let subj = subject("L", "y", &obs, Some(2.0));
    let (records, _) = Records::from_subject(&subj, &model, None).unwrap();
    let map = ParameterMap::new(&model, &[(2, 0.3)]);
    let cov = Covariates::default();
    let ind = Individual {
        doses: &[],
        covariates: &cov,
    };
    let obj = Objective::new(&model, ind, &records, &map);
    let psi = [0.9, 0.45];
    let (mut g, mut info) = ([0.0; 2], [0.0; 4]);
    obj.scoring_into(&psi, &mut g, Some(&mut info)).unwrap();
    // central differences of the gradient
    let h = 1e-5;
    let mut fd = [0.0; 4];
    for k in 0..2 {
        let (mut up, mut down) = (psi, psi);
        up[k] += h;
        down[k] -= h;
        let (mut gu, mut gd) = ([0.0; 2], [0.0; 2]);
        obj.scoring_into(&up, &mut gu, None).unwrap();
        obj.scoring_into(&down, &mut gd, None).unwrap();
        for l in 0..2 {
            fd[k * 2 + l] = (gu[l] - gd[l]) / (2.0 * h);
        }
    }
    // the sum written out
    let s = 0.3;
    let mut hand = [0.0; 4];
    for &(t, _, cens) in &obs {
        let f = psi[0] + psi[1] * t;
        let c = if cens {
            let u = (2.0 - f) / s;
            let lam = (-0.5 * u * u
                - 0.5 * (2.0 * std::f64::consts::PI).ln()
                - cartkin::estimate::ln_phi(u))
            .exp();
            2.0 * lam * (u + lam) / (s * s)
        } else {
            2.0 / (s * s)
        };
        let x = [1.0, t];
        for k in 0..2 {
            for l in 0..2 {
                hand[k * 2 + l] += c * x[k] * x[l];
            }
        }
    }
    for i in 0..4 {
        assert!(
            (info[i] - fd[i]).abs() <= 1e-6 * fd[i].abs().max(1.0),
            "entry {i}: information {} vs finite differences {}",
            info[i],
            fd[i]
        );
        assert!(
            (info[i] - hand[i]).abs() <= 1e-10 * hand[i].abs().max(1.0),
            "entry {i}: information {} vs hand {}",
            info[i],
            hand[i]
        );
    }
}
