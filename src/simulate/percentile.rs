//! Percentiles of type 7 (Hyndman R.J., Fan Y., Sample quantiles in statistical
//! packages, Am Stat 1996;50:361–365): the default of R's `quantile` and NumPy's
//! `percentile`.
//!
//! For n sorted values x₀ ≤ … ≤ x_{n−1} and 0 ≤ p ≤ 1: h = (n − 1)·p,
//! Q(p) = x_⌊h⌋ + (h − ⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋) (the second term is omitted when
//! h is a whole number).

/// The percentiles written by `cartkin simulate`: 5th, 25th, 50th, 75th, 95th.
pub const PERCENTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Q(p) of type 7 over `sorted` (ascending, finite); `None` when empty.
pub fn type7(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p;
    let lo = (h.floor() as usize).min(n - 1);
    let frac = h - lo as f64;
    if frac == 0.0 || lo + 1 >= n {
        Some(sorted[lo])
    } else {
        Some(sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]))
    }
}

/// Q(p) of type 7 when the first `n_censored` sorted values are censored (known only to
/// be below a limit): `None` when the order statistics Q(p) uses include a censored one.
pub fn type7_censored(sorted: &[f64], n_censored: usize, p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p;
    let lo = (h.floor() as usize).min(n - 1);
    if lo < n_censored {
        return None;
    }
    type7(sorted, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type7_matches_numpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [5, 25, 50, 75, 95]) (linear method)
        // = [1.2, 2.0, 3.0, 4.0, 8.8]: hand check h = 4p → 0.2, 1, 2, 3, 3.8.
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        let q: Vec<f64> = PERCENTILES.iter().map(|&p| type7(&x, p).unwrap()).collect();
        let expected = [1.2, 2.0, 3.0, 4.0, 8.8];
        for (a, b) in q.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert_eq!(type7(&[], 0.5), None);
        assert_eq!(type7(&[7.0], 0.95), Some(7.0));
        // two censored values among five: the 5th and 25th percentiles use x0/x1 (censored).
        assert_eq!(type7_censored(&x, 2, 0.05), None);
        assert_eq!(type7_censored(&x, 2, 0.25), None);
        assert_eq!(type7_censored(&x, 2, 0.5), Some(3.0));
    }
}
