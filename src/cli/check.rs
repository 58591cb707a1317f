//! `cartkin check DATA.csv`: validate a dataset in the long CSV format (docs/data-format.md) and
//! print a summary with every warning. A dataset that cannot be used is refused (exit 1)
//! with every error listed, each naming file, line, column, value and what was expected.

use std::io::Write;
use std::path::PathBuf;

use super::data_args::DataArgs;
use super::CliError;
use cartkin::data::Summary;

/// Arguments of `cartkin check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The dataset (long CSV: ID, TIME, DV, DVID, ...; see data/README.md).
    pub data: PathBuf,
    #[command(flatten)]
    pub read: DataArgs,
    /// Summarise only these analytes, comma-separated, by name or DVID code (default:
    /// every analyte; the checks and warnings always cover the whole file).
    #[arg(
        long,
        visible_alias = "analytes",
        value_delimiter = ',',
        value_name = "ANALYTE,..."
    )]
    pub analyte: Vec<String>,
}

/// Run `cartkin check`.
pub fn run(args: CheckArgs) -> Result<(), CliError> {
    let dvid_map = super::dvid_map(args.read.dvid_map.as_deref())?;
    let requested = super::analyte_names(&args.analyte, &dvid_map)?;
    let mut loaded = args.read.read(&args.data)?;
    if !requested.is_empty() {
        let observed = loaded.dataset.analytes();
        for (name, a) in args.analyte.iter().zip(&requested) {
            if !observed.contains(a) {
                let names: Vec<&str> = observed.iter().map(|a| a.name()).collect();
                return Err(CliError::Input(format!(
                    "--analyte: value '{name}': expected an analyte of {} ({})",
                    args.data.display(),
                    names.join(", ")
                )));
            }
        }
        for s in &mut loaded.dataset.subjects {
            s.observations.retain(|o| requested.contains(&o.analyte));
        }
    }
    let mut summary = Summary::of(&loaded);
    summary.time_unit = args.read.unit()?;
    let text = summary.to_string();
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
