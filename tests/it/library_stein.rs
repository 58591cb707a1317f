//! stein2019_ode (the ODE form, solved with a declared discontinuity at Tmax) against
//! stein2019 (the closed form of Stein et al. CPT PSP 2019;8:285).
//!
//! Done-when criterion of issue 3: agreement to ≤ 1e-6 relative at all output times,
//! including just before and just after Tmax (Tmax ± 1e-9, Tmax ± 1e-6). The closed form
//! is the ODE's exact solution: E = R0·e^(ρt) before Tmax; after it E = Cmax·e^(−α s),
//! M = F_B·Cmax·(e^(−β s) − e^(−α s)), s = t − Tmax, so E + M is the closed form.
//! Checked for the typical subject and for individuals whose Tmax, growth and decline
//! differ (the stop at Tmax is per individual), and against a value computed by hand.

use crate::common::library as library_common;

use cartkin::model::Predict;
use library_common::{load, predict_all, typical, with_param};

/// Daily grid to day 365 plus Tmax itself and Tmax ± 1e-9, ± 1e-6, ± 1e-3.
fn grid(tmax: f64) -> Vec<f64> {
    let mut t: Vec<f64> = (0..=365).map(f64::from).collect();
    for d in [-1e-3, -1e-6, -1e-9, 0.0, 1e-9, 1e-6, 1e-3] {
        t.push(tmax + d);
    }
    t.sort_by(f64::total_cmp);
    t.dedup();
    t
}

/// Largest relative difference of the two models' transgene over `grid(tmax)`.
fn max_rel_diff(theta_overrides: &[(&str, f64)]) -> (f64, f64) {
    let closed = load("stein2019");
    let ode = load("stein2019_ode");
    let mut th_c = typical(&closed);
    let mut th_o = typical(&ode);
    for &(name, v) in theta_overrides {
        th_c = with_param(&closed, th_c, name, v);
        th_o = with_param(&ode, th_o, name, v);
    }
    let tmax = th_c[closed.parameter_index("tmax").expect("tmax")];
    let times = grid(tmax);
    let c = predict_all(&closed, None, &th_c, &times);
    let o = predict_all(&ode, None, &th_o, &times);
    let mut worst = (0.0_f64, 0.0_f64);
    for ((&t, &a), &b) in times.iter().zip(&c[0]).zip(&o[0]) {
        let rel = ((b - a) / a).abs();
        if rel > worst.0 {
            worst = (rel, t);
        }
    }
    worst
}

#[test]
fn ode_matches_closed_form_typical_subject() {
    let (rel, t) = max_rel_diff(&[]);
    assert!(
        rel <= 1e-6,
        "max relative difference {rel:e} at t = {t} (bound 1e-6)"
    );
}

#[test]
fn ode_matches_closed_form_early_fast_expander() {
    // Tmax 5 d, 1e5-fold expansion, fast first decline
    let (rel, t) = max_rel_diff(&[("tmax", 5.0), ("foldx", 1e5), ("alpha", 0.5)]);
    assert!(
        rel <= 1e-6,
        "max relative difference {rel:e} at t = {t} (bound 1e-6)"
    );
}

#[test]
fn ode_matches_closed_form_late_slow_expander() {
    // Tmax 21.7 d (not on the daily grid), 50-fold expansion, large memory fraction
    let (rel, t) = max_rel_diff(&[("tmax", 21.7), ("foldx", 50.0), ("fb", 0.2), ("beta", 0.01)]);
    assert!(
        rel <= 1e-6,
        "max relative difference {rel:e} at t = {t} (bound 1e-6)"
    );
}

#[test]
fn closed_form_by_hand_around_tmax() {
    // Hand computation, typical values (Stein et al. 2019): just before Tmax the growth
    // branch R0·e^(ρt) → Cmax; just after it (1−F_B)·Cmax·e^(−α·1e-6) + F_B·Cmax·e^(−β·1e-6)
    // = 24000·(1 − 1e-6·(0.9921·0.16 + 0.0079·0.0032)) = 24000 − 3.810e-3 (to 1e-9 rel.).
    let closed = load("stein2019");
    let ode = load("stein2019_ode");
    let times = [9.3 - 1e-6, 9.3, 9.3 + 1e-6, 100.0];
    let rho: f64 = 3900.0_f64.ln() / 9.3;
    let before = 24000.0 * (-rho * 1e-6).exp();
    let after = 24000.0 - 24000.0 * 1e-6 * (0.9921 * 0.16 + 0.0079 * 0.0032);
    // day 100: (1−F_B)·Cmax·e^(−0.16·90.7) + F_B·Cmax·e^(−0.0032·90.7)
    let day100 =
        0.9921 * 24000.0 * (-0.16_f64 * 90.7).exp() + 0.0079 * 24000.0 * (-0.0032_f64 * 90.7).exp();
    let expected = [before, 24000.0, after, day100];
    for model in [&closed, &ode] {
        let got = predict_all(model, None, &typical(model), &times);
        for ((&t, &g), &e) in times.iter().zip(&got[0]).zip(&expected) {
            approx::assert_relative_eq!(g, e, max_relative = 1e-7);
            assert!(g.is_finite(), "{} at t = {t}", model.name());
        }
    }
}
