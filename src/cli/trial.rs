//! `cartkin trial`: replicate dose-escalation trials (3+3, BOIN) of a trial scenario
//! with exposure-driven DLTs → `trial.csv`, `trials.csv`,
//! `endpoints_summary.csv`, `run.json`; `--exact` gives the exact 3+3 operating
//! characteristics for fixed probabilities. A thin layer over [`cartkin::trial`].

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::input;
use super::{CliError, OutArgs};
use cartkin::model::{Model, Predict};
use cartkin::report::sha256_hex;
use cartkin::simulate::scenario::LoadedScenario;
use cartkin::simulate::SimulateError;
use cartkin::trial::exact::three_plus_three_exact;
use cartkin::trial::output::{settings_json, write_outputs, TrialOutputs};
use cartkin::trial::run::characteristics;
use cartkin::trial::treated::treated_endpoints;
use cartkin::trial::{Rule, Toxicity, TrialError, TrialPlan, TrialResult, TrialSettings};

/// Arguments of `cartkin trial`.
#[derive(Debug, clap::Args)]
pub struct TrialArgs {
    /// A trial scenario with [design] and [toxicity] sections (TOML, see data/trials/).
    #[arg(value_name = "SCENARIO.toml")]
    pub scenario: PathBuf,
    /// Number of simulated trials.
    #[arg(long, default_value_t = 1000)]
    pub reps: usize,
    /// Random seed [default: the scenario's, else 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: all cores; 0 also means all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Exact operating characteristics by enumeration (3+3 with fixed p_dlt only).
    #[arg(long, conflicts_with_all = ["reps", "summary_trials"])]
    pub exact: bool,
    /// Trials whose treated patients are simulated over the scenario's schedule for
    /// endpoints_summary.csv (0: none).
    #[arg(long, default_value_t = 100)]
    pub summary_trials: usize,
    /// Run only the i-th of N slices of the trials (1 <= i <= N), or `slurm`/`auto` as in
    /// `cartkin simulate`; join the shards with `cartkin merge`.
    #[arg(long, value_name = "i/N|slurm|auto", conflicts_with = "exact")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub slurm: super::slurm::SlurmArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

fn from_trial(e: TrialError) -> CliError {
    match e {
        TrialError::Simulate(SimulateError::Predict { .. }) => CliError::Numerical(e.to_string()),
        TrialError::Output(o) => CliError::Output(o),
        TrialError::Simulate(SimulateError::Output(o)) => CliError::Output(o),
        other => CliError::Input(other.to_string()),
    }
}

/// Run `cartkin trial`.
pub fn run(a: TrialArgs) -> Result<(), CliError> {
    if a.slurm.slurm.is_some() {
        if a.shard.is_some() || a.exact {
            return Err(input("--slurm: give neither --shard nor --exact (--slurm N runs N shards of the simulated trials)"));
        }
        return super::slurm::run_as_array("trial", &a.out, &a.slurm);
    }
    let shard = super::slurm::shard(a.shard.as_deref())?;
    let sc = LoadedScenario::read(&a.scenario).map_err(|e| input(e.to_string()))?;
    let levels = sc.scenario.dose_levels.len();
    let settings = TrialSettings::parse(&sc.file, &sc.text, levels).map_err(from_trial)?;
    let model = Model::load(&sc.model())
        .map_err(|e| input(format!("{}: model: {e}", a.scenario.display())))?;
    let design = sc
        .design_per_level(a.seed, &model, 1)
        .map_err(|e| input(e.to_string()))?;
    if a.reps == 0 && !a.exact {
        return Err(input("--reps 0: expected at least 1 trial"));
    }
    let threads = super::thread_count(a.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| input(format!("--threads {threads}: {e}")))?;
    let plan = TrialPlan::new(&model, design, settings).map_err(|e| match from_trial(e) {
        CliError::Input(m) => CliError::Input(format!("{}: {m}", a.scenario.display())),
        other => other,
    })?;
    if a.exact {
        match (&plan.settings.rule, &plan.settings.toxicity) {
            (Rule::ThreePlusThree, Toxicity::Fixed(_)) => {}
            (Rule::Boin(_), _) => {
                return Err(input(format!(
                    "--exact: {} uses BOIN: expected a 3+3 design (BOIN is simulated)",
                    a.scenario.display()
                )))
            }
            (_, Toxicity::Logistic(_)) => {
                return Err(input(format!(
                    "--exact: {} has an exposure link: expected fixed p_dlt in [toxicity]",
                    a.scenario.display()
                )))
            }
        }
    }
    let out = a.out.prepare("trial")?;
    let start = Instant::now();
    let (oc, results) = if a.exact {
        let Toxicity::Fixed(p) = &plan.settings.toxicity else {
            unreachable!("checked above")
        };
        (
            three_plus_three_exact(&plan.doses, p, plan.settings.start),
            None,
        )
    } else {
        let range = shard.map_or(0..a.reps, |s| s.range(a.reps));
        let results = pool
            .install(|| plan.run(range.start, range.len()))
            .map_err(from_trial)?;
        (
            characteristics(&plan.doses, &plan.settings.toxicity, &results),
            Some(results),
        )
    };
    // The endpoint summary covers the first trials of the whole run: a sharded run
    // writes it in shard 1 only (simulating those trials again when the shard is
    // shorter), so the merge can take it as it is.
    let summary_trials = match (&results, shard) {
        (None, _) => 0,
        (Some(_), Some(s)) if s.index > 1 => 0,
        (Some(_), _) => a.summary_trials.min(a.reps),
    };
    let endpoints = match &results {
        Some(r) if summary_trials > 0 => {
            let first: Vec<TrialResult> = if r.len() >= summary_trials {
                r[..summary_trials].to_vec()
            } else {
                pool.install(|| plan.run(0, summary_trials))
                    .map_err(from_trial)?
            };
            Some(
                pool.install(|| treated_endpoints(&plan, &first))
                    .map_err(from_trial)?,
            )
        }
        _ => None,
    };
    let elapsed = start.elapsed().as_secs_f64();
    let run = json!({
        "command": "trial",
        "cartkin_version": env!("CARGO_PKG_VERSION"),
        "model": {"name": Predict::name(&model), "origin": model.origin(), "sha256": sha256_hex(model.source().as_bytes())},
        "scenario": {"file": sc.file.display().to_string(), "sha256": sha256_hex(sc.text.as_bytes())},
        "settings": settings_json(&plan.settings, &plan.doses),
        "method": if a.exact { "exact enumeration" } else { "simulation" },
        "reps": results.as_ref().map(|_| a.reps),
        "shard": shard.map(|s| json!({"index": s.index, "count": s.count})),
        "trials_in_shard": shard.and(results.as_ref().map(|r| r.len())),
        "seed": plan.seed(),
        "rng": "ChaCha12, seed_from_u64(seed), stream = trial x slots + enrolment slot; first draw the DLT uniform, then the subject",
        "slots_per_trial": plan.slots(),
        "threads": threads,
        "elapsed_seconds": elapsed,
    });
    let files = write_outputs(
        &out,
        &plan.doses,
        &TrialOutputs {
            characteristics: &oc,
            trials: results.as_deref(),
            endpoints: endpoints.as_deref().map(|e| (e, summary_trials)),
            run,
        },
    )
    .map_err(from_trial)?;
    let none = oc.p_none;
    let best = oc
        .levels
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.p_select.total_cmp(&b.1.p_select))
        .map(|(l, c)| format!("level {} selected {:.1} %", l + 1, 100.0 * c.p_select))
        .unwrap_or_default();
    let what = match &results {
        Some(r) => format!("{} trials", r.len()),
        None => "exact enumeration".into(),
    };
    println!(
        "{what} ({elapsed:.2} s): {best}, no MTD {:.1} % -> {}: {}, run.json",
        100.0 * none,
        out.path().display(),
        files.join(", ")
    );
    Ok(())
}
