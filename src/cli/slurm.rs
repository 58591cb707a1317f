//! `--slurm N [--slurm-opt "..."] [--dry-run]`: run a shardable command as a Slurm job
//! array plus a merge job (see [`cartkin::cluster::slurm`]).

use std::path::{Path, PathBuf};

use cartkin::cluster::{sbatch_available, submit, ArrayJob, ShardSpec};
use cartkin::simulate::Shard;

use super::{CliError, OutArgs};

/// The shard of a `--shard i/N|slurm|auto` argument (`auto` and `slurm` from the
/// process environment); `None` without the argument.
pub fn shard(arg: Option<&str>) -> Result<Option<Shard>, CliError> {
    match arg {
        Some(s) => s
            .parse::<ShardSpec>()
            .and_then(ShardSpec::resolve_from_process)
            .map_err(|e| CliError::Input(e.to_string())),
        None => Ok(None),
    }
}

/// Options of commands that can run as a Slurm job array.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SlurmArgs {
    /// Run as a Slurm job array of N shards plus a merge job (writes the sbatch
    /// scripts under OUT/slurm/ and submits them with sbatch when it exists).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub slurm: Option<u32>,
    /// Extra sbatch options for both jobs, e.g. "--partition=short --time=30".
    #[arg(
        long,
        value_name = "OPTIONS",
        requires = "slurm",
        allow_hyphen_values = true
    )]
    pub slurm_opt: Vec<String>,
    /// With --slurm: only write the scripts, do not submit them.
    #[arg(long, requires = "slurm")]
    pub dry_run: bool,
}

/// Options with a value that the array tasks must not inherit (each task gets its own).
const WITH_VALUE: [&str; 4] = ["--slurm", "--slurm-opt", "--out", "--shard"];
/// Flags that the array tasks must not inherit.
const FLAGS: [&str; 2] = ["--dry-run", "--force"];

/// The command line of one array task: `argv` (without the program name) less the
/// options of [`WITH_VALUE`] and [`FLAGS`], in both `--opt value` and `--opt=value`
/// forms.
pub fn task_args(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut skip = false;
    for a in argv {
        if std::mem::take(&mut skip) {
            continue;
        }
        let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
        if WITH_VALUE.contains(&name) {
            skip = !a.contains('=');
        } else if !FLAGS.contains(&a.as_str()) {
            out.push(a.clone());
        }
    }
    out
}

fn absolute(p: &Path) -> Result<PathBuf, CliError> {
    std::path::absolute(p)
        .map_err(|e| CliError::Input(format!("cannot make {} absolute: {e}", p.display())))
}

/// Prepare the output directory of `command`, write the job-array scripts and submit
/// them (unless `--dry-run`, or when sbatch is not installed: then say how to submit).
pub fn run_as_array(command: &str, out: &OutArgs, slurm: &SlurmArgs) -> Result<(), CliError> {
    let tasks = slurm.slurm.unwrap_or(1) as usize;
    let dir = out.prepare(command)?;
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let program = std::env::current_exe()
        .map_err(|e| CliError::Input(format!("cannot locate the cartkin executable: {e}")))?;
    let job = ArrayJob {
        name: format!("cartkin-{command}"),
        tasks,
        program,
        args: task_args(&argv),
        workdir: absolute(Path::new("."))?,
        out: absolute(dir.path())?,
        options: slurm
            .slurm_opt
            .iter()
            .flat_map(|o| o.split_whitespace().map(str::to_string))
            .collect(),
    };
    let scripts = job.write().map_err(|e| CliError::Input(e.to_string()))?;
    let shown = |p: &Path| p.display().to_string();
    if slurm.dry_run || !sbatch_available() {
        let why = if slurm.dry_run {
            "--dry-run"
        } else {
            "sbatch not found"
        };
        println!(
            "wrote {}, {} and {} ({why}); submit with: bash {}",
            shown(&scripts.array),
            shown(&scripts.merge),
            shown(&scripts.submit),
            shown(&scripts.submit)
        );
        return Ok(());
    }
    let ids = submit(&scripts).map_err(|e| CliError::Input(e.to_string()))?;
    println!(
        "submitted job array {} ({tasks} tasks) and merge job {} (after every task succeeds) -> {}",
        ids.array,
        ids.merge,
        job.out.display()
    );
    Ok(())
}
