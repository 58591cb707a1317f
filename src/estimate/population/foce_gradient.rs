//! The exact gradient of the FOCE-I or Laplacian objective with respect to the packed population
//! parameters, by implicit differentiation of the EBE (Almquist, Leander & Jirstrand
//! 2015, J Pharmacokinet Pharmacodyn 42:191), instead of central differences that re-solve
//! every EBE twice per parameter.
//!
//! Per subject, with u = ψ + Pη the subject's free parameters on the estimation scale (P
//! puts each η on its parameter; u clamped to the bounds has zero derivative), L(u) its
//! −2LL, ℓ = ∇L and K = ∇²L, and B(u) = Σ_j (g gᵀ + 2 d dᵀ)/s_j² over its records
//! (g = ∂F_j/∂η, d = ∂s_j/∂η, [`super::ebe`]):
//!
//! ```text
//! OFV_i = L(ψ + Pη̂) + η̂ᵀΩ⁻¹η̂ + ln|Ω| + ln|M|,   M = Ω⁻¹ + B
//! H = PᵀKP + 2Ω⁻¹                  (the Hessian of the conditional objective in η)
//! a_m = tr(M⁻¹ ∂B/∂u_m)            (∂ln|M|/∂u at fixed Ω)
//! r = Pᵀℓ + 2Ω⁻¹η̂                  (the EBE's stationarity residual, ≈ 0)
//! c = H⁻¹(Pᵀa + r)
//! ∂OFV_i/∂ψ   = ℓ + a − K P c
//! ∂OFV_i/∂ω_k = −η̂ᵀΩ⁻¹Ω_kΩ⁻¹η̂ + tr(Ω⁻¹Ω_k) − tr(M⁻¹Ω⁻¹Ω_kΩ⁻¹) + 2 cᵀΩ⁻¹Ω_kΩ⁻¹η̂
//! ```
//!
//! with Ω_k = ∂Ω/∂ω_k of the log-Cholesky packing ([`super::model`]). The terms in c
//! are the change of η̂ with the parameters, dη̂/dψ = −H⁻¹PᵀK and
//! dη̂/dω_k = 2H⁻¹Ω⁻¹Ω_kΩ⁻¹η̂; including r makes the gradient that of the objective at
//! the exact mode to first order in the search's residual.
//!
//! The Laplacian (censored records) has M = Ω⁻¹ + ½PᵀKP, half the Hessian of the
//! conditional objective, so a_m = ½ tr(M⁻¹ T_m) with T_m = Pᵀ(∂K/∂u_m)P, third
//! derivatives of L; the rest is the same. A subject whose M is not positive definite
//! takes FOCE-I's M, as its OFV_i does ([`super::ebe`]).
//!
//! ℓ and B come from the exact prediction Jacobian ([`crate::estimate::gradient::neg2ll_scoring`]:
//! B is half the expected information restricted to the η's parameters); K and ∂B/∂u by
//! central differences of those exact first derivatives over u (steps h_m =
//! `step`·max(1, |u_m|)), and every T_m from second differences of ℓ over the η's
//! parameters ([`third_derivatives`]). A residual parameter (σ) does not enter the
//! predictions, so its differences reuse the solve.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::ebe::{Approximation, Mode};
use super::objective::PopulationProblem;
use crate::estimate::gradient::neg2ll_scoring;
use crate::model::{Individual, Predict, Role};

/// The objective's gradient can be computed here: a model with exact prediction
/// Jacobians (FOCE-I or the Laplacian).
pub fn available<M: Predict + ?Sized>(problem: &PopulationProblem<'_, M>) -> bool {
    problem.model.exact_jacobian()
}

/// The gradient of Σ_i OFV_i at packed x and the per-subject gradients, given the EBEs
/// at x (module docs).
pub fn gradient<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    modes: &[Mode],
    step: f64,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    let values = problem.pop.unpack(x);
    let omega = &values.omega;
    let omega_inv = omega
        .clone()
        .cholesky()
        .ok_or("Ω is not positive definite")?
        .inverse();
    let derivatives = omega_derivatives(problem, x);
    let per: Vec<Result<Vec<f64>, String>> = (0..problem.subjects.len())
        .into_par_iter()
        .map(|k| {
            subject_gradient(
                problem,
                k,
                &values.psi,
                &modes[k].eta,
                &omega_inv,
                &derivatives,
                step,
            )
        })
        .collect();
    let mut total = vec![0.0; x.len()];
    let mut subjects = Vec::with_capacity(per.len());
    for g in per {
        let g = g?;
        for (t, v) in total.iter_mut().zip(&g) {
            *t += v;
        }
        subjects.push(g);
    }
    Ok((total, subjects))
}

/// Ω_k = ∂Ω/∂ω_k for each packed Ω element: Ω_b = L Lᵀ per block, ∂L/∂(ln L_rr) = L_rr
/// e_r e_rᵀ and ∂L/∂L_rc = e_r e_cᵀ, so Ω_k = E Lᵀ + L Eᵀ.
fn omega_derivatives<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
) -> Vec<DMatrix<f64>> {
    let pop = &problem.pop;
    let d = pop.n_eta();
    let mut out = Vec::with_capacity(pop.n_omega());
    for (b, l) in pop.blocks.iter().zip(pop.cholesky_factors(x)) {
        let n = b.len();
        for r in 0..n {
            for c in 0..=r {
                let mut e = DMatrix::zeros(n, n);
                e[(r, c)] = if r == c { l[(r, r)] } else { 1.0 };
                let sub = &e * l.transpose() + &l * e.transpose();
                let mut full = DMatrix::zeros(d, d);
                for i in 0..n {
                    for j in 0..n {
                        full[(b[i], b[j])] = sub[(i, j)];
                    }
                }
                out.push(full);
            }
        }
    }
    out
}

/// ℓ (length q) and the expected information (q × q) of the subject's −2LL in u at free
/// parameters ψ and η.
struct Local {
    grad: DVector<f64>,
    info: DMatrix<f64>,
}

/// One subject at its EBE η: solves and local derivatives at any free parameters ψ.
struct SubjectEval<'a, M: Predict + ?Sized> {
    problem: &'a PopulationProblem<'a, M>,
    k: usize,
    eta: &'a [f64],
}

impl<M: Predict + ?Sized> SubjectEval<'_, M> {
    /// θ (natural), and du-derivative dθ_i/du_m of each free parameter at ψ, η.
    fn theta_and_slopes(&self, psi: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let pop = &self.problem.pop;
        let model = self.problem.model;
        let params = model.parameters();
        let map = &pop.map;
        let mut theta = map.base.clone();
        pop.individual_into(model, psi, self.eta, &mut theta);
        let slopes = map
            .free
            .iter()
            .enumerate()
            .map(|(m, &i)| {
                let p = &params[i];
                if psi[m] < map.lower[m] || psi[m] > map.upper[m] {
                    return 0.0;
                }
                let u = match pop.eta_params.iter().position(|&j| j == i) {
                    Some(e) => {
                        let (lo, hi) = pop.eta_bounds[e];
                        let u = psi[m] + self.eta[e];
                        if u < lo || u > hi {
                            return 0.0;
                        }
                        u
                    }
                    None => psi[m],
                };
                p.transform.derivative(u, p.lower, p.upper)
            })
            .collect();
        (theta, slopes)
    }

    /// The predictions and their Jacobian at θ.
    fn solve(&self, theta: &[f64]) -> Result<(Vec<f64>, Vec<f64>), String> {
        let s = &self.problem.subjects[self.k];
        let subject = &self.problem.dataset.subjects[s.index];
        let individual = Individual {
            doses: &subject.doses,
            covariates: &subject.covariates,
        };
        let r = &s.records;
        let mut pred = vec![0.0; r.len()];
        let mut jac = vec![0.0; r.len() * theta.len()];
        self.problem
            .model
            .predict_jacobian_of(
                theta,
                &individual,
                &r.times,
                &r.outputs,
                &self.problem.pop.map.free,
                &mut pred,
                &mut jac,
            )
            .map_err(|e| e.to_string())?;
        Ok((pred, jac))
    }

    /// ℓ and the information in u from a solve at θ (slopes dθ/du).
    fn local(
        &self,
        theta: &[f64],
        slopes: &[f64],
        pred: &[f64],
        jac: &[f64],
    ) -> Result<Local, String> {
        let model = self.problem.model;
        let np = theta.len();
        let records = &self.problem.subjects[self.k].records;
        let mut grad = vec![0.0; np];
        let mut info = vec![0.0; np * np];
        neg2ll_scoring(model, records, theta, pred, jac, &mut grad, Some(&mut info))
            .map_err(|e| e.to_string())?;
        let free = &self.problem.pop.map.free;
        let q = free.len();
        Ok(Local {
            grad: DVector::from_fn(q, |m, _| grad[free[m]] * slopes[m]),
            info: DMatrix::from_fn(q, q, |m, n| {
                info[free[m] * np + free[n]] * slopes[m] * slopes[n]
            }),
        })
    }
}

/// T_m = Pᵀ(∂K/∂u_m)P = (∂³L/∂u_m∂η_a∂η_b)_ab for every free parameter m, by central
/// second differences of the exact ℓ over the η's parameters (`on`, their positions
/// among the free parameters; steps h_a =
/// `step`·max(1, |ψ_a|)): the diagonal from `sides` (ℓ at ±h_a, from K's differences)
/// and `centre`, each off-diagonal pair from four more solves. ∂³L is symmetric, so the
/// second differences of one gradient give every T_m: 2d(d − 1) solves in all.
fn third_derivatives<M: Predict + ?Sized>(
    at: &SubjectEval<'_, M>,
    psi: &[f64],
    on: &[usize],
    step: f64,
    centre: &DVector<f64>,
    sides: &[Option<(DVector<f64>, DVector<f64>)>],
) -> Result<Vec<DMatrix<f64>>, String> {
    let (q, d) = (sides.len(), on.len());
    let h: Vec<f64> = on.iter().map(|&m| step * psi[m].abs().max(1.0)).collect();
    let grad_at = |shifts: &[(usize, f64)]| -> Result<DVector<f64>, String> {
        let mut probe = psi.to_vec();
        for &(e, v) in shifts {
            probe[on[e]] += v;
        }
        let (theta, slopes) = at.theta_and_slopes(&probe);
        let (pred, jac) = at.solve(&theta)?;
        Ok(at.local(&theta, &slopes, &pred, &jac)?.grad)
    };
    let mut t = vec![DMatrix::zeros(d, d); q];
    for a in 0..d {
        let (up, down) = sides[on[a]].as_ref().expect("ℓ either side of each η");
        let diag = (up - centre * 2.0 + down) / (h[a] * h[a]);
        for (tm, v) in t.iter_mut().zip(diag.iter()) {
            tm[(a, a)] = *v;
        }
        for b in 0..a {
            let corner = |sa: f64, sb: f64| grad_at(&[(a, sa * h[a]), (b, sb * h[b])]);
            let mixed = (corner(1.0, 1.0)? - corner(1.0, -1.0)? - corner(-1.0, 1.0)?
                + corner(-1.0, -1.0)?)
                / (4.0 * h[a] * h[b]);
            for (tm, v) in t.iter_mut().zip(mixed.iter()) {
                tm[(a, b)] = *v;
                tm[(b, a)] = *v;
            }
        }
    }
    Ok(t)
}

/// The gradient of subject k's OFV_i (module docs).
fn subject_gradient<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    k: usize,
    psi: &[f64],
    eta: &[f64],
    omega_inv: &DMatrix<f64>,
    omega_k: &[DMatrix<f64>],
    step: f64,
) -> Result<Vec<f64>, String> {
    let pop = &problem.pop;
    let params = problem.model.parameters();
    let free = &pop.map.free;
    let (q, d) = (free.len(), eta.len());
    // The free parameter of each η, and P: q × d, η_e on it.
    let on: Vec<usize> = pop
        .eta_params
        .iter()
        .map(|&i| {
            free.iter()
                .position(|&j| j == i)
                .expect("an η's parameter is free")
        })
        .collect();
    let mut p = DMatrix::zeros(q, d);
    for (e, &m) in on.iter().enumerate() {
        p[(m, e)] = 1.0;
    }
    let at = SubjectEval { problem, k, eta };
    let (theta, slopes) = at.theta_and_slopes(psi);
    let (pred, jac) = at.solve(&theta)?;
    let centre = at.local(&theta, &slopes, &pred, &jac)?;
    // K and ∂B/∂u_m (as tr(M⁻¹ ∂B/∂u_m)) by central differences of the exact ℓ and B.
    let b_of = |info: &DMatrix<f64>| p.transpose() * info * &p * 0.5;
    let m_inv = (omega_inv + b_of(&centre.info))
        .cholesky()
        .ok_or_else(|| {
            format!(
                "subject {}: M is not positive definite",
                problem.subjects[k].records.subject
            )
        })?
        .inverse();
    let mut kmat = DMatrix::zeros(q, q);
    let mut a = DVector::zeros(q);
    let mut probe = psi.to_vec();
    // ℓ one step either side along each η's parameter (for the Laplacian's T).
    let mut sides: Vec<Option<(DVector<f64>, DVector<f64>)>> = vec![None; q];
    for m in 0..q {
        let h = step * psi[m].abs().max(1.0);
        let residual = params[free[m]].role == Role::Residual;
        let mut side = |sign: f64| -> Result<Local, String> {
            probe[m] = psi[m] + sign * h;
            let (theta, slopes) = at.theta_and_slopes(&probe);
            probe[m] = psi[m];
            if residual {
                at.local(&theta, &slopes, &pred, &jac)
            } else {
                let (pred, jac) = at.solve(&theta)?;
                at.local(&theta, &slopes, &pred, &jac)
            }
        };
        let (up, down) = (side(1.0)?, side(-1.0)?);
        kmat.set_column(m, &((&up.grad - &down.grad) / (2.0 * h)));
        let db = (b_of(&up.info) - b_of(&down.info)) / (2.0 * h);
        a[m] = (&m_inv * db).trace();
        sides[m] = Some((up.grad, down.grad));
    }
    let kmat = (&kmat + kmat.transpose()) * 0.5;
    // The Laplacian: M = Ω⁻¹ + ½PᵀKP (half the Hessian of the conditional objective)
    // and a_m = ½ tr(M⁻¹ PᵀK_mP), unless M is not positive definite, where the OFV
    // falls back on FOCE-I's M too ([`super::ebe::Conditional::contribution`]).
    let laplacian = (problem.approximation == Approximation::Laplacian)
        .then(|| (omega_inv + p.transpose() * &kmat * &p * 0.5).cholesky())
        .flatten();
    let m_inv = match laplacian {
        Some(chol) => {
            let m_inv = chol.inverse();
            let t = third_derivatives(&at, psi, &on, step, &centre.grad, &sides)?;
            for (am, tm) in a.iter_mut().zip(&t) {
                *am = 0.5 * (&m_inv * tm).trace();
            }
            m_inv
        }
        None => m_inv,
    };
    let e = DVector::from_column_slice(eta);
    let h = p.transpose() * &kmat * &p + omega_inv * 2.0;
    let residual = p.transpose() * &centre.grad + omega_inv * &e * 2.0;
    // Where H is not positive definite (an EBE at a kink of the likelihood, such as an
    // individual Tmax at a sample time), the EBE search's scoring matrix stands in for it.
    let scoring = (omega_inv + b_of(&centre.info)) * 2.0;
    let c = h
        .cholesky()
        .or_else(|| scoring.cholesky())
        .ok_or_else(|| {
            format!(
                "subject {}: the Hessian of the conditional objective is not positive definite",
                problem.subjects[k].records.subject
            )
        })?
        .solve(&(p.transpose() * &a + residual));
    let mut out = Vec::with_capacity(pop.n_packed());
    let dpsi = &centre.grad + &a - &kmat * (&p * &c);
    out.extend(dpsi.iter());
    let oi_eta = omega_inv * &e;
    let oi_c = omega_inv * &c;
    for ok in omega_k {
        let v = -(oi_eta.transpose() * ok * &oi_eta)[(0, 0)] + (omega_inv * ok).trace()
            - (&m_inv * omega_inv * ok * omega_inv).trace()
            + 2.0 * (oi_c.transpose() * ok * &oi_eta)[(0, 0)];
        out.push(v);
    }
    Ok(out)
}
