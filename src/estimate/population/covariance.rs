//! Covariance step of a population fit, as NONMEM's $COVARIANCE.
//!
//! On the packed scale x (θ on its estimation scale, log-Cholesky Ω):
//! - R = ∇²OFV by central second differences of the objective (Abramowitz & Stegun
//!   25.3.23/25.3.26) with steps h_k = `step`·max(1, |x_k|), or, where the FOCE-I
//!   gradient is exact ([`super::foce_gradient`]), by central differences of that
//!   gradient ([`r_matrix_from_gradients`]);
//! - S = Σ_i ∇OFV_i ∇OFV_iᵀ, the per-subject gradients at the optimum (exact, or by
//!   central differences);
//! - Cov(x̂) = R⁻¹SR⁻¹ (the sandwich, NONMEM's default). With OFV = −2 ln L the
//!   information is R/2 and the score outer products S/4, so the sandwich
//!   (R/2)⁻¹(S/4)(R/2)⁻¹ = R⁻¹SR⁻¹ needs no factor; the R-only form is 2R⁻¹.
//!
//! Reported quantities q(x) — each free θ on its natural scale and each estimated Ω
//! element — get Cov(q̂) = J Cov(x̂) Jᵀ (delta method, J = ∂q/∂x by central differences of
//! the cheap map x ↦ q). SE = √diag, RSE% = 100·SE/|q̂|. 95% CI: for θ, the Wald interval
//! on the estimation scale transformed back; for Ω elements, q̂ ± 1.96·SE. The
//! correlation matrix is that of Cov(q̂); the condition number is λmax/λmin of R.
//! A singular or indefinite R (Cholesky fails) is reported and the fit is kept.

use nalgebra::{DMatrix, SymmetricEigen};

use super::foce_gradient;
use super::objective::PopulationProblem;
use crate::estimate::covariance::Z975;
use crate::model::Predict;

/// Which covariance matrix was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CovarianceKind {
    /// R⁻¹SR⁻¹.
    Sandwich,
    /// 2R⁻¹.
    RInverse,
}

/// Uncertainty of the population estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationUncertainty {
    /// The matrix used.
    pub kind: CovarianceKind,
    /// Names of the reported quantities (θ names, then `omega2_…`).
    pub names: Vec<String>,
    /// Estimates q̂.
    pub estimate: Vec<f64>,
    /// SE(q̂).
    pub se: Vec<f64>,
    /// 100·SE/|q̂|.
    pub rse_pct: Vec<f64>,
    /// 95% CI lower end.
    pub ci_low: Vec<f64>,
    /// 95% CI upper end.
    pub ci_high: Vec<f64>,
    /// Correlation of q̂ (row-major).
    pub correlation: Vec<f64>,
    /// λmax/λmin of R.
    pub condition: f64,
    /// R (row-major, packed scale).
    pub r: Vec<f64>,
    /// S (row-major, packed scale).
    pub s: Vec<f64>,
}

/// The reported quantities at packed x: free θ natural, then Ω elements.
pub fn reported<M: Predict + ?Sized>(problem: &PopulationProblem<'_, M>, x: &[f64]) -> Vec<f64> {
    let pop = &problem.pop;
    let v = pop.unpack(x);
    let params = problem.model.parameters();
    let mut q: Vec<f64> = pop
        .map
        .free
        .iter()
        .zip(&v.psi)
        .map(|(&i, &p)| params[i].to_natural(p))
        .collect();
    q.extend(pop.omega_elements().iter().map(|&(k, l)| v.omega[(k, l)]));
    q
}

/// R by central second differences of the objective at x (EBEs warm-started from
/// `warm`), row-major.
pub fn r_matrix<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    f0: f64,
    warm: &[Vec<f64>],
    step: f64,
) -> Result<Vec<f64>, String> {
    let p = x.len();
    let h: Vec<f64> = x.iter().map(|v| step * v.abs().max(1.0)).collect();
    let eval = |probe: &[f64]| problem.evaluate(probe, warm).map(|e| e.neg2ll);
    let mut probe = x.to_vec();
    let mut r = vec![0.0; p * p];
    for i in 0..p {
        probe[i] = x[i] + h[i];
        let up = eval(&probe)?;
        probe[i] = x[i] - h[i];
        let down = eval(&probe)?;
        probe[i] = x[i];
        r[i * p + i] = (up - 2.0 * f0 + down) / (h[i] * h[i]);
        for j in 0..i {
            let mut corner = |si: f64, sj: f64| {
                probe[i] = x[i] + si * h[i];
                probe[j] = x[j] + sj * h[j];
                let v = eval(&probe);
                probe[i] = x[i];
                probe[j] = x[j];
                v
            };
            let v = (corner(1.0, 1.0)? - corner(1.0, -1.0)? - corner(-1.0, 1.0)?
                + corner(-1.0, -1.0)?)
                / (4.0 * h[i] * h[j]);
            r[i * p + j] = v;
            r[j * p + i] = v;
        }
    }
    Ok(r)
}

/// R by central differences of the exact gradient ([`super::foce_gradient`]; FOCE-I
/// with exact derivatives), symmetrised, with steps h_k = `step`·max(1, |x_k|); EBEs
/// warm-started from `warm`. 2p evaluations and gradients instead of the 2p² of
/// [`r_matrix`]. Also returns the per-subject gradients at x (for S).
pub fn r_matrix_from_gradients<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    warm: &[Vec<f64>],
    step: f64,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    let p = x.len();
    let gradient_at = |probe: &[f64]| {
        problem
            .evaluate(probe, warm)
            .and_then(|e| foce_gradient::gradient(problem, probe, &e.modes, step))
    };
    let (_, per_subject) = gradient_at(x)?;
    let mut r = vec![0.0; p * p];
    let mut probe = x.to_vec();
    for k in 0..p {
        let h = step * x[k].abs().max(1.0);
        probe[k] = x[k] + h;
        let (up, _) = gradient_at(&probe)?;
        probe[k] = x[k] - h;
        let (down, _) = gradient_at(&probe)?;
        probe[k] = x[k];
        for i in 0..p {
            r[i * p + k] = (up[i] - down[i]) / (2.0 * h);
        }
    }
    for i in 0..p {
        for j in 0..i {
            let v = 0.5 * (r[i * p + j] + r[j * p + i]);
            r[i * p + j] = v;
            r[j * p + i] = v;
        }
    }
    Ok((r, per_subject))
}

/// The covariance step at packed x̂ with R, per-subject gradients (module docs).
pub fn uncertainty<M: Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    r: &[f64],
    subject_gradients: &[Vec<f64>],
    kind: CovarianceKind,
) -> Result<PopulationUncertainty, String> {
    let p = x.len();
    let rm = DMatrix::from_row_slice(p, p, r);
    if rm.iter().any(|v| !v.is_finite()) {
        return Err("the R matrix (Hessian of the OFV) has non-finite elements".into());
    }
    let eig = SymmetricEigen::new(rm.clone());
    let (lmin, lmax) = eig
        .eigenvalues
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let names_packed = problem.pop.packed_names();
    let Some(chol) = rm.clone().cholesky().filter(|_| lmin > 1e-12 * lmax.abs()) else {
        let k = eig.eigenvalues.imin();
        let v = eig.eigenvectors.column(k);
        let dominant = v.iamax();
        return Err(format!(
            "the R matrix (Hessian of the OFV) is not positive definite (smallest eigenvalue {lmin:.3e}, largest {lmax:.3e}; the direction of the smallest is dominated by {}): no standard errors",
            names_packed[dominant]
        ));
    };
    let rinv = chol.inverse();
    let mut s = DMatrix::zeros(p, p);
    for g in subject_gradients {
        let v = nalgebra::DVector::from_column_slice(g);
        s += &v * v.transpose();
    }
    let cov_x = match kind {
        CovarianceKind::Sandwich => &rinv * &s * &rinv,
        CovarianceKind::RInverse => &rinv * 2.0,
    };
    // J = ∂q/∂x by central differences (the map is cheap and smooth).
    let q0 = reported(problem, x);
    let m = q0.len();
    let mut jac = DMatrix::zeros(m, p);
    let mut probe = x.to_vec();
    for k in 0..p {
        let h = 1e-6 * x[k].abs().max(1.0);
        probe[k] = x[k] + h;
        let up = reported(problem, &probe);
        probe[k] = x[k] - h;
        let down = reported(problem, &probe);
        probe[k] = x[k];
        for i in 0..m {
            jac[(i, k)] = (up[i] - down[i]) / (2.0 * h);
        }
    }
    let cov_q = &jac * &cov_x * jac.transpose();
    let se: Vec<f64> = (0..m).map(|i| cov_q[(i, i)].max(0.0).sqrt()).collect();
    let nt = problem.pop.n_theta();
    let params = problem.model.parameters();
    let mut ci_low = Vec::with_capacity(m);
    let mut ci_high = Vec::with_capacity(m);
    for i in 0..m {
        if i < nt {
            let param = &params[problem.pop.map.free[i]];
            let se_psi = cov_x[(i, i)].max(0.0).sqrt();
            ci_low.push(param.to_natural(x[i] - Z975 * se_psi));
            ci_high.push(param.to_natural(x[i] + Z975 * se_psi));
        } else {
            ci_low.push(q0[i] - Z975 * se[i]);
            ci_high.push(q0[i] + Z975 * se[i]);
        }
    }
    let mut correlation = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            let d = se[i] * se[j];
            correlation[i * m + j] = if d > 0.0 { cov_q[(i, j)] / d } else { 0.0 };
        }
    }
    let mut names: Vec<String> = problem
        .pop
        .map
        .free
        .iter()
        .map(|&i| params[i].name.clone())
        .collect();
    names.extend(
        problem
            .pop
            .omega_elements()
            .iter()
            .map(|&(k, l)| problem.pop.omega_name(k, l)),
    );
    Ok(PopulationUncertainty {
        kind,
        names,
        rse_pct: (0..m).map(|i| 100.0 * se[i] / q0[i].abs()).collect(),
        estimate: q0,
        se,
        ci_low,
        ci_high,
        correlation,
        condition: lmax / lmin,
        r: r.to_vec(),
        s: s.as_slice().to_vec(),
    })
}
