//! `cartkin fit DATA --model M --method foce`: population fit by FOCE with interaction
//! (Laplacian when records are censored) → `parameters.csv`, `individual.csv`,
//! `predictions.csv`, `eta_covariates.csv` when the data have covariates
//! ([`cartkin::estimate::population::tables`]) and `run.json`.
//!
//! In `run.json`: `objective` names the approximation (`FOCE-I` or `Laplacian`); `ofv`
//! is the OFV as NONMEM reports it (without N·ln 2π, and for `logadd` outputs without
//! the Jacobian Σ 2 ln y); `neg2ll` includes both; with k the estimated population
//! parameters (θ, σ, Ω elements) and N the records, AIC = neg2ll + 2k and
//! BIC = neg2ll + k·ln N. Also: the convergence test and its outcome, the iteration
//! count, a trace summary, the covariance step (kind, condition number, correlation, or
//! why it failed) and the shrinkages.
//!
//! Exit code 2 when the outer optimisation does not converge (all outputs are written).

use std::io::IsTerminal;
use std::time::Instant;

use serde_json::json;

use super::{
    fixed_json, held_by_estimate, inputs_json, model_json, parse_fix, select_analytes,
    ApproximationArg, CovarianceArg, FitArgs,
};
use crate::cli::CliError;
use cartkin::estimate::population::tables::{
    baseline_covariates, write_eta_covariates, write_population_individual,
    write_population_parameters, write_population_predictions, PopulationView,
};
use cartkin::estimate::population::{
    fit_population, Approximation, CovarianceKind, FoceSettings, Iteration, PopulationOptions,
    PopulationUncertainty,
};
use cartkin::model::{Model, Predict};

/// What FOCE and SAEM runs share: the model, the population options given on the
/// command line, the bound dataset and the thread pool.
pub(super) struct Setup {
    pub model: Model,
    pub fixed: Vec<(String, f64)>,
    pub analytes: Option<Vec<cartkin::data::Analyte>>,
    pub blocks: Vec<Vec<String>>,
    pub dataset: cartkin::data::Dataset,
    pub pool: rayon::ThreadPool,
}

impl Setup {
    /// Load and check everything the arguments name.
    pub fn new(args: &FitArgs) -> Result<Setup, CliError> {
        let input = |e: &dyn std::fmt::Display| CliError::Input(e.to_string());
        let model = Model::load(&args.model).map_err(|e| input(&e))?;
        let mut fixed = parse_fix(&args.fix)?;
        fixed.extend(held_by_estimate(&model, &args.estimate, &fixed)?);
        let dvid_map = super::super::dvid_map(args.read.dvid_map.as_deref())?;
        let analytes = select_analytes(&model, &args.analytes, &dvid_map)?;
        let blocks: Vec<Vec<String>> = args
            .omega_block
            .iter()
            .map(|b| b.split(',').map(|s| s.trim().to_string()).collect())
            .collect();
        let dataset = args.read.read_for(&args.data, &model)?;
        let threads = args.threads.unwrap_or(0);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| CliError::Input(format!("cannot start {threads} threads: {e}")))?;
        Ok(Setup {
            model,
            fixed,
            analytes,
            blocks,
            dataset,
            pool,
        })
    }
}

/// A spinner with a message on a terminal, nothing otherwise.
pub(super) fn spinner() -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{elapsed_precise} {spinner} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb
    })
}

/// Run `cartkin fit --method foce` (or `saem`, [`super::saem`]).
pub fn run(args: FitArgs) -> Result<(), CliError> {
    if args.method == super::MethodArg::Saem {
        return super::saem::run(args);
    }
    let started = Instant::now();
    let setup = Setup::new(&args)?;
    let model = &setup.model;
    let mut options = PopulationOptions {
        analytes: setup.analytes.clone(),
        fixed: setup.fixed.clone(),
        blocks: setup.blocks.clone(),
        settings: FoceSettings::default(),
        covariance: match args.covariance.unwrap_or(CovarianceArg::Sandwich) {
            CovarianceArg::Sandwich => Some(CovarianceKind::Sandwich),
            CovarianceArg::R => Some(CovarianceKind::RInverse),
            CovarianceArg::None => None,
        },
        npde_replicates: args.npde_replicates,
        approximation: match args.approximation {
            ApproximationArg::Auto => None,
            ApproximationArg::FoceI => Some(Approximation::FoceI),
            ApproximationArg::Laplacian => Some(Approximation::Laplacian),
        },
        ..PopulationOptions::default()
    };
    if let Some(seed) = args.seed {
        options.seed = seed;
    }
    let dataset = &setup.dataset;
    let bar = spinner();
    let observer = |it: &Iteration| {
        if let Some(pb) = &bar {
            pb.set_message(format!(
                "iteration {} OFV {:.4} gradient {:.2e}",
                it.iteration, it.ofv, it.gradient_norm
            ));
            pb.tick();
        }
    };
    let pool = &setup.pool;
    let fit = pool
        .install(|| fit_population(model, dataset, &options, &observer))
        .map_err(CliError::Numerical)?;
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }

    let dir = args.out.prepare("fit")?;
    let view = fit.view();
    write_tables(&dir, &view, dataset)?;

    let params = model.parameters();
    let pop = &fit.problem.pop;
    let k = fit.n_parameters();
    let n_obs = fit.problem.n_records();
    let n_censored = fit.problem.n_censored();
    let trace = &fit.outer.trace;
    let trace_summary: Vec<&Iteration> = trace
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 == 0 || *i + 1 == trace.len())
        .map(|(_, t)| t)
        .collect();
    let covariance = covariance_json(&fit.uncertainty);
    let run = json!({
        "command": "fit",
        "method": "foce",
        "objective": fit.approximation().as_str(),
        "objective_details": match fit.approximation() {
            cartkin::estimate::population::Approximation::FoceI =>
                "FOCE with interaction (NONMEM METHOD=1 INTER): Laplace with the expected information of η at the EBE",
            cartkin::estimate::population::Approximation::Laplacian =>
                "Laplacian (NONMEM METHOD=1 LAPLACIAN): censored records (Beal M3) present; Hessian of the conditional objective at the EBE",
        },
        "inputs": inputs_json(&args, &dir)?,
        "time_unit": model.time_unit().name(),
        "model": model_json(model, &dir),
        "free_parameters": pop.map.free.iter().map(|&i| params[i].name.clone()).collect::<Vec<_>>(),
        "random_effects": pop.eta_params.iter().map(|&i| params[i].name.clone()).collect::<Vec<_>>(),
        "omega_blocks": pop.blocks.iter().map(|b| b.iter().map(|&k| params[pop.eta_params[k]].name.clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "fixed": fixed_json(params, &pop.map),
        "analytes": options.analytes.as_ref().map(|a| a.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        "observations": { "used": n_obs, "censored": n_censored },
        "settings": options.settings,
        "covariance_step": options.covariance,
        "npde_replicates": options.npde_replicates,
        "seed": options.seed,
        "versions": { "cartkin": env!("CARGO_PKG_VERSION") },
        "ofv": fit.ofv(),
        "neg2ll": fit.neg2ll(),
        "n_parameters": k,
        "n_observations": n_obs,
        "n_subjects": fit.problem.subjects.len(),
        "aic": fit.neg2ll() + 2.0 * k as f64,
        "bic": fit.neg2ll() + k as f64 * (n_obs as f64).ln(),
        "converged": fit.outer.converged,
        "convergence": {
            "test": format!(
                "projected gradient ∞-norm < {:.0e} (or, with gradient < {:.0e}, no improving step, an OFV fall < {:.0e} in {} iterations in a row, or a predicted OFV decrease < {:.0e})",
                options.settings.grad_tol, options.settings.noise_tol, options.settings.ofv_tol, options.settings.stall_iterations, options.settings.decrement_tol
            ),
            "message": fit.outer.message,
            "iterations": fit.outer.iterations,
            "objective_evaluations": fit.outer.evaluations,
            "laplacian_fallbacks": fit.outer.evaluation.fallbacks,
            "gradient": if cartkin::estimate::population::foce_gradient::available(&fit.problem) {
                "exact (implicit differentiation of the EBEs); R by central differences of it"
            } else {
                "central differences of the objective; R by second differences"
            },
        },
        "trace": trace_summary,
        "solver": super::solver_json(model),
        "covariance": covariance,
        "shrinkage": shrinkage_json(params, pop, &fit.eta_shrinkage, fit.eps_shrinkage),
        "elapsed_seconds": started.elapsed().as_secs_f64(),
    });
    write_run_and_plots(&dir, &run, &args)?;
    let cov_note = match &fit.uncertainty {
        Ok(u) => format!("covariance step ok (condition number {:.3e})", u.condition),
        Err(why) => format!("covariance step: {why}"),
    };
    eprintln!(
        "fit: {} OFV {:.4} after {} iterations ({}); {cov_note}; results in {}",
        fit.approximation().as_str(),
        fit.ofv(),
        fit.outer.iterations,
        fit.outer.message,
        dir.path().display()
    );
    if !fit.outer.converged {
        return Err(CliError::Numerical(format!(
            "the population fit did not converge: {} (outputs written to {})",
            fit.outer.message,
            dir.path().display()
        )));
    }
    Ok(())
}

/// `run.json`'s `shrinkage` of a population fit: η-shrinkage (%) by parameter name, and
/// ε-shrinkage.
/// run.json `covariance`: the matrix used and the correlations, or why it failed.
pub(super) fn covariance_json(
    uncertainty: &Result<PopulationUncertainty, String>,
) -> serde_json::Value {
    match uncertainty {
        Ok(u) => json!({
            "status": "ok",
            "matrix": u.kind,
            "condition_number": u.condition,
            "names": u.names,
            "correlation": u.correlation,
        }),
        Err(why) => json!({ "status": "failed", "reason": why }),
    }
}

pub(super) fn shrinkage_json(
    params: &[cartkin::model::Parameter],
    pop: &cartkin::estimate::population::PopulationModel,
    eta: &[Option<f64>],
    eps: Option<f64>,
) -> serde_json::Value {
    json!({
        "eta_pct": pop.eta_params.iter().zip(eta)
            .map(|(&i, s)| (params[i].name.clone(), json!(s)))
            .collect::<serde_json::Map<_, _>>(),
        "eps_pct": eps,
    })
}

/// Write the tables of a population fit (FOCE or SAEM): `parameters.csv`,
/// `individual.csv`, `predictions.csv`, and `eta_covariates.csv` when the data have
/// covariates (the η against covariates plot reads it).
pub(super) fn write_tables<M: Predict + ?Sized>(
    dir: &cartkin::report::OutputDir,
    view: &PopulationView<'_, M>,
    dataset: &cartkin::data::Dataset,
) -> Result<(), CliError> {
    dir.write_with("parameters.csv", |w| write_population_parameters(w, view))?;
    dir.write_with("individual.csv", |w| write_population_individual(w, view))?;
    dir.write_with("predictions.csv", |w| write_population_predictions(w, view))?;
    if !baseline_covariates(dataset).is_empty() {
        dir.write_with("eta_covariates.csv", |w| {
            write_eta_covariates(w, view, dataset)
        })?;
    }
    Ok(())
}

/// Write `run.json` into the fit directory, then the fit plots.
pub(super) fn write_run_and_plots(
    dir: &cartkin::report::OutputDir,
    run: &serde_json::Value,
    args: &FitArgs,
) -> Result<(), CliError> {
    crate::cli::write_run_json(dir, run)?;
    crate::cli::report::write_plots(dir, &args.plots, crate::cli::report::Plotted::Fit)?;
    Ok(())
}
