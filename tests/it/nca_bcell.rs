//! B-cell, immunoglobulin and summary-statistics endpoints against hand computations
//! (written next to each expected value; tolerance relative 1e-12, round-off only).

use approx::assert_relative_eq;
use cartkin::nca::{
    bcell_endpoints, depletion_endpoints, summarise, BcellFlag, BcellSettings, Profile, Sample,
    ValidBcellSettings,
};

/// B cells (cells/µL): baseline 200 at day −7 and 180 at day 0, depletion, aplasia,
/// reconstitution. BLQ at day 7 with limit 1.
fn bcells() -> Profile {
    Profile::new(vec![
        Sample::measured(-7.0, 200.0),
        Sample::measured(0.0, 180.0),
        Sample::measured(4.0, 20.0),
        Sample::blq(7.0, 1.0),
        Sample::measured(14.0, 0.5),
        Sample::measured(28.0, 0.8),
        Sample::measured(60.0, 3.0),
        Sample::measured(90.0, 12.0),
        Sample::measured(120.0, 15.0),
        Sample::measured(180.0, 40.0),
    ])
    .unwrap()
}

fn naive() -> Profile {
    Profile::from_values(&[0.0, 90.0, 120.0], &[100.0, 10.0, 13.0]).unwrap()
}

fn default_settings() -> ValidBcellSettings {
    BcellSettings::default().check().unwrap()
}

#[test]
fn bcell_baseline_nadir_aplasia_recovery_by_hand() {
    let e = bcell_endpoints(&bcells(), Some(&naive()), &default_settings());
    // baseline: last sample at t < 0 → 200 at day −7 (day 0 is after the infusion)
    assert_eq!(e.depletion.baseline, Some(200.0));
    assert_eq!(e.depletion.baseline_time, Some(-7.0));
    // nadir: post-dose levels 180, 20, <1 (limit 1), 0.5, 0.8, 3, … → 0.5 at day 14, measured
    assert_eq!(e.depletion.nadir, Some(0.5));
    assert_eq!(e.depletion.nadir_time, Some(14.0));
    assert!(!e.depletion.nadir_censored);
    // 100·0.5/200
    assert_relative_eq!(
        e.depletion.nadir_pct_baseline.unwrap(),
        100.0 * 0.5 / 200.0,
        max_relative = 1e-12
    );
    // aplasia (< 1): day 0 = 180, day 4 = 20 no; day 7 BLQ with limit 1 ≤ 1 → certainly below → onset 7
    assert_eq!(e.time_to_aplasia, Some(7.0));
    // end of aplasia: first later sample ≥ 1: 0.5 no, 0.8 no, day 60 = 3 → 60 − 7 = 53
    assert_eq!(e.aplasia_duration, Some(53.0));
    // recovery (≥ 10, one confirming sample): depleted from day 7 (first < 10);
    // day 90 = 12 ≥ 10 and day 120 = 15 ≥ 10 confirms → 90
    assert_eq!(e.time_to_recovery, Some(90.0));
    // naive fraction at day 90: 10/12
    assert_relative_eq!(
        e.naive_fraction_at_recovery.unwrap(),
        10.0 / 12.0,
        max_relative = 1e-12
    );
    assert!(e.flags.is_empty(), "{:?}", e.flags);
}

#[test]
fn recovery_needs_confirmation_and_is_flagged_when_it_cannot_be_confirmed() {
    // day 120 drops to 8: the day-90 return is not sustained; day 180 = 40 is the last
    // sample, so with one required confirmation it is reported at 180 and flagged.
    let mut s: Vec<Sample> = bcells().samples().to_vec();
    s[8].value = 8.0;
    let p = Profile::new(s).unwrap();
    let e = bcell_endpoints(&p, None, &default_settings());
    assert_eq!(e.time_to_recovery, Some(180.0));
    assert!(e.flags.contains(&BcellFlag::RecoveryUnconfirmed));
    // without a confirmation requirement the first return (day 90) counts
    let s0 = BcellSettings {
        recovery_confirmations: 0,
        ..Default::default()
    }
    .check()
    .unwrap();
    let e = bcell_endpoints(&p, None, &s0);
    assert_eq!(e.time_to_recovery, Some(90.0));
    assert!(!e.flags.contains(&BcellFlag::RecoveryUnconfirmed));
}

#[test]
fn thresholds_are_configurable() {
    // aplasia below 5: first post-dose value < 5 is the BLQ at day 7 (limit 1 ≤ 5);
    // it ends at day 90 (12 ≥ 5): 83 days. Recovery at ≥ 20: day 180 (40), the last → unconfirmed.
    let s = BcellSettings {
        aplasia_threshold: 5.0,
        recovery_threshold: 20.0,
        recovery_confirmations: 1,
    }
    .check()
    .unwrap();
    let e = bcell_endpoints(&bcells(), None, &s);
    assert_eq!(e.time_to_aplasia, Some(7.0));
    assert_eq!(e.aplasia_duration, Some(83.0));
    assert_eq!(e.time_to_recovery, Some(180.0));
    assert!(e.flags.contains(&BcellFlag::RecoveryUnconfirmed));
}

#[test]
fn ongoing_aplasia_and_no_recovery_are_flagged() {
    // 150, then 0.3, 0.2 (BLQ limit 0.5), 0.4: aplasia from day 7 to the end (a lower
    // bound 90 − 7 = 83), never recovered
    let p = Profile::new(vec![
        Sample::measured(0.0, 150.0),
        Sample::measured(7.0, 0.3),
        Sample::blq(28.0, 0.5),
        Sample::measured(90.0, 0.4),
    ])
    .unwrap();
    let e = bcell_endpoints(&p, None, &default_settings());
    assert_eq!(e.time_to_aplasia, Some(7.0));
    assert_eq!(e.aplasia_duration, Some(83.0));
    assert!(e.flags.contains(&BcellFlag::AplasiaOngoing));
    assert!(e.flags.contains(&BcellFlag::NotRecovered));
    assert_eq!(e.time_to_recovery, None);
    // nadir: 0.3 < 0.4 < limit 0.5
    assert_eq!(e.depletion.nadir, Some(0.3));
}

#[test]
fn blq_limit_above_the_threshold_decides_nothing() {
    // BLQ with limit 5 at day 7 cannot show aplasia (< 1) — skipped; 0.5 at day 14 does.
    // A BLQ sample equal to a measured level is the lower nadir (< limit).
    let p = Profile::new(vec![
        Sample::measured(0.0, 150.0),
        Sample::blq(7.0, 5.0),
        Sample::measured(14.0, 0.5),
        Sample::blq(21.0, 0.5),
    ])
    .unwrap();
    let e = bcell_endpoints(&p, None, &default_settings());
    assert_eq!(e.time_to_aplasia, Some(14.0));
    assert_eq!(e.depletion.nadir, Some(0.5));
    assert_eq!(e.depletion.nadir_time, Some(21.0));
    assert!(e.depletion.nadir_censored);
}

#[test]
fn day_0_sample_is_the_baseline_only_without_an_earlier_one() {
    // samples at 0, 7, 14: baseline = the day-0 value 150 (flagged), nadir among 7, 14
    let p = Profile::from_values(&[0.0, 7.0, 14.0], &[150.0, 0.5, 30.0]).unwrap();
    let e = bcell_endpoints(&p, None, &default_settings());
    assert_eq!(e.depletion.baseline, Some(150.0));
    assert!(e.flags.contains(&BcellFlag::BaselineAtDay0));
    assert_eq!(
        (e.depletion.nadir, e.time_to_aplasia),
        (Some(0.5), Some(7.0))
    );
}

#[test]
fn never_depleted_and_missing_baseline_are_flagged() {
    let p = Profile::from_values(&[7.0, 14.0], &[50.0, 60.0]).unwrap();
    let e = bcell_endpoints(&p, None, &default_settings());
    assert!(e.flags.contains(&BcellFlag::NoBaseline));
    assert!(e.flags.contains(&BcellFlag::NoAplasia));
    assert!(e.flags.contains(&BcellFlag::NotDepleted));
    assert_eq!((e.time_to_aplasia, e.time_to_recovery), (None, None));
    assert_eq!(e.depletion.nadir_pct_baseline, None);
    let p = Profile::from_values(&[-1.0], &[50.0]).unwrap();
    let e = bcell_endpoints(&p, None, &default_settings());
    assert!(e.flags.contains(&BcellFlag::NoPostDoseSamples));
}

#[test]
fn naive_fraction_is_missing_without_a_naive_sample_at_recovery() {
    let n = Profile::from_values(&[0.0, 120.0], &[100.0, 13.0]).unwrap();
    let e = bcell_endpoints(&bcells(), Some(&n), &default_settings());
    assert_eq!(e.naive_fraction_at_recovery, None);
    assert!(e.flags.contains(&BcellFlag::NaiveMissingAtRecovery));
}

#[test]
fn immunoglobulin_nadir_as_percent_of_baseline() {
    // IgG g/L: baseline 10 (day −1), nadir 7.5 at day 90 → 75 %
    let p = Profile::from_values(&[-1.0, 30.0, 90.0, 180.0], &[10.0, 8.0, 7.5, 9.0]).unwrap();
    let d = depletion_endpoints(&p);
    assert_eq!(
        (d.baseline, d.nadir, d.nadir_time),
        (Some(10.0), Some(7.5), Some(90.0))
    );
    assert_relative_eq!(d.nadir_pct_baseline.unwrap(), 75.0, max_relative = 1e-12);
}

#[test]
fn bad_thresholds_are_refused() {
    let e = BcellSettings {
        aplasia_threshold: 0.0,
        ..Default::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("aplasia_threshold"), "{e}");
    let e = BcellSettings {
        aplasia_threshold: 20.0,
        recovery_threshold: 10.0,
        ..Default::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains(">= the aplasia threshold"), "{e}");
}

#[test]
fn summary_statistics_by_hand() {
    // values 1, 2, 4, NA, 0
    let s = summarise(&[Some(1.0), Some(2.0), Some(4.0), None, Some(0.0)]);
    assert_eq!((s.n, s.n_missing, s.n_positive), (4, 1, 3));
    // geometric over 1, 2, 4: logs 0, ln2, 2 ln2 → mean ln2 → GM 2;
    // s² = ((−ln2)² + 0 + (ln2)²)/2 = (ln2)² → CV = 100·sqrt(e^((ln2)²) − 1) = 78.5318…
    assert_relative_eq!(s.geo_mean.unwrap(), 2.0, max_relative = 1e-12);
    let l2 = 2f64.ln();
    assert_relative_eq!(
        s.geo_cv_pct.unwrap(),
        100.0 * ((l2 * l2).exp() - 1.0).sqrt(),
        max_relative = 1e-12
    );
    // arithmetic over 0, 1, 2, 4: mean 7/4; squared deviations .5625 + .0625 + 5.0625 + 3.0625
    // = 8.75, SD = sqrt(8.75/3); median (1 + 2)/2; range 0–4
    assert_relative_eq!(s.mean.unwrap(), 1.75, max_relative = 1e-12);
    assert_relative_eq!(s.sd.unwrap(), (8.75f64 / 3.0).sqrt(), max_relative = 1e-12);
    assert_eq!((s.median, s.min, s.max), (Some(1.5), Some(0.0), Some(4.0)));
    // one value: no SD, no CV; none: nothing
    let s = summarise(&[Some(3.0)]);
    assert_eq!((s.median, s.sd, s.geo_cv_pct), (Some(3.0), None, None));
    let s = summarise(&[None, None]);
    assert_eq!((s.n, s.n_missing, s.mean, s.geo_mean), (0, 2, None, None));
}
