//! Concentration–time profiles: the input of every NCA computation.
//!
//! A [`Profile`] is a list of samples `(t, value, censored, lloq)` of one analyte in one
//! subject, sorted by time, independent of how it was read (a CSV file or a
//! simulation). Construction checks the input once, so the computations never meet an
//! unsorted, duplicated or non-finite sample:
//!
//! - times are finite, values of quantified samples finite and ≥ 0;
//! - no two samples share a time (PKNCA's `assert_conc_time` refuses these too: which of
//!   two concentrations at one time enters the trapezoid would be arbitrary);
//! - a censored (below the limit of quantification, BLQ) sample carries its limit in
//!   `lloq` or in `value` (the data layer stores the limit as the value); the limit is
//!   only needed by the BLQ rules that substitute it ([`crate::nca::BlqRule::Lloq`],
//!   [`crate::nca::BlqRule::HalfLloq`]).
//!
//! Times are days since the CAR-T infusion (dose at t = 0); samples at t < 0 are
//! pre-dose (baseline) samples. A measured value of exactly 0 is treated like a BLQ
//! record, as PKNCA does (it cannot enter a log trapezoid or the λz regression).

use super::NcaError;

/// One sample of a profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Days since infusion (negative before it).
    pub time: f64,
    /// The measured value; for a censored sample the limit (or anything, if `lloq` is set).
    pub value: f64,
    /// Below the limit of quantification.
    pub censored: bool,
    /// Lower limit of quantification of this sample, when known.
    pub lloq: Option<f64>,
}

impl Sample {
    /// A quantified sample.
    pub fn measured(time: f64, value: f64) -> Self {
        Sample {
            time,
            value,
            censored: false,
            lloq: None,
        }
    }

    /// A sample below the limit of quantification `lloq`.
    pub fn blq(time: f64, lloq: f64) -> Self {
        Sample {
            time,
            value: lloq,
            censored: true,
            lloq: Some(lloq),
        }
    }

    /// Whether the sample is quantifiable: not censored and strictly positive.
    pub fn is_quantifiable(&self) -> bool {
        !self.censored && self.value > 0.0
    }

    /// The limit of quantification of a non-quantifiable sample: `lloq` if given, else
    /// the stored value of a censored sample when positive; `None` when unknown.
    pub fn limit(&self) -> Option<f64> {
        match self.lloq {
            Some(l) if l.is_finite() && l > 0.0 => Some(l),
            _ if self.censored && self.value.is_finite() && self.value > 0.0 => Some(self.value),
            _ => None,
        }
    }
}

/// A checked profile: samples sorted by strictly increasing time.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    samples: Vec<Sample>,
}

impl Profile {
    /// Check and sort `samples`. Errors: an empty list, a non-finite time, a quantified
    /// value that is negative or not finite, two samples at the same time.
    pub fn new(mut samples: Vec<Sample>) -> Result<Self, NcaError> {
        if samples.is_empty() {
            return Err(NcaError::EmptyProfile);
        }
        for s in &samples {
            if !s.time.is_finite() {
                return Err(NcaError::NonFiniteTime { time: s.time });
            }
            if !s.censored {
                if !s.value.is_finite() {
                    return Err(NcaError::NonFiniteValue {
                        time: s.time,
                        value: s.value,
                    });
                }
                if s.value < 0.0 {
                    return Err(NcaError::NegativeValue {
                        time: s.time,
                        value: s.value,
                    });
                }
            }
        }
        samples.sort_by(|a, b| a.time.total_cmp(&b.time));
        if let Some(w) = samples.windows(2).find(|w| w[0].time == w[1].time) {
            return Err(NcaError::DuplicateTime { time: w[0].time });
        }
        Ok(Profile { samples })
    }

    /// A profile of quantified values (e.g. a simulated trajectory).
    pub fn from_values(times: &[f64], values: &[f64]) -> Result<Self, NcaError> {
        Profile::from_pairs(times, values, Sample::measured)
    }

    /// A profile of simulated values observed through an assay with limit `lloq`:
    /// values below `lloq` become censored samples, as a laboratory would report them.
    pub fn from_values_with_lloq(
        times: &[f64],
        values: &[f64],
        lloq: f64,
    ) -> Result<Self, NcaError> {
        if !(lloq.is_finite() && lloq > 0.0) {
            return Err(NcaError::InvalidSetting {
                name: "lloq",
                value: lloq.to_string(),
                expected: "a finite number > 0",
            });
        }
        Profile::from_pairs(times, values, |t, v| {
            if v < lloq {
                Sample::blq(t, lloq)
            } else {
                Sample::measured(t, v)
            }
        })
    }

    /// A profile of one sample per (time, value) pair.
    fn from_pairs(
        times: &[f64],
        values: &[f64],
        sample: impl Fn(f64, f64) -> Sample,
    ) -> Result<Self, NcaError> {
        if times.len() != values.len() {
            return Err(NcaError::LengthMismatch {
                times: times.len(),
                values: values.len(),
            });
        }
        Profile::new(
            times
                .iter()
                .zip(values)
                .map(|(&t, &v)| sample(t, v))
                .collect(),
        )
    }

    /// The samples, sorted by time.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Samples at or after the infusion (t ≥ 0).
    pub fn post_dose(&self) -> &[Sample] {
        let first = self.samples.partition_point(|s| s.time < 0.0);
        &self.samples[first..]
    }

    /// Samples before the infusion (t < 0).
    pub fn pre_dose(&self) -> &[Sample] {
        let first = self.samples.partition_point(|s| s.time < 0.0);
        &self.samples[..first]
    }
}
