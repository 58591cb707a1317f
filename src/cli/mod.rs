//! The `cartkin` command line: one file per subcommand, each a thin layer over library
//! calls. Exit codes (docs/outputs.md): 0 success, 1 usage or input error, 2 numerical failure.

mod bootstrap;
mod check;
mod data_args;
mod fit;
mod fit_dir;
mod merge;
mod models;
mod nca;
mod progress;
mod report;
mod simulate;
mod simulate_data;
mod slurm;
mod trial;
mod vpc;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use cartkin::data::{Analyte, DvidMap};
use cartkin::report::OutputError;

/// cartkin — cellular kinetics and pharmacodynamics of CAR-T cell therapies.
#[derive(Debug, Parser)]
#[command(name = "cartkin", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in models with one-line descriptions.
    Models(models::ModelsArgs),
    /// Validate a dataset and print a summary with every warning.
    Check(check::CheckArgs),
    /// Non-compartmental analysis: nca.csv and nca_summary.csv.
    Nca(nca::NcaArgs),
    /// Fit a model to a dataset.
    Fit(fit::FitArgs),
    /// Simulate dose levels of a model.
    Simulate(Box<simulate::SimulateArgs>),
    /// Simulate dose-escalation trials (3+3, BOIN) with exposure-driven DLTs.
    Trial(trial::TrialArgs),
    /// Write report.html for a result directory (summary, tables, plots, warnings).
    Report(report::ReportArgs),
    /// Visual predictive check of a fit: vpc.csv and plots.
    Vpc(vpc::VpcArgs),
    /// Nonparametric bootstrap of a fit: bootstrap.csv and bootstrap_summary.csv.
    Bootstrap(bootstrap::BootstrapArgs),
    /// Join the shards of a `simulate`, `trial` or `bootstrap --shard i/N` run into the files of the whole run.
    Merge(merge::MergeArgs),
}

/// An error that ends a command, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: data, model file, arguments (exit 1).
    #[error("{0}")]
    Input(String),
    /// Writing results failed (exit 1).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A numerical failure that could not be recovered (exit 2).
    #[error("{0}")]
    Numerical(String),
}

/// Write `run` as the output directory's pretty-printed run.json.
pub(crate) fn write_run_json(
    dir: &cartkin::report::OutputDir,
    run: &serde_json::Value,
) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(run)
        .map_err(|e| CliError::Numerical(format!("run.json: {e}")))?;
    dir.write("run.json", text.as_bytes())?;
    Ok(())
}

/// A bad-input error with the message of `e`.
pub(crate) fn input(e: impl std::fmt::Display) -> CliError {
    CliError::Input(e.to_string())
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) | CliError::Output(_) => 1,
            CliError::Numerical(_) => 2,
        }
    }
}

/// Options shared by commands that write results.
#[derive(Debug, Clone, clap::Args)]
pub struct OutArgs {
    /// Output directory (default `./cartkin-out/<command>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite files in an existing output directory.
    #[arg(long)]
    pub force: bool,
}

impl OutArgs {
    /// The output directory, prepared for writing (see [`cartkin::report::OutputDir`]).
    pub fn prepare(&self, command: &str) -> Result<cartkin::report::OutputDir, CliError> {
        let dir = self
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("cartkin-out").join(command));
        Ok(cartkin::report::OutputDir::prepare(&dir, self.force)?)
    }
}

/// The worker threads of `--threads`: absent or 0 means all cores, in every command.
pub fn thread_count(threads: Option<usize>) -> usize {
    match threads {
        None | Some(0) => rayon::current_num_threads(),
        Some(n) => n,
    }
}

/// The `--dvid-map` option (`1=transgene,2=b_cells`), the same in every command; absent,
/// code k is the k-th standard analyte.
pub fn dvid_map(text: Option<&str>) -> Result<DvidMap, CliError> {
    match text {
        Some(text) => DvidMap::parse(text).map_err(|e| CliError::Input(format!("--dvid-map: {e}"))),
        None => Ok(DvidMap::Default),
    }
}

/// The analytes of `--analyte` (alias `--analytes`), by name or by numeric DVID code
/// translated with `map` (so `--analyte 1,3` means the analytes coded 1 and 3 in the
/// data), in the order given.
pub fn analyte_names(items: &[String], map: &DvidMap) -> Result<Vec<Analyte>, CliError> {
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            match item.parse::<i64>() {
                Ok(code) => map.analyte(code).ok_or_else(|| {
                    CliError::Input(format!(
                        "--analyte: code {code} is not in the DVID map ({}): expected a code \
                         of the map or an analyte name",
                        map.describe()
                    ))
                }),
                Err(_) => Ok(Analyte::new(item)),
            }
        })
        .collect()
}

/// Parse the command line, run the command, print any error and return the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Models(a) => models::run(a),
        Command::Check(a) => check::run(a),
        Command::Nca(a) => nca::run(a),
        Command::Fit(a) => fit::run(a),
        Command::Simulate(a) => simulate::run(*a),
        Command::Merge(a) => merge::run(a),
        Command::Trial(a) => trial::run(a),
        Command::Report(a) => report::run(a),
        Command::Vpc(a) => vpc::run(a),
        Command::Bootstrap(a) => bootstrap::run(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
