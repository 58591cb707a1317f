//! After convergence: the conditional distributions p(η_i | y_i; θ̂) by MCMC, and the
//! −2LL by importance sampling.
//!
//! Conditional means and SDs: the chains continue for L iterations at θ̂ (the same
//! kernels, scales frozen); E(η_i | y_i) and SD(η_i | y_i) are the mean and SD of the
//! L·C draws (Monolix's "conditional distribution" task). The same draws give the
//! stochastic-approximation Fisher information ([`super::fisher`]) when asked.
//!
//! Importance sampling (Monolix's "log-likelihood by importance sampling"; Lavielle
//! 2014, §9.3.2): for each subject, M draws η⁽ᵐ⁾ = m_i + s_i ⊙ t⁽ᵐ⁾ with t⁽ᵐ⁾ a vector
//! of independent Student t variates with ν = 5 degrees of freedom (heavier tails than
//! the target, so the weights have finite variance), m_i and s_i the conditional means
//! and SDs; weights w⁽ᵐ⁾ = p(y_i | η⁽ᵐ⁾) N(η⁽ᵐ⁾; 0, Ω) / q(η⁽ᵐ⁾); L̂_i = mean of w;
//! −2LL = −2 Σ_i ln L̂_i. Its Monte-Carlo SE by the delta method:
//! SE = 2·√(Σ_i Var(w)/(M·L̂_i²)). Subject i draws from `subject_rng(seed, 2³² + i)`, a
//! stream distinct from the SAEM chains', so the value is the same whatever the thread
//! count. Weights are summed on the log scale (log-sum-exp).

use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::StudentT;
use rayon::prelude::*;

use super::super::objective::PopulationProblem;
use super::fisher::{Louis, SubjectInformation};
use super::kernels::{Current, Scales, SubjectChains};
use crate::model::Predict;
use crate::rng::subject_rng;

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;
/// Degrees of freedom of the importance proposal.
const NU: f64 = 5.0;
/// First stream of the importance sampler.
const IS_STREAM: u64 = 1 << 32;

/// Conditional means and SDs of η per subject.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionalMoments {
    /// E(η_i | y_i).
    pub mean: Vec<Vec<f64>>,
    /// SD(η_i | y_i).
    pub sd: Vec<Vec<f64>>,
    /// Likelihood evaluations.
    pub evaluations: u64,
    /// The observed Fisher information by stochastic approximation
    /// ([`super::fisher`]), when requested.
    pub information: Option<DMatrix<f64>>,
}

/// Run the chains `iterations` more times at `current` (module docs).
pub fn conditional_moments<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    current: &Current,
    states: &mut [SubjectChains],
    scales: &Scales,
    kernels: [usize; 3],
    iterations: usize,
    louis: Option<&Louis<'_>>,
) -> ConditionalMoments {
    type PerSubject = (Vec<f64>, Vec<f64>, u64, Option<SubjectInformation>);
    let per: Vec<PerSubject> = states
        .par_iter_mut()
        .enumerate()
        .map(|(k, st)| {
            let target = current.target(problem, k, &current.psi);
            let d = current.mu.len();
            let mut sum = vec![0.0; d];
            let mut sum2 = vec![0.0; d];
            let mut count = 0.0;
            let mut evals = 0;
            let mut info = louis.map(|l| l.start());
            for _ in 0..iterations {
                evals += st.sweep(&target, scales, kernels, &current.sd).evaluations;
                for ch in &st.chains {
                    if let (Some(l), Some(acc)) = (louis, info.as_mut()) {
                        evals += l.add(problem, current, k, &ch.phi, acc);
                    }
                    let eta = target.eta(&ch.phi);
                    for j in 0..d {
                        sum[j] += eta[j];
                        sum2[j] += eta[j] * eta[j];
                    }
                    count += 1.0;
                }
            }
            let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
            let sd = sum2
                .iter()
                .zip(&mean)
                .map(|(s2, m)| {
                    ((s2 / count - m * m) * count / (count - 1.0).max(1.0))
                        .max(0.0)
                        .sqrt()
                })
                .collect();
            (mean, sd, evals, info)
        })
        .collect();
    let mut out = ConditionalMoments {
        mean: Vec::with_capacity(per.len()),
        sd: Vec::with_capacity(per.len()),
        evaluations: 0,
        information: None,
    };
    let mut infos = Vec::new();
    for (m, s, e, i) in per {
        out.mean.push(m);
        out.sd.push(s);
        out.evaluations += e;
        infos.extend(i);
    }
    if let Some(l) = louis {
        out.information = Some(l.information(problem, &infos));
    }
    out
}

/// The importance-sampling −2LL.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImportanceLikelihood {
    /// −2LL (with all constants).
    pub neg2ll: f64,
    /// Its Monte-Carlo SE.
    pub se: f64,
    /// Per-subject −2 ln L̂_i.
    pub per_subject: Vec<f64>,
    /// Draws per subject.
    pub samples: usize,
}

/// ln of the Student t (ν) density at x.
fn ln_t(x: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    ln_gamma((NU + 1.0) / 2.0)
        - ln_gamma(NU / 2.0)
        - 0.5 * (NU * std::f64::consts::PI).ln()
        - (NU + 1.0) / 2.0 * (1.0 + x * x / NU).ln()
}

/// −2LL by importance sampling (module docs) around conditional means and SDs.
pub fn importance_neg2ll<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    current: &Current,
    moments: &ConditionalMoments,
    samples: usize,
    seed: u64,
) -> Result<ImportanceLikelihood, String> {
    let d = current.mu.len();
    let ln_det = 2.0 * current.chol.diagonal().iter().map(|v| v.ln()).sum::<f64>();
    let student = StudentT::new(NU).map_err(|e| e.to_string())?;
    let per: Vec<(f64, f64)> = (0..problem.subjects.len())
        .into_par_iter()
        .map(|k| {
            let target = current.target(problem, k, &current.psi);
            let mut rng = subject_rng(seed, IS_STREAM + k as u64);
            let m = &moments.mean[k];
            let s: Vec<f64> = moments.sd[k].iter().map(|v| v.max(1e-6)).collect();
            let mut lw = Vec::with_capacity(samples);
            for _ in 0..samples {
                let t: Vec<f64> = (0..d).map(|_| rng.sample(student)).collect();
                let eta: Vec<f64> = (0..d).map(|j| m[j] + s[j] * t[j]).collect();
                let phi: Vec<f64> = eta.iter().zip(&current.mu).map(|(e, u)| e + u).collect();
                let data = target.data(&phi);
                let ln_joint = -0.5 * (data + target.prior(&phi) + d as f64 * LN_2PI + ln_det);
                let ln_q: f64 = (0..d).map(|j| ln_t(t[j]) - s[j].ln()).sum();
                lw.push(ln_joint - ln_q);
            }
            let max = lw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let w: Vec<f64> = lw.iter().map(|v| (v - max).exp()).collect();
            let n = w.len() as f64;
            let mean = w.iter().sum::<f64>() / n;
            let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (-2.0 * (mean.ln() + max), var / (n * mean * mean))
        })
        .collect();
    let mut total = 0.0;
    let mut rel_var = 0.0;
    let mut per_subject = Vec::with_capacity(per.len());
    for (v, r) in per {
        if !v.is_finite() {
            return Err(format!(
                "importance sampling: the likelihood of a subject is {v} (no draw gives a finite likelihood)"
            ));
        }
        total += v;
        rel_var += r;
        per_subject.push(v);
    }
    Ok(ImportanceLikelihood {
        neg2ll: total,
        se: 2.0 * rel_var.sqrt(),
        per_subject,
        samples,
    })
}
