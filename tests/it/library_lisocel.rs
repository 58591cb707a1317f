//! lisocel2021: the meaning of its parameters checked by hand (liso-cel
//! TRANSCEND means: lag 3.27 d, doubling time 0.755 d, Tmax 9.29 d, half-lives 5.00 d
//! and 352 d), beyond the reference trajectory of tests/library_reference.rs (which is
//! the same closed form in NumPy).

use crate::common::library as library_common;

use library_common::{load, predict_all, typical, with_param};

const CMAX: f64 = 24000.0;
const FB: f64 = 0.0079;

#[test]
fn doubling_time_half_lives_and_peak_by_hand() {
    let model = load("lisocel2021");
    let (tlag, tdbl, tmax) = (3.27, 0.755, 9.29);
    let times = [
        0.0,
        tlag,
        tlag + tdbl,
        tmax - tdbl,
        tmax,
        tmax + 5.0,
        tmax + 352.0,
    ];
    let c = predict_all(&model, None, &typical(&model), &times);
    let c = &c[0];
    // growth: one doubling time after the lag the level has doubled; one before Tmax it
    // is half the peak
    approx::assert_relative_eq!(c[2], 2.0 * c[1], max_relative = 1e-12);
    approx::assert_relative_eq!(c[3], CMAX / 2.0, max_relative = 1e-12);
    // flat during the lag
    approx::assert_relative_eq!(c[0], c[1], max_relative = 1e-12);
    // R0 = Cmax·2^(−(Tmax − lag)/tdbl)
    approx::assert_relative_eq!(
        c[0],
        CMAX * 2f64.powf(-(tmax - tlag) / tdbl),
        max_relative = 1e-12
    );
    // peak at Tmax
    approx::assert_relative_eq!(c[4], CMAX, max_relative = 1e-12);
    // one first-phase half-life after Tmax: (1−fb)·Cmax/2 + fb·Cmax·2^(−5/352)
    let e5 = (1.0 - FB) * CMAX / 2.0 + FB * CMAX * 2f64.powf(-5.0 / 352.0);
    approx::assert_relative_eq!(c[5], e5, max_relative = 1e-12);
    // one terminal half-life after Tmax: (1−fb)·Cmax·2^(−352/5) + fb·Cmax/2
    let e352 = (1.0 - FB) * CMAX * 2f64.powf(-352.0 / 5.0) + FB * CMAX / 2.0;
    approx::assert_relative_eq!(c[6], e352, max_relative = 1e-12);
}

#[test]
fn tmax_before_the_lag_gives_no_growth_phase() {
    // With IIV, Tmax can fall before the lag: tpk = max(tmax, tlag), R0 = Cmax, flat to
    // the end of the lag, then the decline (finite and continuous, no negative growth).
    let model = load("lisocel2021");
    let theta = with_param(&model, typical(&model), "tmax", 2.0);
    let times = [0.0, 1.0, 3.27 - 1e-9, 3.27, 3.27 + 5.0];
    let c = &predict_all(&model, None, &theta, &times)[0];
    for &v in &c[..4] {
        approx::assert_relative_eq!(v, CMAX, max_relative = 1e-9);
    }
    let e5 = (1.0 - FB) * CMAX / 2.0 + FB * CMAX * 2f64.powf(-5.0 / 352.0);
    approx::assert_relative_eq!(c[4], e5, max_relative = 1e-12);
}

#[test]
fn no_overflow_late_in_time() {
    // the growth term is evaluated with min(t, tpk): day 5000 is finite and positive
    let model = load("lisocel2021");
    let c = &predict_all(&model, None, &typical(&model), &[1000.0, 5000.0])[0];
    assert!(c.iter().all(|v| v.is_finite() && *v > 0.0), "{c:?}");
}
