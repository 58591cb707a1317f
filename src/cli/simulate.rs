//! `cartkin simulate` (being built).

use super::CliError;

/// Arguments of `cartkin simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {}

/// Run `cartkin simulate`.
pub fn run(_args: SimulateArgs) -> Result<(), CliError> {
    Err(CliError::Input(
        "`cartkin simulate` is not available in this build yet".into(),
    ))
}
