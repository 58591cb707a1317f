//! `cartkin fit DATA --model M --method saem`: population fit by SAEM
//! ([`cartkin::estimate::population::saem`]) → the tables of a FOCE fit
//! (`parameters.csv`, `individual.csv` with the conditional means and SDs of η as well,
//! `predictions.csv`, `eta_covariates.csv`), `saem_trace.csv` (every iteration) and
//! `run.json`.
//!
//! In `run.json`: `neg2ll` is the −2LL by importance sampling (`neg2ll_method`
//! `importance_sampling`, with `neg2ll_se` its Monte-Carlo SE) or, with
//! `--is-samples 0`, by linearisation; `neg2ll_linearisation` is always given (FOCE-I,
//! or Laplacian when records are censored); `ofv` = `neg2ll` without the constants
//! (N·ln 2π and the `logadd` Jacobians), comparable with a FOCE run's `ofv`; AIC and BIC
//! from `neg2ll`. `standard_errors` says how they were computed. `convergence` gives
//! K1, K2, whether each phase ended by its rule, the chains and the evaluations;
//! `warnings` the variances of Ω that collapsed toward 0 or exploded (also on stderr;
//! [`cartkin::estimate::population::saem::fit::variance_warnings`]).
//!
//! Exit code 2 when exploration reached K1 without its estimates settling (all outputs
//! are written); bad settings (`--k1 0`, `--chains 0`, `--is-samples 1`) exit 1.

use std::time::Instant;

use serde_json::json;

use super::population::{
    covariance_json, shrinkage_json, spinner, write_run_and_plots, write_tables, Setup,
};
use super::{fixed_json, CovarianceArg, FitArgs, SeArg};
use crate::cli::CliError;
use cartkin::estimate::population::saem::{
    fit_saem, write_saem_trace, Phase, SaemIteration, SaemOptions, SaemSettings, StandardErrors,
};
use cartkin::estimate::population::CovarianceKind;
use cartkin::model::Predict;
use cartkin::report::{sha256_file, sha256_hex};

/// The checked SAEM settings of the arguments.
fn settings(args: &FitArgs) -> Result<SaemSettings, CliError> {
    let s = &args.saem;
    let defaults = SaemSettings::default();
    let mut set = SaemSettings {
        k1_max: s.k1,
        k2_max: s.k2,
        k1_min: defaults.k1_min.min(s.k1),
        k2_min: defaults.k2_min.min(s.k2),
        auto_stop: !s.no_auto_stop,
        chains: s.chains,
        is_samples: s.is_samples,
        ..defaults
    };
    if let Some(seed) = args.seed {
        set.seed = seed;
    }
    if set.auto_stop {
        set.window = set.window.min(set.k1_max.max(10));
    }
    Ok(set)
}

/// Run `cartkin fit --method saem`.
pub fn run(args: FitArgs) -> Result<(), CliError> {
    let started = Instant::now();
    let set = settings(&args)?;
    let checked = set.clone().check().map_err(|e| {
        CliError::Input(format!(
            "{e} (flags: --k1, --k2, --chains, --is-samples, --no-auto-stop)"
        ))
    })?;
    let setup = Setup::new(&args)?;
    let model = &setup.model;
    let mut options = SaemOptions::new(checked);
    options.analytes = setup.analytes.clone();
    options.fixed = setup.fixed.clone();
    options.blocks = setup.blocks.clone();
    options.npde_replicates = args.npde_replicates;
    options.standard_errors = match (args.saem.se, args.covariance) {
        (_, Some(CovarianceArg::None)) => StandardErrors::None,
        (SeArg::Sa, _) => StandardErrors::StochasticApproximation,
        (SeArg::Linearisation, Some(CovarianceArg::Sandwich)) => {
            StandardErrors::Linearisation(CovarianceKind::Sandwich)
        }
        (SeArg::Linearisation, _) => StandardErrors::Linearisation(CovarianceKind::RInverse),
    };
    let bar = spinner();
    let observer = |it: &SaemIteration| {
        if let Some(pb) = &bar {
            pb.set_message(format!(
                "SAEM iteration {} ({}) −2 ln p(y, φ) {:.3}",
                it.iteration,
                match it.phase {
                    Phase::Exploration => "exploration",
                    Phase::Smoothing => "smoothing",
                },
                it.complete_neg2ll
            ));
            pb.tick();
        }
    };
    let fit = setup
        .pool
        .install(|| fit_saem(model, &setup.dataset, &options, &observer))
        .map_err(CliError::Numerical)?;
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }

    let dir = args.out.prepare("fit")?;
    let view = fit.view();
    write_tables(&dir, &view, &setup.dataset)?;
    dir.write_with("saem_trace.csv", |w| {
        write_saem_trace(w, &fit.problem, &fit.saem.trace)
    })?;

    let params = model.parameters();
    let pop = &fit.problem.pop;
    let k = fit.n_parameters();
    let n_obs = fit.problem.n_records();
    let constant = fit.problem.constant();
    let n_censored = fit.problem.n_censored();
    let covariance = covariance_json(&fit.uncertainty);
    let saem = &fit.saem;
    let converged = saem.explored;
    let data_sha = sha256_file(&args.data)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", args.data.display())))?;
    let run = json!({
        "command": "fit",
        "method": "saem",
        "objective": "SAEM (stochastic approximation EM)",
        "neg2ll_method": fit.neg2ll_method(),
        "inputs": { "data": { "path": args.data.display().to_string(), "sha256": data_sha } },
        "model": {
            "name": model.name(),
            "origin": model.origin(),
            "sha256": sha256_hex(model.source().as_bytes()),
        },
        "free_parameters": pop.map.free.iter().map(|&i| params[i].name.clone()).collect::<Vec<_>>(),
        "random_effects": pop.eta_params.iter().map(|&i| params[i].name.clone()).collect::<Vec<_>>(),
        "omega_blocks": pop.blocks.iter().map(|b| b.iter().map(|&k| params[pop.eta_params[k]].name.clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "numerical_m_step": saem.layout.numeric.iter().map(|&k| params[pop.map.free[k]].name.clone()).collect::<Vec<_>>(),
        "fixed": fixed_json(params, &pop.map),
        "analytes": options.analytes.as_ref().map(|a| a.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        "observations": { "used": n_obs, "censored": n_censored },
        "settings": options.settings.get(),
        "covariance_step": options.standard_errors,
        "npde_replicates": options.npde_replicates,
        "seed": options.settings.get().seed,
        "versions": { "cartkin": env!("CARGO_PKG_VERSION") },
        "neg2ll": fit.neg2ll(),
        "neg2ll_se": fit.importance.as_ref().map(|i| i.se),
        "is_samples": fit.importance.as_ref().map(|i| i.samples),
        "ofv": fit.neg2ll() - constant,
        "neg2ll_linearisation": fit.linearised.neg2ll,
        "linearisation": fit.problem.approximation.as_str(),
        "n_parameters": k,
        "n_observations": n_obs,
        "n_subjects": fit.problem.subjects.len(),
        "aic": fit.neg2ll() + 2.0 * k as f64,
        "bic": fit.neg2ll() + k as f64 * (n_obs as f64).ln(),
        "converged": converged,
        "convergence": {
            "k1": saem.k1,
            "k2": saem.k2,
            "exploration_stopped_by_rule": saem.explored,
            "smoothing_stopped_by_rule": saem.smoothed,
            "chains_per_subject": saem.chains,
            "evaluations": saem.evaluations,
            "evaluations_after": fit.post_evaluations,
            "final_acceptance": saem.trace.last().map(|t| t.acceptance),
            "proposal_scales": saem.scales,
        },
        "standard_errors": match (options.standard_errors, &fit.se_fallback) {
            (StandardErrors::StochasticApproximation, Some(why)) => format!("linearisation: observed Fisher information of the FOCE-I/Laplacian likelihood at the SAEM estimate (2R⁻¹), because the stochastic-approximation (Louis) information failed: {why}"),
            (other, _) => standard_errors_name(other).to_string(),
        },
        "covariance": covariance,
        "shrinkage": shrinkage_json(params, pop, &fit.eta_shrinkage, fit.eps_shrinkage),
        "warnings": fit.warnings,
        "solver": super::solver_json(model),
        "elapsed_seconds": started.elapsed().as_secs_f64(),
    });
    write_run_and_plots(&dir, &run, &args)?;
    for w in &fit.warnings {
        eprintln!("warning: {w}");
    }
    let ll = match &fit.importance {
        Some(i) => format!("−2LL {:.3} ± {:.3} (importance sampling)", i.neg2ll, i.se),
        None => format!("−2LL {:.3} (linearisation)", fit.linearised.neg2ll),
    };
    eprintln!(
        "fit: SAEM {} exploratory + {} smoothing iterations; {ll}; results in {}",
        saem.k1,
        saem.k2,
        dir.path().display()
    );
    if !converged {
        return Err(CliError::Numerical(format!(
            "SAEM: the estimates were still drifting after K1 = {} exploratory iterations (see saem_trace.csv; raise --k1). Outputs written to {}",
            saem.k1,
            dir.path().display()
        )));
    }
    Ok(())
}

/// How the standard errors of `se` are computed, for run.json.
fn standard_errors_name(se: StandardErrors) -> &'static str {
    match se {
        StandardErrors::StochasticApproximation => "stochastic approximation: observed Fisher information by Louis's formula from the chains at the SAEM estimate",
        StandardErrors::Linearisation(CovarianceKind::RInverse) => "linearisation: observed Fisher information of the FOCE-I/Laplacian likelihood at the SAEM estimate (2R⁻¹)",
        StandardErrors::Linearisation(CovarianceKind::Sandwich) => "linearisation: sandwich R⁻¹SR⁻¹ of the FOCE-I/Laplacian likelihood at the SAEM estimate",
        StandardErrors::None => "not requested",
    }
}
