//! `cartkin nca` (being built).

use super::CliError;

/// Arguments of `cartkin nca`.
#[derive(Debug, clap::Args)]
pub struct NcaArgs {}

/// Run `cartkin nca`.
pub fn run(_args: NcaArgs) -> Result<(), CliError> {
    Err(CliError::Input(
        "`cartkin nca` is not available in this build yet".into(),
    ))
}
