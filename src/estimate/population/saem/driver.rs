//! The SAEM loop: simulation ([`super::kernels`]), stochastic approximation and
//! maximisation ([`super::statistics`], [`super::numeric`]), annealing and the phases
//! ([`super::stopping`]). Every iteration is reported to an observer and kept in the
//! trace.
//!
//! Reproducibility: subject i's chains draw only from its own stream
//! `subject_rng(seed, i)` ([`crate::rng`]); subjects run in parallel (rayon) and their
//! statistics are summed in subject order, so the result is the same bytes whatever the
//! thread count.

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::super::objective::PopulationProblem;
use super::kernels::{Acceptance, Current, Scales, SubjectChains};
use super::numeric::newton_step;
use super::settings::CheckedSaem;
use super::statistics::{anneal, maximise, subject_statistics, ClosedForm, Layout, Statistics};
use super::stopping::{largest_se, stationary};
use crate::model::Predict;
use crate::rng::subject_rng;

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The phase of an iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// γ = 1.
    Exploration,
    /// γ = 1/k.
    Smoothing,
}

/// One SAEM iteration, as reported to the observer and kept in the trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SaemIteration {
    /// Iteration number (from 1).
    pub iteration: usize,
    /// Its phase.
    pub phase: Phase,
    /// Step size γ.
    pub gamma: f64,
    /// The estimates after the iteration: each free θ on its natural scale, then the
    /// Ω elements (the order of [`super::super::covariance::reported`]).
    pub values: Vec<f64>,
    /// Convergence indicator: −2 ln p(y, φ; θ) averaged over the chains, at the
    /// parameters the chains were simulated with (M3 for censored records).
    pub complete_neg2ll: f64,
    /// Acceptance rates of kernels 1, 2, 3.
    pub acceptance: [f64; 3],
    /// Likelihood evaluations so far that solved the model (predictions made).
    pub evaluations: u64,
}

/// Where SAEM ended.
#[derive(Debug, Clone)]
pub struct SaemEstimate {
    /// Free θ on the estimation scale.
    pub psi: Vec<f64>,
    /// Ω.
    pub omega: DMatrix<f64>,
    /// Exploratory iterations done.
    pub k1: usize,
    /// Smoothing iterations done.
    pub k2: usize,
    /// Exploration ended by its rule (not at `k1_max`).
    pub explored: bool,
    /// Smoothing ended by its rule (not at `k2_max`).
    pub smoothed: bool,
    /// Chains per subject.
    pub chains: usize,
    /// Likelihood evaluations that solved the model (predictions made).
    pub evaluations: u64,
    /// Every iteration.
    pub trace: Vec<SaemIteration>,
    /// The chains at the end (for the conditional distributions).
    pub states: Vec<SubjectChains>,
    /// The proposal scales at the end.
    pub scales: Scales,
    /// Which parameters are updated how.
    pub layout: Layout,
}

/// The working-scale vector of the stopping rules ([`super::stopping`]).
fn working(current: &Current, blocks: &[Vec<usize>], indicator: f64) -> Vec<f64> {
    let mut w = current.psi.clone();
    let o = &current.omega;
    for b in blocks {
        for (r, &i) in b.iter().enumerate() {
            w.push(o[(i, i)].ln());
            for &j in &b[..r] {
                w.push(o[(i, j)] / (o[(i, i)] * o[(j, j)]).sqrt());
            }
        }
    }
    if indicator.is_finite() {
        w.push(indicator);
    }
    w
}

/// Free θ natural, then Ω elements in packing order.
fn reported<M: Predict + ?Sized>(problem: &PopulationProblem<'_, M>, c: &Current) -> Vec<f64> {
    let params = problem.model.parameters();
    let pop = &problem.pop;
    let mut v: Vec<f64> = pop
        .map
        .free
        .iter()
        .zip(&c.psi)
        .map(|(&i, &p)| params[i].to_natural(p))
        .collect();
    v.extend(pop.omega_elements().iter().map(|&(k, l)| c.omega[(k, l)]));
    v
}

/// Apply a closed-form M-step to ψ (μ and residual a, clamped) and return Ω.
fn apply<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    layout: &Layout,
    cf: &ClosedForm,
    psi: &mut [f64],
) {
    let params = problem.model.parameters();
    for (k, &i) in layout.eta_free.iter().enumerate() {
        psi[i] = cf.mu[k];
    }
    for (g, &(i, p)) in layout.residual.iter().enumerate() {
        if let Some(a) = cf.residual[g] {
            psi[i] = params[p].to_estimation(a);
        }
    }
    problem.pop.map.clamp(psi);
}

/// Run SAEM on `problem` from the model's initial values (module docs).
pub fn run_saem<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    settings: &CheckedSaem,
    observer: &dyn Fn(&SaemIteration),
) -> Result<SaemEstimate, String> {
    let set = settings.get();
    let pop = &problem.pop;
    let layout = Layout::new(problem.model, pop);
    let n = problem.subjects.len();
    let d = pop.n_eta();
    let chains = set.chains.unwrap_or(50usize.div_ceil(n.max(1)).max(1));
    let init = pop.initial(problem.model);
    let mut current = Current::new(init.psi, init.omega, &layout.eta_free)?;
    let mut states: Vec<SubjectChains> = (0..n)
        .map(|k| SubjectChains::new(&current.mu, chains, subject_rng(set.seed, k as u64)))
        .collect();
    let mut scales = Scales::new(d);
    let mut stats: Option<Statistics> = None;
    let mut trace: Vec<SaemIteration> = Vec::new();
    let mut history: Vec<Vec<f64>> = Vec::new();
    let mut smoothing_values: Vec<Vec<f64>> = Vec::new();
    let mut evaluations = 0u64;
    let (mut k1, mut k2) = (0, 0);
    let mut explored = false;
    let smoothed;
    let mut phase = Phase::Exploration;
    let params = problem.model.parameters();
    loop {
        let gamma = match phase {
            Phase::Exploration => 1.0,
            Phase::Smoothing => 1.0 / (k2 + 1) as f64,
        };
        // Simulation and per-subject statistics, in parallel, summed in subject order.
        let cur = &current;
        let psi = &cur.psi;
        let per: Vec<(Statistics, Acceptance, f64)> = states
            .par_iter_mut()
            .enumerate()
            .map(|(k, st)| {
                let target = cur.target(problem, k, psi);
                let acc = st.sweep(&target, &scales, set.kernels, &cur.sd);
                let stats = subject_statistics(&target, &layout, &st.chains, &mut st.rng);
                let c = st.chains.len() as f64;
                let complete: f64 = st
                    .chains
                    .iter()
                    .map(|ch| (ch.data + target.prior(&ch.phi)) / c)
                    .sum();
                (stats, acc, complete)
            })
            .collect();
        let mut s = Statistics::zeros(d, layout.residual.len());
        let mut acc = Acceptance::new(d);
        let ln_det_omega = 2.0 * current.chol.diagonal().iter().map(|v| v.ln()).sum::<f64>();
        let mut complete = n as f64 * (d as f64 * LN_2PI + ln_det_omega);
        for (st, a, c) in &per {
            s.add(st);
            acc.add(a);
            complete += c;
        }
        evaluations += acc.evaluations;
        let s = s.per_subject(n as f64);
        let smoothed_stats = match stats.as_mut() {
            Some(st) => {
                st.approach(&s, gamma);
                st.clone()
            }
            None => {
                stats = Some(s.clone());
                s.clone()
            }
        };
        // Maximisation.
        let mut cf = maximise(&smoothed_stats, &pop.blocks);
        let previous_res: Vec<f64> = layout
            .residual
            .iter()
            .map(|&(i, p)| params[p].to_natural(current.psi[i]))
            .collect();
        if phase == Phase::Exploration && set.annealing < 1.0 {
            anneal(&mut cf, &current.omega, &previous_res, set.annealing);
        }
        let mut new_psi = current.psi.clone();
        apply(problem, &layout, &cf, &mut new_psi);
        let mut instant = new_psi.clone();
        apply(problem, &layout, &maximise(&s, &pop.blocks), &mut instant);
        if !layout.numeric.is_empty() {
            let mid = Current::new(new_psi.clone(), cf.omega.clone(), &layout.eta_free)?;
            let (beta, e) = newton_step(problem, &new_psi, &mid, &states, &layout.numeric);
            evaluations += e;
            for &k in &layout.numeric {
                instant[k] = beta[k];
                new_psi[k] += gamma * (beta[k] - new_psi[k]);
            }
        }
        let instant_omega = maximise(&s, &pop.blocks).omega;
        current = Current::new(new_psi, cf.omega, &layout.eta_free)?;
        if phase == Phase::Exploration {
            scales.adapt(&acc);
        }
        let item = SaemIteration {
            iteration: trace.len() + 1,
            phase,
            gamma,
            values: reported(problem, &current),
            complete_neg2ll: complete,
            acceptance: acc.rates(),
            evaluations,
        };
        observer(&item);
        trace.push(item);
        // Phases and stopping.
        match phase {
            Phase::Exploration => {
                k1 += 1;
                history.push(working(&current, &pop.blocks, complete / n as f64));
                let stop_rule = set.auto_stop
                    && k1 >= set.k1_min
                    && stationary(&history, set.window, set.drift_t);
                if stop_rule || k1 >= set.k1_max {
                    explored = stop_rule || !set.auto_stop;
                    phase = Phase::Smoothing;
                }
            }
            Phase::Smoothing => {
                k2 += 1;
                if let Ok(inst) = Current::new(instant, instant_omega.clone(), &layout.eta_free) {
                    smoothing_values.push(working(&inst, &pop.blocks, f64::NAN));
                }
                let stop_rule = set.auto_stop
                    && k2 >= set.k2_min
                    && largest_se(&smoothing_values) < set.smoothing_tol;
                if stop_rule || k2 >= set.k2_max {
                    smoothed = stop_rule || !set.auto_stop;
                    break;
                }
            }
        }
    }
    Ok(SaemEstimate {
        psi: current.psi,
        omega: current.omega,
        k1,
        k2,
        explored,
        smoothed,
        chains,
        evaluations,
        trace,
        states,
        scales,
        layout,
    })
}
