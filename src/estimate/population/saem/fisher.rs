//! The observed Fisher information by stochastic approximation (Louis 1982, J R Stat Soc
//! B 44:226; Kuhn & Lavielle 2005 §4; Monolix's "stochastic approximation" option):
//!
//!   I(θ̂) = Σ_i ( E[−∂² ln p(y_i, φ_i; θ̂) | y_i] − Cov[∂ ln p(y_i, φ_i; θ̂) | y_i] ),
//!
//! on the packed scale x (θ on its estimation scale, log-Cholesky Ω; [`super::super::model`]),
//! the expectations over the draws of the chains at θ̂ ([`super::posterior`]). With
//! −2 ln p(y_i, φ; x) = D(φ; x_D) + P(φ; x_P) + d ln 2π, where D depends on x only through
//! the parameters without IIV x_D (residual and others) and P = (φ − μ)ᵀΩ⁻¹(φ − μ) + ln|Ω|
//! only through μ and Ω (x_P), the Hessian has no (x_D, x_P) block. Derivatives are
//! central differences with steps 10⁻⁴·max(1, |x|); the x_P block of E[H] is the Hessian
//! of Σ_i P evaluated at each subject's posterior moments of φ and φφᵀ (P is linear in
//! them). Cov(x̂) = I⁻¹; reported through the covariance step's delta method as R = 2I.

use nalgebra::{DMatrix, DVector};

use super::super::objective::PopulationProblem;
use super::kernels::{Current, Target};
use crate::model::{Predict, Role};

/// ln(2π)-free P(φ; x) (module docs) at packed x for several (φ, weight) moments:
/// Σ_s [tr(Ω⁻¹(S₂ − μS₁ᵀ − S₁μᵀ + μμᵀ)) + ln|Ω|] over subjects s with moments
/// (S₁ = E φ, S₂ = E φφᵀ).
fn prior_total<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    eta_free: &[usize],
    x: &[f64],
    moments: &[(DVector<f64>, DMatrix<f64>)],
) -> f64 {
    let v = problem.pop.unpack(x);
    let Some(chol) = v.omega.clone().cholesky() else {
        return f64::NAN;
    };
    let ln_det = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    let inv = chol.inverse();
    let mu = DVector::from_iterator(eta_free.len(), eta_free.iter().map(|&k| x[k]));
    let mut total = 0.0;
    for (s1, s2) in moments {
        let m = s2 - &mu * s1.transpose() - s1 * mu.transpose() + &mu * mu.transpose();
        total += (&inv * m).trace() + ln_det;
    }
    total
}

/// What one subject contributes: Σ over draws of g, g gᵀ and the x_D Hessian of D,
/// and of φ, φφᵀ.
#[derive(Debug, Clone)]
pub struct SubjectInformation {
    sum_g: DVector<f64>,
    sum_gg: DMatrix<f64>,
    sum_hd: DMatrix<f64>,
    sum_phi: DVector<f64>,
    sum_phiphi: DMatrix<f64>,
    n: f64,
}

/// The fixed pieces of the computation.
pub struct Louis<'a> {
    /// Packed x̂.
    pub x: Vec<f64>,
    /// Indices in x of the parameters without IIV (x_D).
    pub d_group: Vec<usize>,
    /// Indices in x of μ and Ω (x_P).
    pub p_group: Vec<usize>,
    /// Index in ψ of each η'd parameter.
    pub eta_free: &'a [usize],
}

impl<'a> Louis<'a> {
    /// For the packed estimate `x` of a problem with θ of length `n_theta`.
    pub fn new(x: Vec<f64>, n_theta: usize, eta_free: &'a [usize]) -> Louis<'a> {
        let d_group = (0..n_theta).filter(|k| !eta_free.contains(k)).collect();
        let p_group = eta_free.iter().copied().chain(n_theta..x.len()).collect();
        Louis {
            x,
            d_group,
            p_group,
            eta_free,
        }
    }

    /// Empty sums.
    pub fn start(&self) -> SubjectInformation {
        let p = self.x.len();
        let q = self.d_group.len();
        let d = self.eta_free.len();
        SubjectInformation {
            sum_g: DVector::zeros(p),
            sum_gg: DMatrix::zeros(p, p),
            sum_hd: DMatrix::zeros(q, q),
            sum_phi: DVector::zeros(d),
            sum_phiphi: DMatrix::zeros(d, d),
            n: 0.0,
        }
    }

    /// Add the draw φ of subject `k` (the model's predictions made are returned: one,
    /// plus one per finite-difference point that moves a parameter other than a residual
    /// one).
    pub fn add<M: Predict + ?Sized>(
        &self,
        problem: &PopulationProblem<'_, M>,
        current: &Current,
        k: usize,
        phi: &[f64],
        acc: &mut SubjectInformation,
    ) -> u64 {
        let nt = problem.pop.n_theta();
        let x = &self.x;
        let h = |j: usize| 1e-4 * x[j].abs().max(1.0);
        // Moving only residual parameters leaves the predictions as they are at x̂: D is
        // then computed from those (the same values without solving the model again).
        let params = problem.model.parameters();
        let residual = |j: usize| params[problem.pop.map.free[j]].role == Role::Residual;
        let base = Target {
            cond: problem.conditional(k, &x[..nt], &current.omega_inv),
            mu: &current.mu,
            chol: &current.chol,
        }
        .predictions(phi);
        let mut evals = 1;
        let mut d_at = |psi: &[f64], moved: &[usize]| {
            let target = Target {
                cond: problem.conditional(k, psi, &current.omega_inv),
                mu: &current.mu,
                chol: &current.chol,
            };
            if moved.iter().all(|&j| residual(j)) {
                target.data_from(phi, base.as_deref())
            } else {
                evals += 1;
                target.data(phi)
            }
        };
        let phi_v = DVector::from_column_slice(phi);
        let one = [(phi_v.clone(), &phi_v * phi_v.transpose())];
        let p_at = |xx: &[f64]| prior_total(problem, self.eta_free, xx, &one);
        let mut g = DVector::zeros(x.len());
        let mut psi = x[..nt].to_vec();
        let d0 = d_at(&psi, &[]);
        let q = self.d_group.len();
        let mut up = vec![0.0; q];
        let mut down = vec![0.0; q];
        for (a, &j) in self.d_group.iter().enumerate() {
            psi[j] = x[j] + h(j);
            up[a] = d_at(&psi, &[j]);
            psi[j] = x[j] - h(j);
            down[a] = d_at(&psi, &[j]);
            psi[j] = x[j];
            g[j] = -0.5 * (up[a] - down[a]) / (2.0 * h(j));
            acc.sum_hd[(a, a)] += (up[a] - 2.0 * d0 + down[a]) / (h(j) * h(j));
            for b in 0..a {
                let jb = self.d_group[b];
                let mut corner = |sa: f64, sb: f64| {
                    psi[j] = x[j] + sa * h(j);
                    psi[jb] = x[jb] + sb * h(jb);
                    let v = d_at(&psi, &[j, jb]);
                    psi[j] = x[j];
                    psi[jb] = x[jb];
                    v
                };
                let v = (corner(1.0, 1.0) - corner(1.0, -1.0) - corner(-1.0, 1.0)
                    + corner(-1.0, -1.0))
                    / (4.0 * h(j) * h(jb));
                acc.sum_hd[(a, b)] += v;
                acc.sum_hd[(b, a)] += v;
            }
        }
        let mut xx = x.clone();
        for &j in &self.p_group {
            xx[j] = x[j] + h(j);
            let u = p_at(&xx);
            xx[j] = x[j] - h(j);
            let dn = p_at(&xx);
            xx[j] = x[j];
            g[j] = -0.5 * (u - dn) / (2.0 * h(j));
        }
        acc.sum_gg += &g * g.transpose();
        acc.sum_g += g;
        acc.sum_phi += &phi_v;
        acc.sum_phiphi += &phi_v * phi_v.transpose();
        acc.n += 1.0;
        evals
    }

    /// I(x̂) from every subject's sums (module docs), in subject order.
    pub fn information<M: Predict + ?Sized>(
        &self,
        problem: &PopulationProblem<'_, M>,
        subjects: &[SubjectInformation],
    ) -> DMatrix<f64> {
        let p = self.x.len();
        let mut info = DMatrix::zeros(p, p);
        let mut moments = Vec::with_capacity(subjects.len());
        for s in subjects {
            let n = s.n.max(1.0);
            let mean = &s.sum_g / n;
            let cov = &s.sum_gg / n - &mean * mean.transpose();
            info -= cov;
            for (a, &i) in self.d_group.iter().enumerate() {
                for (b, &j) in self.d_group.iter().enumerate() {
                    info[(i, j)] += 0.5 * s.sum_hd[(a, b)] / n;
                }
            }
            moments.push((&s.sum_phi / n, &s.sum_phiphi / n));
        }
        // ½ Hessian of Σ_i P at the posterior moments, x_P block.
        let x = &self.x;
        let h = |j: usize| 1e-4 * x[j].abs().max(1.0);
        let f = |xx: &[f64]| prior_total(problem, self.eta_free, xx, &moments);
        let f0 = f(x);
        let mut xx = x.clone();
        for (a, &i) in self.p_group.iter().enumerate() {
            xx[i] = x[i] + h(i);
            let up = f(&xx);
            xx[i] = x[i] - h(i);
            let down = f(&xx);
            xx[i] = x[i];
            info[(i, i)] += 0.5 * (up - 2.0 * f0 + down) / (h(i) * h(i));
            for &j in &self.p_group[..a] {
                let mut corner = |si: f64, sj: f64| {
                    xx[i] = x[i] + si * h(i);
                    xx[j] = x[j] + sj * h(j);
                    let v = f(&xx);
                    xx[i] = x[i];
                    xx[j] = x[j];
                    v
                };
                let v = 0.5
                    * (corner(1.0, 1.0) - corner(1.0, -1.0) - corner(-1.0, 1.0)
                        + corner(-1.0, -1.0))
                    / (4.0 * h(i) * h(j));
                info[(i, j)] += v;
                info[(j, i)] += v;
            }
        }
        info
    }
}
