//! `cartkin merge DIR1 DIR2 ... --out DIR`: join the shards of one `cartkin simulate
//! --shard i/N` run into the files of the unsharded run (byte-identical data files; see
//! [`cartkin::simulate::merge`]).

use std::path::PathBuf;

use super::{CliError, OutArgs};
use cartkin::simulate::SimulateError;

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
    cartkin::simulate::merge::merge(&a.dirs, &out).map_err(|e| match e {
        SimulateError::Output(o) => CliError::Output(o),
        other => CliError::Input(other.to_string()),
    })?;
    println!("merged {} shards -> {}", a.dirs.len(), out.path().display());
    Ok(())
}
