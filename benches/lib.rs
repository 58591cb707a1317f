//! Helpers shared by cartkin's benchmarks (the `[[bench]]` targets beside this file).

use std::path::Path;

/// The repository root, where `data/`, `models/` and `benches/data/` are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ is inside the repository")
}
