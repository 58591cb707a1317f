//! The exact gradient of −2LL with respect to the natural-scale parameters, from the
//! predictions' Jacobian ([`crate::model::Predict::predict_jacobian`]).
//!
//! For a record with prediction f, scaled prediction g(f), standard deviation s(f, θ)
//! and z = (g(y) − g(f))/s ([`super::likelihood`]), the contribution c and its partial
//! derivatives are
//!
//! ```text
//! quantified: c = 2 ln s + z²           ∂c/∂g = −2z/s     ∂c/∂s = 2/s − 2z²/s
//! censored:   c = −2 ln Φ(z)            ∂c/∂g = 2λ/s      ∂c/∂s = 2λz/s,   λ = φ(z)/Φ(z)
//! ```
//!
//! with g' = 1 (g = identity) or 1/f (`logadd`, f above the floor; 0 below it) and s as
//! in the error models: add ∂s/∂a = 1; prop s = b|f|: ∂s/∂b = |f|, ∂s/∂f = b·sign f;
//! combined s = √(a² + b²f²): ∂s/∂a = a/s, ∂s/∂b = b f²/s, ∂s/∂f = b² f/s. Then
//! ∂F/∂θ_k = Σ_i (∂c_i/∂f_i)·∂f_i/∂θ_k + ∂c_i/∂θ_k (the residual parameters directly).
//! λ is computed as exp(ln φ(z) − ln Φ(z)) with [`super::likelihood::ln_phi`], finite in
//! the far tail.

use super::likelihood::{check_record, ln_phi, LikelihoodError, Records, LOG_FLOOR};
use crate::model::{ErrorModel, Predict};

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_7;

/// −2LL and its gradient with respect to every natural-scale parameter, `grad` of length
/// `theta.len()`, given the predictions `pred` and their Jacobian `jac` (row-major,
/// records × parameters).
pub fn neg2ll_gradient<M: Predict + ?Sized>(
    model: &M,
    records: &Records,
    theta: &[f64],
    pred: &[f64],
    jac: &[f64],
    grad: &mut [f64],
) -> Result<f64, LikelihoodError> {
    neg2ll_scoring(model, records, theta, pred, jac, grad, None)
}

/// −2LL, its gradient, and, when `info` is given (row-major, parameters × parameters),
/// the expected information of the parameters in the −2LL scale (Fisher scoring, the
/// generalised Gauss–Newton matrix, positive semi-definite): with u = ∂g/∂θ and
/// v = ∂s/∂θ of a record,
///
/// ```text
/// quantified: 2·u uᵀ/s² + 4·v vᵀ/s²   (the normal's expected information of mean and SD)
/// censored:   2λ(z + λ)·w wᵀ,  w = ∂z/∂θ = −(u + z v)/s   (exact: d²(−2 ln Φ)/dz²)
/// ```
pub fn neg2ll_scoring<M: Predict + ?Sized>(
    model: &M,
    records: &Records,
    theta: &[f64],
    pred: &[f64],
    jac: &[f64],
    grad: &mut [f64],
    mut info: Option<&mut [f64]>,
) -> Result<f64, LikelihoodError> {
    // −2LL accumulated as in likelihood::neg2ll (same terms, same order: the same bits)
    let mut value = records.constant;
    let np = theta.len();
    grad.iter_mut().for_each(|g| *g = 0.0);
    if let Some(m) = info.as_deref_mut() {
        m.iter_mut().for_each(|x| *x = 0.0);
    }
    let (mut u, mut v) = (vec![0.0; np], vec![0.0; np]);
    let outputs = model.outputs();
    for i in 0..records.len() {
        let f = pred[i];
        let error = outputs[records.outputs[i]].error;
        let (gf, dg_df) = match error {
            ErrorModel::LogAdditive { .. } if f > LOG_FLOOR => (f.ln(), 1.0 / f),
            ErrorModel::LogAdditive { .. } => (LOG_FLOOR.ln(), 0.0),
            _ => (f, 1.0),
        };
        // s, ∂s/∂f, and (parameter index, ∂s/∂θ) of the residual parameters
        let (s, ds_df, ds_dtheta): (f64, f64, [(usize, f64); 2]) = match error {
            ErrorModel::Additive { a } | ErrorModel::LogAdditive { a } => {
                (theta[a], 0.0, [(a, 1.0), (a, 0.0)])
            }
            ErrorModel::Proportional { b } => (
                theta[b] * f.abs(),
                theta[b] * f.signum(),
                [(b, f.abs()), (b, 0.0)],
            ),
            ErrorModel::Combined { a, b } => {
                let s = theta[a].hypot(theta[b] * f);
                (
                    s,
                    theta[b] * theta[b] * f / s,
                    [(a, theta[a] / s), (b, theta[b] * f * f / s)],
                )
            }
        };
        check_record(records, i, f, s)?;
        let z = (records.scaled[i] - gf) / s;
        let censored = records.censored[i];
        let lambda = if censored {
            let ln_cdf = ln_phi(z);
            value += -2.0 * ln_cdf;
            (-0.5 * z * z - LN_SQRT_2PI - ln_cdf).exp()
        } else {
            value += 2.0 * s.ln() + z * z;
            0.0
        };
        let (dc_dg, dc_ds) = if censored {
            (2.0 * lambda / s, 2.0 * lambda * z / s)
        } else {
            (-2.0 * z / s, 2.0 / s - 2.0 * z * z / s)
        };
        let row = &jac[i * np..(i + 1) * np];
        for k in 0..np {
            u[k] = dg_df * row[k];
            v[k] = ds_df * row[k];
        }
        for (k, d) in ds_dtheta {
            v[k] += d;
        }
        for k in 0..np {
            grad[k] += dc_dg * u[k] + dc_ds * v[k];
        }
        if let Some(m) = info.as_deref_mut() {
            if censored {
                let c = 2.0 * lambda * (z + lambda);
                for k in 0..np {
                    u[k] = -(u[k] + z * v[k]) / s;
                }
                add_outer(m, &u, c);
            } else {
                add_outer(m, &u, 2.0 / (s * s));
                add_outer(m, &v, 4.0 / (s * s));
            }
        }
    }
    Ok(value)
}

/// m += c·x xᵀ (row-major, skipping zero entries of x).
fn add_outer(m: &mut [f64], x: &[f64], c: f64) {
    let n = x.len();
    for (k, &xk) in x.iter().enumerate() {
        if xk == 0.0 {
            continue;
        }
        let a = c * xk;
        for (l, &xl) in x.iter().enumerate() {
            m[k * n + l] += a * xl;
        }
    }
}
