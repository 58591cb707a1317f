//! `cartkin models` (being built).

use super::CliError;

/// Arguments of `cartkin models`.
#[derive(Debug, clap::Args)]
pub struct ModelsArgs {}

/// Run `cartkin models`.
pub fn run(_args: ModelsArgs) -> Result<(), CliError> {
    Err(CliError::Input(
        "`cartkin models` is not available in this build yet".into(),
    ))
}
