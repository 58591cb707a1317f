//! Output: result directories that are never overwritten by accident, files written
//! atomically (temporary name, then rename), and the one CSV table writer with its
//! conventions ([`table`]: number format, a missing value is an empty field).

mod output;
pub mod table;

pub use output::{
    relative_path, sha256_file, sha256_hex, write_atomic, AtomicFile, OutputDir, OutputError,
};
