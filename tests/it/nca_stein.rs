//! AUC0–28 of the typical Stein 2019 tisagenlecleucel trajectory, densely sampled,
//! against the analytic integral of the closed form, within a derived trapezoid error.
//!
//! Closed form (Stein et al. CPT PSP 2019), typical values foldx 3900, Tmax 9.3 d, Cmax 24,000
//! copies/µg, α 0.16 /d, F_B 0.0079, β 0.0032 /d; R0 = Cmax/foldx, ρ = ln(foldx)/Tmax:
//!   C(t) = R0·e^(ρt)                                        t < Tmax
//!   C(t) = (1 − F_B)·Cmax·e^(−α(t−Tmax)) + F_B·Cmax·e^(−β(t−Tmax))   t ≥ Tmax
//! Exact integral over [a, b] of each exponential piece: (e^(ρb) − e^(ρa))·R0/ρ and
//! Cmax·[(1 − F_B)(e^(−α(a−Tmax)) − e^(−α(b−Tmax)))/α + F_B(…)/β].
//!
//! Error of the linear-up/log-down trapezoid on a uniform grid of step h:
//! 1. Rising phase (increasing → linear trapezoid) of a single exponential: on each
//!    interval trapezoid/integral = x·coth(x) with x = ρh/2 (exactly, for any interval of
//!    width h), so the error over whole rising intervals is I_rise·(x·coth x − 1) ≥ 0,
//!    known exactly (≈ I_rise·x²/3).
//! 2. Falling phase (log trapezoid): the log trapezoid integrates the exponential
//!    through the two samples. ln C is convex (a sum of exponentials is log-convex) with
//!    (ln C)'' = w(1 − w)(α − β)² ≤ (α − β)²/4, w = the α-share of C. Linear
//!    interpolation of a function with second derivative ≤ M is off by at most M·h²/8,
//!    so the interpolant exceeds C by a factor of at most exp((α − β)²h²/32): error in
//!    [0, I_fall·(exp((α − β)²h²/32) − 1)].
//! 3. An interval containing the kink at Tmax: both the true area and the trapezoid lie
//!    between h·min(c₁, c₂) and h·Cmax, so |error| ≤ h·(Cmax − min(c₁, c₂)). When Tmax is
//!    a sample time there is no such interval.
//!
//! The test asserts rise error + [0, fall bound] ± kink bound around the analytic value.

use cartkin::nca::{analyse, AucMethod, NcaSettings, PartialStatus, Profile};

const FOLDX: f64 = 3900.0;
const TMAX: f64 = 9.3;
const CMAX: f64 = 24_000.0;
const ALPHA: f64 = 0.16;
const FB: f64 = 0.0079;
const BETA: f64 = 0.0032;

fn r0() -> f64 {
    CMAX / FOLDX
}
fn rho() -> f64 {
    FOLDX.ln() / TMAX
}

fn stein(t: f64) -> f64 {
    if t < TMAX {
        r0() * (rho() * t).exp()
    } else {
        let d = t - TMAX;
        (1.0 - FB) * CMAX * (-ALPHA * d).exp() + FB * CMAX * (-BETA * d).exp()
    }
}

/// ∫ C over [a, b] with a ≤ b ≤ Tmax.
fn rise_integral(a: f64, b: f64) -> f64 {
    r0() / rho() * ((rho() * b).exp() - (rho() * a).exp())
}

/// ∫ C over [a, b] with Tmax ≤ a ≤ b.
fn fall_integral(a: f64, b: f64) -> f64 {
    let (da, db) = (a - TMAX, b - TMAX);
    CMAX * ((1.0 - FB) * ((-ALPHA * da).exp() - (-ALPHA * db).exp()) / ALPHA
        + FB * ((-BETA * da).exp() - (-BETA * db).exp()) / BETA)
}

/// NCA AUC0–28 of the closed form sampled at i·h (h = 1/steps_per_day).
fn nca_auc28(steps_per_day: usize) -> f64 {
    let n = 28 * steps_per_day;
    let times: Vec<f64> = (0..=n).map(|i| i as f64 / steps_per_day as f64).collect();
    let values: Vec<f64> = times.iter().map(|&t| stein(t)).collect();
    let settings = NcaSettings::default().check().unwrap();
    let r = analyse(&Profile::from_values(&times, &values).unwrap(), &settings).unwrap();
    assert_eq!(r.partial[0].status, PartialStatus::AtSample);
    r.partial[0].value.unwrap()
}

/// Trapezoid/integral ratio − 1 of the linear trapezoid on e^(ρt) with step h.
fn rise_relative_error(h: f64) -> f64 {
    let x = rho() * h / 2.0;
    x / x.tanh() - 1.0
}

fn fall_relative_bound(h: f64) -> f64 {
    ((ALPHA - BETA).powi(2) * h * h / 32.0).exp_m1()
}

#[test]
fn auc_0_28_on_a_grid_through_tmax_matches_the_analytic_integral() {
    // h = 0.1 d: 9.3 = 93/10 is a grid point, so no interval holds the kink.
    let h = 0.1;
    let rise = rise_integral(0.0, TMAX);
    let fall = fall_integral(TMAX, 28.0);
    let exact = rise + fall;
    let auc = nca_auc28(10);
    let err = auc - exact;
    let rise_err = rise * rise_relative_error(h);
    let fall_bound = fall * fall_relative_bound(h);
    // Figures: exact = 171,774.285 (rise 26,986.3 + fall 144,787.9), rise error = 17.78
    // (x = 0.04446, x·coth x − 1 = 6.6e-4), fall bound = 1.11 (7.7e-6 relative).
    // Allow 1e-9·exact for round-off.
    let slack = 1e-9 * exact;
    assert!(
        err >= rise_err - slack && err <= rise_err + fall_bound + slack,
        "AUC0-28 {auc}, exact {exact}, error {err}, expected in [{rise_err}, {}]",
        rise_err + fall_bound
    );
    // the analytic value itself, independently: scipy.integrate.quad (SciPy 1.17,
    // epsrel 1e-13) over [0, 9.3] and [9.3, 28] gives 171774.28517972585
    assert!(
        (exact - 171_774.285_179_725_85).abs() < 1e-9 * exact,
        "analytic AUC0-28 {exact}"
    );
}

#[test]
fn auc_0_28_with_tmax_between_samples_stays_within_the_kink_bound() {
    // h = 0.25 d: Tmax = 9.3 lies in (9.25, 9.5).
    let h = 0.25;
    let (k1, k2) = (9.25, 9.5);
    let rise = rise_integral(0.0, k1);
    let fall = fall_integral(k2, 28.0);
    let exact = rise_integral(0.0, TMAX) + fall_integral(TMAX, 28.0);
    let auc = nca_auc28(4);
    let err = auc - exact;
    let rise_err = rise * rise_relative_error(h);
    let fall_bound = fall * fall_relative_bound(h);
    let kink_bound = h * (CMAX - stein(k1).min(stein(k2)));
    let slack = 1e-9 * exact;
    assert!(
        err >= rise_err - kink_bound - slack && err <= rise_err + fall_bound + kink_bound + slack,
        "AUC0-28 {auc}, exact {exact}, error {err}, rise {rise_err}, fall ≤ {fall_bound}, kink ≤ {kink_bound}"
    );
}

#[test]
fn linear_rule_overestimates_the_exponential_decline() {
    // The linear trapezoid on a falling exponential overestimates by (x·coth x − 1) with
    // x = αh/2 (same identity as the rise); the log-down rule is closer to the truth.
    let times: Vec<f64> = (0..=280).map(|i| i as f64 / 10.0).collect();
    let values: Vec<f64> = times.iter().map(|&t| stein(t)).collect();
    let p = Profile::from_values(&times, &values).unwrap();
    let lin = NcaSettings {
        method: AucMethod::Linear,
        ..Default::default()
    }
    .check()
    .unwrap();
    let linear = analyse(&p, &lin).unwrap().partial[0].value.unwrap();
    let exact = rise_integral(0.0, TMAX) + fall_integral(TMAX, 28.0);
    let loglin = nca_auc28(10);
    assert!(linear > loglin && loglin > exact);
    // the α phase dominates the decline: its linear error ≈ fall·(αh/2)²/3
    let x = ALPHA * 0.1 / 2.0;
    let approx_extra = fall_integral(TMAX, 28.0) * (x / x.tanh() - 1.0);
    let extra = linear - loglin;
    assert!(
        (extra - approx_extra).abs() < 0.1 * approx_extra,
        "linear − log-down {extra}, predicted ≈ {approx_extra}"
    );
}
