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
    let fits: Vec<(usize, Fit)> = (min_points..=available)
        .filter_map(|n| fit(&candidates[available - n..]).map(|f| (n, f)))
        .collect();
    let best = fits
        .iter()
        .map(|(_, f)| f.adj_r_squared)
        .fold(f64::NEG_INFINITY, f64::max);
    let chosen = fits
        .iter()
        .filter(|(_, f)| f.slope < 0.0 && f.adj_r_squared > best - adj_r2_tolerance)
        .max_by_key(|(n, _)| *n);
    match chosen {
        Some(&(n, f)) => Ok(to_lambda_z(&candidates[available - n..], f)),
        None => Err(LambdaZFailure::NotPositive),
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
