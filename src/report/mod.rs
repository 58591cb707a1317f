//! Output: result directories that are never overwritten by accident, files written
//! atomically (temporary name, then rename), the one CSV table writer with its
//! conventions ([`table`]: number format, a missing value is an empty field), the
//! `run.json` provenance record, the plots ([`plots`], feature `plots`) and the HTML
//! report ([`html`]) of a result directory.

pub mod html;
mod output;
#[cfg(feature = "plots")]
pub mod plots;
pub mod table;

pub use output::{
    relative_path, sha256_file, sha256_hex, write_atomic, AtomicFile, OutputDir, OutputError,
};
