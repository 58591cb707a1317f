//! Virtual subjects: between-subject variability, covariate distributions and the
//! per-subject random stream.
//!
//! Parameters of subject i: θᵢ = h⁻¹(h(θ_pop) + ηᵢ), ηᵢ = L·zᵢ, zᵢ ~ N(0, I_k), with h
//! the parameter's transform ([`crate::model::Transform`]) and L the lower Cholesky
//! factor of Ω (Ω = LLᵀ). For the model's diagonal Ω, L = diag(ω). Parameters without a
//! random effect keep θ_pop.
//!
//! Covariates ([`CovariateDistribution`]):
//!
//! | distribution | parameters | draw | typical value |
//! |---|---|---|---|
//! | `Fixed` | value | value | value |
//! | `LogNormal` | median m, CV% c | m·exp(s·z), s² = ln(1 + (c/100)²) | m |
//! | `Normal` | mean μ, SD σ, optional [lo, hi] | μ + σ·Φ⁻¹(u), u ~ U(Φ(a), Φ(b)) (truncated by inversion) | μ |
//! | `Uniform` | lo, hi | lo + (hi − lo)·u | (lo + hi)/2 |
//! | `List` | values | one of them, each with probability 1/n | median of the list |
//!
//! Random stream: [`crate::rng::subject_rng`] (ChaCha12 seeded with `seed`, stream
//! number = the subject's global index), so every subject has its own reproducible
//! sequence whatever the thread count or shard. A subject draws, in order: covariates
//! (in declared order), z (k standard normals, ziggurat of `rand_distr`), then residual
//! errors (see [`super::run`]).

use rand::Rng;
use rand_distr::StandardNormal;
use statrs::distribution::{ContinuousCDF, Normal};

use super::SimulateError;
use crate::model::{Parameter, Role};

/// The random stream of subject `index` (0-based global index) for `seed`: the crate's
/// one per-subject stream, [`crate::rng::subject_rng`].
pub fn subject_rng(seed: u64, index: usize) -> crate::rng::SubjectRng {
    crate::rng::subject_rng(seed, index as u64)
}

/// Between-subject covariance on the estimation scale.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Omega {
    /// Diagonal, from each parameter's ω² in the model.
    #[default]
    Model,
    /// A full covariance matrix over the named parameters (row-major, symmetric,
    /// positive definite), e.g. from a population fit.
    Full {
        /// Parameter names, in the order of the matrix rows.
        parameters: Vec<String>,
        /// The matrix, row-major, `parameters.len()`² entries.
        matrix: Vec<f64>,
    },
}

/// A covariate distribution; see the module table.
#[derive(Debug, Clone, PartialEq)]
pub enum CovariateDistribution {
    /// Always this value.
    Fixed(f64),
    /// Log-normal with this median and coefficient of variation (%).
    LogNormal {
        /// Median.
        median: f64,
        /// CV% of the distribution.
        cv_pct: f64,
    },
    /// Normal with this mean and SD, optionally truncated to [lower, upper].
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower truncation bound.
        lower: Option<f64>,
        /// Upper truncation bound.
        upper: Option<f64>,
    },
    /// Uniform on [lower, upper].
    Uniform {
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// One of these values, with equal probability.
    List(Vec<f64>),
}

impl CovariateDistribution {
    /// Check the distribution's parameters; `name` is used in messages.
    pub fn check(&self, name: &str) -> Result<(), SimulateError> {
        let bad =
            |v: String, e: &str| Err(SimulateError::setting(format!("covariate {name}"), v, e));
        match self {
            CovariateDistribution::Fixed(x) if !x.is_finite() => {
                bad(x.to_string(), "a finite value")
            }
            CovariateDistribution::LogNormal { median, cv_pct } => {
                if !(median.is_finite() && *median > 0.0 && cv_pct.is_finite() && *cv_pct >= 0.0) {
                    bad(
                        format!("lognormal median {median}, cv {cv_pct}%"),
                        "a finite median > 0 and a CV% >= 0",
                    )
                } else {
                    Ok(())
                }
            }
            CovariateDistribution::Normal {
                mean,
                sd,
                lower,
                upper,
            } => {
                let lo = lower.unwrap_or(f64::NEG_INFINITY);
                let hi = upper.unwrap_or(f64::INFINITY);
                let text = format!("normal mean {mean}, sd {sd}, bounds [{lo}, {hi}]");
                if !(mean.is_finite() && sd.is_finite() && *sd >= 0.0) || lo.is_nan() || hi.is_nan()
                {
                    return bad(text, "a finite mean and an SD >= 0");
                }
                if lo >= hi || *mean < lo || *mean > hi {
                    return bad(text, "lower < upper with the mean inside the bounds");
                }
                Ok(())
            }
            CovariateDistribution::Uniform { lower, upper } => {
                if !(lower.is_finite() && upper.is_finite() && lower < upper) {
                    bad(
                        format!("uniform [{lower}, {upper}]"),
                        "finite bounds, lower < upper",
                    )
                } else {
                    Ok(())
                }
            }
            CovariateDistribution::List(v) => {
                if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
                    bad(format!("{v:?}"), "a non-empty list of finite values")
                } else {
                    Ok(())
                }
            }
            CovariateDistribution::Fixed(_) => Ok(()),
        }
    }

    /// The value of a typical subject (see the module table).
    pub fn typical(&self) -> f64 {
        match self {
            CovariateDistribution::Fixed(x) => *x,
            CovariateDistribution::LogNormal { median, .. } => *median,
            CovariateDistribution::Normal { mean, .. } => *mean,
            CovariateDistribution::Uniform { lower, upper } => 0.5 * (lower + upper),
            CovariateDistribution::List(v) => {
                let mut s = v.clone();
                s.sort_by(f64::total_cmp);
                let n = s.len();
                if n % 2 == 1 {
                    s[n / 2]
                } else {
                    0.5 * (s[n / 2 - 1] + s[n / 2])
                }
            }
        }
    }

    /// One draw (the distribution must have passed [`CovariateDistribution::check`]).
    pub fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        match self {
            CovariateDistribution::Fixed(x) => *x,
            CovariateDistribution::LogNormal { median, cv_pct } => {
                let s = (1.0 + (cv_pct / 100.0).powi(2)).ln().sqrt();
                let z: f64 = rng.sample(StandardNormal);
                median * (s * z).exp()
            }
            CovariateDistribution::Normal {
                mean,
                sd,
                lower,
                upper,
            } => {
                if lower.is_none() && upper.is_none() {
                    let z: f64 = rng.sample(StandardNormal);
                    return mean + sd * z;
                }
                if *sd == 0.0 {
                    return *mean;
                }
                let std = Normal::standard();
                let a = lower.map_or(0.0, |l| std.cdf((l - mean) / sd));
                let b = upper.map_or(1.0, |u| std.cdf((u - mean) / sd));
                let u: f64 = rng.random();
                let p = (a + (b - a) * u).clamp(1e-300, 1.0 - 1e-16);
                let x = mean + sd * std.inverse_cdf(p);
                x.clamp(
                    lower.unwrap_or(f64::NEG_INFINITY),
                    upper.unwrap_or(f64::INFINITY),
                )
            }
            CovariateDistribution::Uniform { lower, upper } => {
                let u: f64 = rng.random();
                lower + (upper - lower) * u
            }
            CovariateDistribution::List(v) => v[rng.random_range(0..v.len())],
        }
    }
}

/// Parse a covariate given on the command line: `NAME=VALUE` (fixed) or
/// `NAME~lognormal:MEDIAN:CV%`, `NAME~normal:MEAN:SD[:LOWER:UPPER]`,
/// `NAME~uniform:LOWER:UPPER`, `NAME~list:V1,V2,...`.
pub fn parse_covariate(spec: &str) -> Result<(String, CovariateDistribution), SimulateError> {
    let expected = "NAME=VALUE, NAME~lognormal:MEDIAN:CV%, NAME~normal:MEAN:SD[:LOWER:UPPER], NAME~uniform:LOWER:UPPER or NAME~list:V1,V2,...";
    let bad = || SimulateError::setting("--covariate", spec, expected);
    let number = |s: &str| s.trim().parse::<f64>().map_err(|_| bad());
    let (name, dist) = if let Some((name, value)) = spec.split_once('=') {
        (name, CovariateDistribution::Fixed(number(value)?))
    } else if let Some((name, rest)) = spec.split_once('~') {
        let (kind, args) = rest.split_once(':').ok_or_else(bad)?;
        let sep = if kind.trim() == "list" { ',' } else { ':' };
        let v = args
            .split(sep)
            .map(number)
            .collect::<Result<Vec<f64>, _>>()?;
        let dist = match (kind.trim(), v.as_slice()) {
            ("lognormal", [m, c]) => CovariateDistribution::LogNormal {
                median: *m,
                cv_pct: *c,
            },
            ("normal", [m, s]) => CovariateDistribution::Normal {
                mean: *m,
                sd: *s,
                lower: None,
                upper: None,
            },
            ("normal", [m, s, lo, hi]) => CovariateDistribution::Normal {
                mean: *m,
                sd: *s,
                lower: Some(*lo),
                upper: Some(*hi),
            },
            ("uniform", [lo, hi]) => CovariateDistribution::Uniform {
                lower: *lo,
                upper: *hi,
            },
            ("list", v) if !v.is_empty() => CovariateDistribution::List(v.to_vec()),
            _ => return Err(bad()),
        };
        (name, dist)
    } else {
        return Err(bad());
    };
    let name = name.trim().to_ascii_uppercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    dist.check(&name)?;
    Ok((name, dist))
}

/// One virtual subject before prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualSubject {
    /// Global 0-based index (id = index + 1).
    pub index: usize,
    /// Parameters on the natural scale, in the model's order.
    pub theta: Vec<f64>,
    /// Drawn covariate values, in declared order.
    pub covariates: Vec<f64>,
}

/// A checked population: typical values, random effects, covariate distributions.
#[derive(Debug, Clone)]
pub struct Population {
    parameters: Vec<Parameter>,
    typical: Vec<f64>,
    psi_typical: Vec<f64>,
    effects: Vec<usize>,
    chol: Vec<f64>,
    covariates: Vec<(String, CovariateDistribution)>,
}

impl Population {
    /// Build a population for a model's `parameters`, with typical values replaced by
    /// `overrides` (name, value), covariance `omega`, and `covariates`.
    pub fn new(
        model: &str,
        parameters: &[Parameter],
        overrides: &[(String, f64)],
        omega: &Omega,
        covariates: &[(String, CovariateDistribution)],
    ) -> Result<Self, SimulateError> {
        let mut params = parameters.to_vec();
        let find = |name: &str| {
            parameters
                .iter()
                .position(|p| p.name == name)
                .ok_or_else(|| SimulateError::UnknownName {
                    model: model.to_string(),
                    what: "parameter",
                    name: name.to_string(),
                    known: parameters
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        };
        for (name, value) in overrides {
            let i = find(name)?;
            let p = &params[i];
            if !(value.is_finite() && *value >= p.lower && *value <= p.upper) {
                return Err(SimulateError::setting(
                    format!("parameter {name}"),
                    value,
                    format!(
                        "a finite value within its bounds [{}, {}]",
                        p.lower, p.upper
                    ),
                ));
            }
            params[i].typical = *value;
        }
        let typical: Vec<f64> = params.iter().map(|p| p.typical).collect();
        let psi_typical: Vec<f64> = params.iter().map(|p| p.to_estimation(p.typical)).collect();
        if let Some(i) = psi_typical.iter().position(|x| !x.is_finite()) {
            return Err(SimulateError::setting(
                format!("parameter {}", params[i].name),
                params[i].typical,
                "a typical value strictly inside the bounds of its transform",
            ));
        }
        let (effects, chol) = match omega {
            Omega::Model => {
                let mut effects = Vec::new();
                let mut sd = Vec::new();
                for (i, p) in params.iter().enumerate() {
                    if let Some(w2) = p.omega2 {
                        if !(w2.is_finite() && w2 >= 0.0) {
                            return Err(SimulateError::setting(
                                format!("omega2 of {}", p.name),
                                w2,
                                "a finite variance >= 0",
                            ));
                        }
                        if w2 > 0.0 && p.role == Role::Structural {
                            effects.push(i);
                            sd.push(w2.sqrt());
                        }
                    }
                }
                let k = effects.len();
                let mut chol = vec![0.0; k * k];
                for (j, s) in sd.iter().enumerate() {
                    chol[j * k + j] = *s;
                }
                (effects, chol)
            }
            Omega::Full { parameters, matrix } => {
                let effects = parameters
                    .iter()
                    .map(|n| find(n))
                    .collect::<Result<Vec<_>, _>>()?;
                (effects, cholesky(parameters, matrix)?)
            }
        };
        for (name, dist) in covariates {
            dist.check(name)?;
        }
        Ok(Population {
            parameters: params,
            typical,
            psi_typical,
            effects,
            chol,
            covariates: covariates.to_vec(),
        })
    }

    /// Typical parameter values (natural scale, overrides applied).
    pub fn typical(&self) -> &[f64] {
        &self.typical
    }

    /// The parameters (overrides applied).
    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    /// Indices of the parameters with a random effect, in the order of η.
    pub fn effects(&self) -> &[usize] {
        &self.effects
    }

    /// Covariate names and distributions, in draw order.
    pub fn covariates(&self) -> &[(String, CovariateDistribution)] {
        &self.covariates
    }

    /// The typical subject: typical parameters and typical covariate values.
    pub fn typical_subject(&self, index: usize) -> VirtualSubject {
        VirtualSubject {
            index,
            theta: self.typical.clone(),
            covariates: self.covariates.iter().map(|(_, d)| d.typical()).collect(),
        }
    }

    /// Draw subject `index` from `rng` (see the module header for the order of draws).
    pub fn draw<R: Rng>(&self, index: usize, rng: &mut R) -> VirtualSubject {
        let covariates = self.covariates.iter().map(|(_, d)| d.draw(rng)).collect();
        let k = self.effects.len();
        let z: Vec<f64> = (0..k).map(|_| rng.sample(StandardNormal)).collect();
        let mut theta = self.typical.clone();
        for (j, &p) in self.effects.iter().enumerate() {
            let eta: f64 = (0..=j).map(|m| self.chol[j * k + m] * z[m]).sum();
            let par = &self.parameters[p];
            theta[p] = par.to_natural(self.psi_typical[p] + eta);
        }
        VirtualSubject {
            index,
            theta,
            covariates,
        }
    }
}

/// Lower Cholesky factor (row-major) of a symmetric positive-definite matrix.
fn cholesky(names: &[String], m: &[f64]) -> Result<Vec<f64>, SimulateError> {
    let k = names.len();
    let bad = |what: &str| {
        Err(SimulateError::setting(
            "omega",
            format!("{k}x{k} matrix over {}", names.join(", ")),
            what,
        ))
    };
    if m.len() != k * k {
        return bad("a square matrix with one row and column per parameter");
    }
    if m.iter().any(|x| !x.is_finite()) {
        return bad("finite entries");
    }
    for i in 0..k {
        for j in 0..i {
            let (a, b) = (m[i * k + j], m[j * k + i]);
            if (a - b).abs() > 1e-12 * (1.0 + a.abs().max(b.abs())) {
                return bad("a symmetric matrix");
            }
        }
    }
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (0..j).map(|m2| l[i * k + m2] * l[j * k + m2]).sum();
            if i == j {
                let d = m[i * k + i] - s;
                if d.is_nan() || d < 0.0 {
                    return bad("a positive semi-definite matrix");
                }
                l[i * k + i] = d.sqrt();
            } else if l[j * k + j] > 0.0 {
                l[i * k + j] = (m[i * k + j] - s) / l[j * k + j];
            } else if (m[i * k + j] - s).abs() > 1e-12 {
                return bad("a positive semi-definite matrix");
            }
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_of_a_2x2_matrix_by_hand() {
        // [[4, 2], [2, 5]] = L Lᵀ with L = [[2, 0], [1, 2]] (hand computation).
        let l = cholesky(&["a".into(), "b".into()], &[4.0, 2.0, 2.0, 5.0]).unwrap();
        assert_eq!(l, vec![2.0, 0.0, 1.0, 2.0]);
        assert!(cholesky(&["a".into(), "b".into()], &[1.0, 2.0, 2.0, 1.0]).is_err());
        assert!(cholesky(&["a".into(), "b".into()], &[1.0, 0.5, 0.4, 1.0]).is_err());
    }

    #[test]
    fn truncated_normal_stays_in_bounds() {
        let d = CovariateDistribution::Normal {
            mean: 70.0,
            sd: 15.0,
            lower: Some(40.0),
            upper: Some(120.0),
        };
        d.check("WT").unwrap();
        let mut rng = subject_rng(1, 0);
        for _ in 0..10_000 {
            let x = d.draw(&mut rng);
            assert!((40.0..=120.0).contains(&x), "{x}");
        }
    }
}
