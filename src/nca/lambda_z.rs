//! Terminal elimination rate λz by log-linear regression, with PKNCA's automatic
//! choice of points.
//!
//! For n points (tᵢ, cᵢ), ordinary least squares of yᵢ = ln cᵢ on tᵢ:
//! slope b = Sₜᵧ/Sₜₜ, intercept a = ȳ − b·t̄, λz = −b,
//! R² = 1 − SS_res/SS_tot, adjusted R² = 1 − (1 − R²)(n − 1)/(n − 2), t½ = ln 2/λz.
//!
//! Automatic selection (PKNCA `pk.calc.half.life`): the candidates are the quantifiable
//! samples after Tmax (Tmax itself only with `include_tmax_in_lambda_z`); fits use the
//! last n of them for n = `min_lambda_z_points` … all. Among all fits the best adjusted
//! R² is found; a fit qualifies when λz > 0 and its adjusted R² exceeds
//! best − `adj_r2_tolerance`; among qualifying fits the one with the most points wins.
//! As in PKNCA, the best adjusted R² is taken over every fit, including fits with
//! λz ≤ 0, so a terminal phase that rises more cleanly than any decline fits gives no λz.
//! A fit whose log-concentrations are all equal (SS_tot = 0) has no R² and never
//! qualifies.
//!
//! With a user window [start, end], exactly the quantifiable samples in it are used
//! (still at least `min_lambda_z_points`); λz ≤ 0 is reported as a failure.
//!
//! Reference: Gabrielsson & Weiner (2000) §2.8.4; PKNCA `half.life.R`.

use super::auc::Point;

/// A terminal-phase regression.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaZ {
    /// Terminal rate constant (1/day), > 0.
    pub lambda_z: f64,
    /// Intercept of ln C at t = 0.
    pub intercept: f64,
    /// R² of the regression.
    pub r_squared: f64,
    /// Adjusted R².
    pub adj_r_squared: f64,
    /// Times of the points used, ascending.
    pub times: Vec<f64>,
}

impl LambdaZ {
    /// Half-life ln 2/λz (days).
    pub fn half_life(&self) -> f64 {
        std::f64::consts::LN_2 / self.lambda_z
    }

    /// Number of points used.
    pub fn n_points(&self) -> usize {
        self.times.len()
    }

    /// Concentration at `t` predicted by the regression line.
    pub fn predict(&self, t: f64) -> f64 {
        (self.intercept - self.lambda_z * t).exp()
    }
}

/// Why no λz was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaZFailure {
    /// Fewer candidate points than required.
    TooFewPoints {
        /// Candidate points available.
        available: usize,
        /// Points required.
        required: usize,
    },
    /// No fit had λz > 0 with an adjusted R² within tolerance of the best.
    NotPositive,
}

/// One least-squares fit of ln C on t.
#[derive(Debug, Clone, Copy)]
struct Fit {
    slope: f64,
    intercept: f64,
    r_squared: f64,
    adj_r_squared: f64,
}

/// Fit ln C on t over `points` (n ≥ 3, all concentrations > 0); `None` if SS_tot = 0
/// or the times do not vary.
fn fit(points: &[Point]) -> Option<Fit> {
    let n = points.len() as f64;
    let t_mean = points.iter().map(|p| p.time).sum::<f64>() / n;
    let y_mean = points.iter().map(|p| p.conc.ln()).sum::<f64>() / n;
    let (mut stt, mut sty, mut syy) = (0.0, 0.0, 0.0);
    for p in points {
        let dt = p.time - t_mean;
        let dy = p.conc.ln() - y_mean;
        stt += dt * dt;
        sty += dt * dy;
        syy += dy * dy;
    }
    if stt <= 0.0 || syy <= 0.0 {
        return None;
    }
    let slope = sty / stt;
    let intercept = y_mean - slope * t_mean;
    let ss_res: f64 = points
        .iter()
        .map(|p| {
            let r = p.conc.ln() - (intercept + slope * p.time);
            r * r
        })
        .sum();
    let r_squared = 1.0 - ss_res / syy;
    let adj_r_squared = 1.0 - (1.0 - r_squared) * (n - 1.0) / (n - 2.0);
    Some(Fit {
        slope,
        intercept,
        r_squared,
        adj_r_squared,
    })
}

fn to_lambda_z(points: &[Point], f: Fit) -> LambdaZ {
    LambdaZ {
        lambda_z: -f.slope,
        intercept: f.intercept,
        r_squared: f.r_squared,
        adj_r_squared: f.adj_r_squared,
        times: points.iter().map(|p| p.time).collect(),
    }
}

/// Adjusted R² and slope of the fits on the last n candidates, for every n, in one
/// pass from the end with Welford's updates of the means and co-moments
/// (O(n) instead of O(n²): simulated daily profiles have hundreds of candidates).
/// Entry k describes the fit on the last k + 1 points; `None` when it has no R².
fn adj_r2_from_end(candidates: &[Point]) -> Vec<Option<(f64, f64)>> {
    let (mut mt, mut my, mut ctt, mut cty, mut cyy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut out = Vec::with_capacity(candidates.len());
    for (k, p) in candidates.iter().rev().enumerate() {
        let n = (k + 1) as f64;
        let (t, y) = (p.time, p.conc.ln());
        let dt = t - mt;
        let dy = y - my;
        mt += dt / n;
        my += dy / n;
        ctt += dt * (t - mt);
        cty += dt * (y - my);
        cyy += dy * (y - my);
        if k < 2 || ctt <= 0.0 || cyy <= 0.0 {
            out.push(None);
            continue;
        }
        let r2 = (cty * cty / (ctt * cyy)).min(1.0);
        let adj = 1.0 - (1.0 - r2) * (n - 1.0) / (n - 2.0);
        out.push(Some((adj, cty / ctt)));
    }
    out
}

/// Automatic λz from `candidates` (quantifiable points after Tmax, ascending times).
pub fn select_lambda_z(
    candidates: &[Point],
    min_points: usize,
    adj_r2_tolerance: f64,
) -> Result<LambdaZ, LambdaZFailure> {
    let available = candidates.len();
    if available < min_points {
        return Err(LambdaZFailure::TooFewPoints {
            available,
            required: min_points,
        });
    }
    let fits: Vec<(usize, f64, f64)> = adj_r2_from_end(candidates)
        .into_iter()
        .enumerate()
        .filter_map(|(k, f)| f.map(|(adj, slope)| (k + 1, adj, slope)))
        .filter(|(n, _, _)| *n >= min_points)
        .collect();
    let best = fits.iter().map(|f| f.1).fold(f64::NEG_INFINITY, f64::max);
    let chosen = fits
        .iter()
        .filter(|(_, adj, slope)| *slope < 0.0 && *adj > best - adj_r2_tolerance)
        .map(|f| f.0)
        .max();
    // Report the chosen fit from the two-pass formulas (the most accurate figures).
    let points = chosen.map(|n| &candidates[available - n..]);
    match points.and_then(|p| fit(p).map(|f| (p, f))) {
        Some((p, f)) if f.slope < 0.0 => Ok(to_lambda_z(p, f)),
        _ => Err(LambdaZFailure::NotPositive),
    }
}

/// λz from exactly the `points` given (a user window).
pub fn fixed_lambda_z(points: &[Point], min_points: usize) -> Result<LambdaZ, LambdaZFailure> {
    if points.len() < min_points {
        return Err(LambdaZFailure::TooFewPoints {
            available: points.len(),
            required: min_points,
        });
    }
    match fit(points) {
        Some(f) if f.slope < 0.0 => Ok(to_lambda_z(points, f)),
        _ => Err(LambdaZFailure::NotPositive),
    }
}
