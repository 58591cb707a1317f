//! The `cartkin` command line: one file per subcommand, each a thin layer over library
//! calls. Exit codes (docs/outputs.md): 0 success, 1 usage or input error, 2 numerical failure.

mod check;
mod fit;
mod merge;
mod models;
mod nca;
mod simulate;
mod slurm;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    /// Join the shards of a `simulate --shard i/N` run into the files of the whole run.
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
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
