//! `cartkin fit` (being built).

use super::CliError;

/// Arguments of `cartkin fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {}

/// Run `cartkin fit`.
pub fn run(_args: FitArgs) -> Result<(), CliError> {
    Err(CliError::Input(
        "`cartkin fit` is not available in this build yet".into(),
    ))
}
