//! Longitudinal CAR-T data: the long CSV format of docs/data-format.md (one row per record,
//! NONMEM/Monolix column names or friendly aliases), its validation, and the domain
//! types the rest of cartkin works on.
//!
//! ```no_run
//! let loaded = cartkin::data::read_csv(std::path::Path::new("data/example.csv"))?;
//! for w in &loaded.warnings {
//!     eprintln!("warning: {w}");
//! }
//! println!("{}", cartkin::data::Summary::of(&loaded));
//! # Ok::<(), cartkin::data::DataError>(())
//! ```
//!
//! Reading never drops a record silently: a file with any error is refused with every
//! problem listed ([`DataError::Invalid`]); records that are neither observations nor
//! doses (EVID 2, MDV 1) are kept in [`Loaded::skipped`] with the reason.
//!
//! NONMEM datasets are read unchanged: `DVID` is optional, `EVID` 0–4, `MDV`, `CMT`,
//! `RATE`/`DUR` (zero-order infusions), `ADDL`/`II` (expanded into doses), R-style
//! names. Times are in the data's unit; [`crate::model::bind`] routes observations to a
//! model's outputs, converts times to the model's unit and checks covariates.

mod assemble;
mod columns;
mod covariates;
mod dvid;
mod fields;
mod issue;
mod observation;
mod reader;
mod records;
mod summary;
mod time_unit;
mod types;
mod writer;

use std::io::Read;
use std::path::Path;

pub use columns::{Role, ROLE_NAMES};
pub use covariates::NUMERIC_COVARIATES;
pub use dvid::{CovariateRule, DvidMap, ReadOptions};
pub use issue::{DataError, Issue, Severity};
pub use records::{SkipReason, SkippedRecord};
pub use summary::{AnalyteSummary, CovariateSummary, DoseLevel, Summary};
pub use time_unit::TimeUnit;
pub use types::{
    step_at, Analyte, CovariateValue, Covariates, Dataset, Dose, Observation, Subject,
    RESET_TARGET, STANDARD_ANALYTES, UNLABELLED,
};
pub use writer::write_csv;

/// A dataset read from a file, with the warnings about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The dataset.
    pub dataset: Dataset,
    /// Problems that did not prevent reading (unknown analyte names, records set aside,
    /// ...), in line order.
    pub warnings: Vec<Issue>,
    /// Records that are neither observations nor doses, with the reason.
    pub skipped: Vec<SkippedRecord>,
}

/// Read a dataset in the long CSV format (docs/data-format.md) with default options.
pub fn read_csv(path: &Path) -> Result<Loaded, DataError> {
    read_csv_with(path, &ReadOptions::default())
}

/// Read a dataset in the long CSV format with the given options.
pub fn read_csv_with(path: &Path, options: &ReadOptions) -> Result<Loaded, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    read_csv_from(std::io::BufReader::new(file), path, options)
}

/// Read a dataset from any reader; `name` is the file name used in messages and as
/// [`Dataset::source`].
pub fn read_csv_from<R: Read>(
    source: R,
    name: &Path,
    options: &ReadOptions,
) -> Result<Loaded, DataError> {
    let table = reader::read_table(source, name, options)?;
    assemble::assemble(name, table, options)
}
