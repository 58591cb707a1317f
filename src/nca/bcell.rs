//! B-cell and immunoglobulin endpoints after CD19/CD20/BCMA CAR-T: baseline, nadir,
//! aplasia, recovery, naive fraction at recovery, nadir as % of baseline.
//!
//! Definitions (times in days since infusion at t = 0):
//! - baseline: the last pre-dose sample (t < 0); without one, the sample at t = 0 (a
//!   pre-infusion draw on the day of infusion, flagged `baseline_at_day_0`);
//! - post-dose samples: t ≥ 0, except a day-0 sample used as baseline;
//! - nadir: the lowest post-dose value and its first time; a BLQ sample counts
//!   at its limit and is lower than a measured value equal to that limit
//!   (`nadir_censored` says the nadir is an upper bound);
//! - nadir % baseline = 100·nadir/baseline (quantified baseline > 0 only);
//! - time to aplasia: the first post-dose sample below `aplasia_threshold`;
//! - aplasia duration: from that sample to the first later sample at or above the
//!   threshold; when none follows, last sample − onset with `aplasia_ongoing` (a lower
//!   bound, flagged);
//! - time to recovery: after the first post-dose sample below `recovery_threshold`
//!   (depletion), the first sample at or above it that `recovery_confirmations` later
//!   consecutive samples confirm (also at or above); a recovery at the end of
//!   follow-up without enough samples left to confirm it is reported and flagged
//!   `recovery_unconfirmed`;
//! - naive fraction at recovery: naive B cells / B cells at the recovery sample time
//!   (both quantified, same time).
//!
//! BLQ samples: "below a threshold" is certain when the limit is ≤ the threshold (or the
//! limit is unknown); "at or above" is never certain for a BLQ sample. A BLQ sample
//! whose limit exceeds the threshold decides neither and is skipped.
//!
//! References: Mackensen et al. 2022 (Nat Med 28:2124) and Müller et al. 2024 (NEJM
//! 390:687) for the aplasia and reconstitution endpoints of CD19 CAR-T in autoimmunity.

use std::fmt;

use super::profile::{Profile, Sample};
use super::settings::ValidBcellSettings;

/// Baseline and nadir of a depleted quantity (B cells, immunoglobulins, autoantibodies).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DepletionEndpoints {
    /// Last pre-dose value (its limit if BLQ).
    pub baseline: Option<f64>,
    /// Time of the baseline sample.
    pub baseline_time: Option<f64>,
    /// The baseline sample is BLQ (the value is an upper bound).
    pub baseline_censored: bool,
    /// Lowest post-dose value (its limit if BLQ).
    pub nadir: Option<f64>,
    /// First time of the nadir.
    pub nadir_time: Option<f64>,
    /// The nadir is a BLQ sample (the value is an upper bound).
    pub nadir_censored: bool,
    /// 100·nadir/baseline.
    pub nadir_pct_baseline: Option<f64>,
}

/// A remark on B-cell endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BcellFlag {
    /// No pre-dose sample.
    NoBaseline,
    /// No sample before t = 0: the day-0 sample is the baseline.
    BaselineAtDay0,
    /// No post-dose sample.
    NoPostDoseSamples,
    /// Never below the aplasia threshold.
    NoAplasia,
    /// Aplasia lasts to the last sample; its duration is a lower bound.
    AplasiaOngoing,
    /// Never below the recovery threshold: recovery is not defined.
    NotDepleted,
    /// Depleted and not recovered by the last sample.
    NotRecovered,
    /// Recovered at the end of follow-up without enough later samples to confirm.
    RecoveryUnconfirmed,
    /// No quantified naive B-cell sample at the recovery time.
    NaiveMissingAtRecovery,
}

impl fmt::Display for BcellFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BcellFlag::NoBaseline => "no_baseline",
            BcellFlag::BaselineAtDay0 => "baseline_at_day_0",
            BcellFlag::NoPostDoseSamples => "no_post_dose_samples",
            BcellFlag::NoAplasia => "no_aplasia",
            BcellFlag::AplasiaOngoing => "aplasia_ongoing",
            BcellFlag::NotDepleted => "not_depleted",
            BcellFlag::NotRecovered => "not_recovered",
            BcellFlag::RecoveryUnconfirmed => "recovery_unconfirmed",
            BcellFlag::NaiveMissingAtRecovery => "naive_missing_at_recovery",
        })
    }
}

/// B-cell endpoints of one subject.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BcellEndpoints {
    /// Baseline and nadir.
    pub depletion: DepletionEndpoints,
    /// First post-dose time below the aplasia threshold.
    pub time_to_aplasia: Option<f64>,
    /// Days from aplasia onset to the first sample back at or above the threshold
    /// (a lower bound when `AplasiaOngoing` is flagged).
    pub aplasia_duration: Option<f64>,
    /// Time of the confirmed return at or above the recovery threshold.
    pub time_to_recovery: Option<f64>,
    /// Naive B cells / B cells at the recovery time.
    pub naive_fraction_at_recovery: Option<f64>,
    /// Remarks.
    pub flags: Vec<BcellFlag>,
}

/// The value a sample stands for: its measurement, or its limit when BLQ (0 if unknown).
fn level(s: &Sample) -> f64 {
    if s.is_quantifiable() || (!s.censored && s.value == 0.0) {
        s.value
    } else {
        s.limit().unwrap_or(0.0)
    }
}

/// Is the sample certainly below `thr`? `None` when a BLQ limit above `thr` leaves it open.
fn below(s: &Sample, thr: f64) -> Option<bool> {
    if !s.censored {
        return Some(s.value < thr);
    }
    match s.limit() {
        Some(l) if l > thr => None,
        _ => Some(true),
    }
}

/// Is the sample certainly at or above `thr`? `None` when it cannot be decided.
fn at_or_above(s: &Sample, thr: f64) -> Option<bool> {
    if !s.censored {
        return Some(s.value >= thr);
    }
    match s.limit() {
        Some(l) if l > thr => None,
        _ => Some(false),
    }
}

/// The baseline sample (if any) and the post-dose samples of `profile`.
fn split_baseline(profile: &Profile) -> (Option<&Sample>, &[Sample]) {
    let samples = profile.samples();
    let first_post = samples.partition_point(|s| s.time < 0.0);
    match samples[..first_post].last() {
        Some(b) => (Some(b), &samples[first_post..]),
        None => match samples.first() {
            Some(s0) if s0.time == 0.0 => (Some(s0), &samples[1..]),
            _ => (None, samples),
        },
    }
}

/// Baseline, nadir and nadir % baseline of a profile (B cells, IgG, IgM, IgA, …).
pub fn depletion_endpoints(profile: &Profile) -> DepletionEndpoints {
    let (baseline, post) = split_baseline(profile);
    let mut out = DepletionEndpoints::default();
    if let Some(b) = baseline {
        out.baseline = Some(level(b));
        out.baseline_time = Some(b.time);
        out.baseline_censored = b.censored;
    }
    let mut nadir: Option<&Sample> = None;
    for s in post {
        nadir = match nadir {
            None => Some(s),
            Some(n) => {
                let (ls, ln) = (level(s), level(n));
                if ls < ln || (ls == ln && s.censored && !n.censored) {
                    Some(s)
                } else {
                    Some(n)
                }
            }
        };
    }
    if let Some(n) = nadir {
        out.nadir = Some(level(n));
        out.nadir_time = Some(n.time);
        out.nadir_censored = n.censored;
    }
    if let (Some(b), Some(n)) = (out.baseline, out.nadir) {
        if !out.baseline_censored && b > 0.0 {
            out.nadir_pct_baseline = Some(100.0 * n / b);
        }
    }
    out
}

/// B-cell endpoints of `bcells` (total CD19+ B cells), with the naive fraction at
/// recovery from `naive` when given.
pub fn bcell_endpoints(
    bcells: &Profile,
    naive: Option<&Profile>,
    settings: &ValidBcellSettings,
) -> BcellEndpoints {
    let s = settings.get();
    let mut out = BcellEndpoints {
        depletion: depletion_endpoints(bcells),
        ..Default::default()
    };
    match out.depletion.baseline_time {
        None => out.flags.push(BcellFlag::NoBaseline),
        Some(t) => {
            if t >= 0.0 {
                out.flags.push(BcellFlag::BaselineAtDay0);
            }
        }
    }
    let (_, post) = split_baseline(bcells);
    if post.is_empty() {
        out.flags.push(BcellFlag::NoPostDoseSamples);
        return out;
    }

    // Aplasia onset and duration.
    match post
        .iter()
        .position(|x| below(x, s.aplasia_threshold) == Some(true))
    {
        None => out.flags.push(BcellFlag::NoAplasia),
        Some(i) => {
            let onset = post[i].time;
            out.time_to_aplasia = Some(onset);
            match post[i + 1..]
                .iter()
                .find(|x| at_or_above(x, s.aplasia_threshold) == Some(true))
            {
                Some(end) => out.aplasia_duration = Some(end.time - onset),
                None => {
                    let last = post[post.len() - 1].time;
                    out.aplasia_duration = Some(last - onset);
                    out.flags.push(BcellFlag::AplasiaOngoing);
                }
            }
        }
    }

    // Recovery after depletion below the recovery threshold.
    let thr = s.recovery_threshold;
    let Some(depleted) = post.iter().position(|x| below(x, thr) == Some(true)) else {
        out.flags.push(BcellFlag::NotDepleted);
        return out;
    };
    let mut recovery = None;
    for i in depleted + 1..post.len() {
        if at_or_above(&post[i], thr) != Some(true) {
            continue;
        }
        let later = &post[i + 1..];
        let needed = s.recovery_confirmations.min(later.len());
        if later[..needed]
            .iter()
            .all(|x| at_or_above(x, thr) == Some(true))
        {
            if needed < s.recovery_confirmations {
                out.flags.push(BcellFlag::RecoveryUnconfirmed);
            }
            recovery = Some(post[i]);
            break;
        }
    }
    let Some(rec) = recovery else {
        out.flags.push(BcellFlag::NotRecovered);
        return out;
    };
    out.time_to_recovery = Some(rec.time);
    if let Some(naive) = naive {
        let at = naive
            .samples()
            .iter()
            .find(|x| x.time == rec.time && x.is_quantifiable());
        match at {
            Some(n) if rec.value > 0.0 => {
                out.naive_fraction_at_recovery = Some(n.value / rec.value)
            }
            _ => out.flags.push(BcellFlag::NaiveMissingAtRecovery),
        }
    }
    out
}
