//! A complete SAEM fit: SAEM ([`super::driver`]), the conditional distributions and the
//! importance-sampling −2LL ([`super::posterior`]), the EBEs and the linearised −2LL,
//! the standard errors, the diagnostics and shrinkage (shared with FOCE).
//!
//! - EBEs: the modes of p(η_i | y_i; θ̂) by Fisher scoring from the conditional means
//!   ([`crate::estimate::population::ebe`]).
//! - −2LL by linearisation: the FOCE-I objective (Laplacian when records are censored)
//!   of the population problem at θ̂ ([`crate::estimate::population::objective`]).
//! - Standard errors by stochastic approximation (the default): the observed Fisher
//!   information of Louis's formula from the chains at θ̂ ([`super::fisher`]),
//!   Cov(x̂) = I⁻¹, reported through the delta method of
//!   [`crate::estimate::population::covariance`] (as R = 2I with `r_inverse`).
//! - Standard errors by linearisation (on request): the covariance step of
//!   [`crate::estimate::population::covariance`] at θ̂ on that objective — the observed
//!   Fisher information R/2 of the linearised likelihood, Cov = 2R⁻¹ (`r_inverse`), or the
//!   sandwich R⁻¹SR⁻¹. (Monolix's linearisation option computes the Fisher information
//!   of the FO-linearised model around the EBEs.)
//! - Diagnostics (PRED, IPRED at the EBE, CWRES, NPDE) and η/ε-shrinkage from the EBEs.
//! - Warnings on the variances of Ω ([`variance_warnings`]): an ω² that collapsed toward
//!   0 or exploded is reported (SAEM does not bound them; the annealing only slows their
//!   fall during exploration).

use nalgebra::DMatrix;

use super::driver::{run_saem, SaemEstimate, SaemIteration};
use super::fisher::Louis;
use super::kernels::Current;
use super::posterior::{
    conditional_moments, importance_neg2ll, ConditionalMoments, ImportanceLikelihood,
};
use super::settings::CheckedSaem;
use crate::data::{Analyte, Dataset};
use crate::estimate::population::covariance::{
    r_matrix, uncertainty, CovarianceKind, PopulationUncertainty,
};
use crate::estimate::population::diagnostics::{estimate_diagnostics, RecordDiagnostics};
use crate::estimate::population::foce::gradient;
use crate::estimate::population::objective::{Evaluation, PopulationProblem};
use crate::estimate::population::population_problem;
use crate::estimate::population::tables::PopulationView;
use crate::model::Predict;

/// How the standard errors are computed (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StandardErrors {
    /// Louis's observed information from the chains.
    StochasticApproximation,
    /// The covariance step on the linearised likelihood.
    Linearisation(CovarianceKind),
    /// None.
    None,
}

/// What to fit and how.
#[derive(Debug, Clone)]
pub struct SaemOptions {
    /// Use only these analytes (`None`: every analyte the model predicts).
    pub analytes: Option<Vec<Analyte>>,
    /// Parameters fixed by name to natural-scale values.
    pub fixed: Vec<(String, f64)>,
    /// Ω blocks by parameter names, besides the model file's `block` lines.
    pub blocks: Vec<Vec<String>>,
    /// SAEM settings.
    pub settings: CheckedSaem,
    /// How the standard errors are computed.
    pub standard_errors: StandardErrors,
    /// NPDE replicates per subject (0: none).
    pub npde_replicates: usize,
    /// Relative step of the R matrix's second differences.
    pub r_step: f64,
}

impl SaemOptions {
    /// Default options with `settings`.
    pub fn new(settings: CheckedSaem) -> SaemOptions {
        SaemOptions {
            analytes: None,
            fixed: Vec::new(),
            blocks: Vec::new(),
            settings,
            standard_errors: StandardErrors::StochasticApproximation,
            npde_replicates: 1000,
            r_step: 2e-3,
        }
    }
}

/// The result of a SAEM fit.
pub struct SaemFit<'a, M: Predict + ?Sized> {
    /// The problem.
    pub problem: PopulationProblem<'a, M>,
    /// SAEM itself.
    pub saem: SaemEstimate,
    /// Free θ on the estimation scale.
    pub psi: Vec<f64>,
    /// Ω.
    pub omega: DMatrix<f64>,
    /// All parameters at their population values (natural scale).
    pub theta: Vec<f64>,
    /// Conditional means and SDs of η.
    pub conditional: ConditionalMoments,
    /// The linearised objective at θ̂ (its modes are the EBEs).
    pub linearised: Evaluation,
    /// The importance-sampling −2LL (`None` when not requested).
    pub importance: Option<ImportanceLikelihood>,
    /// Standard errors, or why there are none.
    pub uncertainty: Result<PopulationUncertainty, String>,
    /// Why Louis's information failed when the standard errors fell back to
    /// linearisation (2R⁻¹).
    pub se_fallback: Option<String>,
    /// Per-subject diagnostics.
    pub diagnostics: Vec<RecordDiagnostics>,
    /// η-shrinkage (%).
    pub eta_shrinkage: Vec<Option<f64>>,
    /// ε-shrinkage (%).
    pub eps_shrinkage: Option<f64>,
    /// Warnings on the estimates ([`variance_warnings`]).
    pub warnings: Vec<String>,
    /// Likelihood evaluations that solved the model after SAEM (conditional
    /// distributions and Louis's information, importance sampling).
    pub post_evaluations: u64,
}

impl<M: Predict + ?Sized> SaemFit<'_, M> {
    /// The reported −2LL: importance sampling when computed, else linearisation.
    pub fn neg2ll(&self) -> f64 {
        self.importance
            .as_ref()
            .map_or(self.linearised.neg2ll, |i| i.neg2ll)
    }

    /// Which method gave [`SaemFit::neg2ll`].
    pub fn neg2ll_method(&self) -> &'static str {
        if self.importance.is_some() {
            "importance_sampling"
        } else {
            "linearisation"
        }
    }

    /// Number of estimated population parameters (θ, σ and Ω elements).
    pub fn n_parameters(&self) -> usize {
        self.problem.pop.n_packed()
    }

    /// The view the table writers take.
    pub fn view(&self) -> PopulationView<'_, M> {
        PopulationView {
            problem: &self.problem,
            psi: &self.psi,
            omega: &self.omega,
            theta: &self.theta,
            uncertainty: self.uncertainty.as_ref().ok(),
            diagnostics: &self.diagnostics,
            eta_shrinkage: &self.eta_shrinkage,
            eps_shrinkage: self.eps_shrinkage,
            modes: &self.linearised.modes,
            subject_neg2ll: self
                .importance
                .as_ref()
                .map_or(&self.linearised.per_subject, |i| &i.per_subject),
            conditional: Some((&self.conditional.mean, &self.conditional.sd)),
        }
    }
}

/// An ω² below this fraction of its initial value has collapsed toward 0.
pub const COLLAPSED: f64 = 0.01;
/// An ω² above this multiple of its initial value (and above [`EXPLODED_MIN`]) has
/// exploded.
pub const EXPLODED: f64 = 5.0;
/// The smallest ω² called exploded (SD 1 on the estimation scale: a 95 % range over a
/// factor of 50 for a log-normal parameter).
pub const EXPLODED_MIN: f64 = 1.0;

/// Warnings on the variances of Ω: for each η'd parameter (`names`), an estimate
/// ω̂² < [`COLLAPSED`]·ω²₀ (the initial value) is said to have collapsed toward 0 (the
/// data do not support variability there: fix it or remove its `iiv`), one with
/// ω̂² > [`EXPLODED`]·ω²₀ and ω̂² > [`EXPLODED_MIN`] to have exploded (the parameter
/// is probably not identifiable from the data: fix it or give a better initial value).
pub fn variance_warnings(names: &[String], initial: &[f64], estimate: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    for ((name, &w0), &w) in names.iter().zip(initial).zip(estimate) {
        if !w.is_finite() {
            out.push(format!("omega2_{name} = {w} is not finite"));
        } else if w < COLLAPSED * w0 {
            out.push(format!(
                "omega2_{name} = {w:.3e} collapsed toward 0 (below {COLLAPSED} × its initial value {w0}): the data carry little between-subject variability of {name}; consider fixing it or removing its iiv"
            ));
        } else if w > EXPLODED * w0 && w > EXPLODED_MIN {
            out.push(format!(
                "omega2_{name} = {w:.3} exploded (above {EXPLODED} × its initial value {w0}): {name} is probably poorly identified by the data; consider fixing it or another initial value"
            ));
        }
    }
    out
}

/// Fit `model` to `dataset` by SAEM (module docs), reporting each iteration to
/// `observer`.
pub fn fit_saem<'a, M: Predict + ?Sized>(
    model: &'a M,
    dataset: &'a Dataset,
    options: &SaemOptions,
    observer: &dyn Fn(&SaemIteration),
) -> Result<SaemFit<'a, M>, String> {
    let mut problem = population_problem(
        model,
        dataset,
        options.analytes.as_deref(),
        &options.fixed,
        &options.blocks,
    )?;
    let set = options.settings.get();
    let mut saem = run_saem(&problem, &options.settings, observer)?;
    let current = Current::new(saem.psi.clone(), saem.omega.clone(), &saem.layout.eta_free)?;
    let x = problem
        .pop
        .pack(&crate::estimate::population::PopulationValues {
            psi: saem.psi.clone(),
            omega: saem.omega.clone(),
        })
        .ok_or("the SAEM estimate of Ω is not positive definite")?;
    let eta_free = saem.layout.eta_free.clone();
    let louis = (options.standard_errors == StandardErrors::StochasticApproximation)
        .then(|| Louis::new(x.clone(), problem.pop.n_theta(), &eta_free));
    let conditional = conditional_moments(
        &problem,
        &current,
        &mut saem.states,
        &saem.scales,
        set.kernels,
        set.posterior_iterations,
        louis.as_ref(),
    );
    let mut post_evaluations = conditional.evaluations;
    let importance = if set.is_samples > 0 {
        post_evaluations += (set.is_samples * problem.subjects.len()) as u64;
        Some(importance_neg2ll(
            &problem,
            &current,
            &conditional,
            set.is_samples,
            set.seed,
        )?)
    } else {
        None
    };
    // the linearised covariance step's second differences need the OFV to rounding
    problem.polish = true;
    let linearised = problem
        .evaluate(&x, &conditional.mean)
        .map_err(|e| format!("the linearised −2LL at the SAEM estimate: {e}"))?;
    let etas: Vec<Vec<f64>> = linearised.modes.iter().map(|m| m.eta.clone()).collect();
    let linearisation = |kind: CovarianceKind| {
        r_matrix(&problem, &x, linearised.neg2ll, &etas, options.r_step).and_then(|r| {
            let per = match kind {
                CovarianceKind::Sandwich => {
                    let mut count = 0;
                    gradient(&problem, &x, &etas, 1e-4, &mut count)?.1
                }
                CovarianceKind::RInverse => Vec::new(),
            };
            uncertainty(&problem, &x, &r, &per, kind)
        })
    };
    let mut se_fallback = None;
    let uncertainty = match options.standard_errors {
        StandardErrors::None => Err("standard errors not requested".to_string()),
        StandardErrors::StochasticApproximation => match &conditional.information {
            Some(info) => {
                let r: Vec<f64> = (info * 2.0).transpose().as_slice().to_vec();
                uncertainty(&problem, &x, &r, &[], CovarianceKind::RInverse)
                    .map_err(|e| format!("stochastic-approximation Fisher information: {e}"))
            }
            None => Err("the Fisher information was not computed".to_string()),
        },
        StandardErrors::Linearisation(kind) => linearisation(kind),
    };
    // Louis's information can be indefinite on small data (a Monte-Carlo estimate of a
    // difference of two matrices): then the linearised covariance step, said so.
    let uncertainty = match uncertainty {
        Err(why) if options.standard_errors == StandardErrors::StochasticApproximation => {
            let fallback = linearisation(CovarianceKind::RInverse);
            if fallback.is_ok() {
                se_fallback = Some(why);
                fallback
            } else {
                Err(why)
            }
        }
        other => other,
    };
    let diagnostics = estimate_diagnostics(
        &problem,
        &saem.psi,
        &saem.omega,
        &etas,
        options.npde_replicates,
        set.seed,
    );
    let theta = problem.pop.typical(model, &saem.psi);
    let params = model.parameters();
    let eta_names: Vec<String> = problem
        .pop
        .eta_params
        .iter()
        .map(|&i| params[i].name.clone())
        .collect();
    let initial = problem.pop.initial(model).omega;
    let warnings = variance_warnings(
        &eta_names,
        initial.diagonal().as_slice(),
        saem.omega.diagonal().as_slice(),
    );
    Ok(SaemFit {
        psi: saem.psi.clone(),
        omega: saem.omega.clone(),
        theta,
        problem,
        saem,
        conditional,
        linearised,
        importance,
        uncertainty,
        se_fallback,
        diagnostics: diagnostics.subjects,
        eta_shrinkage: diagnostics.eta_shrinkage,
        eps_shrinkage: diagnostics.eps_shrinkage,
        warnings,
        post_evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_warnings_name_collapse_and_explosion_only() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        // a: 0.4 → 0.003 (< 0.01 × 0.4 = 0.004) collapsed; b: 0.4 → 0.005 not;
        // c: 0.3 → 1.6 (> 5 × 0.3, > 1) exploded; d: 0.1 → 0.9 (> 5 × 0.1 but < 1) not;
        // e: 0.2 → 0.2 not.
        let w = variance_warnings(
            &names,
            &[0.4, 0.4, 0.3, 0.1, 0.2],
            &[0.003, 0.005, 1.6, 0.9, 0.2],
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("omega2_a") && w[0].contains("collapsed"));
        assert!(w[1].starts_with("omega2_c") && w[1].contains("exploded"));
    }
}
