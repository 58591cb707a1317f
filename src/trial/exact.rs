//! Exact operating characteristics of 3+3 for fixed DLT probabilities, by enumeration.
//!
//! The rules ([`super::design::ThreePlusThree`]) are followed along every path of cohort
//! outcomes: a cohort of 3 at level j has k DLTs with probability
//! C(3, k)·p_j^k·(1 − p_j)^(3−k), k = 0..3. A trial treats at most 2 cohorts per level,
//! so there are at most 4^(2L) paths for L levels; each path's probability weights its
//! selection and counts. The result has the same shape as simulated characteristics.

use super::design::{Step, ThreePlusThree, COHORT_3PLUS3};
use super::run::{LevelCharacteristics, OperatingCharacteristics};

/// Exact 3+3 characteristics for `doses` with true probabilities `p_dlt`, from `start`.
pub fn three_plus_three_exact(
    doses: &[f64],
    p_dlt: &[f64],
    start: usize,
) -> OperatingCharacteristics {
    let l = doses.len();
    let mut acc = Accumulator {
        p_select: vec![0.0; l],
        p_none: 0.0,
        mean_n: vec![0.0; l],
        mean_dlt: vec![0.0; l],
    };
    let mut n = vec![0; l];
    let mut y = vec![0; l];
    explore(
        ThreePlusThree::new(l, start),
        &mut n,
        &mut y,
        1.0,
        p_dlt,
        &mut acc,
    );
    OperatingCharacteristics {
        levels: (0..l)
            .map(|j| LevelCharacteristics {
                dose: doses[j],
                p_dlt: Some(p_dlt[j]),
                p_select: acc.p_select[j],
                mean_n: acc.mean_n[j],
                mean_dlt: acc.mean_dlt[j],
            })
            .collect(),
        p_none: acc.p_none,
        trials: None,
    }
}

struct Accumulator {
    p_select: Vec<f64>,
    p_none: f64,
    mean_n: Vec<f64>,
    mean_dlt: Vec<f64>,
}

/// Binomial(3, p) probability of k.
fn binom3(p: f64, k: usize) -> f64 {
    let c = [1.0, 3.0, 3.0, 1.0][k];
    c * p.powi(k as i32) * (1.0 - p).powi((3 - k) as i32)
}

fn explore(
    rules: ThreePlusThree,
    n: &mut [usize],
    y: &mut [usize],
    weight: f64,
    p: &[f64],
    acc: &mut Accumulator,
) {
    let mut rules = rules;
    match rules.next(n, y) {
        Step::Done(selected) => {
            match selected {
                Some(j) => acc.p_select[j] += weight,
                None => acc.p_none += weight,
            }
            for j in 0..n.len() {
                acc.mean_n[j] += weight * n[j] as f64;
                acc.mean_dlt[j] += weight * y[j] as f64;
            }
        }
        Step::Treat(j) => {
            for k in 0..=COHORT_3PLUS3 {
                let w = weight * binom3(p[j], k);
                if w == 0.0 {
                    continue;
                }
                n[j] += COHORT_3PLUS3;
                y[j] += k;
                explore(rules, n, y, w, p, acc);
                n[j] -= COHORT_3PLUS3;
                y[j] -= k;
            }
        }
    }
}
