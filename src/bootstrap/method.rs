//! The refit of one bootstrap replicate with the fit's method and settings: the one
//! place that dispatches on the method (`run.json` `method`). A new estimation method
//! is one variant of [`Refit`], one arm in [`Refit::from_run`] and one in
//! [`Refit::refit`].
//!
//! | method | refit | `ofv` | parameters | converged when |
//! |---|---|---|---|---|
//! | `individual` | per-subject maximum likelihood, the fit's settings and seed | Σ −2LL over subjects with an estimate | each free parameter's `parameters.csv` estimate (geometric mean for log parameters) over the subjects at an optimum | every subject's fit reached an optimum |
//! | `foce` | FOCE-I / Laplacian, the fit's settings, Ω blocks, fixed parameters and analytes; no covariance step, no NPDE | OFV (NONMEM convention) | free θ and σ (natural scale), then the Ω elements | the outer optimiser converged |

use serde_json::Value;

use crate::data::{Analyte, Dataset};
use crate::estimate::population::{
    fit_population, FoceSettings, PopulationModel, PopulationOptions,
};
use crate::estimate::{fit_individuals_observed, summarise, FitOptions, FitSettings};
use crate::model::Predict;

/// How a replicate is refitted: the method and its options.
#[derive(Debug, Clone)]
pub enum Refit {
    /// Per-subject maximum likelihood.
    Individual(FitOptions),
    /// Population fit by FOCE-I (Laplacian with censored records).
    Foce(PopulationOptions),
}

/// Outcome of a replicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicateStatus {
    /// Converged (see the module table).
    Converged,
    /// Estimates written, but not converged.
    NotConverged,
    /// No estimate.
    Failed,
}

impl ReplicateStatus {
    /// The text in `bootstrap.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicateStatus::Converged => "converged",
            ReplicateStatus::NotConverged => "not_converged",
            ReplicateStatus::Failed => "failed",
        }
    }

    /// The status written as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Converged, Self::NotConverged, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A replicate's refit: status, objective, one value per [`Refit::parameter_names`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateFit {
    /// Outcome.
    pub status: ReplicateStatus,
    /// The objective (module table); `None` when failed.
    pub ofv: Option<f64>,
    /// Estimates, in the order of the parameter names.
    pub values: Vec<Option<f64>>,
}

impl Refit {
    /// The refit of a fit whose run.json is `run`, with the fit's `fixed` parameters and
    /// `analytes`, for `model`; `threads` for the individual method's setting.
    pub fn from_run(
        run: &Value,
        model: &dyn Predict,
        fixed: &[(String, f64)],
        analytes: Option<Vec<Analyte>>,
        threads: usize,
    ) -> Result<Refit, String> {
        let method = run["method"].as_str().unwrap_or("individual");
        let settings = |what: &str| format!("run.json: settings of method `{method}`: {what}");
        match method {
            "individual" => {
                let mut s: FitSettings = serde_json::from_value(run["settings"].clone())
                    .map_err(|e| settings(&e.to_string()))?;
                s.threads = threads;
                Ok(Refit::Individual(FitOptions {
                    analytes,
                    fixed: fixed.to_vec(),
                    settings: s.check().map_err(|e| settings(&e.to_string()))?,
                }))
            }
            "foce" => {
                let s: FoceSettings = serde_json::from_value(run["settings"].clone())
                    .map_err(|e| settings(&e.to_string()))?;
                // Blocks recorded beyond the model file's own (`--omega-block`).
                let own: Vec<Vec<String>> = model.omega_blocks().to_vec();
                let blocks: Vec<Vec<String>> = run["omega_blocks"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|b| {
                                let names: Vec<String> = b
                                    .as_array()?
                                    .iter()
                                    .filter_map(|n| n.as_str().map(String::from))
                                    .collect();
                                (names.len() > 1 && !own.iter().any(|o| same_set(o, &names)))
                                    .then_some(names)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Refit::Foce(PopulationOptions {
                    analytes,
                    fixed: fixed.to_vec(),
                    blocks,
                    settings: s,
                    covariance: None,
                    npde_replicates: 0,
                    seed: run["seed"]
                        .as_u64()
                        .unwrap_or(PopulationOptions::default().seed),
                    ..PopulationOptions::default()
                }))
            }
            other => Err(format!(
                "run.json: method `{other}` cannot be bootstrapped (methods: individual, foce)"
            )),
        }
    }

    /// The method's name, as in run.json.
    pub fn method(&self) -> &'static str {
        match self {
            Refit::Individual(_) => "individual",
            Refit::Foce(_) => "foce",
        }
    }

    /// The names of the estimated parameters, in the order of [`ReplicateFit::values`].
    pub fn parameter_names(&self, model: &dyn Predict) -> Result<Vec<String>, String> {
        let fixed = |f: &[(String, f64)]| {
            crate::estimate::individual::resolve_fixed(model, f).map_err(|e| e.to_string())
        };
        match self {
            Refit::Individual(o) => {
                let map = crate::estimate::objective::ParameterMap::new(model, &fixed(&o.fixed)?);
                Ok(map
                    .free
                    .iter()
                    .map(|&i| model.parameters()[i].name.clone())
                    .collect())
            }
            Refit::Foce(o) => {
                let mut blocks = model.omega_blocks().to_vec();
                blocks.extend(o.blocks.iter().cloned());
                let pop = PopulationModel::new(model, &fixed(&o.fixed)?, &blocks)
                    .map_err(|e| e.to_string())?;
                Ok(pop.packed_names())
            }
        }
    }

    /// Refit `dataset` with `model` (its typical values the start).
    pub fn refit(&self, model: &dyn Predict, dataset: &Dataset) -> ReplicateFit {
        let failed = || ReplicateFit {
            status: ReplicateStatus::Failed,
            ofv: None,
            values: Vec::new(),
        };
        match self {
            Refit::Individual(o) => {
                let Ok(fit) = fit_individuals_observed(model, dataset, o, &|_| {}) else {
                    return failed();
                };
                let reached: Vec<_> = fit
                    .subjects
                    .iter()
                    .filter(|s| s.status.optimum_reached())
                    .collect();
                if reached.is_empty() {
                    return failed();
                }
                let rows = summarise(model, &fit);
                ReplicateFit {
                    status: if reached.len() == fit.subjects.len() {
                        ReplicateStatus::Converged
                    } else {
                        ReplicateStatus::NotConverged
                    },
                    ofv: Some(fit.subjects.iter().filter_map(|s| s.neg2ll).sum()),
                    values: fit.map.free.iter().map(|&i| rows[i].estimate).collect(),
                }
            }
            Refit::Foce(o) => {
                let Ok(fit) = fit_population(model, dataset, o, &|_| {}) else {
                    return failed();
                };
                let pop = &fit.problem.pop;
                let mut values: Vec<Option<f64>> =
                    pop.map.free.iter().map(|&i| Some(fit.theta[i])).collect();
                values.extend(
                    pop.omega_elements()
                        .iter()
                        .map(|&(k, l)| Some(fit.omega[(k, l)])),
                );
                ReplicateFit {
                    status: if fit.outer.converged {
                        ReplicateStatus::Converged
                    } else {
                        ReplicateStatus::NotConverged
                    },
                    ofv: Some(fit.ofv()),
                    values,
                }
            }
        }
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| y.trim() == x.trim()))
}
