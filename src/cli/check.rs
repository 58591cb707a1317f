//! `cartkin check DATA.csv`: validate a dataset in the long CSV format (docs/data-format.md) and
//! print a summary with every warning. A dataset that cannot be used is refused (exit 1)
//! with every error listed, each naming file, line, column, value and what was expected.

use std::io::Write;
use std::path::PathBuf;

use super::CliError;
use cartkin::data::{read_csv_with, ReadOptions, Summary};

/// Arguments of `cartkin check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The dataset (long CSV: ID, TIME, DV, DVID, ...; see data/README.md).
    pub data: PathBuf,
    /// Analytes of numeric DVID codes, e.g. `1=transgene,2=b_cells`. Without it, code k is
    /// the k-th standard analyte (1 transgene, 2 cart_cells, 3 b_cells, ..., 8 igg, ...).
    #[arg(long, value_name = "CODE=ANALYTE,...")]
    pub dvid_map: Option<String>,
}

/// Run `cartkin check`.
pub fn run(args: CheckArgs) -> Result<(), CliError> {
    let dvid_map = super::dvid_map(args.dvid_map.as_deref())?;
    let loaded = read_csv_with(&args.data, &ReadOptions { dvid_map })
        .map_err(|e| CliError::Input(e.to_string()))?;
    let text = Summary::of(&loaded).to_string();
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // a closed pipe (`cartkin check data.csv | head`) is not an error
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Input(format!(
            "cannot write the summary to standard output: {e}"
        ))),
    }
}
