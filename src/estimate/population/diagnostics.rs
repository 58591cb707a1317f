//! Diagnostics of a population fit, per record and per parameter. Residuals are on the
//! error model's scale (ln for `logadd` outputs), with F the prediction on that scale,
//! s the residual SD, G = ∂F/∂η ([`super::ebe::sensitivities`]) and V = diag(s²):
//!
//! - PRED = f(η = 0), IPRED = f(η̂); RES = y − F(0); IWRES = (y − F(η̂))/s(η̂).
//! - WRES (FO, NONMEM): L₀⁻¹(y − F(0)) with L₀L₀ᵀ = G₀ΩG₀ᵀ + V₀ at η = 0.
//! - CWRES (Hooker, Staatz & Karlsson 2007, Pharm Res 24:2187): L⁻¹(y − F(η̂) + Gη̂) with
//!   LLᵀ = GΩGᵀ + V at η̂. Both over the quantified records (empty when censored).
//! - NPDE (Brendel et al. 2006, Pharm Res 23:2036; Comets et al. 2008; BLQ as in
//!   npde 3.0, Nguyen et al. 2012, CPT Pharmacometrics Syst Pharmacol 1:e6): K replicates
//!   of the subject's design are simulated (η ~ N(0, Ω), ε ~ N(0, 1), one seeded ChaCha8
//!   stream per subject, so the same seed gives the same bytes for any thread count).
//!   A censored record is first imputed: p_LOQ = fraction of replicates below the limit,
//!   pd ~ U(0, p_LOQ), y = the empirical pd-quantile of the replicates. Then observations
//!   and replicates are decorrelated with the Cholesky factor of the replicates'
//!   empirical covariance, pde_j = fraction of decorrelated replicates below the
//!   decorrelated observation (0 → 1/(2K), 1 → 1 − 1/(2K)), NPDE = Φ⁻¹(pde).
//! - η-shrinkage_k = 1 − SD(η̂_k)/ω_k; ε-shrinkage = 1 − SD(IWRES) (quantified records;
//!   sample SDs), in percent.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, Normal};

use super::ebe::{sensitivities, Conditional};
use super::objective::PopulationProblem;
use crate::model::Predict;

/// Per-record diagnostics of one subject (one entry per record; `None` where undefined).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordDiagnostics {
    /// Population prediction f(η = 0), natural scale.
    pub pred: Vec<Option<f64>>,
    /// Individual prediction f(η̂), natural scale.
    pub ipred: Vec<Option<f64>>,
    /// y − F(0) on the error model's scale.
    pub res: Vec<Option<f64>>,
    /// FO weighted residual.
    pub wres: Vec<Option<f64>>,
    /// Individual weighted residual.
    pub iwres: Vec<Option<f64>>,
    /// Conditional weighted residual.
    pub cwres: Vec<Option<f64>>,
    /// Normalised prediction distribution error.
    pub npde: Vec<Option<f64>>,
}

/// Decorrelated residuals L⁻¹r over the quantified records (positions in `keep`).
fn decorrelate(
    g: &DMatrix<f64>,
    omega: &DMatrix<f64>,
    s: &[f64],
    r: &[f64],
    keep: &[usize],
) -> Vec<Option<f64>> {
    let n = keep.len();
    let mut out = vec![None; s.len()];
    if n == 0 {
        return out;
    }
    let gk = DMatrix::from_fn(n, g.ncols(), |a, b| g[(keep[a], b)]);
    let mut c = &gk * omega * gk.transpose();
    for a in 0..n {
        c[(a, a)] += s[keep[a]] * s[keep[a]];
    }
    let Some(chol) = c.cholesky() else {
        return out;
    };
    let rv = DVector::from_iterator(n, keep.iter().map(|&j| r[j]));
    if let Some(w) = chol.l().solve_lower_triangular(&rv) {
        for (a, &j) in keep.iter().enumerate() {
            out[j] = Some(w[a]);
        }
    }
    out
}

/// Diagnostics of subject `k` at population ψ, Ω with EBE `eta` (module docs).
pub fn subject_diagnostics<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    k: usize,
    psi: &[f64],
    omega: &DMatrix<f64>,
    eta: &[f64],
    replicates: usize,
    seed: u64,
) -> RecordDiagnostics {
    let omega_inv = omega
        .clone()
        .cholesky()
        .map(|c| c.inverse())
        .unwrap_or_else(|| omega.clone());
    let c: Conditional<'_, M> = problem.conditional(k, psi, &omega_inv);
    let r = c.records;
    let n = r.len();
    let d = eta.len();
    let zero = vec![0.0; d];
    let mut out = RecordDiagnostics {
        pred: vec![None; n],
        ipred: vec![None; n],
        res: vec![None; n],
        wres: vec![None; n],
        iwres: vec![None; n],
        cwres: vec![None; n],
        npde: vec![None; n],
    };
    let keep: Vec<usize> = (0..n).filter(|&j| !r.censored[j]).collect();
    if let Ok((_, p)) = c.predictions(&zero) {
        out.pred = p.into_iter().map(Some).collect();
    }
    if let Ok((_, p)) = c.predictions(eta) {
        out.ipred = p.into_iter().map(Some).collect();
    }
    if let Ok(s0) = sensitivities(&c, &zero) {
        let resid: Vec<f64> = (0..n).map(|j| r.scaled[j] - s0.f[j]).collect();
        for &j in &keep {
            out.res[j] = Some(resid[j]);
        }
        out.wres = decorrelate(&s0.df, omega, &s0.s, &resid, &keep);
    }
    if let Ok(se) = sensitivities(&c, eta) {
        let ge = &se.df * DVector::from_column_slice(eta);
        let resid: Vec<f64> = (0..n).map(|j| r.scaled[j] - se.f[j] + ge[j]).collect();
        for &j in &keep {
            out.iwres[j] = Some((r.scaled[j] - se.f[j]) / se.s[j]);
        }
        out.cwres = decorrelate(&se.df, omega, &se.s, &resid, &keep);
    }
    if replicates > 0 {
        out.npde = npde(&c, omega, replicates, seed, k as u64);
    }
    out
}

/// NPDE of one subject (module docs).
fn npde<M: Predict + ?Sized>(
    c: &Conditional<'_, M>,
    omega: &DMatrix<f64>,
    replicates: usize,
    seed: u64,
    stream: u64,
) -> Vec<Option<f64>> {
    let r = c.records;
    let n = r.len();
    let d = omega.nrows();
    let mut none = vec![None; n];
    let Some(chol) = omega.clone().cholesky() else {
        return none;
    };
    let l = chol.l();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    // sims[k*n + j]: replicate k, record j, on the error model's scale.
    let mut sims = Vec::with_capacity(replicates * n);
    for _ in 0..replicates {
        let z = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let eta = &l * z;
        let Ok((f, s)) = c.moments(eta.as_slice()) else {
            return none;
        };
        for j in 0..n {
            let e: f64 = rng.sample(StandardNormal);
            sims.push(f[j] + s[j] * e);
        }
    }
    let k = replicates;
    // Impute censored observations from the predictive distribution.
    let mut y = r.scaled.clone();
    for j in 0..n {
        if r.censored[j] {
            let mut col: Vec<f64> = (0..k).map(|i| sims[i * n + j]).collect();
            col.sort_by(f64::total_cmp);
            let below = col.iter().filter(|&&v| v < r.scaled[j]).count();
            let p_loq = (below as f64 / k as f64).max(1.0 / k as f64);
            let pd: f64 = rng.random::<f64>() * p_loq;
            let idx = ((pd * k as f64) as usize).min(k - 1);
            y[j] = col[idx];
        }
    }
    // Empirical mean and covariance of the replicates.
    let mean: Vec<f64> = (0..n)
        .map(|j| (0..k).map(|i| sims[i * n + j]).sum::<f64>() / k as f64)
        .collect();
    let mut cov = DMatrix::zeros(n, n);
    for i in 0..k {
        for a in 0..n {
            let da = sims[i * n + a] - mean[a];
            for b in 0..=a {
                cov[(a, b)] += da * (sims[i * n + b] - mean[b]);
            }
        }
    }
    for a in 0..n {
        for b in 0..=a {
            let v = cov[(a, b)] / (k as f64 - 1.0);
            cov[(a, b)] = v;
            cov[(b, a)] = v;
        }
    }
    let Some(cc) = cov.cholesky() else {
        return none;
    };
    let lc = cc.l();
    let white = |v: &[f64]| {
        let dv = DVector::from_iterator(n, v.iter().zip(&mean).map(|(a, m)| a - m));
        lc.solve_lower_triangular(&dv)
    };
    let Some(yw) = white(&y) else {
        return none;
    };
    let mut below = vec![0usize; n];
    for i in 0..k {
        let Some(w) = white(&sims[i * n..(i + 1) * n]) else {
            return none;
        };
        for j in 0..n {
            below[j] += usize::from(w[j] < yw[j]);
        }
    }
    let normal = Normal::standard();
    let lo = 1.0 / (2.0 * k as f64);
    for j in 0..n {
        let pde = (below[j] as f64 / k as f64).clamp(lo, 1.0 - lo);
        none[j] = Some(normal.inverse_cdf(pde));
    }
    none
}

/// Diagnostics of every subject in parallel (deterministic).
pub fn all_diagnostics<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    psi: &[f64],
    omega: &DMatrix<f64>,
    etas: &[Vec<f64>],
    replicates: usize,
    seed: u64,
) -> Vec<RecordDiagnostics> {
    (0..problem.subjects.len())
        .into_par_iter()
        .map(|k| subject_diagnostics(problem, k, psi, omega, &etas[k], replicates, seed))
        .collect()
}

/// The diagnostics of a population estimate.
pub struct EstimateDiagnostics {
    /// Per-subject diagnostics (problem subject order).
    pub subjects: Vec<RecordDiagnostics>,
    /// η-shrinkage (%) per η.
    pub eta_shrinkage: Vec<Option<f64>>,
    /// ε-shrinkage (%).
    pub eps_shrinkage: Option<f64>,
}

/// [`all_diagnostics`] at the estimate (ψ, Ω) with the subjects' η `etas`, and the η-
/// and ε-shrinkage (module docs).
pub fn estimate_diagnostics<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    psi: &[f64],
    omega: &DMatrix<f64>,
    etas: &[Vec<f64>],
    replicates: usize,
    seed: u64,
) -> EstimateDiagnostics {
    let subjects = all_diagnostics(problem, psi, omega, etas, replicates, seed);
    let eta_shrinkage = eta_shrinkage(etas, omega);
    let eps_shrinkage = eps_shrinkage(&subjects);
    EstimateDiagnostics {
        subjects,
        eta_shrinkage,
        eps_shrinkage,
    }
}

/// Sample SD (n − 1).
fn sd(v: &[f64]) -> Option<f64> {
    if v.len() < 2 {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    Some((v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
}

/// η-shrinkage (%) of each η (module docs).
pub fn eta_shrinkage(etas: &[Vec<f64>], omega: &DMatrix<f64>) -> Vec<Option<f64>> {
    (0..omega.nrows())
        .map(|k| {
            let v: Vec<f64> = etas.iter().map(|e| e[k]).collect();
            sd(&v).map(|s| 100.0 * (1.0 - s / omega[(k, k)].sqrt()))
        })
        .collect()
}

/// ε-shrinkage (%) over the IWRES of all subjects (module docs).
pub fn eps_shrinkage(diagnostics: &[RecordDiagnostics]) -> Option<f64> {
    let v: Vec<f64> = diagnostics
        .iter()
        .flat_map(|d| d.iwres.iter().flatten().copied())
        .collect();
    sd(&v).map(|s| 100.0 * (1.0 - s))
}
