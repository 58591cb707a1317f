//! The statistics drawn in the plots: the power model of dose proportionality, the
//! Kaplan–Meier estimator, and a LOWESS-type smoother.
//!
//! **Power model** (Gough K. et al., Assessment of dose proportionality: report from the
//! statisticians in the pharmaceutical industry/pharmacokinetics UK joint working party,
//! Drug Inf J 1995;29:1039–1048; Smith B.P. et al., Pharm Res 2000;17:1278–1283):
//! ln Y = α + β·ln D + ε fitted by least squares over the subjects; β = 1 is
//! proportionality. With x = ln D, y = ln Y, n points,
//! β̂ = Sxy / Sxx, α̂ = ȳ − β̂·x̄, s² = Σ(y − α̂ − β̂x)² / (n − 2),
//! SE(β̂) = √(s² / Sxx), and the 90 % CI is β̂ ± t₀.₉₅,ₙ₋₂ · SE(β̂).
//!
//! **Kaplan–Meier** (Kaplan E.L., Meier P., J Am Stat Assoc 1958;53:457–481):
//! S(t) = Π_{tᵢ ≤ t} (1 − dᵢ / nᵢ) over the distinct event times tᵢ, with dᵢ events at
//! tᵢ and nᵢ subjects at risk just before tᵢ (a subject censored at tᵢ is still at risk
//! at tᵢ).
//!
//! **Smoother**: locally weighted linear regression with tricube weights over the
//! nearest ⌈span·n⌉ points (Cleveland W.S., J Am Stat Assoc 1979;74:829–836), without
//! the robustness iterations; span 2/3 as in R's `lowess`.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::panel::{colour, Layer, Marker};

/// The least-squares power model ln Y = α + β ln D.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerModel {
    /// Points used (positive dose and response).
    pub n: usize,
    /// Intercept α on the log scale.
    pub intercept: f64,
    /// Slope β (1 = dose proportional).
    pub slope: f64,
    /// Standard error of β.
    pub se: f64,
    /// Lower end of the 90 % confidence interval of β.
    pub ci_low: f64,
    /// Upper end of the 90 % confidence interval of β.
    pub ci_high: f64,
}

/// Fit the power model to (dose, response) pairs; pairs with a non-positive or
/// non-finite member are left out. `None` with fewer than 3 points or fewer than 2
/// distinct doses (no slope or no residual degree of freedom).
pub fn power_model(points: &[(f64, f64)]) -> Option<PowerModel> {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|(d, y)| d.is_finite() && y.is_finite() && *d > 0.0 && *y > 0.0)
        .map(|(d, y)| (d.ln(), y.ln()))
        .collect();
    let n = xy.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let xbar = xy.iter().map(|p| p.0).sum::<f64>() / nf;
    let ybar = xy.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = xy.iter().map(|p| (p.0 - xbar).powi(2)).sum();
    let sxy: f64 = xy.iter().map(|p| (p.0 - xbar) * (p.1 - ybar)).sum();
    if sxx <= 1e-12 * nf {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = ybar - slope * xbar;
    let rss: f64 = xy
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let se = (rss / (nf - 2.0) / sxx).sqrt();
    let t = StudentsT::new(0.0, 1.0, nf - 2.0).ok()?.inverse_cdf(0.95);
    Some(PowerModel {
        n,
        intercept,
        slope,
        se,
        ci_low: slope - t * se,
        ci_high: slope + t * se,
    })
}

/// The Kaplan–Meier estimate as steps: (0, 1) then (tᵢ, S(tᵢ)) at each distinct event
/// time. `subjects` are (time, event): `event = false` is censored at `time`.
pub fn kaplan_meier(subjects: &[(f64, bool)]) -> Vec<(f64, f64)> {
    let mut s: Vec<(f64, bool)> = subjects
        .iter()
        .copied()
        .filter(|(t, _)| t.is_finite())
        .collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut steps = vec![(0.0, 1.0)];
    let mut surv = 1.0;
    let mut at_risk = s.len();
    let mut i = 0;
    while i < s.len() {
        let t = s[i].0;
        let (mut events, mut leaving) = (0usize, 0usize);
        while i < s.len() && s[i].0 == t {
            events += usize::from(s[i].1);
            leaving += 1;
            i += 1;
        }
        if events > 0 {
            surv *= 1.0 - events as f64 / at_risk as f64;
            steps.push((t, surv));
        }
        at_risk -= leaving;
    }
    steps
}

/// Points and their LOWESS line (span 2/3, fitted on the log of an axis drawn on a log
/// scale, where the points are positive), the line labelled "LOWESS" when `legend`.
pub fn points_and_lowess(
    xy: Vec<(f64, f64)>,
    (x_log, y_log): (bool, bool),
    legend: bool,
) -> [Layer; 2] {
    let scale = |v: f64, log: bool| if log { v.ln() } else { v };
    let unscale = |v: f64, log: bool| if log { v.exp() } else { v };
    let fitted: Vec<(f64, f64)> = xy
        .iter()
        .filter(|(x, y)| (!x_log || *x > 0.0) && (!y_log || *y > 0.0))
        .map(|&(x, y)| (scale(x, x_log), scale(y, y_log)))
        .collect();
    let smooth = lowess(&fitted, 2.0 / 3.0)
        .into_iter()
        .map(|(x, y)| (unscale(x, x_log), unscale(y, y_log)))
        .collect();
    [
        Layer::Points {
            xy,
            marker: Marker::Ring,
            colour: colour(0),
            label: None,
        },
        Layer::Line {
            xy: smooth,
            colour: colour(1),
            dashed: false,
            width: 2,
            label: legend.then(|| "LOWESS".into()),
        },
    ]
}

/// Smoothed values at each distinct x of `points` (sorted by x); see the module header.
pub fn lowess(points: &[(f64, f64)], span: f64) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = p.len();
    if n < 3 {
        return Vec::new();
    }
    let k = ((span * n as f64).ceil() as usize).clamp(2, n);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for i in 0..n {
        let x0 = p[i].0;
        if out.last().is_some_and(|l| l.0 == x0) {
            continue;
        }
        let mut d: Vec<f64> = p.iter().map(|q| (q.0 - x0).abs()).collect();
        d.sort_by(f64::total_cmp);
        let h = d[k - 1].max(1e-12);
        let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(x, y) in &p {
            let u = (x - x0).abs() / h;
            if u >= 1.0 {
                continue;
            }
            let w = (1.0 - u.powi(3)).powi(3);
            sw += w;
            sx += w * x;
            sy += w * y;
            sxx += w * x * x;
            sxy += w * x * y;
        }
        if sw <= 0.0 {
            continue;
        }
        let (mx, my) = (sx / sw, sy / sw);
        let var = sxx / sw - mx * mx;
        let fitted = if var > 1e-12 * (1.0 + mx * mx) {
            let b = (sxy / sw - mx * my) / var;
            my + b * (x0 - mx)
        } else {
            my
        };
        out.push((x0, fitted));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn power_model_matches_a_hand_computation() {
        // Doses 1, e, e² (x = ln D = 0, 1, 2) and responses e^1, e^2.5, e^2.9
        // (y = ln Y = 1, 2.5, 2.9), worked by hand:
        //   x̄ = 1, ȳ = 6.4/3, Sxx = 2, Sxy = (−1)(1 − 6.4/3) + 0 + (1)(2.9 − 6.4/3) = 1.9
        //   β̂ = 0.95, α̂ = 6.4/3 − 0.95 = 1.18333…
        //   residuals: 1 − 1.18333 = −0.18333, 2.5 − 2.13333 = 0.36667, 2.9 − 3.08333 = −0.18333
        //   RSS = 2·0.0336111 + 0.1344444 = 0.2016667, s² = RSS / 1, SE = √(s²/2) = 0.3175426
        //   t₀.₉₅,₁ = 6.313752 (t table, 1 df), CI = 0.95 ± 2.004884
        let d = [1.0, std::f64::consts::E, std::f64::consts::E.powi(2)];
        let y = [1.0f64.exp(), 2.5f64.exp(), 2.9f64.exp()];
        let pts: Vec<(f64, f64)> = d.iter().copied().zip(y.iter().copied()).collect();
        let m = power_model(&pts).unwrap();
        assert_eq!(m.n, 3);
        assert_relative_eq!(m.slope, 0.95, epsilon = 1e-12);
        assert_relative_eq!(m.intercept, 6.4 / 3.0 - 0.95, epsilon = 1e-12);
        assert_relative_eq!(m.se, (0.2016667f64 / 2.0).sqrt(), epsilon = 1e-6);
        assert_relative_eq!(m.ci_low, 0.95 - 6.313752 * m.se, epsilon = 1e-5);
        assert_relative_eq!(m.ci_high, 0.95 + 6.313752 * m.se, epsilon = 1e-5);
    }

    #[test]
    fn power_model_needs_two_doses_and_three_points() {
        assert!(power_model(&[(1.0, 2.0), (2.0, 3.0)]).is_none());
        assert!(power_model(&[(5.0, 2.0), (5.0, 3.0), (5.0, 4.0)]).is_none());
        // non-positive responses are left out (BLQ Cmax of 0)
        assert!(power_model(&[(1.0, 0.0), (2.0, 3.0), (3.0, 4.0)]).is_none());
    }

    #[test]
    fn kaplan_meier_matches_a_hand_computation() {
        // Times 2, 3+, 3, 5, 8+ (+ censored). By hand:
        //   t=3: at risk 4 (the one at 2 left), 1 event  → S = 4/5 · 3/4 = 0.6
        //   t=2: at risk 5, 1 event → S = 0.8
        //   t=5: at risk 2 (3 and 3+ left), 1 event → S = 0.6 · 1/2 = 0.3
        //   t=8 censored: no step.
        let km = kaplan_meier(&[
            (3.0, false),
            (2.0, true),
            (3.0, true),
            (5.0, true),
            (8.0, false),
        ]);
        let want = [(0.0, 1.0), (2.0, 0.8), (3.0, 0.6), (5.0, 0.3)];
        assert_eq!(km.len(), want.len());
        for (a, b) in km.iter().zip(want) {
            assert_eq!(a.0, b.0);
            assert_relative_eq!(a.1, b.1, epsilon = 1e-12);
        }
    }

    #[test]
    fn lowess_reproduces_a_straight_line() {
        // a local linear fit of points on a line returns the line (exact up to rounding)
        let pts: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, 2.0 - 0.5 * i as f64)).collect();
        for (x, y) in lowess(&pts, 2.0 / 3.0) {
            assert_relative_eq!(y, 2.0 - 0.5 * x, epsilon = 1e-9);
        }
    }
}
