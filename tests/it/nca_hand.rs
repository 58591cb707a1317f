//! NCA metrics against hand computations (the arithmetic is written next to each
//! expected value). Tolerance: relative 1e-12 (the only error is floating-point
//! round-off in a handful of operations). λz reference values for the tolerance cases
//! were also computed independently with numpy.polyfit (numpy 2.4) and are quoted.

use approx::assert_relative_eq;
use cartkin::nca::{
    analyse, AucMethod, BeyondTlast, BlqRule, Flag, NcaError, NcaSettings, PartialStatus, Profile,
    Sample, TimeZero,
};

const TOL: f64 = 1e-12;
fn ln2() -> f64 {
    2f64.ln()
}

fn settings() -> cartkin::nca::ValidNcaSettings {
    NcaSettings::default().check().unwrap()
}

fn with(f: impl FnOnce(&mut NcaSettings)) -> cartkin::nca::ValidNcaSettings {
    let mut s = NcaSettings::default();
    f(&mut s);
    s.check().unwrap()
}

/// t = 0, 1, 2, 4, 8, 12; C = 0, 10, 8, 4, 2, 1.
fn basic() -> Profile {
    Profile::from_values(
        &[0.0, 1.0, 2.0, 4.0, 8.0, 12.0],
        &[0.0, 10.0, 8.0, 4.0, 2.0, 1.0],
    )
    .unwrap()
}

#[test]
fn cmax_tmax_clast_tlast_of_basic_profile() {
    let r = analyse(&basic(), &settings()).unwrap();
    assert_eq!(r.cmax, Some(10.0));
    assert_eq!(r.tmax, Some(1.0));
    assert_eq!(r.clast, Some(1.0));
    assert_eq!(r.tlast, Some(12.0));
    assert_eq!(r.n_samples, 6);
    // the sample at t = 0 has value 0: not quantifiable
    assert_eq!(r.n_blq, 1);
}

#[test]
fn tmax_is_the_first_time_of_cmax() {
    let p = Profile::from_values(&[0.0, 3.0, 5.0, 9.0], &[0.0, 7.0, 7.0, 2.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_eq!(r.tmax, Some(3.0));
}

#[test]
fn auclast_linear_up_log_down_by_hand() {
    // 0→1  up:   1·(0 + 10)/2            = 5
    // 1→2  down: 1·(10 − 8)/ln(10/8)     = 2/ln 1.25
    // 2→4  down: 2·(8 − 4)/ln 2          = 8/ln 2
    // 4→8  down: 4·(4 − 2)/ln 2          = 8/ln 2
    // 8→12 down: 4·(2 − 1)/ln 2          = 4/ln 2
    let expected = 5.0 + 2.0 / 1.25f64.ln() + 20.0 / ln2();
    let r = analyse(&basic(), &settings()).unwrap();
    assert_relative_eq!(r.auclast.unwrap(), expected, max_relative = TOL);
}

#[test]
fn auclast_linear_by_hand() {
    // 5 + 1·(10+8)/2 + 2·(8+4)/2 + 4·(4+2)/2 + 4·(2+1)/2 = 5 + 9 + 12 + 12 + 6 = 44
    let s = with(|s| s.method = AucMethod::Linear);
    let r = analyse(&basic(), &s).unwrap();
    assert_relative_eq!(r.auclast.unwrap(), 44.0, max_relative = TOL);
}

#[test]
fn lambda_z_prefers_fewer_points_when_adding_one_costs_more_than_1e_4() {
    // Candidates after Tmax = 1: (2, 8), (4, 4), (8, 2), (12, 1).
    // Last 3 lie on ln C = ln 4 − (ln 2/4)(t − 4): R² = 1, adj R² = 1.
    // Last 4: R² = 289/295 = 0.979661 (numpy.polyfit), adj R² = 1 − (6/295)·3/2 = 0.969492,
    // more than 1e-4 below 1, so 3 points: λz = ln 2/4 = 0.1732868, t½ = 4.
    let r = analyse(&basic(), &settings()).unwrap();
    let l = r.lambda_z.as_ref().unwrap();
    assert_eq!(l.times, vec![4.0, 8.0, 12.0]);
    assert_relative_eq!(l.lambda_z, ln2() / 4.0, max_relative = TOL);
    assert_relative_eq!(r.half_life().unwrap(), 4.0, max_relative = TOL);
    assert_relative_eq!(l.r_squared, 1.0, max_relative = TOL);
    assert_relative_eq!(l.adj_r_squared, 1.0, max_relative = TOL);
    // AUCinf = AUClast + Clast/λz = AUClast + 1·4/ln 2; %extrap = 100·(4/ln 2)/AUCinf
    let auclast = 5.0 + 2.0 / 1.25f64.ln() + 20.0 / ln2();
    let tail = 4.0 / ln2();
    assert_relative_eq!(r.aucinf_obs.unwrap(), auclast + tail, max_relative = TOL);
    assert_relative_eq!(
        r.auc_pct_extrap.unwrap(),
        100.0 * tail / (auclast + tail),
        max_relative = TOL
    );
}

#[test]
fn lambda_z_prefers_more_points_within_1e_4_of_the_best_adjusted_r2() {
    // As above, but C(2) = 2^2.5 · 1.01 (1 % above the terminal line).
    // numpy.polyfit on (2, 4, 8, 12): λz = 0.17404571867963484, R² = 0.9999774656110816,
    // adj R² = 0.9999661984166224 > 1 − 1e-4: the 4-point fit wins over the exact 3-point one.
    let c2 = 2f64.powf(2.5) * 1.01;
    let p = Profile::from_values(
        &[0.0, 1.0, 2.0, 4.0, 8.0, 12.0],
        &[0.0, 10.0, c2, 4.0, 2.0, 1.0],
    )
    .unwrap();
    let l = analyse(&p, &settings()).unwrap().lambda_z.unwrap();
    assert_eq!(l.n_points(), 4);
    assert_relative_eq!(l.lambda_z, 0.17404571867963484, max_relative = 1e-12);
    assert_relative_eq!(l.r_squared, 0.9999774656110816, max_relative = 1e-12);
    assert_relative_eq!(l.adj_r_squared, 0.9999661984166224, max_relative = 1e-12);

    // With C(2) 5 % off: adj R² = 0.9992146749964952 (numpy) < 1 − 1e-4 → 3 points.
    let c2 = 2f64.powf(2.5) * 1.05;
    let p = Profile::from_values(
        &[0.0, 1.0, 2.0, 4.0, 8.0, 12.0],
        &[0.0, 10.0, c2, 4.0, 2.0, 1.0],
    )
    .unwrap();
    let l = analyse(&p, &settings()).unwrap().lambda_z.unwrap();
    assert_eq!(l.n_points(), 3);
}

#[test]
fn lambda_z_includes_tmax_only_when_asked_and_window_override_is_used_as_given() {
    // (1, 10), (2, 5), (3, 2.5), (4, 1.25): an exact exponential with λz = ln 2 from Tmax on.
    let p = Profile::from_values(&[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 10.0, 5.0, 2.5, 1.25]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_eq!(r.lambda_z.as_ref().unwrap().times, vec![2.0, 3.0, 4.0]);
    let s = with(|s| s.include_tmax_in_lambda_z = true);
    let l = analyse(&p, &s).unwrap().lambda_z.unwrap();
    assert_eq!(l.times, vec![1.0, 2.0, 3.0, 4.0]);
    assert_relative_eq!(l.lambda_z, ln2(), max_relative = TOL);
    // user window [0.5, 3]: exactly (1, 10), (2, 5), (3, 2.5)
    let s = with(|s| s.lambda_z_window = Some((0.5, 3.0)));
    let l = analyse(&p, &s).unwrap().lambda_z.unwrap();
    assert_eq!(l.times, vec![1.0, 2.0, 3.0]);
    assert_relative_eq!(l.lambda_z, ln2(), max_relative = TOL);
    // a window with 2 points is too few
    let s = with(|s| s.lambda_z_window = Some((2.5, 4.0)));
    let r = analyse(&p, &s).unwrap();
    assert!(r.lambda_z.is_none());
    assert!(r.flags.contains(&Flag::LambdaZTooFewPoints {
        available: 2,
        required: 3
    }));
}

#[test]
fn lambda_z_is_not_reported_when_the_terminal_phase_does_not_decline() {
    // After Tmax: 10, 20, 30 rising → every fit has λz < 0.
    let p =
        Profile::from_values(&[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 100.0, 10.0, 20.0, 30.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert!(r.lambda_z.is_none() && r.aucinf_obs.is_none());
    assert!(r.flags.contains(&Flag::LambdaZNotPositive));
    // flat tail: SS_tot = 0 for the 3 last points, rising fit for all 4 → none qualifies
    let p =
        Profile::from_values(&[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 100.0, 10.0, 10.0, 10.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert!(r.flags.contains(&Flag::LambdaZNotPositive));
}

/// (0, 0), (21, 100), (35, 50), ending at 49 so that 28 lies inside the profile.
fn day28_profile() -> Profile {
    Profile::from_values(&[0.0, 21.0, 35.0, 49.0], &[0.0, 100.0, 50.0, 25.0]).unwrap()
}

#[test]
fn auc_0_28_interpolates_in_a_log_down_interval() {
    // 0→21 up: 21·100/2 = 1050.
    // 21→35 falls 100 → 50, so 28 is interpolated on the log scale:
    //   C(28) = 100·(50/100)^(7/14) = 100/√2 = 70.710678…
    //   AUC21–28 = 7·(100 − 100/√2)/ln(100/(100/√2)) = 7·(100 − 70.7107)/(ln 2/2)
    let c28 = 100.0 / 2f64.sqrt();
    let expected = 1050.0 + 7.0 * (100.0 - c28) / (ln2() / 2.0);
    let r = analyse(&day28_profile(), &settings()).unwrap();
    let p = r.partial[0];
    assert_eq!(p.end, 28.0);
    assert_eq!(p.status, PartialStatus::Interpolated);
    assert_relative_eq!(p.value.unwrap(), expected, max_relative = TOL);
    // independently: 1050 + scipy.integrate.quad of 100·0.5^((t − 21)/14) over [21, 28]
    // = 1641.5778320090435 (SciPy 1.17)
    assert_relative_eq!(p.value.unwrap(), 1641.5778320090435, max_relative = 1e-12);
}

#[test]
fn auc_0_28_interpolates_linearly_with_the_linear_rule() {
    // C(28) = 100 + (50 − 100)·7/14 = 75; AUC21–28 = 7·(100 + 75)/2 = 612.5; total 1662.5
    let s = with(|s| s.method = AucMethod::Linear);
    let r = analyse(&day28_profile(), &s).unwrap();
    assert_eq!(r.partial[0].status, PartialStatus::Interpolated);
    assert_relative_eq!(r.partial[0].value.unwrap(), 1662.5, max_relative = TOL);
}

#[test]
fn auc_0_28_interpolates_linearly_in_a_rising_interval() {
    // (0,0), (14, 10), (42, 70): rising, so linear even under lin-up/log-down.
    // 0→14: 14·10/2 = 70; C(28) = 10 + 60·14/28 = 40; 14→28: 14·(10 + 40)/2 = 350 → 420.
    let p = Profile::from_values(&[0.0, 14.0, 42.0], &[0.0, 10.0, 70.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_relative_eq!(r.partial[0].value.unwrap(), 420.0, max_relative = TOL);
}

#[test]
fn auc_at_a_sample_time_is_not_flagged_as_interpolated() {
    let p = Profile::from_values(&[0.0, 14.0, 28.0, 56.0], &[0.0, 10.0, 5.0, 1.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_eq!(r.partial[0].status, PartialStatus::AtSample);
    // 70 + 14·5/ln 2
    assert_relative_eq!(
        r.partial[0].value.unwrap(),
        70.0 + 70.0 / ln2(),
        max_relative = TOL
    );
}

/// (0, 0), (1, 100), (7, 50), (14, 25), (21, 12.5): λz = ln 2/7 exactly on 7, 14, 21.
fn short_profile() -> Profile {
    Profile::from_values(
        &[0.0, 1.0, 7.0, 14.0, 21.0],
        &[0.0, 100.0, 50.0, 25.0, 12.5],
    )
    .unwrap()
}

#[test]
fn interval_end_beyond_tlast_is_missing_truncated_or_extrapolated_never_silent() {
    // AUClast = 1·100/2 + 6·50/ln 2 + 7·25/ln 2 + 7·12.5/ln 2 = 50 + 562.5/ln 2
    let auclast = 50.0 + 562.5 / ln2();
    let r = analyse(&short_profile(), &settings()).unwrap();
    assert_relative_eq!(r.auclast.unwrap(), auclast, max_relative = TOL);
    assert_eq!(r.partial[0].value, None);
    assert_eq!(r.partial[0].status, PartialStatus::BeyondTlast);

    let s = with(|s| s.beyond_tlast = BeyondTlast::Truncate);
    let r = analyse(&short_profile(), &s).unwrap();
    assert_eq!(r.partial[0].status, PartialStatus::Truncated);
    assert_relative_eq!(r.partial[0].value.unwrap(), auclast, max_relative = TOL);

    // Extrapolated: + Clast·(1 − e^(−λz·7))/λz = 12.5·(1/2)·7/ln 2 = 43.75/ln 2
    let s = with(|s| s.beyond_tlast = BeyondTlast::Extrapolate);
    let r = analyse(&short_profile(), &s).unwrap();
    assert_eq!(r.partial[0].status, PartialStatus::Extrapolated);
    assert_relative_eq!(
        r.partial[0].value.unwrap(),
        auclast + 43.75 / ln2(),
        max_relative = TOL
    );
    // AUCinf = AUClast + 12.5·7/ln 2; %extrap = 100·(87.5/ln 2)/AUCinf
    let inf = auclast + 87.5 / ln2();
    assert_relative_eq!(r.aucinf_obs.unwrap(), inf, max_relative = TOL);
    assert_relative_eq!(
        r.auc_pct_extrap.unwrap(),
        100.0 * 87.5 / ln2() / inf,
        max_relative = TOL
    );
    // no λz (too few points after Tmax) → extrapolation is reported missing
    let p = Profile::from_values(&[0.0, 1.0, 7.0, 14.0], &[0.0, 100.0, 50.0, 25.0]).unwrap();
    let r = analyse(&p, &s).unwrap();
    assert_eq!(r.partial[0].status, PartialStatus::NoLambdaZ);
    assert_eq!(r.partial[0].value, None);
}

/// LLOQ 1: t = 0 BLQ, 1 BLQ, 2: 5, 4 BLQ, 6: 3, 8 BLQ, 10 BLQ.
fn blq_profile() -> Profile {
    Profile::new(vec![
        Sample::blq(0.0, 1.0),
        Sample::blq(1.0, 1.0),
        Sample::measured(2.0, 5.0),
        Sample::blq(4.0, 1.0),
        Sample::measured(6.0, 3.0),
        Sample::blq(8.0, 1.0),
        Sample::blq(10.0, 1.0),
    ])
    .unwrap()
}

fn blq_settings(first: BlqRule, between: BlqRule, last: BlqRule) -> cartkin::nca::ValidNcaSettings {
    with(|s| {
        s.blq.before_first = first;
        s.blq.between = between;
        s.blq.after_last = last;
        s.partial_ends = vec![10.0];
    })
}

#[test]
fn blq_default_rules_zero_before_first_drop_between_and_after() {
    // points (0,0) (1,0) (2,5) (6,3): 0 + 1·5/2 + 4·(5 − 3)/ln(5/3)
    let r = analyse(
        &blq_profile(),
        &blq_settings(BlqRule::Zero, BlqRule::Drop, BlqRule::Drop),
    )
    .unwrap();
    assert_relative_eq!(
        r.auclast.unwrap(),
        2.5 + 8.0 / (5.0f64 / 3.0).ln(),
        max_relative = TOL
    );
    assert_eq!(
        (r.tlast, r.clast, r.cmax, r.tmax),
        (Some(6.0), Some(3.0), Some(5.0), Some(2.0))
    );
    assert_eq!(r.n_blq, 5); // t = 0, 1, 4, 8, 10
                            // AUC0–10 lies after Tlast: missing by default; persistence ends at the BLQ sample at 8
    assert_eq!(r.partial[0].status, PartialStatus::BeyondTlast);
    assert_eq!(r.time_below_lloq, Some(8.0));
    // the default settings agree with the explicit rules
    let d = analyse(&blq_profile(), &settings()).unwrap();
    assert_eq!(d.auclast, r.auclast);
}

#[test]
fn blq_between_as_zero_or_lloq() {
    // between = 0: (2,5)→(4,0) linear (c₂ = 0): 2·5/2 = 5; (4,0)→(6,3) up: 2·3/2 = 3;
    // AUClast = 2.5 + 5 + 3 = 10.5
    let r = analyse(
        &blq_profile(),
        &blq_settings(BlqRule::Zero, BlqRule::Zero, BlqRule::Drop),
    )
    .unwrap();
    assert_relative_eq!(r.auclast.unwrap(), 10.5, max_relative = TOL);
    // between = LLOQ: (2,5)→(4,1) log: 2·4/ln 5; (4,1)→(6,3) up: 2·4/2 = 4
    let r = analyse(
        &blq_profile(),
        &blq_settings(BlqRule::Zero, BlqRule::Lloq, BlqRule::Drop),
    )
    .unwrap();
    assert_relative_eq!(
        r.auclast.unwrap(),
        2.5 + 8.0 / 5f64.ln() + 4.0,
        max_relative = TOL
    );
}

#[test]
fn blq_after_last_as_zero_enters_partial_auc_within_the_samples() {
    // after = 0: (6,3)→(8,0) linear 3, (8,0)→(10,0) 0: AUC0–10 = AUClast + 3; the end lies
    // after Tlast, so the status says the area rests on BLQ samples taken as 0
    let r = analyse(
        &blq_profile(),
        &blq_settings(BlqRule::Zero, BlqRule::Drop, BlqRule::Zero),
    )
    .unwrap();
    let auclast = 2.5 + 8.0 / (5.0f64 / 3.0).ln();
    assert_relative_eq!(r.auclast.unwrap(), auclast, max_relative = TOL);
    assert_eq!(r.partial[0].status, PartialStatus::BlqImputed);
    assert_relative_eq!(
        r.partial[0].value.unwrap(),
        auclast + 3.0,
        max_relative = TOL
    );
}

#[test]
fn blq_before_first_dropped_or_half_lloq() {
    // before = drop: t = 0 and 1 leave; C(0) = 0 is imputed: (0,0)→(2,5) 2·5/2 = 5
    let r = analyse(
        &blq_profile(),
        &blq_settings(BlqRule::Drop, BlqRule::Drop, BlqRule::Drop),
    )
    .unwrap();
    assert_relative_eq!(
        r.auclast.unwrap(),
        5.0 + 8.0 / (5.0f64 / 3.0).ln(),
        max_relative = TOL
    );
    assert!(r.flags.contains(&Flag::C0Imputed));
    // before = LLOQ/2: (0,.5)→(1,.5) 0.5; (1,.5)→(2,5) up 1·5.5/2 = 2.75
    let r = analyse(
        &blq_profile(),
        &blq_settings(BlqRule::HalfLloq, BlqRule::Drop, BlqRule::Drop),
    )
    .unwrap();
    assert_relative_eq!(
        r.auclast.unwrap(),
        0.5 + 2.75 + 8.0 / (5.0f64 / 3.0).ln(),
        max_relative = TOL
    );
}

#[test]
fn blq_rule_that_needs_a_limit_reports_the_sample_without_one() {
    let p = Profile::new(vec![
        Sample {
            time: 0.0,
            value: f64::NAN,
            censored: true,
            lloq: None,
        },
        Sample::measured(1.0, 4.0),
    ])
    .unwrap();
    let s = blq_settings(BlqRule::Lloq, BlqRule::Drop, BlqRule::Drop);
    let e = analyse(&p, &s).unwrap_err();
    assert_eq!(e, NcaError::MissingLimit { time: 0.0 });
    assert!(e.to_string().contains("time 0"), "{e}");
}

#[test]
fn time_zero_assumed_zero_or_first_sample() {
    // (2, 4), (4, 2): with C(0) = 0: 2·4/2 + 2·2/ln 2 = 4 + 4/ln 2
    let p = Profile::from_values(&[2.0, 4.0], &[4.0, 2.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_relative_eq!(r.auclast.unwrap(), 4.0 + 4.0 / ln2(), max_relative = TOL);
    assert!(r.flags.contains(&Flag::C0Imputed));
    // from the first sample: 4/ln 2, flagged; AUC0–1 would start before the first sample
    let s = with(|s| {
        s.time_zero = TimeZero::FirstSample;
        s.partial_ends = vec![1.0, 3.0];
    });
    let r = analyse(&p, &s).unwrap();
    assert_relative_eq!(r.auclast.unwrap(), 4.0 / ln2(), max_relative = TOL);
    assert!(r.flags.contains(&Flag::AucStartsAtFirstSample(2.0)));
    assert_eq!(r.partial[0].status, PartialStatus::BeforeStart);
    // AUC2–3: C(3) = 4·(1/2)^(1/2) = 2√2, area 1·(4 − 2√2)/ln(√2)
    let c3 = 2.0 * 2f64.sqrt();
    assert_relative_eq!(
        r.partial[1].value.unwrap(),
        (4.0 - c3) / (ln2() / 2.0),
        max_relative = TOL
    );
}

#[test]
fn pre_dose_samples_do_not_enter_the_pk_metrics() {
    // a pre-dose value of 50 at t = −3 is ignored; C(0) = 0 imputed
    let p = Profile::from_values(&[-3.0, 1.0, 2.0], &[50.0, 10.0, 5.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_eq!((r.cmax, r.tmax, r.n_samples), (Some(10.0), Some(1.0), 2));
    // 1·10/2 + 1·5/ln 2
    assert_relative_eq!(r.auclast.unwrap(), 5.0 + 5.0 / ln2(), max_relative = TOL);
}

#[test]
fn persistence_and_time_below_lloq() {
    let p = Profile::new(vec![
        Sample::measured(0.0, 0.0),
        Sample::measured(7.0, 900.0),
        Sample::measured(90.0, 40.0),
        Sample::blq(180.0, 20.0),
        Sample::measured(270.0, 25.0),
        Sample::blq(365.0, 20.0),
    ])
    .unwrap();
    let r = analyse(&p, &settings()).unwrap();
    // Tlast is the last quantifiable sample even after an intermittent BLQ
    assert_eq!(r.tlast, Some(270.0));
    assert_eq!(r.time_below_lloq, Some(365.0));
    // still quantifiable at the last sample: persistence is censored, and flagged
    let r = analyse(&short_profile(), &settings()).unwrap();
    assert_eq!(r.time_below_lloq, None);
    assert!(r.flags.contains(&Flag::QuantifiableAtLastSample));
}

// ---- irregular input: documented results or clear errors, never a panic ----

#[test]
fn single_point_profile() {
    // (7, 100) alone: C(0) = 0 imputed, AUClast = 7·100/2 = 350; no λz; AUC0–28 beyond Tlast
    let p = Profile::from_values(&[7.0], &[100.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_eq!(
        (r.cmax, r.tmax, r.tlast),
        (Some(100.0), Some(7.0), Some(7.0))
    );
    assert_relative_eq!(r.auclast.unwrap(), 350.0, max_relative = TOL);
    assert!(r.lambda_z.is_none());
    assert!(r.flags.contains(&Flag::LambdaZTooFewPoints {
        available: 0,
        required: 3
    }));
    assert_eq!(r.partial[0].status, PartialStatus::BeyondTlast);
    // a single sample at t = 0: AUClast over [0, 0] = 0
    let p = Profile::from_values(&[0.0], &[5.0]).unwrap();
    assert_eq!(analyse(&p, &settings()).unwrap().auclast, Some(0.0));
}

#[test]
fn all_blq_profile() {
    // every sample BLQ: all are "before the first quantifiable" → 0. Cmax = 0, no Tmax,
    // no Tlast, AUClast = 0, AUC0–28 = 0 (samples reach day 35).
    let p = Profile::new(vec![
        Sample::blq(0.0, 20.0),
        Sample::blq(14.0, 20.0),
        Sample::blq(35.0, 20.0),
    ])
    .unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_eq!(r.cmax, Some(0.0));
    assert_eq!((r.tmax, r.tlast, r.clast), (None, None, None));
    assert_eq!(r.auclast, Some(0.0));
    assert_eq!(r.partial[0].value, Some(0.0));
    assert_eq!(r.partial[0].status, PartialStatus::BlqImputed);
    assert_eq!(r.partial[1].status, PartialStatus::BeyondTlast);
    assert!(r.flags.contains(&Flag::AllBlq));
    assert!(r.lambda_z.is_none() && r.time_below_lloq.is_none());
}

#[test]
fn no_points_after_tmax() {
    // rising to the last sample: no candidate for λz
    let p = Profile::from_values(&[0.0, 7.0, 14.0], &[0.0, 10.0, 20.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert!(r.lambda_z.is_none() && r.aucinf_obs.is_none() && r.half_life().is_none());
    assert!(r.flags.contains(&Flag::LambdaZTooFewPoints {
        available: 0,
        required: 3
    }));
    // 7·10/2 + 7·(10 + 20)/2 = 35 + 105 = 140
    assert_relative_eq!(r.auclast.unwrap(), 140.0, max_relative = TOL);
}

#[test]
fn only_pre_dose_samples() {
    let p = Profile::from_values(&[-7.0, -1.0], &[3.0, 4.0]).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert!(r.flags.contains(&Flag::NoPostDoseSamples));
    assert_eq!((r.cmax, r.auclast), (None, None));
    assert_eq!(r.partial[0].status, PartialStatus::NoData);
}

#[test]
fn duplicate_times_and_bad_values_are_refused_with_a_message() {
    let e = Profile::from_values(&[0.0, 7.0, 7.0], &[0.0, 1.0, 2.0]).unwrap_err();
    assert_eq!(e, NcaError::DuplicateTime { time: 7.0 });
    assert!(e.to_string().contains("two samples at time 7"), "{e}");
    let e = Profile::from_values(&[], &[]).unwrap_err();
    assert_eq!(e, NcaError::EmptyProfile);
    let e = Profile::from_values(&[0.0, f64::NAN], &[0.0, 1.0]).unwrap_err();
    assert!(matches!(e, NcaError::NonFiniteTime { .. }), "{e}");
    let e = Profile::from_values(&[0.0, 1.0], &[0.0, -1.0]).unwrap_err();
    assert!(e.to_string().contains("expected a value >= 0"), "{e}");
    let e = Profile::from_values(&[0.0, 1.0], &[0.0]).unwrap_err();
    assert!(e.to_string().contains("2 times but 1 values"), "{e}");
}

#[test]
fn unsorted_input_is_sorted() {
    let a = Profile::from_values(&[4.0, 0.0, 2.0], &[1.0, 0.0, 3.0]).unwrap();
    let b = Profile::from_values(&[0.0, 2.0, 4.0], &[0.0, 3.0, 1.0]).unwrap();
    assert_eq!(a, b);
}

#[test]
fn invalid_settings_are_refused_with_a_message() {
    let e = NcaSettings {
        partial_ends: vec![28.0, 14.0],
        ..Default::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("strictly increasing"), "{e}");
    let e = NcaSettings {
        min_lambda_z_points: 2,
        ..Default::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("min_lambda_z_points"), "{e}");
    let e = NcaSettings {
        lambda_z_window: Some((10.0, 5.0)),
        ..Default::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("start < end"), "{e}");
    let e = NcaSettings {
        adj_r2_tolerance: -1.0,
        ..Default::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("adj_r2_tolerance"), "{e}");
}

#[test]
fn simulated_values_below_lloq_become_blq_samples() {
    let p = Profile::from_values_with_lloq(&[0.0, 7.0, 14.0], &[0.0, 100.0, 5.0], 20.0).unwrap();
    let r = analyse(&p, &settings()).unwrap();
    assert_eq!(
        (r.tlast, r.time_below_lloq, r.n_blq),
        (Some(7.0), Some(14.0), 2)
    );
}
