//! Simulating a fitted model: typical values and between-subject variability read from
//! the output directory of `cartkin fit --method individual`.
//!
//! - Typical value of each estimated parameter: the `estimate` column of
//!   `parameters.csv` (geometric mean across subjects for log parameters).
//! - Between-subject variance of each estimated parameter on its estimation scale ψ:
//!   the sample variance (n − 1) of ψ_i = transform(θ̂_i) over the subjects whose fit
//!   reached an optimum (`individual.csv` status `converged` or `hessian_not_pd`).
//!   Individual estimates carry their own estimation error, so this ω² is an upper
//!   bound of the population variance (a population fit estimates Ω itself).
//! - Parameters the fit did not estimate keep the model's typical value and ω²;
//!   residual-error parameters take the fit's typical value and no random effect.
//!
//! The result is a diagonal [`Omega::Full`] over every parameter with variability.
//!
//! A population fit (`--method foce`; its `parameters.csv` has `omega2_…` rows) is read
//! by [`FittedPopulation::read_population`]: every parameter's `estimate` (θ and σ,
//! fixed ones at their fixed values) and the estimated Ω, variances `omega2_P` and
//! covariances `omega2_P_Q`, as a full [`Omega::Full`] over the parameters with η.

use std::path::Path;

use super::{Omega, SimulateError};
use crate::model::{Predict, Role};

/// Typical values and between-subject covariance taken from a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedPopulation {
    /// (parameter, typical value on the natural scale) for every estimated parameter.
    pub typical: Vec<(String, f64)>,
    /// Diagonal covariance on the estimation scale.
    pub omega: Omega,
    /// Subjects whose estimates entered ω².
    pub subjects: usize,
}

fn bad(file: &Path, line: usize, message: impl Into<String>) -> SimulateError {
    SimulateError::InvalidSetting {
        name: "--fit".into(),
        value: format!("{}:{line}", file.display()),
        expected: message.into(),
    }
}

/// Read a CSV file into its header and rows.
fn read_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), SimulateError> {
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| bad(path, 1, format!("a readable CSV file ({e})")))?;
    let header = reader
        .headers()
        .map_err(|e| bad(path, 1, format!("a CSV header ({e})")))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(path, k + 2, format!("a CSV record ({e})")))?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

fn column(header: &[String], name: &str, path: &Path) -> Result<usize, SimulateError> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        bad(
            path,
            1,
            format!("a column `{name}` (written by cartkin fit)"),
        )
    })
}

/// Whether the `parameters.csv` of `dir` is a population fit's (has `omega2_…` rows).
pub fn is_population_fit(dir: &Path) -> Result<bool, SimulateError> {
    let path = dir.join("parameters.csv");
    let (header, rows) = read_table(&path)?;
    let c = column(&header, "parameter", &path)?;
    Ok(rows
        .iter()
        .any(|r| r.get(c).is_some_and(|n| n.starts_with("omega2_"))))
}

impl FittedPopulation {
    /// Read the `parameters.csv` of a population fit in `dir`, for `model` (the model
    /// that was fitted): all typical values and the full Ω (module header).
    pub fn read_population(
        dir: &Path,
        model: &dyn Predict,
    ) -> Result<FittedPopulation, SimulateError> {
        let params = model.parameters();
        let path = dir.join("parameters.csv");
        let (header, rows) = read_table(&path)?;
        let (c_name, c_est) = (
            column(&header, "parameter", &path)?,
            column(&header, "estimate", &path)?,
        );
        let mut typical = Vec::new();
        let mut omega: Vec<((usize, usize), f64)> = Vec::new();
        let mut subjects = 0;
        if let Some(c_n) = header.iter().position(|h| h == "n") {
            subjects = rows
                .first()
                .and_then(|r| r.get(c_n))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
        for (k, row) in rows.iter().enumerate() {
            let field = |c: usize| row.get(c).map(String::as_str).unwrap_or("");
            let name = field(c_name);
            if name.starts_with("shrinkage_") {
                continue;
            }
            let value = || -> Result<f64, SimulateError> {
                field(c_est)
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        bad(
                            &path,
                            k + 2,
                            format!("a finite number in `estimate` for `{name}`"),
                        )
                    })
            };
            if let Some(index) = model.parameter_index(name) {
                typical.push((params[index].name.clone(), value()?));
            } else if let Some(pair) = omega_element(name, params) {
                omega.push((pair, value()?));
            } else {
                return Err(bad(
                    &path,
                    k + 2,
                    format!(
                        "a parameter of model `{}` or an omega2_P[_Q] row, not `{name}`",
                        model.name()
                    ),
                ));
            }
        }
        let mut effects: Vec<usize> = omega
            .iter()
            .filter(|((p, q), _)| p == q)
            .map(|((p, _), _)| *p)
            .collect();
        effects.sort_unstable();
        if effects.is_empty() {
            return Err(bad(&path, 1, "omega2_P rows (a population fit)"));
        }
        let m = effects.len();
        let mut matrix = vec![0.0; m * m];
        for ((p, q), v) in omega {
            let (Some(i), Some(j)) = (
                effects.iter().position(|&e| e == p),
                effects.iter().position(|&e| e == q),
            ) else {
                return Err(bad(
                    &path,
                    1,
                    "a variance omega2_P for every parameter of a covariance omega2_P_Q",
                ));
            };
            matrix[i * m + j] = v;
            matrix[j * m + i] = v;
        }
        Ok(FittedPopulation {
            typical,
            omega: Omega::Full {
                parameters: effects.iter().map(|&i| params[i].name.clone()).collect(),
                matrix,
            },
            subjects,
        })
    }

    /// Read `parameters.csv` and `individual.csv` of the fit directory `dir`, for `model`
    /// (the model that was fitted).
    pub fn read(dir: &Path, model: &dyn Predict) -> Result<FittedPopulation, SimulateError> {
        let params = model.parameters();
        let unknown = |name: &str| SimulateError::UnknownName {
            model: model.name().to_string(),
            what: "parameter",
            name: name.to_string(),
            known: params
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };

        let path = dir.join("parameters.csv");
        let (header, rows) = read_table(&path)?;
        let (c_name, c_est, c_fixed) = (
            column(&header, "parameter", &path)?,
            column(&header, "estimate", &path)?,
            column(&header, "fixed", &path)?,
        );
        let mut typical = Vec::new();
        for (k, row) in rows.iter().enumerate() {
            let field = |c: usize| row.get(c).map(String::as_str).unwrap_or("");
            if field(c_fixed) != "false" {
                continue;
            }
            let name = field(c_name);
            let index = model.parameter_index(name).ok_or_else(|| unknown(name))?;
            let value: f64 = field(c_est)
                .parse()
                .map_err(|_| bad(&path, k + 2, format!("a number in `estimate` for `{name}`")))?;
            if !value.is_finite() {
                return Err(bad(&path, k + 2, format!("a finite estimate for `{name}`")));
            }
            typical.push((params[index].name.clone(), value));
        }
        if typical.is_empty() {
            return Err(bad(&path, 1, "at least one estimated parameter"));
        }

        let path = dir.join("individual.csv");
        let (header, rows) = read_table(&path)?;
        let c_status = column(&header, "status", &path)?;
        let reached: Vec<(usize, &Vec<String>)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                matches!(
                    r.get(c_status).map(String::as_str),
                    Some("converged") | Some("hessian_not_pd")
                )
            })
            .collect();
        if reached.len() < 2 {
            return Err(bad(
                &path,
                1,
                "at least two subjects whose fit reached an optimum (to estimate a variance)",
            ));
        }

        let mut names = Vec::new();
        let mut variances = Vec::new();
        for (index, p) in params.iter().enumerate() {
            // Residual-error parameters get their typical value, never a random effect.
            let fitted = p.role == Role::Structural && typical.iter().any(|(n, _)| *n == p.name);
            let variance = if fitted {
                let c = column(&header, &p.name, &path)?;
                let mut psi = Vec::with_capacity(reached.len());
                for (k, row) in &reached {
                    let v: f64 = row.get(c).and_then(|s| s.parse().ok()).ok_or_else(|| {
                        bad(&path, k + 2, format!("a number in column `{}`", p.name))
                    })?;
                    psi.push(p.to_estimation(v));
                }
                let n = psi.len() as f64;
                let mean = psi.iter().sum::<f64>() / n;
                let var = psi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
                if !var.is_finite() {
                    return Err(bad(
                        &path,
                        1,
                        format!("estimates of `{}` inside its bounds", p.name),
                    ));
                }
                var
            } else {
                params[index].omega2.unwrap_or(0.0)
            };
            if variance > 0.0 {
                names.push(p.name.clone());
                variances.push(variance);
            }
        }
        let m = names.len();
        let mut matrix = vec![0.0; m * m];
        for (i, v) in variances.iter().enumerate() {
            matrix[i * m + i] = *v;
        }
        Ok(FittedPopulation {
            typical,
            omega: Omega::Full {
                parameters: names,
                matrix,
            },
            subjects: reached.len(),
        })
    }
}

/// The parameter indices (P, Q) of an `omega2_P` or `omega2_P_Q` name (names may hold
/// underscores: every split is tried against the model's parameters).
fn omega_element(name: &str, params: &[crate::model::Parameter]) -> Option<(usize, usize)> {
    let rest = name.strip_prefix("omega2_")?;
    let index = |n: &str| params.iter().position(|p| p.name == n);
    if let Some(i) = index(rest) {
        return Some((i, i));
    }
    rest.match_indices('_')
        .find_map(|(at, _)| Some((index(&rest[..at])?, index(&rest[at + 1..])?)))
}
