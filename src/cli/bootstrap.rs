//! `cartkin bootstrap FIT_DIR --n 1000 [--seed S] [--strata dose|none|COLUMN]
//! [--shard i/N|slurm|auto] [--slurm N]`: nonparametric bootstrap of a fit (see
//! [`cartkin::bootstrap`]) → `bootstrap.csv`, `bootstrap_summary.csv`, `run.json`.
//!
//! The refits use the fit's method and settings ([`cartkin::bootstrap::Refit`]) and start
//! from the fitted values: the `estimate` column of `parameters.csv` as typical values
//! and, for a population fit, the estimated ω² (the off-diagonal Ω elements of a block
//! start at 0). Shards are joined with `cartkin merge`; `--slurm N` runs N shards as a
//! Slurm job array plus the merge.
//!
//! Exit code 2 when no replicate converged (the tables are written).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::fit_dir::FitRun;
use super::input;
use super::{CliError, OutArgs};
use cartkin::bootstrap::{
    run_replicates, strata_of, summarise, write_replicates, write_summary, Refit, ReplicateStatus,
    StartedModel, Strata,
};
use cartkin::report::sha256_hex;
use cartkin::simulate::from_fit::{is_population_fit, FittedPopulation};
use cartkin::simulate::Omega;

/// Arguments of `cartkin bootstrap`.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// The output directory of `cartkin fit`.
    #[arg(value_name = "FIT_DIR")]
    pub fit_dir: PathBuf,
    /// Bootstrap replicates.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Random seed of the resampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Resample within strata: `dose` (dose level: the DOSE covariate, else the subject's
    /// total dose), `none`, or a covariate column.
    #[arg(long, default_value = "dose", value_name = "dose|none|COLUMN")]
    pub strata: String,
    /// Run only the i-th of N slices of the replicates (1 <= i <= N), or `slurm`/`auto`
    /// as in `cartkin simulate`; join the shards with `cartkin merge`.
    #[arg(long, value_name = "i/N|slurm|auto")]
    pub shard: Option<String>,
    /// Threads [default: all cores; 0 also means all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub slurm: super::slurm::SlurmArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

/// The `estimate` column of `parameters.csv` by parameter name.
fn estimates(fit: &FitRun) -> Result<BTreeMap<String, f64>, CliError> {
    let path = fit.dir.join("parameters.csv");
    let mut r =
        csv::Reader::from_path(&path).map_err(|e| input(format!("{}: {e}", path.display())))?;
    let header = r
        .headers()
        .map_err(|e| input(format!("{}: {e}", path.display())))?
        .clone();
    let (Some(p), Some(e)) = (
        header.iter().position(|h| h == "parameter"),
        header.iter().position(|h| h == "estimate"),
    ) else {
        return Err(input(format!(
            "{}: expected columns parameter and estimate (written by cartkin fit)",
            path.display()
        )));
    };
    let mut out = BTreeMap::new();
    for rec in r.records().flatten() {
        if let Ok(v) = rec[e].parse::<f64>() {
            out.insert(rec[p].to_string(), v);
        }
    }
    Ok(out)
}

/// Run `cartkin bootstrap`.
pub fn run(a: BootstrapArgs) -> Result<(), CliError> {
    if a.slurm.slurm.is_some() {
        if a.shard.is_some() {
            return Err(input(
                "--slurm: give no --shard (--slurm N runs N shards of the replicates)",
            ));
        }
        return super::slurm::run_as_array("bootstrap", &a.out, &a.slurm);
    }
    let shard = super::slurm::shard(a.shard.as_deref())?;
    if a.n == 0 {
        return Err(input("--n 0: expected at least 1 replicate"));
    }
    let strata: Strata = a.strata.parse().map_err(input)?;
    let fit = FitRun::read(&a.fit_dir, "bootstrap")?;
    let model = &fit.model;
    let dataset = fit.dataset()?;
    let keys = strata_of(&dataset, &strata).map_err(input)?;
    let refit = Refit::from_run(&fit.run, model, &fit.fixed, fit.analytes.clone(), 0)
        .map_err(|e| input(format!("bootstrap: {}: {e}", fit.dir.display())))?;
    let names = refit
        .parameter_names(model)
        .map_err(|e| input(format!("bootstrap: {}: {e}", fit.dir.display())))?;
    let fitted = estimates(&fit)?;
    let typical: Vec<(String, f64)> = fitted.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let omega2: Vec<(String, f64)> = if is_population_fit(&fit.dir).map_err(input)? {
        match FittedPopulation::read_population(&fit.dir, model)
            .map_err(input)?
            .omega
        {
            Omega::Full { parameters, matrix } => {
                let m = parameters.len();
                parameters
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| (p, matrix[i * m + i]))
                    .collect()
            }
            Omega::Model => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let started = StartedModel::new(model, &typical, &omega2);
    let threads = super::thread_count(a.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| input(format!("--threads {threads}: {e}")))?;
    let out = a.out.prepare("bootstrap")?;
    let range = shard.map_or(0..a.n, |s| s.range(a.n));
    let start = Instant::now();
    let rows =
        pool.install(|| run_replicates(&started, &dataset, &keys, &refit, a.seed, range.clone()));
    let elapsed = start.elapsed().as_secs_f64();
    let est: Vec<Option<f64>> = names.iter().map(|n| fitted.get(n).copied()).collect();
    out.write_with("bootstrap.csv", |w| write_replicates(w, &names, &rows))?;
    let summary = summarise(&names, &est, &rows);
    out.write_with("bootstrap_summary.csv", |w| write_summary(w, &summary))?;
    let count = |s: ReplicateStatus| rows.iter().filter(|r| r.fit.status == s).count();
    let mut strata_sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &keys {
        *strata_sizes.entry(k.as_str()).or_default() += 1;
    }
    let run = json!({
        "command": "bootstrap",
        "fit": {
            "method": refit.method(),
            "run_sha256": sha256_hex(fit.run.to_string().as_bytes()),
        },
        "fit_dir": fit.dir.display().to_string(),
        "inputs": { "data": fit.run["inputs"]["data"].clone() },
        "model": fit.run["model"].clone(),
        "settings": {
            "replicates": a.n,
            "strata": strata.to_string(),
            "strata_sizes": strata_sizes,
            "method": refit.method(),
            "fit_settings": fit.run["settings"].clone(),
            "start": "the fit's estimates (parameters.csv); a population fit's estimated omega2 (block covariances start at 0)",
            "summary": "median, 2.5th and 97.5th percentiles (type 7) over converged replicates",
        },
        "seed": a.seed,
        "rng": "ChaCha12, seed_from_u64(seed), stream = replicate - 1; uniform draws within each stratum (strata in text order of their key)",
        "parameters": names.iter().zip(&est).map(|(n, e)| json!({"name": n, "estimate": e})).collect::<Vec<_>>(),
        "shard": shard.map(|s| json!({"index": s.index, "count": s.count})),
        "replicates_in_shard": shard.map(|_| rows.len()),
        "n_converged": count(ReplicateStatus::Converged),
        "n_not_converged": count(ReplicateStatus::NotConverged),
        "n_failed": count(ReplicateStatus::Failed),
        "threads": threads,
        "elapsed_seconds": elapsed,
        "versions": { "cartkin": env!("CARGO_PKG_VERSION") },
    });
    super::write_run_json(&out, &run)?;
    println!(
        "bootstrap: {} of {} replicates converged ({elapsed:.2} s) -> {}: bootstrap.csv, bootstrap_summary.csv, run.json",
        count(ReplicateStatus::Converged),
        rows.len(),
        out.path().display()
    );
    if count(ReplicateStatus::Converged) == 0 && !rows.is_empty() {
        return Err(CliError::Numerical(format!(
            "no bootstrap replicate converged (see {})",
            out.file("bootstrap.csv").display()
        )));
    }
    Ok(())
}
