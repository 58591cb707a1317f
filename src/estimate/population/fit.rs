//! A complete population fit: set up the problem ([`super::objective`]), minimise with
//! FOCE-I/Laplacian ([`super::foce`]), run the covariance step ([`super::covariance`]) and
//! the diagnostics ([`super::diagnostics`]). A fit that does not converge, or whose
//! covariance step fails, is returned with the reason and everything computed.

use nalgebra::DMatrix;

use super::covariance::{
    r_matrix, r_matrix_from_gradients, uncertainty, CovarianceKind, PopulationUncertainty,
};
use super::diagnostics::{estimate_diagnostics, RecordDiagnostics};
use super::ebe::Approximation;
use super::foce::{minimise, FoceSettings, Iteration, OuterResult};
use super::foce_gradient;
use super::model::PopulationModel;
use super::objective::PopulationProblem;
use crate::data::{Analyte, Dataset};
use crate::estimate::individual::resolve_fixed;
use crate::estimate::likelihood::Records;
use crate::model::Predict;

/// What to fit and how.
#[derive(Debug, Clone)]
pub struct PopulationOptions {
    /// Use only these analytes (`None`: every analyte the model predicts).
    pub analytes: Option<Vec<Analyte>>,
    /// Parameters fixed by name to natural-scale values.
    pub fixed: Vec<(String, f64)>,
    /// Ω blocks by parameter names, besides the model file's `block` lines.
    pub blocks: Vec<Vec<String>>,
    /// Outer optimiser settings.
    pub settings: FoceSettings,
    /// Covariance matrix to report (`None`: skip the covariance step).
    pub covariance: Option<CovarianceKind>,
    /// NPDE replicates per subject (0: no NPDE).
    pub npde_replicates: usize,
    /// Seed of the NPDE simulations.
    pub seed: u64,
    /// Relative step of the R matrix's second differences.
    pub r_step: f64,
    /// The marginal-likelihood approximation (`None`: FOCE-I, or the Laplacian when
    /// records are censored).
    pub approximation: Option<Approximation>,
}

impl Default for PopulationOptions {
    fn default() -> Self {
        PopulationOptions {
            analytes: None,
            fixed: Vec::new(),
            blocks: Vec::new(),
            settings: FoceSettings::default(),
            covariance: Some(CovarianceKind::Sandwich),
            npde_replicates: 1000,
            seed: 20_261_129,
            r_step: 2e-3,
            approximation: None,
        }
    }
}

/// The result of a population fit.
pub struct PopulationFit<'a, M: Predict + ?Sized> {
    /// The problem (model, data, population structure, approximation).
    pub problem: PopulationProblem<'a, M>,
    /// The outer optimisation.
    pub outer: OuterResult,
    /// Free θ on the estimation scale at the estimate.
    pub psi: Vec<f64>,
    /// Ω at the estimate.
    pub omega: DMatrix<f64>,
    /// All parameters at their population values (natural scale).
    pub theta: Vec<f64>,
    /// The covariance step, or why it failed / was skipped.
    pub uncertainty: Result<PopulationUncertainty, String>,
    /// Per-subject diagnostics (in problem subject order).
    pub diagnostics: Vec<RecordDiagnostics>,
    /// η-shrinkage (%) per η.
    pub eta_shrinkage: Vec<Option<f64>>,
    /// ε-shrinkage (%).
    pub eps_shrinkage: Option<f64>,
}

impl<M: Predict + ?Sized> PopulationFit<'_, M> {
    /// The OFV as NONMEM reports it (without N·ln 2π and `logadd` Jacobians).
    pub fn ofv(&self) -> f64 {
        self.outer.evaluation.neg2ll - self.problem.constant()
    }

    /// The approximate −2 ln L with all constants.
    pub fn neg2ll(&self) -> f64 {
        self.outer.evaluation.neg2ll
    }

    /// Number of estimated population parameters (θ, σ and Ω elements).
    pub fn n_parameters(&self) -> usize {
        self.problem.pop.n_packed()
    }

    /// The approximation used.
    pub fn approximation(&self) -> Approximation {
        self.problem.approximation
    }
}

/// The population problem of `model` on `dataset` (shared by FOCE and SAEM): parameters
/// `fixed` by name, Ω blocks from the model file plus `blocks`, the records of
/// `analytes` (all the model predicts when `None`). An error when no subject has a
/// record.
pub fn population_problem<'a, M: Predict + ?Sized>(
    model: &'a M,
    dataset: &'a Dataset,
    analytes: Option<&[Analyte]>,
    fixed: &[(String, f64)],
    blocks: &[Vec<String>],
) -> Result<PopulationProblem<'a, M>, String> {
    let fixed = resolve_fixed(model, fixed).map_err(|e| e.to_string())?;
    let mut all_blocks: Vec<Vec<String>> = model.omega_blocks().to_vec();
    all_blocks.extend(blocks.iter().cloned());
    let pop = PopulationModel::new(model, &fixed, &all_blocks).map_err(|e| e.to_string())?;
    let mut prepared = Vec::with_capacity(dataset.subjects.len());
    for s in &dataset.subjects {
        prepared.push(Records::from_subject(s, model, analytes).map_err(|e| e.to_string())?);
    }
    let problem = PopulationProblem::new(model, pop, dataset, prepared);
    if problem.subjects.is_empty() {
        return Err(format!(
            "no subject in {} has an observation of an analyte model `{}` predicts",
            dataset.source.display(),
            model.name()
        ));
    }
    Ok(problem)
}

/// Fit `model` to `dataset` by FOCE-I (Laplacian when records are censored), reporting
/// each outer iteration to `observer`.
pub fn fit_population<'a, M: Predict + ?Sized>(
    model: &'a M,
    dataset: &'a Dataset,
    options: &PopulationOptions,
    observer: &dyn Fn(&Iteration),
) -> Result<PopulationFit<'a, M>, String> {
    let mut problem = population_problem(
        model,
        dataset,
        options.analytes.as_deref(),
        &options.fixed,
        &options.blocks,
    )?;
    if let Some(how) = options.approximation {
        problem.approximation = how;
    }
    let x0 = problem
        .pop
        .pack(&problem.pop.initial(model))
        .ok_or("the initial Ω is not positive definite")?;
    let outer = minimise(&problem, &x0, &options.settings, observer)?;
    let values = problem.pop.unpack(&outer.x);
    let theta = problem.pop.typical(model, &values.psi);
    let etas: Vec<Vec<f64>> = outer
        .evaluation
        .modes
        .iter()
        .map(|m| m.eta.clone())
        .collect();
    // Second differences of the OFV need it, and the EBEs, to rounding; differences of
    // the exact gradient do not: it is exact at the EBE search's end to first order in
    // the search's residual (super::foce_gradient), so its error is of second order.
    problem.polish = !foce_gradient::available(&problem);
    let uncertainty = match options.covariance {
        None => Err("covariance step not requested".to_string()),
        Some(kind) if foce_gradient::available(&problem) => {
            r_matrix_from_gradients(&problem, &outer.x, &etas, options.settings.fd_step).and_then(
                |(r, per_subject)| uncertainty(&problem, &outer.x, &r, &per_subject, kind),
            )
        }
        // the centre of the differences polished like the probes around it
        Some(kind) => problem
            .evaluate(&outer.x, &etas)
            .and_then(|centre| r_matrix(&problem, &outer.x, centre.neg2ll, &etas, options.r_step))
            .and_then(|r| uncertainty(&problem, &outer.x, &r, &outer.subject_gradients, kind)),
    };
    let diagnostics = estimate_diagnostics(
        &problem,
        &values.psi,
        &values.omega,
        &etas,
        options.npde_replicates,
        options.seed,
    );
    Ok(PopulationFit {
        problem,
        psi: values.psi,
        omega: values.omega,
        theta,
        uncertainty,
        diagnostics: diagnostics.subjects,
        eta_shrinkage: diagnostics.eta_shrinkage,
        eps_shrinkage: diagnostics.eps_shrinkage,
        outer,
    })
}
