//! Options for reading a dataset, shared by `check`, `nca`, `fit` and `simulate --data`:
//! `--dvid-map` (numeric DVID codes, or CMT codes without DVID), `--time-unit` (the
//! data's unit of time) and `--time-varying locf|nocb` (time-varying covariates).

use std::path::Path;

use super::CliError;
use cartkin::data::{
    read_csv_with, CovariateRule, Dataset, DvidMap, Loaded, ReadOptions, TimeUnit,
};
use cartkin::model::Model;

/// How to read a dataset.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// Analytes of numeric DVID codes, e.g. `1=transgene,2=b_cells` (without a DVID
    /// column: of CMT codes on observation records). Without it, DVID code k is the k-th
    /// standard analyte (1 transgene, 2 cart_cells, 3 b_cells, ..., 8 igg, ...).
    #[arg(long, value_name = "CODE=ANALYTE,...")]
    pub dvid_map: Option<String>,
    /// The unit of TIME (and DUR, II) in the data, converted to the model's `time_unit`
    /// (simulate without --data: the unit of --times and --schedule).
    #[arg(long, value_name = "hours|days", default_value = "days")]
    pub time_unit: String,
    /// Time-varying covariates: `locf` (a record's value holds from its time on) or
    /// `nocb` (it holds back to the previous record, as in NONMEM).
    #[arg(long, value_name = "locf|nocb", default_value = "locf")]
    pub time_varying: String,
}

impl DataArgs {
    /// The data's time unit.
    pub fn unit(&self) -> Result<TimeUnit, CliError> {
        TimeUnit::parse(&self.time_unit).map_err(|e| CliError::Input(format!("--time-unit: {e}")))
    }

    /// The reader's options.
    pub fn options(&self) -> Result<ReadOptions, CliError> {
        let dvid_map = match &self.dvid_map {
            Some(text) => {
                DvidMap::parse(text).map_err(|e| CliError::Input(format!("--dvid-map: {e}")))?
            }
            None => DvidMap::Default,
        };
        let covariates = CovariateRule::parse(&self.time_varying)
            .map_err(|e| CliError::Input(format!("--time-varying: {e}")))?;
        Ok(ReadOptions {
            dvid_map,
            covariates,
        })
    }

    /// Read the dataset (warnings printed to stderr by the caller).
    pub fn read(&self, path: &Path) -> Result<Loaded, CliError> {
        self.unit()?;
        read_csv_with(path, &self.options()?).map_err(|e| CliError::Input(e.to_string()))
    }

    /// Read the dataset, print its warnings and bind it to `model` (outputs routed, times
    /// in the model's unit, covariates checked; see [`cartkin::model::bind`]).
    pub fn read_for(&self, path: &Path, model: &Model) -> Result<Dataset, CliError> {
        let loaded = self.read(path)?;
        for w in &loaded.warnings {
            eprintln!("warning: {w}");
        }
        cartkin::model::bind::bind(model, &loaded.dataset, self.unit()?)
            .map_err(|e| CliError::Input(e.to_string()))
    }
}
