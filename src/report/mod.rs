//! Output: result directories that are never overwritten by accident, files written
//! atomically (temporary name, then rename), and small helpers for CSV tables and the
//! `run.json` provenance record.

mod output;

pub use output::{sha256_file, sha256_hex, write_atomic, OutputDir, OutputError};
