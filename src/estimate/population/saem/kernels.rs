//! The simulation step of SAEM: Metropolis–Hastings kernels on each subject's individual
//! parameters φ = μ + η (estimation scale of the parameters with IIV), whose target is
//! the conditional distribution p(φ | y; θ) ∝ p(y | φ; θ)·N(φ; μ, Ω)
//! (Kuhn & Lavielle 2005, Comput Stat Data Anal 49:1020, §3; Monolix's three kernels).
//!
//! With D(φ) = −2 ln p(y | φ) (quantified records by their density, censored ones by
//! their exact M3 probability −2 ln Φ((L − F)/s), [`crate::estimate::likelihood`]) and
//! P(φ) = (φ − μ)ᵀΩ⁻¹(φ − μ):
//! 1. prior proposal φ' ~ N(μ, Ω), accepted with probability min(1, exp(−½[D(φ') − D(φ)]));
//! 2. multidimensional random walk φ' = φ + δ_m·L z (L Lᵀ = Ω, z ~ N(0, I));
//! 3. componentwise random walk φ'_k = φ_k + δ_k·ω_k·z, one component at a time;
//!
//! 2 and 3 are symmetric and accepted with probability min(1, exp(−½[(D + P)(φ') − (D + P)(φ)])).
//! A proposal whose prediction or likelihood cannot be evaluated is rejected. The scales
//! δ are adapted during exploration toward an acceptance rate of 0.3 (kernel 2) and 0.4
//! (kernel 3): δ ← δ·(1 + 0.4·(a − target)), a the rate over all subjects and chains in
//! the iteration (as saemix does; Comets, Lavenu & Lavielle 2017, J Stat Softw 80(3)).

use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::StandardNormal;

use super::super::ebe::Conditional;
use super::super::objective::PopulationProblem;
use crate::estimate::likelihood::neg2ll;
use crate::model::Predict;
use crate::rng::SubjectRng;

/// Target acceptance rate of the multidimensional random walk.
pub const TARGET_MULTI: f64 = 0.3;
/// Target acceptance rate of the componentwise random walk.
pub const TARGET_COMPONENT: f64 = 0.4;

/// One Markov chain of one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// φ, the η'd parameters on their estimation scale.
    pub phi: Vec<f64>,
    /// D(φ) at the current population parameters.
    pub data: f64,
    /// The model parameters θ and the predictions D(φ) was computed from: when the
    /// population parameters change only in residual ones (which do not enter
    /// predictions), D is refreshed from these without solving the model again.
    pub made: Option<Made>,
}

/// Predictions made at some θ.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    theta: Vec<f64>,
    pred: Vec<f64>,
}

/// The chains of one subject and its random stream.
#[derive(Debug, Clone)]
pub struct SubjectChains {
    /// The chains.
    pub chains: Vec<Chain>,
    /// The subject's stream ([`crate::rng::subject_rng`]).
    pub rng: SubjectRng,
}

/// Proposal scales δ (module docs).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scales {
    /// δ_m of the multidimensional walk.
    pub multi: f64,
    /// δ_k of the componentwise walk.
    pub component: Vec<f64>,
}

impl Scales {
    /// Initial scales for d random effects.
    pub fn new(d: usize) -> Scales {
        Scales {
            multi: 1.0 / (d as f64).sqrt(),
            component: vec![0.5; d],
        }
    }

    /// Adapt toward the target rates (module docs).
    pub fn adapt(&mut self, acc: &Acceptance) {
        let rate = |a: [u64; 2]| (a[0] > 0).then(|| a[1] as f64 / a[0] as f64);
        if let Some(r) = rate(acc.multi) {
            self.multi *= 1.0 + 0.4 * (r - TARGET_MULTI);
        }
        for (d, &a) in self.component.iter_mut().zip(&acc.component) {
            if let Some(r) = rate(a) {
                *d *= 1.0 + 0.4 * (r - TARGET_COMPONENT);
            }
        }
    }
}

/// Proposals tried and accepted ([tried, accepted]) per kernel, and likelihood
/// evaluations that solved the model (a refresh from a chain's stored predictions is
/// not counted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Acceptance {
    /// Kernel 1.
    pub prior: [u64; 2],
    /// Kernel 2.
    pub multi: [u64; 2],
    /// Kernel 3, per component.
    pub component: Vec<[u64; 2]>,
    /// Evaluations of D that made a prediction.
    pub evaluations: u64,
}

impl Acceptance {
    /// Zero counts for d random effects.
    pub fn new(d: usize) -> Acceptance {
        Acceptance {
            component: vec![[0; 2]; d],
            ..Acceptance::default()
        }
    }

    /// Add another subject's counts.
    pub fn add(&mut self, o: &Acceptance) {
        let sum = |a: &mut [u64; 2], b: &[u64; 2]| {
            a[0] += b[0];
            a[1] += b[1];
        };
        sum(&mut self.prior, &o.prior);
        sum(&mut self.multi, &o.multi);
        for (a, b) in self.component.iter_mut().zip(&o.component) {
            sum(a, b);
        }
        self.evaluations += o.evaluations;
    }

    /// Acceptance rates of kernels 1, 2 and 3 (NaN when not tried).
    pub fn rates(&self) -> [f64; 3] {
        let r = |a: [u64; 2]| a[1] as f64 / a[0] as f64;
        let c = self
            .component
            .iter()
            .fold([0, 0], |s, a| [s[0] + a[0], s[1] + a[1]]);
        [r(self.prior), r(self.multi), r(c)]
    }
}

/// The current population parameters in the forms the kernels use.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Free θ on the estimation scale.
    pub psi: Vec<f64>,
    /// μ: ψ of each η'd parameter.
    pub mu: Vec<f64>,
    /// Ω.
    pub omega: DMatrix<f64>,
    /// Ω⁻¹.
    pub omega_inv: DMatrix<f64>,
    /// L with L Lᵀ = Ω.
    pub chol: DMatrix<f64>,
    /// ω_k = √Ω_kk.
    pub sd: Vec<f64>,
}

impl Current {
    /// From ψ and Ω (`eta_free`: index in ψ of each η'd parameter); an error when Ω is
    /// not positive definite.
    pub fn new(psi: Vec<f64>, omega: DMatrix<f64>, eta_free: &[usize]) -> Result<Current, String> {
        let chol = omega
            .clone()
            .cholesky()
            .ok_or("Ω is not positive definite")?;
        Ok(Current {
            mu: eta_free.iter().map(|&k| psi[k]).collect(),
            psi,
            omega_inv: chol.inverse(),
            chol: chol.l(),
            sd: omega.diagonal().iter().map(|v| v.sqrt()).collect(),
            omega,
        })
    }

    /// The target of subject `k` (index in the problem) at ψ = `psi` (the η'd entries of
    /// `psi` must equal μ).
    pub fn target<'a, M: Predict + ?Sized>(
        &'a self,
        problem: &'a PopulationProblem<'a, M>,
        k: usize,
        psi: &'a [f64],
    ) -> Target<'a, M> {
        Target {
            cond: problem.conditional(k, psi, &self.omega_inv),
            mu: &self.mu,
            chol: &self.chol,
        }
    }
}

/// The target of one subject's chains at the current population parameters.
pub struct Target<'a, M: Predict + ?Sized> {
    /// The subject given ψ and Ω⁻¹.
    pub cond: Conditional<'a, M>,
    /// μ: ψ of each η'd parameter.
    pub mu: &'a [f64],
    /// L with L Lᵀ = Ω.
    pub chol: &'a DMatrix<f64>,
}

impl<M: Predict + ?Sized> Target<'_, M> {
    /// D(φ), +∞ when it cannot be evaluated.
    pub fn data(&self, phi: &[f64]) -> f64 {
        self.evaluate(phi).0
    }

    /// D(φ) (+∞ when it cannot be evaluated) and the predictions it came from.
    fn evaluate(&self, phi: &[f64]) -> (f64, Option<Made>) {
        let eta = self.eta(phi);
        match self.cond.predictions(&eta) {
            Ok((theta, pred)) => {
                let d = neg2ll(self.cond.model, self.cond.records, &theta, &pred)
                    .ok()
                    .filter(|v| v.is_finite())
                    .unwrap_or(f64::INFINITY);
                (d, Some(Made { theta, pred }))
            }
            Err(_) => (f64::INFINITY, None),
        }
    }

    /// D(φ) as [`Target::data`], from `made` when θ at φ differs from its θ in residual
    /// parameters only (no new prediction; the bool says whether one was made).
    fn refresh(&self, phi: &[f64], made: Option<Made>) -> (f64, Option<Made>, bool) {
        if let Some(m) = made {
            let theta = self.cond.theta(&self.eta(phi));
            let params = self.cond.model.parameters();
            let same = theta.len() == m.theta.len()
                && params
                    .iter()
                    .zip(theta.iter().zip(&m.theta))
                    .all(|(p, (a, b))| {
                        p.role == crate::model::Role::Residual || a.to_bits() == b.to_bits()
                    });
            if same {
                let d = neg2ll(self.cond.model, self.cond.records, &theta, &m.pred)
                    .ok()
                    .filter(|v| v.is_finite())
                    .unwrap_or(f64::INFINITY);
                return (
                    d,
                    Some(Made {
                        theta,
                        pred: m.pred,
                    }),
                    false,
                );
            }
        }
        let (d, m) = self.evaluate(phi);
        (d, m, true)
    }

    /// The model's predictions at φ (`None` when they cannot be made).
    pub fn predictions(&self, phi: &[f64]) -> Option<Vec<f64>> {
        self.cond
            .predictions(&self.eta(phi))
            .ok()
            .map(|(_, pred)| pred)
    }

    /// D(φ) from predictions `pred` already made at φ with other values of the residual
    /// parameters only (they do not enter predictions: [`crate::model::Role::Residual`]),
    /// so without solving the model again; the same value as [`Target::data`]. +∞ when it
    /// cannot be evaluated.
    pub fn data_from(&self, phi: &[f64], pred: Option<&[f64]>) -> f64 {
        let Some(pred) = pred else {
            return f64::INFINITY;
        };
        let theta = self.cond.theta(&self.eta(phi));
        neg2ll(self.cond.model, self.cond.records, &theta, pred)
            .ok()
            .filter(|v| v.is_finite())
            .unwrap_or(f64::INFINITY)
    }

    /// η = φ − μ.
    pub fn eta(&self, phi: &[f64]) -> Vec<f64> {
        phi.iter().zip(self.mu).map(|(p, m)| p - m).collect()
    }

    /// P(φ) = ηᵀΩ⁻¹η.
    pub fn prior(&self, phi: &[f64]) -> f64 {
        let eta = self.eta(phi);
        let w = self.cond.omega_inv;
        let d = eta.len();
        let mut q = 0.0;
        for i in 0..d {
            for j in 0..d {
                q += eta[i] * w[(i, j)] * eta[j];
            }
        }
        q
    }

    fn normal_vector(&self, rng: &mut SubjectRng) -> Vec<f64> {
        let d = self.mu.len();
        let z: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        (0..d)
            .map(|i| (0..=i).map(|j| self.chol[(i, j)] * z[j]).sum())
            .collect()
    }
}

/// ln u < −½Δ: the MH acceptance test for a change Δ of −2 ln (target).
fn accept(rng: &mut SubjectRng, delta: f64) -> bool {
    if delta.is_nan() {
        return false;
    }
    if delta <= 0.0 {
        return true;
    }
    let u: f64 = rng.random();
    u.ln() < -0.5 * delta
}

impl SubjectChains {
    /// `n` chains at φ = `start`.
    pub fn new(start: &[f64], n: usize, rng: SubjectRng) -> SubjectChains {
        SubjectChains {
            chains: vec![
                Chain {
                    phi: start.to_vec(),
                    data: f64::INFINITY,
                    made: None,
                };
                n
            ],
            rng,
        }
    }

    /// One SAEM simulation step: D refreshed at the current parameters, then
    /// `kernels[0..3]` passes of kernels 1, 2, 3 on every chain (module docs).
    pub fn sweep<M: Predict + ?Sized>(
        &mut self,
        target: &Target<'_, M>,
        scales: &Scales,
        kernels: [usize; 3],
        omega_sd: &[f64],
    ) -> Acceptance {
        let d = target.mu.len();
        let mut acc = Acceptance::new(d);
        let rng = &mut self.rng;
        for chain in &mut self.chains {
            let (data, made, solved) = target.refresh(&chain.phi, chain.made.take());
            chain.data = data;
            chain.made = made;
            acc.evaluations += u64::from(solved);
            for _ in 0..kernels[0] {
                let prop: Vec<f64> = target
                    .normal_vector(rng)
                    .iter()
                    .zip(target.mu)
                    .map(|(e, m)| m + e)
                    .collect();
                let (dp, made) = target.evaluate(&prop);
                acc.evaluations += 1;
                acc.prior[0] += 1;
                if accept(rng, dp - chain.data) {
                    acc.prior[1] += 1;
                    chain.phi = prop;
                    chain.data = dp;
                    chain.made = made;
                }
            }
            let mut current_prior = target.prior(&chain.phi);
            for _ in 0..kernels[1] {
                let step = target.normal_vector(rng);
                let prop: Vec<f64> = chain
                    .phi
                    .iter()
                    .zip(&step)
                    .map(|(p, s)| p + scales.multi * s)
                    .collect();
                let (dp, made) = target.evaluate(&prop);
                let pp = target.prior(&prop);
                acc.evaluations += 1;
                acc.multi[0] += 1;
                if accept(rng, dp + pp - chain.data - current_prior) {
                    acc.multi[1] += 1;
                    chain.phi = prop;
                    chain.data = dp;
                    chain.made = made;
                    current_prior = pp;
                }
            }
            for _ in 0..kernels[2] {
                for k in 0..d {
                    let z: f64 = rng.sample(StandardNormal);
                    let mut prop = chain.phi.clone();
                    prop[k] += scales.component[k] * omega_sd[k] * z;
                    let (dp, made) = target.evaluate(&prop);
                    let pp = target.prior(&prop);
                    acc.evaluations += 1;
                    acc.component[k][0] += 1;
                    if accept(rng, dp + pp - chain.data - current_prior) {
                        acc.component[k][1] += 1;
                        chain.phi = prop;
                        chain.data = dp;
                        chain.made = made;
                        current_prior = pp;
                    }
                }
            }
        }
        acc
    }
}
