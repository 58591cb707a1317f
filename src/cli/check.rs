//! `cartkin check` (being built).

use super::CliError;

/// Arguments of `cartkin check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

/// Run `cartkin check`.
pub fn run(_args: CheckArgs) -> Result<(), CliError> {
    Err(CliError::Input("`cartkin check` is not available in this build yet".into()))
}
