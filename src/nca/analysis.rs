//! Per-profile NCA: Cmax, Tmax, Clast, Tlast, AUClast, partial AUCs AUC0–x, λz and
//! half-life, AUCinf and % extrapolated, time to below LLOQ.
//!
//! Steps, for the post-dose samples (t ≥ 0) of one profile:
//! 1. BLQ rules ([`super::blq`]) give the AUC points;
//! 2. Cmax = largest quantifiable value, Tmax its first time; Clast/Tlast = the last
//!    quantifiable sample. Without any quantifiable sample Cmax = 0 and Tmax, Clast,
//!    Tlast are missing (flag `all_blq`);
//! 3. the AUC starts at t = 0: with [`TimeZero::AssumeZero`] a point (0, 0) is added
//!    when no sample is at 0 (flag `c0_imputed`); with [`TimeZero::FirstSample`] the
//!    AUC starts at the first point (flag `auc_starts_at_first_sample` when after 0);
//! 4. AUClast = AUC from the start to Tlast (0 when nothing is quantifiable);
//! 5. AUC0–x for each end x: by trapezoids when x lies within the points, interpolated
//!    consistently with the rule when x falls between samples (status `interpolated`);
//!    when x lies after Tlast but within BLQ samples that the BLQ rules keep (as 0, LLOQ
//!    or LLOQ/2), status `blq_imputed_after_tlast`;
//!    when x lies after the last point t_end (= Tlast under the default rules) the
//!    [`BeyondTlast`] policy decides: missing, `truncated` (C = 0 after t_end) or
//!    `extrapolated`: AUC0–t_end + C(t_end)·(1 − e^(−λz(x − t_end)))/λz;
//! 6. λz ([`super::lambda_z`]), then AUCinf = AUClast + Clast/λz and
//!    %extrap = 100·(Clast/λz)/AUCinf;
//! 7. persistence: Tlast; time to below LLOQ = the first non-quantifiable sample after
//!    Tlast (missing, flag `quantifiable_at_last_sample`, when the last sample is still
//!    quantifiable).
//!
//! Reference: PKNCA (Denney, Duvvuri, Buckeridge 2015; `pk.nca`), with the CAR-T
//! conventions of cartkin (docs/outputs.md, `nca.csv`).

use std::fmt;

use super::auc::{auc_between, Point};
use super::blq::apply_blq_rules;
use super::lambda_z::{fixed_lambda_z, select_lambda_z, LambdaZ, LambdaZFailure};
use super::profile::{Profile, Sample};
use super::settings::{BeyondTlast, TimeZero, ValidNcaSettings};
use super::NcaError;

/// How a partial AUC was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialStatus {
    /// The end is a sample time.
    AtSample,
    /// The end falls between two samples: interpolated with the AUC rule.
    Interpolated,
    /// The end lies after Tlast (or nothing is quantifiable) but within BLQ samples kept
    /// by the BLQ rules (as 0, LLOQ or LLOQ/2): the area after Tlast rests on them.
    BlqImputed,
    /// The end lies after the last point: extrapolated with λz.
    Extrapolated,
    /// The end lies after the last point: concentration taken as 0 after it.
    Truncated,
    /// Missing: the end lies after the last point (Tlast) and extrapolation was not asked.
    BeyondTlast,
    /// Missing: extrapolation was asked but there is no λz.
    NoLambdaZ,
    /// Missing: the end lies before the start of the AUC.
    BeforeStart,
    /// Missing: no point enters the AUC.
    NoData,
}

impl PartialStatus {
    /// The short code written to result files.
    pub fn code(&self) -> &'static str {
        match self {
            PartialStatus::AtSample => "at_sample",
            PartialStatus::Interpolated => "interpolated",
            PartialStatus::BlqImputed => "blq_imputed_after_tlast",
            PartialStatus::Extrapolated => "extrapolated",
            PartialStatus::Truncated => "truncated",
            PartialStatus::BeyondTlast => "na_beyond_tlast",
            PartialStatus::NoLambdaZ => "na_no_lambda_z",
            PartialStatus::BeforeStart => "na_before_start",
            PartialStatus::NoData => "na_no_data",
        }
    }
}

/// One partial AUC0–end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartialAuc {
    /// End of the interval (days).
    pub end: f64,
    /// The area (unit × day), `None` when missing (see `status`).
    pub value: Option<f64>,
    /// How it was obtained or why it is missing.
    pub status: PartialStatus,
}

/// A remark on a result that a reader must see.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flag {
    /// No post-dose sample at all.
    NoPostDoseSamples,
    /// No quantifiable post-dose sample.
    AllBlq,
    /// C(0) = 0 was assumed (no sample at t = 0).
    C0Imputed,
    /// The AUC starts at the first sample, at this time (> 0).
    AucStartsAtFirstSample(f64),
    /// No λz: too few points after Tmax.
    LambdaZTooFewPoints {
        /// Candidate points.
        available: usize,
        /// Points required.
        required: usize,
    },
    /// No λz: no fit with λz > 0 and an adjusted R² within tolerance of the best.
    LambdaZNotPositive,
    /// The last sample is still quantifiable: persistence is censored at Tlast.
    QuantifiableAtLastSample,
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::NoPostDoseSamples => f.write_str("no_post_dose_samples"),
            Flag::AllBlq => f.write_str("all_blq"),
            Flag::C0Imputed => f.write_str("c0_imputed"),
            Flag::AucStartsAtFirstSample(t) => write!(f, "auc_starts_at_first_sample={t}"),
            Flag::LambdaZTooFewPoints {
                available,
                required,
            } => write!(f, "lambda_z_too_few_points={available}<{required}"),
            Flag::LambdaZNotPositive => f.write_str("lambda_z_not_positive"),
            Flag::QuantifiableAtLastSample => f.write_str("quantifiable_at_last_sample"),
        }
    }
}

/// NCA results of one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct NcaResult {
    /// Post-dose samples (t ≥ 0).
    pub n_samples: usize,
    /// Post-dose samples that are not quantifiable.
    pub n_blq: usize,
    /// Largest quantifiable value (0 when none).
    pub cmax: Option<f64>,
    /// First time of Cmax.
    pub tmax: Option<f64>,
    /// Last quantifiable value.
    pub clast: Option<f64>,
    /// Time of the last quantifiable value (persistence).
    pub tlast: Option<f64>,
    /// AUC from the start (t = 0) to Tlast.
    pub auclast: Option<f64>,
    /// AUC0–x for each configured end, in order.
    pub partial: Vec<PartialAuc>,
    /// Terminal regression, when one qualified.
    pub lambda_z: Option<LambdaZ>,
    /// AUClast + Clast/λz.
    pub aucinf_obs: Option<f64>,
    /// 100·(Clast/λz)/AUCinf.
    pub auc_pct_extrap: Option<f64>,
    /// First non-quantifiable sample after Tlast.
    pub time_below_lloq: Option<f64>,
    /// Remarks.
    pub flags: Vec<Flag>,
}

impl NcaResult {
    /// Half-life ln 2/λz (days).
    pub fn half_life(&self) -> Option<f64> {
        self.lambda_z.as_ref().map(LambdaZ::half_life)
    }

    /// The partial AUC ending at `end`, if that end was configured and is available.
    pub fn partial_auc(&self, end: f64) -> Option<f64> {
        self.partial
            .iter()
            .find(|p| p.end == end)
            .and_then(|p| p.value)
    }
}

/// Non-compartmental analysis of one profile (see the module header for the rules).
/// Errors only when a BLQ rule needs a limit of quantification a sample lacks.
pub fn analyse(profile: &Profile, settings: &ValidNcaSettings) -> Result<NcaResult, NcaError> {
    let s = settings.get();
    let post = profile.post_dose();
    let mut flags = Vec::new();
    let n_blq = post.iter().filter(|x| !x.is_quantifiable()).count();
    let quantifiable: Vec<Point> = post
        .iter()
        .filter(|x| x.is_quantifiable())
        .map(|x| Point {
            time: x.time,
            conc: x.value,
        })
        .collect();

    if post.is_empty() {
        flags.push(Flag::NoPostDoseSamples);
    } else if quantifiable.is_empty() {
        flags.push(Flag::AllBlq);
    }

    // Cmax / Tmax (first time of the maximum), Clast / Tlast.
    let peak = quantifiable
        .iter()
        .fold(None::<Point>, |best, p| match best {
            Some(b) if b.conc >= p.conc => Some(b),
            _ => Some(*p),
        });
    let cmax = match (peak, post.is_empty()) {
        (Some(p), _) => Some(p.conc),
        (None, false) => Some(0.0),
        (None, true) => None,
    };
    let tmax = peak.map(|p| p.time);
    let last = quantifiable.last().copied();
    let (clast, tlast) = (last.map(|p| p.conc), last.map(|p| p.time));

    // AUC points.
    let mut points = apply_blq_rules(post, &s.blq)?;
    if let Some(first) = points.first().copied() {
        if first.time > 0.0 {
            match s.time_zero {
                TimeZero::AssumeZero => {
                    points.insert(
                        0,
                        Point {
                            time: 0.0,
                            conc: 0.0,
                        },
                    );
                    flags.push(Flag::C0Imputed);
                }
                TimeZero::FirstSample => flags.push(Flag::AucStartsAtFirstSample(first.time)),
            }
        }
    }

    let start = points.first().map(|p| p.time);
    let auclast = match (start, tlast) {
        (Some(a), Some(b)) => auc_between(&points, a, b, s.method),
        (Some(_), None) => Some(0.0),
        (None, _) => None,
    };

    // λz.
    let lambda_z = match tmax {
        None => None,
        Some(tmax) => {
            let result = match s.lambda_z_window {
                Some((a, b)) => {
                    let window: Vec<Point> = quantifiable
                        .iter()
                        .copied()
                        .filter(|p| p.time >= a && p.time <= b)
                        .collect();
                    fixed_lambda_z(&window, s.min_lambda_z_points)
                }
                None => {
                    let candidates: Vec<Point> = quantifiable
                        .iter()
                        .copied()
                        .filter(|p| p.time > tmax || (s.include_tmax_in_lambda_z && p.time == tmax))
                        .collect();
                    select_lambda_z(&candidates, s.min_lambda_z_points, s.adj_r2_tolerance)
                }
            };
            match result {
                Ok(l) => Some(l),
                Err(LambdaZFailure::TooFewPoints {
                    available,
                    required,
                }) => {
                    flags.push(Flag::LambdaZTooFewPoints {
                        available,
                        required,
                    });
                    None
                }
                Err(LambdaZFailure::NotPositive) => {
                    flags.push(Flag::LambdaZNotPositive);
                    None
                }
            }
        }
    };

    let partial = s
        .partial_ends
        .iter()
        .map(|&end| partial_auc(&points, end, tlast, lambda_z.as_ref(), s))
        .collect();

    let (aucinf_obs, auc_pct_extrap) = match (&lambda_z, auclast, clast) {
        (Some(l), Some(auc), Some(c)) => {
            let tail = c / l.lambda_z;
            let inf = auc + tail;
            (Some(inf), Some(100.0 * tail / inf))
        }
        _ => (None, None),
    };

    let time_below_lloq = match tlast {
        Some(t) => {
            let below = post
                .iter()
                .find(|x| x.time > t && !x.is_quantifiable())
                .map(|x: &Sample| x.time);
            if below.is_none() {
                flags.push(Flag::QuantifiableAtLastSample);
            }
            below
        }
        None => None,
    };

    Ok(NcaResult {
        n_samples: post.len(),
        n_blq,
        cmax,
        tmax,
        clast,
        tlast,
        auclast,
        partial,
        lambda_z,
        aucinf_obs,
        auc_pct_extrap,
        time_below_lloq,
        flags,
    })
}

/// AUC0–`end` on the AUC points, following the settings' [`BeyondTlast`] policy.
fn partial_auc(
    points: &[Point],
    end: f64,
    tlast: Option<f64>,
    lambda_z: Option<&LambdaZ>,
    s: &super::settings::NcaSettings,
) -> PartialAuc {
    let missing = |status| PartialAuc {
        end,
        value: None,
        status,
    };
    let (Some(first), Some(last)) = (points.first().copied(), points.last().copied()) else {
        return missing(PartialStatus::NoData);
    };
    if end < first.time {
        return missing(PartialStatus::BeforeStart);
    }
    if end <= last.time {
        let status = if tlast.is_none_or(|tl| end > tl) {
            PartialStatus::BlqImputed
        } else if points.iter().any(|p| p.time == end) {
            PartialStatus::AtSample
        } else {
            PartialStatus::Interpolated
        };
        return PartialAuc {
            end,
            value: auc_between(points, first.time, end, s.method),
            status,
        };
    }
    let to_last = auc_between(points, first.time, last.time, s.method);
    match s.beyond_tlast {
        BeyondTlast::Missing => missing(PartialStatus::BeyondTlast),
        BeyondTlast::Truncate => PartialAuc {
            end,
            value: to_last,
            status: PartialStatus::Truncated,
        },
        BeyondTlast::Extrapolate => match lambda_z {
            None => missing(PartialStatus::NoLambdaZ),
            Some(l) => {
                let k = l.lambda_z;
                let tail = last.conc * (-(-k * (end - last.time)).exp_m1()) / k;
                PartialAuc {
                    end,
                    value: to_last.map(|a| a + tail),
                    status: PartialStatus::Extrapolated,
                }
            }
        },
    }
}
