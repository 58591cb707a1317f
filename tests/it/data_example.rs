//! The bundled example `data/example.csv` is exactly what the command documented in
//! `data/README.md` produces: `cartkin simulate --scenario data/trials/example_sle.toml
//! --with-error --as-dataset --seed 20261123`, file `dataset.csv`. When a change to the
//! simulator, the model library or the writer changes the numbers, this test fails and
//! the example (and the tests pinned to it: cli_check, data_roundtrip, nca_peer) must be
//! regenerated together with data/README.md.

use std::path::Path;
use std::process::Command;

#[test]
fn example_is_reproduced_by_the_documented_simulate_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_cartkin"))
        .current_dir(root)
        .args([
            "simulate",
            "--scenario",
            "data/trials/example_sle.toml",
            "--with-error",
            "--as-dataset",
            "--seed",
            "20261123",
            "--threads",
            "1",
            "--out",
        ])
        .arg(&out)
        .arg("--force")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let simulated = std::fs::read_to_string(out.join("dataset.csv")).unwrap();
    let bundled = std::fs::read_to_string(root.join("data/example.csv")).unwrap();
    assert!(
        simulated == bundled,
        "data/example.csv differs from the output of the documented command; \
         regenerate it (data/README.md, Provenance)"
    );
    // The scenario's own seed is the documented one, so the command without --seed
    // gives the same file.
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["settings"]["seed"], 20261123, "{run}");
}
