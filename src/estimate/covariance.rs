//! Uncertainty of an individual estimate from the curvature of −2LL at the optimum.
//!
//! Hessian H of F = −2LL on the estimation scale by central differences
//! (Abramowitz & Stegun 25.3.23 and 25.3.26), steps hᵢ = ε^(1/4)·max(1, |ψᵢ|):
//!   Hᵢᵢ = (F(ψ + hᵢeᵢ) − 2F(ψ) + F(ψ − hᵢeᵢ))/hᵢ²,
//!   Hᵢⱼ = (F(++) − F(+−) − F(−+) + F(−−))/(4hᵢhⱼ).
//! Since F = −2 ln L, the observed information is H/2 and Cov(ψ̂) = 2H⁻¹.
//! When the fit ended with a converged Levenberg–Marquardt run on exact derivatives,
//! H is instead the expected information there (E[∂²F/∂ψ²], the generalised
//! Gauss–Newton matrix of [`super::gradient::neg2ll_scoring`], with the exact M3
//! curvature of censored records): the Fisher-information covariance of nonlinear
//! least squares (Seber & Wild 2003, §2.1), free at the optimum, and stable where the
//! prediction has a kink in a parameter (Stein's Tmax at a sampling time), which second
//! differences straddle. A singular one falls back to second differences.
//! On the natural scale θ = g⁻¹(ψ), by the delta method SE(θ̂ᵢ) = |dθᵢ/dψᵢ|·SE(ψ̂ᵢ);
//! RSE% = 100·SE(θ̂)/|θ̂|; the 95% CI is g⁻¹(ψ̂ ± 1.959964·SE(ψ̂)), i.e. the Wald interval
//! on the estimation scale transformed back (asymmetric for log and logit parameters).
//! The correlation matrix is that of Cov(ψ̂); the condition number is λmax/λmin of H.
//! H not positive definite (a Cholesky factorisation fails, or λmin ≤ 10⁻¹²·λmax) is
//! reported with the parameter that dominates the eigenvector of the smallest eigenvalue.

use nalgebra::{DMatrix, SymmetricEigen};

use super::objective::Objective;
use crate::model::Predict;

/// The 97.5% quantile of the standard normal distribution.
pub const Z975: f64 = 1.959_963_984_540_054;

/// Standard errors and intervals of one subject's free parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    /// SE on the natural scale (delta method), one per free parameter.
    pub se: Vec<f64>,
    /// SE on the estimation scale.
    pub se_psi: Vec<f64>,
    /// 100·SE/|estimate|.
    pub rse_pct: Vec<f64>,
    /// 95% CI lower end, natural scale.
    pub ci_low: Vec<f64>,
    /// 95% CI upper end, natural scale.
    pub ci_high: Vec<f64>,
    /// Covariance of ψ̂ (row-major, d×d).
    pub covariance: Vec<f64>,
    /// Correlation of ψ̂ (row-major, d×d).
    pub correlation: Vec<f64>,
    /// Condition number of the Hessian.
    pub condition: f64,
}

/// The Hessian by central differences of the exact gradient, symmetrised:
/// H_ij = ½[(g_j(ψ + h_i e_i) − g_j(ψ − h_i e_i))/(2h_i) + (i ↔ j)],
/// h_i = ε^(1/3)·max(1, |ψ_i|): 2d gradient evaluations instead of 2d² + 1 objective
/// evaluations, with error O(h²) + O(ε/h) ≈ 1e-10 relative instead of O(ε^(1/2)).
pub fn hessian_from_gradients<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    psi: &[f64],
) -> Result<Vec<f64>, String> {
    let d = psi.len();
    let mut x = psi.to_vec();
    let (mut up, mut down) = (vec![0.0; d], vec![0.0; d]);
    let mut hess = vec![0.0; d * d];
    for i in 0..d {
        let h = f64::EPSILON.cbrt() * psi[i].abs().max(1.0);
        x[i] = psi[i] + h;
        obj.gradient_into(&x, &mut up).map_err(|e| e.to_string())?;
        x[i] = psi[i] - h;
        obj.gradient_into(&x, &mut down)
            .map_err(|e| e.to_string())?;
        x[i] = psi[i];
        for j in 0..d {
            hess[i * d + j] = (up[j] - down[j]) / (2.0 * h);
        }
    }
    for i in 0..d {
        for j in 0..i {
            let v = 0.5 * (hess[i * d + j] + hess[j * d + i]);
            hess[i * d + j] = v;
            hess[j * d + i] = v;
        }
    }
    Ok(hess)
}

/// The Hessian of the objective at ψ (row-major d×d), or the evaluation error (from
/// gradients when they are exact, [`hessian_from_gradients`]).
pub fn hessian<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    psi: &[f64],
) -> Result<Vec<f64>, String> {
    if obj.exact_gradient() {
        return hessian_from_gradients(obj, psi);
    }
    hessian_of_values(obj, psi)
}

/// The Hessian by central second differences of the objective's values (row-major
/// d×d): 2d² + 1 evaluations, step ε^(1/4)·max(1, |ψ|). The standard errors of the
/// individual fit use this one whatever the gradient: near a non-identifiable direction or
/// a bound its larger step averages over the kinks that the exact gradient resolves, and
/// the reported uncertainty stays what it was with finite differences.
pub fn hessian_of_values<M: Predict + ?Sized>(
    obj: &Objective<'_, M>,
    psi: &[f64],
) -> Result<Vec<f64>, String> {
    let d = psi.len();
    let f0 = obj.value(psi).map_err(|e| e.to_string())?;
    let h: Vec<f64> = psi
        .iter()
        .map(|x| f64::EPSILON.powf(0.25) * x.abs().max(1.0))
        .collect();
    let mut x = psi.to_vec();
    let eval = |x: &[f64]| obj.value(x).map_err(|e| e.to_string());
    let mut hess = vec![0.0; d * d];
    for i in 0..d {
        x[i] = psi[i] + h[i];
        let up = eval(&x)?;
        x[i] = psi[i] - h[i];
        let down = eval(&x)?;
        x[i] = psi[i];
        hess[i * d + i] = (up - 2.0 * f0 + down) / (h[i] * h[i]);
        for j in 0..i {
            let corner = |si: f64, sj: f64, x: &mut Vec<f64>| {
                x[i] = psi[i] + si * h[i];
                x[j] = psi[j] + sj * h[j];
                let v = eval(x);
                x[i] = psi[i];
                x[j] = psi[j];
                v
            };
            let pp = corner(1.0, 1.0, &mut x)?;
            let pm = corner(1.0, -1.0, &mut x)?;
            let mp = corner(-1.0, 1.0, &mut x)?;
            let mm = corner(-1.0, -1.0, &mut x)?;
            let v = (pp - pm - mp + mm) / (4.0 * h[i] * h[j]);
            hess[i * d + j] = v;
            hess[j * d + i] = v;
        }
    }
    Ok(hess)
}

/// Covariance, SE, RSE%, CI, correlation and condition number from the Hessian `hess`
/// of −2LL at `psi`; `names` name the free parameters (for the non-PD reason);
/// `natural(k, ψ)` and `slope(k, ψ)` are the inverse transform of free parameter k and
/// its derivative. Err = why the Hessian is not positive definite.
pub fn uncertainty(
    hess: &[f64],
    psi: &[f64],
    names: &[&str],
    natural: &dyn Fn(usize, f64) -> f64,
    slope: &dyn Fn(usize, f64) -> f64,
) -> Result<Uncertainty, String> {
    let d = psi.len();
    let h = DMatrix::from_row_slice(d, d, hess);
    if h.iter().any(|v| !v.is_finite()) {
        return Err("the Hessian has non-finite entries".into());
    }
    let eig = SymmetricEigen::new(h.clone());
    let (mut kmin, mut kmax) = (0, 0);
    for k in 0..d {
        if eig.eigenvalues[k] < eig.eigenvalues[kmin] {
            kmin = k;
        }
        if eig.eigenvalues[k] > eig.eigenvalues[kmax] {
            kmax = k;
        }
    }
    let (lmin, lmax) = (eig.eigenvalues[kmin], eig.eigenvalues[kmax]);
    let chol = h.clone().cholesky();
    if lmin <= 1e-12 * lmax.abs() || chol.is_none() {
        let v = eig.eigenvectors.column(kmin);
        let dominant = (0..d)
            .max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs()))
            .unwrap_or(0);
        return Err(format!(
            "Hessian not positive definite: smallest eigenvalue {lmin:.3e} (largest {lmax:.3e}), \
             direction dominated by `{}`; the parameter is not identifiable from this subject's data or sits on a bound",
            names.get(dominant).copied().unwrap_or("?")
        ));
    }
    let inv = chol
        .map(|c| c.inverse())
        .ok_or_else(|| "Cholesky factorisation failed".to_string())?;
    let cov = inv * 2.0;
    let se_psi: Vec<f64> = (0..d).map(|k| cov[(k, k)].sqrt()).collect();
    let mut u = Uncertainty {
        se: Vec::with_capacity(d),
        se_psi: se_psi.clone(),
        rse_pct: Vec::with_capacity(d),
        ci_low: Vec::with_capacity(d),
        ci_high: Vec::with_capacity(d),
        covariance: vec![0.0; d * d],
        correlation: vec![0.0; d * d],
        condition: lmax / lmin,
    };
    for k in 0..d {
        let est = natural(k, psi[k]);
        let se = slope(k, psi[k]).abs() * se_psi[k];
        u.se.push(se);
        u.rse_pct.push(100.0 * se / est.abs());
        let a = natural(k, psi[k] - Z975 * se_psi[k]);
        let b = natural(k, psi[k] + Z975 * se_psi[k]);
        u.ci_low.push(a.min(b));
        u.ci_high.push(a.max(b));
        for j in 0..d {
            u.covariance[k * d + j] = cov[(k, j)];
            u.correlation[k * d + j] = cov[(k, j)] / (se_psi[k] * se_psi[j]);
        }
    }
    Ok(u)
}
