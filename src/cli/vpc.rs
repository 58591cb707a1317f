//! `cartkin vpc FIT_DIR [--n 500] [--seed S] [--pred-corrected] [--bins auto|visits|K]`:
//! visual predictive check of a fit (see [`cartkin::simulate::vpc`]) → `vpc.csv`,
//! `vpc_<analyte>.png/.svg` and `run.json`.
//!
//! What is simulated:
//! - a population fit (`parameters.csv` with `omega2_…` rows, e.g. `--method foce`): the
//!   estimated θ, the estimated Ω (with its covariances) and the estimated residual
//!   error ([`cartkin::simulate::from_fit::FittedPopulation::read_population`]);
//! - an individual fit: the `estimate` column of `parameters.csv` as typical values, the
//!   sample variance of the individual estimates on the estimation scale as a diagonal
//!   Ω (an upper bound of the population variance, since each estimate carries its own
//!   error: the intervals are wider than a population model's) and the typical residual
//!   error ([`cartkin::simulate::from_fit`]).
//!
//! Parameters fixed in the fit keep their fixed values. The data are read again as the
//! fit read them (run.json), restricted to the analytes that were fitted.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::fit_dir::FitRun;
use super::input;
use super::{CliError, OutArgs};
use cartkin::model::Predict;
use cartkin::report::sha256_hex;
use cartkin::simulate::from_fit::{is_population_fit, FittedPopulation};
use cartkin::simulate::vpc::{restrict, run_vpc, write_vpc, Binning, VpcError, VpcSettings};
use cartkin::simulate::{Omega, Population};

/// Arguments of `cartkin vpc`.
#[derive(Debug, clap::Args)]
pub struct VpcArgs {
    /// The output directory of `cartkin fit`.
    #[arg(value_name = "FIT_DIR")]
    pub fit_dir: PathBuf,
    /// Simulated replicates of the data's design.
    #[arg(long, default_value_t = 500)]
    pub n: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Prediction-corrected VPC (Bergstrand et al. 2011).
    #[arg(long)]
    pub pred_corrected: bool,
    /// Time bins per analyte: `auto`, `visits` (one per distinct time) or a number of
    /// bins with equal counts.
    #[arg(long, default_value = "auto", value_name = "auto|visits|K")]
    pub bins: String,
    /// Threads [default: all cores; 0 also means all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub plots: super::report::PlotArgs,
}

/// Run `cartkin vpc`.
pub fn run(a: VpcArgs) -> Result<(), CliError> {
    let binning: Binning = a.bins.parse().map_err(input)?;
    if a.n == 0 {
        return Err(input("--n 0: expected at least 1 replicate"));
    }
    let fit = FitRun::read(&a.fit_dir, "vpc")?;
    let model = &fit.model;
    let population_fit = is_population_fit(&fit.dir).map_err(input)?;
    let fitted = if population_fit {
        FittedPopulation::read_population(&fit.dir, model)
    } else {
        FittedPopulation::read(&fit.dir, model)
    }
    .map_err(|e| input(format!("vpc: {}: {e}", fit.dir.display())))?;
    let mut overrides = fit.fixed.clone();
    overrides.extend(fitted.typical.iter().cloned());
    let population = Population::new(
        model.name(),
        model.parameters(),
        &overrides,
        &fitted.omega,
        &[],
    )
    .map_err(|e| input(format!("vpc: {}: {e}", fit.dir.display())))?;
    let dataset = restrict(&fit.dataset()?, model, fit.analytes.as_deref());
    let settings = VpcSettings {
        replicates: a.n,
        seed: a.seed,
        pred_corrected: a.pred_corrected,
        binning,
    };
    let threads = super::thread_count(a.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| input(format!("--threads {threads}: {e}")))?;
    let out = a.out.prepare("vpc")?;
    let start = Instant::now();
    let vpc = pool
        .install(|| run_vpc(model, &dataset, &population, &settings))
        .map_err(|e| match e {
            VpcError::Records(cartkin::simulate::records::RecordsError::Predict { .. }) => {
                CliError::Numerical(e.to_string())
            }
            other => input(other),
        })?;
    let elapsed = start.elapsed().as_secs_f64();
    out.write_with("vpc.csv", |w| write_vpc(w, &vpc.rows))?;
    let omega = match &fitted.omega {
        Omega::Full { parameters, matrix } => json!({"parameters": parameters, "matrix": matrix}),
        Omega::Model => json!(null),
    };
    let run = json!({
        "command": "vpc",
        "fit": {
            "dir": fit.dir.display().to_string(),
            "method": fit.method,
            "run_sha256": sha256_hex(fit.run.to_string().as_bytes()),
        },
        "inputs": { "data": fit.run["inputs"]["data"].clone() },
        "model": fit.run["model"].clone(),
        "time_unit": model.time_unit().name(),
        "simulated": if population_fit {
            "population fit: estimated theta, Omega (full) and residual error"
        } else {
            "individual fit: typical values from parameters.csv, diagonal Omega = sample variance of the individual estimates (an upper bound of the population variance), typical residual error"
        },
        "typical": overrides.iter().map(|(n, v)| (n.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "omega": omega,
        "analytes": vpc.rows.iter().map(|r| r.analyte.to_string()).collect::<std::collections::BTreeSet<_>>(),
        "settings": {
            "replicates": a.n,
            "pred_corrected": a.pred_corrected,
            "bins": binning.to_string(),
            "percentiles": [5, 50, 95],
            "interval_pct": 90,
            "percentile_definition": "type 7 (Hyndman & Fan 1996)",
        },
        "seed": a.seed,
        "rng": "ChaCha12, seed_from_u64(seed), stream = (replicate - 1) x subjects + subject",
        "n_subjects": dataset.subjects.len(),
        "n_observations": vpc.observed.len(),
        "threads": threads,
        "elapsed_seconds": elapsed,
        "versions": { "cartkin": env!("CARGO_PKG_VERSION") },
    });
    super::write_run_json(&out, &run)?;
    super::report::write_plots(
        &out,
        &a.plots,
        super::report::Plotted::Vpc(&vpc.observed, a.pred_corrected),
    )?;
    println!(
        "vpc: {} replicates of {} subjects, {} bins ({elapsed:.2} s) -> {}: vpc.csv, run.json",
        a.n,
        dataset.subjects.len(),
        vpc.rows.len(),
        out.path().display()
    );
    Ok(())
}
