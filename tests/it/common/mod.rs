//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test module uses a different subset

pub mod estimate;
pub mod figures;
pub mod library;
pub mod solve;
pub mod stein;
pub mod trial;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run the real `cartkin` binary with `args` in `dir`.
pub fn cartkin_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cartkin"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the cartkin binary runs")
}

/// Run the real `cartkin` binary with `args` in the current directory.
pub fn cartkin(args: &[&str]) -> Output {
    cartkin_in(Path::new("."), args)
}

/// A file of the repository, by its path from the repository root.
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}
