//! Areas under the curve by the linear and the linear-up/log-down trapezoid rules,
//! with interpolation inside an interval that is consistent with the rule.
//!
//! For an interval (t₁, c₁) → (t₂, c₂), Δt = t₂ − t₁:
//!
//! - linear: AUC = Δt·(c₁ + c₂)/2, and C(t) = c₁ + (c₂ − c₁)(t − t₁)/Δt;
//! - log (used by linear-up/log-down when c₂ < c₁ and c₂ > 0):
//!   AUC = Δt·(c₁ − c₂)/ln(c₁/c₂), and C(t) = c₁·(c₂/c₁)^((t − t₁)/Δt).
//!
//! Both rules integrate their own interpolant exactly (a straight line, an
//! exponential), so an area split at any interior time adds up to the whole: AUC over
//! [a, c] = AUC over [a, b] + AUC over [b, c]. Whether an interval is log-down is decided
//! once from its two samples and then used for every part of it. The logarithmic mean
//! (c₁ − c₂)/ln(c₁/c₂) is evaluated as c₁·d/ln(1 + d) with d = (c₂ − c₁)/c₁, which
//! stays accurate when c₂ → c₁.
//!
//! Reference: PKNCA `pk.calc.auc` ("lin up/log down", "linear"); Gabrielsson & Weiner,
//! Pharmacokinetic and Pharmacodynamic Data Analysis, 4th ed., §2.8.

use super::settings::AucMethod;

/// A point of a cleaned profile: time (days) and concentration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Time (days).
    pub time: f64,
    /// Concentration (≥ 0).
    pub conc: f64,
}

/// Whether the interval from `c1` to `c2` uses the log trapezoid under `method`.
pub fn is_log_interval(c1: f64, c2: f64, method: AucMethod) -> bool {
    method == AucMethod::LinearUpLogDown && c2 < c1 && c2 > 0.0
}

/// The logarithmic mean (c₁ − c₂)/ln(c₁/c₂) of two positive numbers (c₁ when equal).
fn log_mean(c1: f64, c2: f64) -> f64 {
    let d = (c2 - c1) / c1;
    if d == 0.0 {
        c1
    } else {
        c1 * d / d.ln_1p()
    }
}

/// Area of one interval by the rule `log` (true) or linear (false).
fn area(t1: f64, c1: f64, t2: f64, c2: f64, log: bool) -> f64 {
    let dt = t2 - t1;
    if log {
        dt * log_mean(c1, c2)
    } else {
        dt * 0.5 * (c1 + c2)
    }
}

/// Value at `t` inside [t1, t2] by the rule `log` (true) or linear (false).
fn value_at(t1: f64, c1: f64, t2: f64, c2: f64, t: f64, log: bool) -> f64 {
    if t <= t1 {
        return c1;
    }
    if t >= t2 {
        return c2;
    }
    let f = (t - t1) / (t2 - t1);
    if log {
        c1 * (c2 / c1).powf(f)
    } else {
        c1 + (c2 - c1) * f
    }
}

/// Area of the interval (t1, c1) → (t2, c2) under `method`.
pub fn segment_auc(t1: f64, c1: f64, t2: f64, c2: f64, method: AucMethod) -> f64 {
    area(t1, c1, t2, c2, is_log_interval(c1, c2, method))
}

/// The concentration at `t` in [t1, t2], interpolated consistently with `method`.
pub fn interpolate(t1: f64, c1: f64, t2: f64, c2: f64, t: f64, method: AucMethod) -> f64 {
    value_at(t1, c1, t2, c2, t, is_log_interval(c1, c2, method))
}

/// The concentration at time `t` on the profile `points` (sorted, strictly increasing
/// times), interpolated with `method`; `None` outside [first time, last time].
pub fn conc_at(points: &[Point], t: f64, method: AucMethod) -> Option<f64> {
    let first = points.first()?;
    let last = points.last()?;
    if t < first.time || t > last.time {
        return None;
    }
    let i = points.partition_point(|p| p.time < t);
    let p2 = points[i];
    if p2.time == t || i == 0 {
        return Some(p2.conc);
    }
    let p1 = points[i - 1];
    Some(interpolate(p1.time, p1.conc, p2.time, p2.conc, t, method))
}

/// AUC over [a, b] on the profile `points` (sorted, strictly increasing times), with
/// both ends interpolated by `method` when they fall between samples; `None` when
/// [a, b] is not inside [first time, last time] or a > b.
pub fn auc_between(points: &[Point], a: f64, b: f64, method: AucMethod) -> Option<f64> {
    let first = points.first()?;
    let last = points.last()?;
    if !(a <= b && a >= first.time && b <= last.time) {
        return None;
    }
    let mut total = 0.0;
    for w in points.windows(2) {
        let (p1, p2) = (w[0], w[1]);
        let lo = p1.time.max(a);
        let hi = p2.time.min(b);
        if hi <= lo {
            continue;
        }
        let log = is_log_interval(p1.conc, p2.conc, method);
        let c_lo = value_at(p1.time, p1.conc, p2.time, p2.conc, lo, log);
        let c_hi = value_at(p1.time, p1.conc, p2.time, p2.conc, hi, log);
        total += area(lo, c_lo, hi, c_hi, log);
    }
    Some(total)
}
