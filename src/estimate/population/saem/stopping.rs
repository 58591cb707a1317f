//! The step sizes and the automatic stopping rules of SAEM.
//!
//! Step sizes (Kuhn & Lavielle 2005; Monolix): γ_k = 1 for the K1 exploratory iterations,
//! then γ_k = 1/(k − K1) for the K2 smoothing iterations (Σγ = ∞, Σγ² < ∞).
//!
//! The rules look at the working-scale parameter vector w (μ and the other free θ on
//! their estimation scale, ln ω²_kk, the correlations of Ω, and the complete-data −2LL
//! scaled by 1/N as the convergence indicator):
//! - exploration ends (after at least `k1_min` iterations) when no component of w drifts
//!   over the last W iterations: cut into 10 batches, the least-squares slope b of the
//!   batch means on the batch index has |b|/SE(b) < `drift_t` (8 degrees of freedom)
//!   for every component (a stationary chain of estimates; batch means because
//!   successive SAEM iterations are strongly autocorrelated);
//! - smoothing ends (after at least `k2_min` iterations) when the Monte-Carlo standard
//!   error of the averaged estimates, SD(ŵ_k)/√K2 over the per-iteration maximisers ŵ_k
//!   of the smoothing phase, is below `smoothing_tol` for every component (the
//!   autocorrelation of the chains is ignored, so this SE is optimistic).
//!
//! These are our rules in the spirit of Monolix's auto-stop (which uses the stability
//! of the convergence indicator and the width of the estimates' confidence intervals);
//! without `auto_stop` the phases run exactly K1 and K2 iterations.

/// |t| of the least-squares slope of `ys` on 0, 1, …; 0 for a constant series.
pub fn slope_t(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 3 {
        return f64::INFINITY;
    }
    let xm = (n - 1.0) / 2.0;
    let ym = ys.iter().sum::<f64>() / n;
    let sxx: f64 = (0..ys.len()).map(|i| (i as f64 - xm).powi(2)).sum();
    let sxy: f64 = ys
        .iter()
        .enumerate()
        .map(|(i, y)| (i as f64 - xm) * (y - ym))
        .sum();
    let b = sxy / sxx;
    let sse: f64 = ys
        .iter()
        .enumerate()
        .map(|(i, y)| (y - ym - b * (i as f64 - xm)).powi(2))
        .sum();
    let se = (sse / (n - 2.0) / sxx).sqrt();
    if se > 0.0 {
        (b / se).abs()
    } else if b == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Batches of the drift test.
pub const BATCHES: usize = 10;

/// No component of the last `window` vectors of `history` drifts (module docs): the
/// window is cut into [`BATCHES`] consecutive batches and the slope is fitted to their
/// means, which are much less autocorrelated than the iterations themselves.
pub fn stationary(history: &[Vec<f64>], window: usize, drift_t: f64) -> bool {
    if history.len() < window || window < BATCHES {
        return false;
    }
    let tail = &history[history.len() - window..];
    let size = window / BATCHES;
    let tail = &tail[window - size * BATCHES..];
    (0..tail[0].len()).all(|j| {
        let means: Vec<f64> = tail
            .chunks(size)
            .map(|c| c.iter().map(|w| w[j]).sum::<f64>() / size as f64)
            .collect();
        slope_t(&means) < drift_t
    })
}

/// Largest Monte-Carlo SE, SD/√n, over the components of `values` (module docs).
pub fn largest_se(values: &[Vec<f64>]) -> f64 {
    let n = values.len();
    if n < 2 {
        return f64::INFINITY;
    }
    (0..values[0].len())
        .map(|j| {
            let m = values.iter().map(|w| w[j]).sum::<f64>() / n as f64;
            let v = values.iter().map(|w| (w[j] - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            (v / n as f64).sqrt()
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_t_by_hand() {
        // y = 0, 1, 0, 1, 0 around a flat line: b = (Σ(x − 2)(y − 0.4))/10 = 0 by hand.
        assert!(slope_t(&[0.0, 1.0, 0.0, 1.0, 0.0]) < 1e-12);
        // y = 2x + (0, 1, 0, 1, 0): b = 2, residuals (−0.4, 0.6, −0.4, 0.6, −0.4),
        // SSE = 1.2, SE = √(1.2/3/10) = 0.2, t = 10.
        let ys = [0.0, 3.0, 4.0, 7.0, 8.0];
        assert!((slope_t(&ys) - 10.0).abs() < 1e-12);
    }

    #[test]
    fn stationary_sees_a_trend_and_not_a_flat_series() {
        // Alternating ±1 around a constant: every batch mean is 0, slope 0.
        let flat: Vec<Vec<f64>> = (0..100).map(|i| vec![(-1f64).powi(i)]).collect();
        assert!(stationary(&flat, 100, 3.0));
        // The same plus a linear trend 0.01 per iteration: batch means 0.045 + 0.1 b
        // (b = 0..9) exactly on a line, t = ∞.
        let trend: Vec<Vec<f64>> = (0..100)
            .map(|i| vec![(-1f64).powi(i) + 0.01 * i as f64])
            .collect();
        assert!(!stationary(&trend, 100, 3.0));
    }

    #[test]
    fn largest_se_by_hand() {
        // Values 1, 3: SD √2, SE √2/√2 = 1.
        let v = vec![vec![1.0, 5.0], vec![3.0, 5.0]];
        assert!((largest_se(&v) - 1.0).abs() < 1e-15);
    }
}
