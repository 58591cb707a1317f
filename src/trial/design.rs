//! The escalation rules: 3+3 with de-escalation, and BOIN (Liu & Yuan 2015) with the
//! conventions of the BOIN R package (`get.oc`, `select.mtd`, version 2.7).
//!
//! Levels are 0-based here (level 1 of the scenario is index 0).
//!
//! **3+3** (Storer 1989), as a state machine ([`ThreePlusThree`]) so that the same rules
//! drive the simulation ([`run_three_plus_three`]) and the exact enumeration
//! ([`super::exact`]). Cohorts of 3 at the current level j:
//! 0/3 DLT escalate; 1/3 treat 3 more, then ≤ 1/6 escalate, otherwise stop; ≥ 2/3 stop.
//! Escalating past the top level treats 3 more there if it has 3 (≤ 1/6 selects it).
//! When escalation stops at j, j − 1 is the MTD if it has 6 patients; if it has fewer,
//! it is filled to 6 (≤ 1/6 selects it, ≥ 2 DLTs de-escalate again); below level 1
//! there is no MTD.
//!
//! **BOIN.** With φ the target, φ1 = 0.6φ and φ2 = 1.4φ by default,
//!
//!   λe = ln((1 − φ1)/(1 − φ)) / ln(φ(1 − φ1) / (φ1(1 − φ))),
//!   λd = ln((1 − φ)/(1 − φ2)) / ln(φ2(1 − φ) / (φ(1 − φ2)))
//!
//! (Liu & Yuan 2015, eq. 2; φ = 0.30 gives λe = 0.236, λd = 0.358). After each cohort at
//! level d with y DLTs among n patients: the level and all above are eliminated when
//! n ≥ 3 and P(p > φ | y, n) > c (Beta(1, 1) prior, c = 0.95 by default), and the trial
//! stops without an MTD when level 1 is eliminated; then escalate if y/n ≤ λe (not into
//! an eliminated level, not past the top), de-escalate if y/n ≥ λd (not below level 1),
//! otherwise stay. The trial ends at `max_n` patients (a last cohort is cut to fit, as
//! in `get.oc`, and no decision follows it), or when the current level has `n_stop`
//! patients and the decision is to stay. With Beta(1, 1), P(p > φ | y, n) =
//! 1 − I_φ(y + 1, n − y + 1) = P(Binomial(n + 1, φ) ≤ y), computed as that finite sum.
//!
//! MTD selection ([`Boin::select`], `select.mtd`): elimination is recomputed from the
//! final data; over the treated levels below the first eliminated one, the estimates
//! p̂ = (y + 0.05)/(n + 0.1) with variance (y + 0.05)(n − y + 0.05)/((n + 0.1)²(n + 1.1))
//! are made non-decreasing by the pool-adjacent-violators algorithm weighted by the
//! inverse variances, and the level with p̂ closest to φ is selected; on ties the lower
//! level when p̂ > φ, otherwise the higher.

use super::TrialError;

/// A cohort's result: how many of `count` patients treated at `level` had a DLT.
pub type Cohort<'a> = dyn FnMut(usize, usize) -> Result<usize, TrialError> + 'a;

/// The end of one simulated trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialRecord {
    /// Selected level (0-based), or none.
    pub selected: Option<usize>,
    /// Patients per level.
    pub n: Vec<usize>,
    /// DLTs per level.
    pub dlt: Vec<usize>,
    /// Stopped for safety (level 1 too toxic / eliminated) or at `n_stop`.
    pub stopped_early: bool,
}

/// What the 3+3 rules do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Treat a cohort of 3 at this level.
    Treat(usize),
    /// The trial ends with this MTD (none: level 1 too toxic).
    Done(Option<usize>),
}

/// The phase of a 3+3 trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Escalating(usize),
    DeEscalating(usize),
}

/// The 3+3 rules as a state machine over the counts per level (see the module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreePlusThree {
    levels: usize,
    phase: Phase,
}

/// Patients per 3+3 cohort.
pub const COHORT_3PLUS3: usize = 3;

impl ThreePlusThree {
    /// A trial over `levels` levels starting at `start` (0-based).
    pub fn new(levels: usize, start: usize) -> Self {
        ThreePlusThree {
            levels,
            phase: Phase::Escalating(start),
        }
    }

    /// The most patients a trial can treat: 6 per level.
    pub fn max_patients(levels: usize) -> usize {
        6 * levels
    }

    /// The next step given the patients `n` and DLTs `y` per level so far.
    pub fn next(&mut self, n: &[usize], y: &[usize]) -> Step {
        loop {
            match self.phase {
                Phase::Escalating(j) => {
                    let top = j + 1 == self.levels;
                    match (n[j], y[j]) {
                        (0, _) => return Step::Treat(j),
                        (3, 0) if top => return Step::Treat(j),
                        (3, 0) => self.phase = Phase::Escalating(j + 1),
                        (3, 1) => return Step::Treat(j),
                        (6, 0 | 1) if top => return Step::Done(Some(j)),
                        (6, 0 | 1) => self.phase = Phase::Escalating(j + 1),
                        _ => match self.stop_at(j, n) {
                            Some(step) => return step,
                            None => continue,
                        },
                    }
                }
                Phase::DeEscalating(m) => {
                    if y[m] >= 2 {
                        match self.stop_at(m, n) {
                            Some(step) => return step,
                            None => continue,
                        }
                    } else if n[m] < 6 {
                        return Step::Treat(m);
                    } else {
                        return Step::Done(Some(m));
                    }
                }
            }
        }
    }

    /// Escalation stops at `j`: the step it implies, or `None` after moving the phase.
    fn stop_at(&mut self, j: usize, n: &[usize]) -> Option<Step> {
        if j == 0 {
            return Some(Step::Done(None));
        }
        if n[j - 1] >= 6 {
            return Some(Step::Done(Some(j - 1)));
        }
        self.phase = Phase::DeEscalating(j - 1);
        None
    }
}

/// Run a 3+3 trial over `levels` levels from `start`, cohorts from `cohort`.
pub fn run_three_plus_three(
    levels: usize,
    start: usize,
    cohort: &mut Cohort<'_>,
) -> Result<TrialRecord, TrialError> {
    let mut n = vec![0; levels];
    let mut y = vec![0; levels];
    let mut rules = ThreePlusThree::new(levels, start);
    loop {
        match rules.next(&n, &y) {
            Step::Treat(j) => {
                y[j] += cohort(j, COHORT_3PLUS3)?;
                n[j] += COHORT_3PLUS3;
            }
            Step::Done(selected) => {
                return Ok(TrialRecord {
                    stopped_early: selected.is_none(),
                    selected,
                    n,
                    dlt: y,
                })
            }
        }
    }
}

/// λe and λd for target `phi` and the intervals φ1 < φ < φ2 (Liu & Yuan 2015, eq. 2).
pub fn boin_boundaries(phi: f64, phi1: f64, phi2: f64) -> (f64, f64) {
    let e = ((1.0 - phi1) / (1.0 - phi)).ln() / (phi * (1.0 - phi1) / (phi1 * (1.0 - phi))).ln();
    let d = ((1.0 - phi) / (1.0 - phi2)).ln() / (phi2 * (1.0 - phi) / (phi * (1.0 - phi2))).ln();
    (e, d)
}

/// P(p > `phi` | `y` DLTs in `n`) under a Beta(1, 1) prior: P(Binomial(n + 1, φ) ≤ y).
pub fn prob_above(phi: f64, y: usize, n: usize) -> f64 {
    let m = n + 1;
    // Binomial(m, φ) probabilities by the recurrence P(k+1) = P(k)·(m−k)/(k+1)·φ/(1−φ).
    let mut term = (1.0 - phi).powi(m as i32);
    let mut sum = 0.0;
    for k in 0..=y.min(m) {
        sum += term;
        term *= (m - k) as f64 / (k + 1) as f64 * phi / (1.0 - phi);
    }
    sum.min(1.0)
}

/// A checked BOIN design (see the module header).
#[derive(Debug, Clone, PartialEq)]
pub struct Boin {
    /// Target DLT probability φ.
    pub target: f64,
    /// Highest probability deemed under-dosing (default 0.6φ).
    pub phi1: f64,
    /// Lowest probability deemed over-dosing (default 1.4φ).
    pub phi2: f64,
    /// Escalation boundary λe.
    pub lambda_e: f64,
    /// De-escalation boundary λd.
    pub lambda_d: f64,
    /// Patients per cohort.
    pub cohort_size: usize,
    /// Maximum number of patients.
    pub max_n: usize,
    /// Stop when the current level has this many patients and the decision is to stay.
    pub n_stop: Option<usize>,
    /// Posterior probability above the target that eliminates a level (default 0.95).
    pub elimination_cutoff: f64,
}

impl Boin {
    /// A design with the boundaries of `target`, `phi1`, `phi2`.
    pub fn new(
        target: f64,
        phi1: f64,
        phi2: f64,
        cohort_size: usize,
        max_n: usize,
        n_stop: Option<usize>,
        elimination_cutoff: f64,
    ) -> Self {
        let (lambda_e, lambda_d) = boin_boundaries(target, phi1, phi2);
        Boin {
            target,
            phi1,
            phi2,
            lambda_e,
            lambda_d,
            cohort_size,
            max_n,
            n_stop,
            elimination_cutoff,
        }
    }

    /// Whether `y` DLTs in `n` patients eliminate a level (n ≥ 3 and the posterior
    /// probability above the target exceeds the cutoff).
    pub fn eliminates(&self, y: usize, n: usize) -> bool {
        n >= 3 && prob_above(self.target, y, n) > self.elimination_cutoff
    }

    /// The smallest DLT count that eliminates a level with `n` patients (none below 3).
    pub fn elimination_boundary(&self, n: usize) -> Option<usize> {
        (0..=n).find(|&y| self.eliminates(y, n))
    }

    /// Run one trial over `levels` levels from `start`, cohorts from `cohort`.
    pub fn run(
        &self,
        levels: usize,
        start: usize,
        cohort: &mut Cohort<'_>,
    ) -> Result<TrialRecord, TrialError> {
        let mut n = vec![0; levels];
        let mut y = vec![0; levels];
        let mut eliminated = vec![false; levels];
        let mut d = start;
        let mut stopped_early = false;
        let top = levels - 1;
        while n.iter().sum::<usize>() < self.max_n {
            let total: usize = n.iter().sum();
            let size = self.cohort_size.min(self.max_n - total);
            y[d] += cohort(d, size)?;
            n[d] += size;
            if total + size >= self.max_n {
                break;
            }
            if self.eliminates(y[d], n[d]) {
                eliminated[d..].iter_mut().for_each(|e| *e = true);
                if d == 0 {
                    stopped_early = true;
                    break;
                }
            }
            let rate = y[d] as f64 / n[d] as f64;
            let escalate = rate <= self.lambda_e;
            let deescalate = rate >= self.lambda_d;
            let can_escalate = d < top && !eliminated[d + 1];
            if let Some(cap) = self.n_stop {
                let stays = (!escalate && !deescalate)
                    || (escalate && !can_escalate)
                    || (deescalate && d == 0);
                if n[d] >= cap && stays {
                    stopped_early = true;
                    break;
                }
            }
            if escalate && d < top {
                if can_escalate {
                    d += 1;
                }
            } else if deescalate && d > 0 {
                d -= 1;
            }
        }
        let selected = if stopped_early && eliminated[0] {
            None
        } else {
            self.select(&n, &y)
        };
        Ok(TrialRecord {
            selected,
            n,
            dlt: y,
            stopped_early,
        })
    }

    /// The MTD from the final data (see the module header), or none when level 1 is
    /// eliminated or no admissible level was treated.
    pub fn select(&self, n: &[usize], y: &[usize]) -> Option<usize> {
        let first_eliminated = (0..n.len())
            .find(|&i| self.eliminates(y[i], n[i]))
            .unwrap_or(n.len());
        let levels: Vec<usize> = (0..first_eliminated).filter(|&i| n[i] > 0).collect();
        if levels.is_empty() {
            return None;
        }
        let (estimate, weight): (Vec<f64>, Vec<f64>) = levels
            .iter()
            .map(|&i| {
                let (yi, ni) = (y[i] as f64, n[i] as f64);
                let p = (yi + 0.05) / (ni + 0.1);
                let var = (yi + 0.05) * (ni - yi + 0.05) / ((ni + 0.1).powi(2) * (ni + 1.1));
                (p, 1.0 / var)
            })
            .unzip();
        let fitted = pava(&estimate, &weight);
        let mut best = 0;
        for k in 1..levels.len() {
            let dk = (fitted[k] - self.target).abs();
            let db = (fitted[best] - self.target).abs();
            if dk < db || (dk == db && fitted[k] <= self.target) {
                best = k;
            }
        }
        Some(levels[best])
    }
}

/// Weighted isotonic (non-decreasing) regression by pool-adjacent-violators.
pub fn pava(values: &[f64], weights: &[f64]) -> Vec<f64> {
    // Blocks of (mean, weight, count), merged while they decrease.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(values.len());
    for (&v, &w) in values.iter().zip(weights) {
        blocks.push((v, w, 1));
        while blocks.len() > 1 {
            let (m2, w2, c2) = blocks[blocks.len() - 1];
            let (m1, w1, c1) = blocks[blocks.len() - 2];
            if m1 <= m2 {
                break;
            }
            blocks.truncate(blocks.len() - 2);
            blocks.push(((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2));
        }
    }
    blocks
        .iter()
        .flat_map(|&(m, _, c)| std::iter::repeat_n(m, c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pava_pools_a_decrease_by_weights() {
        // (0.5·1 + 0.1·3)/4 = 0.2 for the pooled pair (hand computation).
        let f = pava(&[0.5, 0.1, 0.6], &[1.0, 3.0, 1.0]);
        assert!((f[0] - 0.2).abs() < 1e-15 && (f[1] - 0.2).abs() < 1e-15);
        assert_eq!(f[2], 0.6);
    }

    #[test]
    fn prob_above_is_one_minus_the_beta_cdf() {
        // 3/3 DLTs, φ = 0.3: Beta(4, 1) has CDF x⁴, so P(p > 0.3) = 1 − 0.3⁴ = 0.9919.
        assert!((prob_above(0.3, 3, 3) - (1.0 - 0.3f64.powi(4))).abs() < 1e-14);
        // 0 DLTs in n: Beta(1, n + 1), P(p > φ) = (1 − φ)^(n+1).
        assert!((prob_above(0.25, 0, 5) - 0.75f64.powi(6)).abs() < 1e-15);
    }
}
