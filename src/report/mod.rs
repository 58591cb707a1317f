//! Output: result directories that are never overwritten by accident, files written
//! atomically (temporary name, then rename), and small helpers for CSV tables and the
//! `run.json` provenance record; the plots ([`plots`], feature `plots`) and the HTML
//! report ([`html`]) of a result directory.

pub mod html;
mod output;
#[cfg(feature = "plots")]
pub mod plots;

pub use output::{sha256_file, sha256_hex, OutputDir, OutputError};
