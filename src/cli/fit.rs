//! `cartkin fit DATA.csv --model NAME|PATH --method individual`: per-subject maximum
//! likelihood (docs/outputs.md) → `individual.csv`, `parameters.csv`, `predictions.csv`
//! ([`cartkin::estimate::tables`]) and `run.json` (inputs with SHA-256, model origin and
//! hash, method, settings, seed, versions, −2LL, AIC, BIC, elapsed seconds, per-subject
//! convergence). A thin layer over [`cartkin::estimate::fit_individuals`].
//!
//! The data are bound to the model first ([`cartkin::model::bind`]): observations
//! without DVID routed to its outputs, times converted from `--time-unit` to the
//! model's `time_unit` (`run.json` field `time_unit`: the unit of every time and
//! time-dependent parameter in the results), covariates the model uses required.
//!
//! In `run.json`, `neg2ll` is the sum of −2LL over the subjects with an estimate, and
//! with k = (free parameters) × (those subjects) and N their records,
//! AIC = −2LL + 2k and BIC = −2LL + k·ln N.
//!
//! A progress bar (subjects done) is shown when stderr is a terminal.
//!
//! Exit codes: 1 for bad input (unknown model, unknown `--fix` name, an analyte the model
//! does not predict, a dataset with nothing to fit); 2 when no subject reaches an optimum
//! (the tables are still written, for diagnosis).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::data_args::DataArgs;
use super::progress::SubjectProgress;
use super::{CliError, OutArgs};

mod population;
mod saem;
use cartkin::data::{Analyte, DvidMap};
use cartkin::estimate::tables::{write_individual, write_parameters, write_predictions};
use cartkin::estimate::ParameterMap;
use cartkin::estimate::{fit_individuals_observed, summarise, FitOptions, FitSettings, FitStatus};
use cartkin::model::{Model, Parameter, Predict};
use cartkin::report::OutputDir;
use cartkin::report::{sha256_file, sha256_hex};

/// Estimation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Per-subject maximum likelihood.
    Individual,
    /// Population fit by FOCE with interaction (Laplacian when records are censored).
    Foce,
    /// Population fit by SAEM (stochastic approximation EM, as Monolix).
    Saem,
}

/// Covariance matrix of a population fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CovarianceArg {
    /// R⁻¹SR⁻¹ (NONMEM's default).
    Sandwich,
    /// 2R⁻¹ (the Hessian only).
    R,
    /// Skip the covariance step.
    None,
}

/// Marginal-likelihood approximation of a population fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApproximationArg {
    /// FOCE-I, or the Laplacian when any record is censored (as NONMEM users choose).
    Auto,
    /// FOCE with interaction (censored records by their expected information).
    FoceI,
    /// Laplace with the Hessian of each subject's conditional objective.
    Laplacian,
}

/// Arguments of `cartkin fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// The dataset (long CSV; see data/README.md).
    pub data: PathBuf,
    /// A built-in model name (see `cartkin models`) or a model file path.
    #[arg(long, value_name = "NAME|PATH")]
    pub model: String,
    /// Estimation method.
    #[arg(long, value_enum, default_value = "individual")]
    pub method: MethodArg,
    /// Fit only these analytes, comma-separated, by name or DVID code (default: every
    /// analyte the model predicts).
    #[arg(
        long = "analyte",
        visible_alias = "analytes",
        value_delimiter = ',',
        value_name = "ANALYTE,..."
    )]
    pub analytes: Vec<String>,
    /// Fix parameters at natural-scale values, e.g. `sigma=0.5,fb=0.01`.
    #[arg(long, value_delimiter = ',', value_name = "P=V,...")]
    pub fix: Vec<String>,
    /// Estimate only these parameters, comma-separated; every other parameter is held at
    /// its typical value (or its `--fix` value). E.g. `kexp,kdM,kkill` for cd19_bcell.
    #[arg(long, value_delimiter = ',', value_name = "P,...")]
    pub estimate: Vec<String>,
    /// Seed of the multistart (same seed, same results whatever --threads).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Threads [default: all cores; 0 also means all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// `--method individual`: gradients and Hessians by finite differences of −2LL
    /// instead of the model's exact derivatives (for comparison).
    #[arg(long)]
    pub finite_differences: bool,
    /// `--method foce|saem`: a full Ω block over these η parameters, e.g. `CL,V`
    /// (repeat for several blocks; adds to the model file's `block` lines).
    #[arg(long = "omega-block", value_name = "P,Q,...")]
    pub omega_block: Vec<String>,
    /// `--method foce|saem`: covariance step [default: sandwich for foce, r for
    /// `saem --se linearisation`; `none` skips the standard errors].
    #[arg(long, value_enum)]
    pub covariance: Option<CovarianceArg>,
    /// `--method foce`: the approximation of the marginal likelihood.
    #[arg(long, value_enum, default_value = "auto")]
    pub approximation: ApproximationArg,
    /// `--method foce|saem`: NPDE replicates per subject (0: no NPDE).
    #[arg(long, default_value_t = 1000)]
    pub npde_replicates: usize,
    #[command(flatten)]
    pub saem: SaemArgs,
    #[command(flatten)]
    pub read: DataArgs,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub plots: super::report::PlotArgs,
}

/// Settings of `--method saem` (docs/outputs.md).
#[derive(Debug, clap::Args)]
pub struct SaemArgs {
    /// `--method saem`: exploratory iterations (γ = 1), at most (at least 150, or this
    /// many when smaller).
    #[arg(long, default_value_t = 500)]
    pub k1: usize,
    /// `--method saem`: smoothing iterations (γ = 1/k), at most (at least 50, or this
    /// many when smaller).
    #[arg(long, default_value_t = 200)]
    pub k2: usize,
    /// `--method saem`: run exactly K1 and K2 iterations (no automatic stopping).
    #[arg(long)]
    pub no_auto_stop: bool,
    /// `--method saem`: Markov chains per subject [default: ⌈50/N⌉].
    #[arg(long)]
    pub chains: Option<usize>,
    /// `--method saem`: importance samples per subject for the −2LL (0: −2LL by
    /// linearisation only).
    #[arg(long, default_value_t = 5000)]
    pub is_samples: usize,
    /// `--method saem`: standard errors from the Fisher information by stochastic
    /// approximation (Louis, from the chains) or by linearisation (the FOCE-I/Laplacian
    /// covariance step, `--covariance r|sandwich`); `--covariance none` skips them.
    #[arg(long, value_enum, default_value = "sa")]
    pub se: SeArg,
}

/// How `--method saem` computes standard errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeArg {
    /// Stochastic approximation of the observed Fisher information (Louis).
    Sa,
    /// The covariance step on the linearised likelihood.
    Linearisation,
}

/// Parse `name=value` items of `--fix`.
pub(crate) fn parse_fix(items: &[String]) -> Result<Vec<(String, f64)>, CliError> {
    items
        .iter()
        .map(|item| {
            let bad = || {
                CliError::Input(format!(
                    "--fix: '{item}': expected NAME=VALUE with a number, e.g. sigma=0.5"
                ))
            };
            let (name, value) = item.split_once('=').ok_or_else(bad)?;
            let value: f64 = value.trim().parse().map_err(|_| bad())?;
            Ok((name.trim().to_string(), value))
        })
        .collect()
}

/// The parameters that `--estimate P,...` holds at their typical values: every parameter
/// not named there, not fixed in the model file and not already given by `--fix`.
pub(crate) fn held_by_estimate(
    model: &Model,
    names: &[String],
    fixed: &[(String, f64)],
) -> Result<Vec<(String, f64)>, CliError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let params = model.parameters();
    for name in names {
        let Some(p) = params.iter().find(|p| p.name == name.trim()) else {
            let known: Vec<&str> = params
                .iter()
                .filter(|p| !p.fixed)
                .map(|p| p.name.as_str())
                .collect();
            return Err(CliError::Input(format!(
                "--estimate: model `{}` has no parameter `{name}` (its free parameters: {})",
                model.name(),
                known.join(", ")
            )));
        };
        if p.fixed {
            return Err(CliError::Input(format!(
                "--estimate: `{name}` is fixed in model `{}`; give it a value with --fix \
                 or edit the model file to free it",
                model.name()
            )));
        }
        if fixed.iter().any(|(f, _)| f == name.trim()) {
            return Err(CliError::Input(format!(
                "--estimate and --fix both name `{name}`: a parameter is either estimated or fixed"
            )));
        }
    }
    Ok(params
        .iter()
        .filter(|p| !p.fixed && !names.iter().any(|n| n.trim() == p.name))
        .filter(|p| !fixed.iter().any(|(f, _)| *f == p.name))
        .map(|p| (p.name.clone(), p.typical))
        .collect())
}

/// The analytes named by `--analyte` (`None` when none are named), by name or DVID
/// code, each checked against the model's outputs.
pub(crate) fn select_analytes(
    model: &Model,
    names: &[String],
    dvid_map: &DvidMap,
) -> Result<Option<Vec<Analyte>>, CliError> {
    Ok(if names.is_empty() {
        None
    } else {
        let mut chosen = Vec::new();
        for a in super::analyte_names(names, dvid_map)? {
            if model.output_index(&a).is_none() {
                let predicted: Vec<String> = model
                    .outputs()
                    .iter()
                    .map(|o| o.analyte.to_string())
                    .collect();
                return Err(CliError::Input(format!(
                    "--analyte: model `{}` does not predict `{a}` (it predicts: {})",
                    model.name(),
                    predicted.join(", ")
                )));
            }
            chosen.push(a);
        }
        Some(chosen)
    })
}

/// Run `cartkin fit`.
pub fn run(args: FitArgs) -> Result<(), CliError> {
    if matches!(args.method, MethodArg::Foce | MethodArg::Saem) {
        return population::run(args);
    }
    let started = Instant::now();
    let input = |e: &dyn std::fmt::Display| CliError::Input(e.to_string());
    let model = Model::load(&args.model).map_err(|e| input(&e))?;
    let mut fixed = parse_fix(&args.fix)?;
    fixed.extend(held_by_estimate(&model, &args.estimate, &fixed)?);
    let mut settings = FitSettings::default();
    if let Some(seed) = args.seed {
        settings.seed = seed;
    }
    if let Some(threads) = args.threads {
        settings.threads = threads;
    }
    settings.exact_gradient = !args.finite_differences;
    let checked = settings.clone().check().map_err(|e| input(&e))?;

    let dvid_map = super::dvid_map(args.read.dvid_map.as_deref())?;
    let analytes = select_analytes(&model, &args.analytes, &dvid_map)?;

    let bound = args.read.read_for(&args.data, &model)?;
    let dataset = &bound;
    let options = FitOptions {
        analytes,
        fixed: fixed.clone(),
        settings: checked,
    };
    let bar = SubjectProgress::new(dataset.subjects.len() as u64);
    let progress = |k: u64| bar.inc(k);
    let fit =
        fit_individuals_observed(&model, dataset, &options, &progress).map_err(|e| input(&e))?;
    bar.finish();
    let rows = summarise(&model, &fit);

    let dir = args.out.prepare("fit")?;
    dir.write_with("individual.csv", |w| write_individual(w, &model, &fit))?;
    dir.write_with("parameters.csv", |w| write_parameters(w, &rows))?;
    dir.write_with("predictions.csv", |w| {
        write_predictions(w, &model, dataset, &fit)
    })?;

    // Objective, AIC, BIC over the subjects with an estimate.
    let estimated: Vec<_> = fit.subjects.iter().filter(|s| s.neg2ll.is_some()).collect();
    let total: f64 = estimated.iter().filter_map(|s| s.neg2ll).sum();
    let k = fit.map.len() * estimated.len();
    let n_obs: usize = estimated.iter().map(|s| s.records.len()).sum();
    let mut unmodelled: BTreeMap<String, usize> = BTreeMap::new();
    let mut excluded: BTreeMap<String, usize> = BTreeMap::new();
    for s in &fit.subjects {
        for (a, n) in &s.usage.unmodelled {
            *unmodelled.entry(a.clone()).or_default() += n;
        }
        for (a, n) in &s.usage.excluded {
            *excluded.entry(a.clone()).or_default() += n;
        }
    }
    let count = |st: FitStatus| fit.subjects.iter().filter(|s| s.status == st).count();
    let params = model.parameters();
    let run = json!({
        "command": "fit",
        "method": "individual",
        "inputs": inputs_json(&args, &dir)?,
        "time_unit": model.time_unit().name(),
        "model": model_json(&model, &dir),
        "free_parameters": fit.map.free.iter().map(|&i| params[i].name.clone()).collect::<Vec<_>>(),
        "fixed": fixed_json(params, &fit.map),
        "analytes": options.analytes.as_ref().map(|a| a.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        "observations": {
            "used": fit.subjects.iter().map(|s| s.usage.used).sum::<usize>(),
            "censored": fit.subjects.iter().map(|s| s.usage.censored).sum::<usize>(),
            "not_in_model": unmodelled,
            "excluded_by_analytes": excluded,
        },
        "settings": settings,
        "seed": settings.seed,
        "versions": { "cartkin": env!("CARGO_PKG_VERSION"), "argmin": "0.11" },
        "neg2ll": total,
        "n_parameters": k,
        "n_observations": n_obs,
        "aic": total + 2.0 * k as f64,
        "bic": total + k as f64 * (n_obs as f64).ln(),
        "n_subjects": fit.subjects.len(),
        "n_converged": count(FitStatus::Converged),
        "n_hessian_not_pd": count(FitStatus::HessianNotPd),
        "n_not_converged": count(FitStatus::NotConverged),
        "n_failed": count(FitStatus::Failed),
        "subjects": fit.subjects.iter().map(|s| json!({
            "id": s.id,
            "status": s.status.as_str(),
            "reason": s.reason,
            "neg2ll": s.neg2ll,
            "n_obs": s.records.len(),
            "n_blq": s.records.n_censored(),
            "evaluations": s.evaluations,
            "gradient_evaluations": s.gradient_evaluations,
            "standard_errors": s.curvature,
        })).collect::<Vec<_>>(),
        "solver": solver_json(&model),
        "elapsed_seconds": started.elapsed().as_secs_f64(),
    });
    super::write_run_json(&dir, &run)?;
    super::report::write_plots(&dir, &args.plots, super::report::Plotted::Fit)?;

    let reached = fit
        .subjects
        .iter()
        .filter(|s| s.status.optimum_reached())
        .count();
    let mut tally = format!(
        "fit: {} of {} subjects converged",
        count(FitStatus::Converged),
        fit.subjects.len()
    );
    for (status, what) in [
        (
            FitStatus::HessianNotPd,
            "at an optimum without standard errors (Hessian not positive definite)",
        ),
        (FitStatus::NotConverged, "not converged"),
        (FitStatus::Failed, "failed"),
    ] {
        if count(status) > 0 {
            tally.push_str(&format!(", {} {what}", count(status)));
        }
    }
    eprintln!("{tally}; results in {}", dir.path().display());
    if reached == 0 {
        return Err(CliError::Numerical(format!(
            "no subject's fit converged (see {} for the reasons)",
            dir.file("individual.csv").display()
        )));
    }
    Ok(())
}

/// run.json `inputs` of a fit: the data file, its digest and how it was read.
fn inputs_json(args: &FitArgs, dir: &OutputDir) -> Result<serde_json::Value, CliError> {
    let data_sha = sha256_file(&args.data)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", args.data.display())))?;
    Ok(json!({ "data": {
        "path": args.data.display().to_string(),
        "sha256": data_sha,
        "time_unit": args.read.unit()?.name(),
        "time_varying": args.read.time_varying,
        "dvid_map": args.read.dvid_map,
        "relative_path": cartkin::report::relative_path(dir.path(), &args.data)
            .map(|p| p.display().to_string()),
    } }))
}

/// run.json `model` of a fit, with the model file relative to the output directory (for
/// `simulate --fit`, `vpc` and `bootstrap` after a move).
fn model_json(model: &Model, dir: &OutputDir) -> serde_json::Value {
    json!({
        "name": model.name(),
        "origin": model.origin(),
        "path": cartkin::report::relative_path(dir.path(), std::path::Path::new(model.origin()))
            .map(|p| p.display().to_string()),
        "sha256": sha256_hex(model.source().as_bytes()),
    })
}

/// run.json `fixed`: the parameters held at their values, by name.
fn fixed_json(
    params: &[Parameter],
    map: &ParameterMap,
) -> serde_json::Map<String, serde_json::Value> {
    params
        .iter()
        .enumerate()
        .filter(|(i, _)| !map.free.contains(i))
        .map(|(i, p)| (p.name.clone(), json!(map.base[i])))
        .collect()
}

/// The ODE solver's settings and its work summed over the whole fit (all zero for a
/// closed-form model).
pub(super) fn solver_json(model: &Model) -> serde_json::Value {
    let o = model.solver_options();
    let t = model.solver_totals();
    json!({
        "method": format!("{:?}", o.method).to_lowercase(),
        "rtol": o.rtol,
        "atol": o.atol,
        "steps": t.steps,
        "accepted": t.accepted,
        "rejected": t.rejected,
        "rhs_evaluations": t.rhs_evals,
        "jacobian_evaluations": t.jacobian_evals,
        "lu_decompositions": t.lu_decompositions,
        "switches": t.switches,
        "matrix_exponentials": t.exponentials,
    })
}
