//! `cartkin merge DIR1 DIR2 ... --out DIR`: join the shards of one `cartkin simulate
//! --shard i/N`, `cartkin trial --shard i/N` or `cartkin bootstrap --shard i/N` run into
//! the files of the unsharded run (byte-identical data files; see
//! [`cartkin::simulate::merge`], [`cartkin::trial::merge`], [`cartkin::bootstrap::merge`]).

use std::path::PathBuf;

use super::{CliError, OutArgs};
use cartkin::simulate::SimulateError;
use cartkin::trial::TrialError;

/// Arguments of `cartkin merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard output directories (any order), one per shard.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutArgs,
}

/// Run `cartkin merge`.
pub fn run(a: MergeArgs) -> Result<(), CliError> {
    let out = a.out.prepare("merge")?;
    let command = std::fs::read_to_string(a.dirs[0].join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["command"].as_str().map(str::to_string));
    let sim_err = |e: SimulateError| match e {
        SimulateError::Output(o) => CliError::Output(o),
        other => CliError::Input(other.to_string()),
    };
    if command.as_deref() == Some("bootstrap") {
        cartkin::bootstrap::merge::merge(&a.dirs, &out).map_err(|e| match e {
            cartkin::bootstrap::BootstrapError::Output(o) => CliError::Output(o),
            cartkin::bootstrap::BootstrapError::Merge(s) => sim_err(s),
            other => CliError::Input(other.to_string()),
        })?;
    } else if command.as_deref() == Some("trial") {
        cartkin::trial::merge::merge(&a.dirs, &out).map_err(|e| match e {
            TrialError::Output(o) => CliError::Output(o),
            TrialError::Simulate(s) => sim_err(s),
            other => CliError::Input(other.to_string()),
        })?;
    } else {
        cartkin::simulate::merge::merge(&a.dirs, &out).map_err(sim_err)?;
    }
    println!("merged {} shards -> {}", a.dirs.len(), out.path().display());
    Ok(())
}
