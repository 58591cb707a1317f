//! The per-subject objective on the estimation scale: ψ (the free parameters, each on its
//! declared scale — log, logit or identity) ↦ θ (all parameters, natural scale) ↦ model
//! predictions ↦ −2LL ([`super::likelihood`]).
//!
//! Free parameters are held inside their bounds by projection: ψ is clamped to
//! [g(lower), g(upper)] before the inverse transform, so the objective is flat outside
//! the box and an estimate on a bound is reported as such. The gradient is by central
//! finite differences, ∂F/∂ψᵢ ≈ (F(ψ + hᵢeᵢ) − F(ψ − hᵢeᵢ))/(2hᵢ) with
//! hᵢ = ε^(1/3)·max(1, |ψᵢ|) (ε machine epsilon; truncation and rounding errors balance,
//! Nocedal & Wright 2006, §8.1) — or, when the model has exact derivatives
//! ([`Predict::exact_jacobian`]), exactly: ∂F/∂ψᵢ = ∂F/∂θ_j · dθ_j/dψᵢ with ∂F/∂θ from
//! the predictions' Jacobian ([`super::gradient`]), and 0 for a ψᵢ outside its bounds
//! (where F is flat). This is the objective the population methods reuse.

use std::cell::RefCell;

use super::gradient::neg2ll_scoring;
use super::likelihood::{neg2ll, LikelihoodError, Records};
use crate::model::{Individual, Predict, PredictError};

/// An objective evaluation that could not be completed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjectiveError {
    /// The model could not predict.
    #[error(transparent)]
    Predict(#[from] PredictError),
    /// The likelihood could not be evaluated.
    #[error(transparent)]
    Likelihood(#[from] LikelihoodError),
}

/// Which parameters are free and how they map between the scales.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterMap {
    /// Natural-scale values of every parameter (the fixed ones are used as they are).
    pub base: Vec<f64>,
    /// Indices of the free (estimated) parameters, in model order.
    pub free: Vec<usize>,
    /// Lower bound of each free parameter on the estimation scale.
    pub lower: Vec<f64>,
    /// Upper bound of each free parameter on the estimation scale.
    pub upper: Vec<f64>,
}

impl ParameterMap {
    /// Free every parameter that is not fixed in the model and not in `fixed`
    /// (index, natural value); fixed parameters take their typical value or the given one.
    pub fn new<M: Predict + ?Sized>(model: &M, fixed: &[(usize, f64)]) -> ParameterMap {
        let params = model.parameters();
        let mut base: Vec<f64> = params.iter().map(|p| p.typical).collect();
        for &(i, v) in fixed {
            base[i] = v;
        }
        let free: Vec<usize> = (0..params.len())
            .filter(|&i| !params[i].fixed && !fixed.iter().any(|&(j, _)| j == i))
            .collect();
        let bound = |i: usize, v: f64, default: f64| {
            let p = &params[i];
            let g = p.to_estimation(v);
            if g.is_nan() {
                default
            } else {
                g
            }
        };
        let lower = free
            .iter()
            .map(|&i| bound(i, params[i].lower, f64::NEG_INFINITY))
            .collect();
        let upper = free
            .iter()
            .map(|&i| bound(i, params[i].upper, f64::INFINITY))
            .collect();
        ParameterMap {
            base,
            free,
            lower,
            upper,
        }
    }

    /// Number of free parameters.
    pub fn len(&self) -> usize {
        self.free.len()
    }

    /// No free parameters.
    pub fn is_empty(&self) -> bool {
        self.free.is_empty()
    }

    /// ψ clamped into the bounds.
    pub fn clamp(&self, psi: &mut [f64]) {
        for (k, x) in psi.iter_mut().enumerate() {
            *x = x.clamp(self.lower[k], self.upper[k]);
        }
    }

    /// Fill `theta` (all parameters, natural scale) from ψ (free, estimation scale).
    pub fn theta_into<M: Predict + ?Sized>(&self, model: &M, psi: &[f64], theta: &mut [f64]) {
        theta.copy_from_slice(&self.base);
        let params = model.parameters();
        for (k, &i) in self.free.iter().enumerate() {
            let x = psi[k].clamp(self.lower[k], self.upper[k]);
            theta[i] = params[i].to_natural(x);
        }
    }

    /// The typical values of the free parameters on the estimation scale, clamped.
    pub fn typical_psi<M: Predict + ?Sized>(&self, model: &M) -> Vec<f64> {
        let params = model.parameters();
        let mut psi: Vec<f64> = self
            .free
            .iter()
            .map(|&i| params[i].to_estimation(params[i].typical))
            .collect();
        self.clamp(&mut psi);
        psi
    }
}

/// Scratch space of one objective (reused across evaluations: no allocation per call).
#[derive(Debug)]
struct Scratch {
    theta: Vec<f64>,
    pred: Vec<f64>,
    probe: Vec<f64>,
    /// ∂pred/∂θ (records × parameters) and ∂F/∂θ.
    jac: Vec<f64>,
    grad_theta: Vec<f64>,
    /// Expected information with respect to θ (parameters × parameters).
    info_theta: Vec<f64>,
}

/// −2LL of one subject as a function of ψ.
pub struct Objective<'a, M: Predict + ?Sized> {
    model: &'a M,
    individual: Individual<'a>,
    records: &'a Records,
    map: &'a ParameterMap,
    scratch: RefCell<Scratch>,
    evaluations: std::cell::Cell<u64>,
    gradients: std::cell::Cell<u64>,
    exact: bool,
}

impl<'a, M: Predict + ?Sized> Objective<'a, M> {
    /// The objective of `records` for `individual` under `model` with free parameters `map`.
    pub fn new(
        model: &'a M,
        individual: Individual<'a>,
        records: &'a Records,
        map: &'a ParameterMap,
    ) -> Self {
        Objective {
            model,
            individual,
            records,
            map,
            scratch: RefCell::new(Scratch {
                theta: map.base.clone(),
                pred: vec![0.0; records.len()],
                probe: vec![0.0; map.len()],
                jac: Vec::new(),
                grad_theta: Vec::new(),
                info_theta: Vec::new(),
            }),
            evaluations: std::cell::Cell::new(0),
            gradients: std::cell::Cell::new(0),
            exact: model.exact_jacobian(),
        }
    }

    /// The same objective with gradients by finite differences even when the model has
    /// exact derivatives (`exact` false), for comparisons.
    pub fn with_exact_gradient(mut self, exact: bool) -> Self {
        self.exact = exact && self.model.exact_jacobian();
        self
    }

    /// Whether gradients are exact (from the model's derivatives).
    pub fn exact_gradient(&self) -> bool {
        self.exact
    }

    /// Number of exact gradient evaluations so far (each one prediction with its
    /// Jacobian; finite-difference gradients count as objective evaluations instead).
    pub fn gradient_evaluations(&self) -> u64 {
        self.gradients.get()
    }

    /// The parameter map.
    pub fn map(&self) -> &ParameterMap {
        self.map
    }

    /// The model.
    pub fn model(&self) -> &M {
        self.model
    }

    /// Number of evaluations so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations.get()
    }

    /// −2LL at ψ.
    pub fn value(&self, psi: &[f64]) -> Result<f64, ObjectiveError> {
        self.evaluations.set(self.evaluations.get() + 1);
        let mut s = self.scratch.borrow_mut();
        let Scratch { theta, pred, .. } = &mut *s;
        self.map.theta_into(self.model, psi, theta);
        self.model.predict(
            theta,
            &self.individual,
            &self.records.times,
            &self.records.outputs,
            pred,
        )?;
        Ok(neg2ll(self.model, self.records, theta, pred)?)
    }

    /// −2LL at ψ for the optimiser: a point where the model or the likelihood cannot be
    /// evaluated is infeasible and gets +∞, which Nelder–Mead ranks last and so moves
    /// away from (never a finite sentinel).
    pub fn cost(&self, psi: &[f64]) -> f64 {
        match self.value(psi) {
            Ok(v) if v.is_finite() => v,
            _ => f64::INFINITY,
        }
    }

    /// Central finite-difference gradient at ψ into `grad` (see the module docs).
    pub fn gradient_into(&self, psi: &[f64], grad: &mut [f64]) -> Result<(), ObjectiveError> {
        if self.exact {
            return self.exact_gradient_into(psi, grad).map(|_| ());
        }
        let h0 = f64::EPSILON.cbrt();
        let mut probe = std::mem::take(&mut self.scratch.borrow_mut().probe);
        probe.copy_from_slice(psi);
        let mut result = Ok(());
        for k in 0..psi.len() {
            let h = h0 * psi[k].abs().max(1.0);
            probe[k] = psi[k] + h;
            let up = self.value(&probe);
            probe[k] = psi[k] - h;
            let down = self.value(&probe);
            probe[k] = psi[k];
            match (up, down) {
                (Ok(u), Ok(d)) => grad[k] = (u - d) / (2.0 * h),
                (Err(e), _) | (_, Err(e)) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.scratch.borrow_mut().probe = probe;
        result
    }

    /// −2LL at ψ and its exact gradient into `grad` (module docs).
    pub fn exact_gradient_into(
        &self,
        psi: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, ObjectiveError> {
        self.scoring_into(psi, grad, None)
    }

    /// −2LL at ψ, its exact gradient into `grad` and, when `info` is given (d × d,
    /// row-major), the expected information on the estimation scale
    /// (J_ψ = D·J_θ·D, D = diag(dθ/dψ); [`super::gradient::neg2ll_scoring`]): the
    /// curvature of Fisher scoring and the Levenberg–Marquardt stage. Needs exact model
    /// derivatives ([`Objective::exact_gradient`]).
    pub fn scoring_into(
        &self,
        psi: &[f64],
        grad: &mut [f64],
        info: Option<&mut [f64]>,
    ) -> Result<f64, ObjectiveError> {
        self.gradients.set(self.gradients.get() + 1);
        let mut s = self.scratch.borrow_mut();
        let Scratch {
            theta,
            pred,
            jac,
            grad_theta,
            info_theta,
            ..
        } = &mut *s;
        self.map.theta_into(self.model, psi, theta);
        let np = theta.len();
        jac.resize(pred.len() * np, 0.0);
        grad_theta.resize(np, 0.0);
        self.model.predict_jacobian_of(
            theta,
            &self.individual,
            &self.records.times,
            &self.records.outputs,
            &self.map.free,
            pred,
            jac,
        )?;
        let want_info = info.is_some();
        if want_info {
            info_theta.resize(np * np, 0.0);
        }
        let value = neg2ll_scoring(
            self.model,
            self.records,
            theta,
            pred,
            jac,
            grad_theta,
            want_info.then_some(info_theta.as_mut_slice()),
        )?;
        let params = self.model.parameters();
        // dθ/dψ of each free parameter (0 outside the bounds, where F is flat)
        let d: Vec<f64> = self
            .map
            .free
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let (lo, hi) = (self.map.lower[k], self.map.upper[k]);
                if psi[k] < lo || psi[k] > hi {
                    0.0
                } else {
                    let p = &params[i];
                    p.transform.derivative(psi[k], p.lower, p.upper)
                }
            })
            .collect();
        for (k, &i) in self.map.free.iter().enumerate() {
            grad[k] = grad_theta[i] * d[k];
        }
        if let Some(out) = info {
            let n = self.map.len();
            for (k, &i) in self.map.free.iter().enumerate() {
                for (l, &j) in self.map.free.iter().enumerate() {
                    out[k * n + l] = info_theta[i * np + j] * d[k] * d[l];
                }
            }
        }
        Ok(value)
    }

    /// Natural-scale parameters (all) at ψ.
    pub fn theta(&self, psi: &[f64]) -> Vec<f64> {
        let mut theta = self.map.base.clone();
        self.map.theta_into(self.model, psi, &mut theta);
        theta
    }
}
