//! Start points of a subject's fit: the typical values, then a Latin hypercube of
//! `n_starts` points (McKay, Beckman & Conover 1979, Technometrics 21:239) in the box
//! [ψ_typ − w, ψ_typ + w] ∩ [g(lower), g(upper)] on the estimation scale (w =
//! `start_width`). Each of the n strata of every coordinate holds exactly one point,
//! placed uniformly inside its stratum; strata are paired across coordinates by
//! independent random permutations.
//!
//! Randomness: the crate's per-subject stream [`crate::rng::subject_rng`] (ChaCha12)
//! seeded with the run's seed, on stream = the subject's index in the dataset, so a subject's starts do not depend on the thread count or on
//! which other subjects are fitted alongside it.

use rand::seq::SliceRandom;
use rand::Rng;

use super::objective::ParameterMap;

pub use crate::rng::subject_rng;
use crate::rng::SubjectRng;

/// Start points: `typical` first, then `n` Latin-hypercube points (see the module docs).
pub fn start_points(
    typical: &[f64],
    map: &ParameterMap,
    width: f64,
    n: usize,
    rng: &mut SubjectRng,
) -> Vec<Vec<f64>> {
    let d = typical.len();
    let mut points = Vec::with_capacity(n + 1);
    points.push(typical.to_vec());
    if n == 0 || d == 0 {
        return points;
    }
    let mut lhs = vec![vec![0.0; d]; n];
    let mut strata: Vec<usize> = (0..n).collect();
    for k in 0..d {
        let lo = (typical[k] - width).max(map.lower[k]);
        let hi = (typical[k] + width).min(map.upper[k]);
        strata.shuffle(rng);
        for (j, &s) in strata.iter().enumerate() {
            let u: f64 = rng.random();
            lhs[j][k] = lo + (hi - lo) * (s as f64 + u) / n as f64;
        }
    }
    points.extend(lhs);
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_stratum_inside_the_box_and_reproducible() {
        let map = ParameterMap {
            base: vec![0.0; 2],
            free: vec![0, 1],
            lower: vec![-1.0, f64::NEG_INFINITY],
            upper: vec![f64::INFINITY, 10.0],
        };
        let typ = [0.0, 9.0];
        let n = 10;
        let pts = start_points(&typ, &map, 2.0, n, &mut subject_rng(7, 3));
        assert_eq!(pts.len(), n + 1);
        assert_eq!(pts[0], typ.to_vec());
        // Box: x in [-1, 2], y in [7, 10]; each of the 10 strata holds one point.
        for (k, (lo, hi)) in [(-1.0, 2.0), (7.0, 10.0)].into_iter().enumerate() {
            let mut seen = vec![false; n];
            for p in &pts[1..] {
                assert!(p[k] >= lo && p[k] <= hi);
                let s = (((p[k] - lo) / (hi - lo)) * n as f64).floor() as usize;
                seen[s.min(n - 1)] = true;
            }
            assert!(seen.iter().all(|&s| s), "coordinate {k}: {seen:?}");
        }
        let again = start_points(&typ, &map, 2.0, n, &mut subject_rng(7, 3));
        assert_eq!(pts, again);
        let other = start_points(&typ, &map, 2.0, n, &mut subject_rng(7, 4));
        assert_ne!(pts, other);
    }
}
