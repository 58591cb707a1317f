//! `cartkin merge` of the shards of one `cartkin bootstrap --shard i/N` run: the shards
//! are checked to make one whole run ([`crate::simulate::merge::check_shards`]: the same
//! fit, model, settings and seed, every shard once), their `bootstrap.csv` rows are read
//! back in shard order (contiguous slices of the replicates) and written again with the
//! summary computed from them, as the unsharded run does: the files are byte-identical
//! to it. The fit's estimates (column `estimate`) come from the first shard's
//! `bootstrap_summary.csv`, where they are written exactly.

use std::path::PathBuf;

use serde_json::Value;

use super::table::{read_replicates, summarise, write_replicates, write_summary};
use super::BootstrapError;
use crate::report::OutputDir;
use crate::simulate::merge::{check_shards, mark_merged};

/// The run.json keys that must agree across shards.
pub const SAME: [&str; 5] = ["fit", "model", "settings", "seed", "parameters"];

/// The `estimate` column of a `bootstrap_summary.csv`, for `names` in order.
fn read_estimates(
    path: &std::path::Path,
    names: &[String],
) -> Result<Vec<Option<f64>>, BootstrapError> {
    let bad = |m: String| BootstrapError::Input(format!("{}: {m}", path.display()));
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let mut found = std::collections::BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let (Some(name), Some(value)) = (rec.get(0), rec.get(1)) else {
            return Err(bad("expected the columns parameter, estimate".into()));
        };
        found.insert(name.to_string(), value.parse::<f64>().ok());
    }
    Ok(names
        .iter()
        .map(|n| found.get(n).copied().flatten())
        .collect())
}

/// Merge the shard directories `dirs` into `out`.
pub fn merge(dirs: &[PathBuf], out: &OutputDir) -> Result<(), BootstrapError> {
    let shards = check_shards(dirs, "bootstrap", &SAME)?;
    let template = shards[0].2.clone();
    let mut names: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for (_, dir, _) in &shards {
        let (n, r) = read_replicates(&dir.join("bootstrap.csv")).map_err(BootstrapError::Input)?;
        if names.as_ref().is_some_and(|m| *m != n) {
            return Err(BootstrapError::Input(format!(
                "{}: bootstrap.csv columns differ from the first shard's",
                dir.display()
            )));
        }
        names = Some(n);
        rows.extend(r);
    }
    let names = names.unwrap_or_default();
    let total = template["settings"]["replicates"].as_u64().unwrap_or(0) as usize;
    if let Some((k, r)) = rows.iter().enumerate().find(|(k, r)| r.replicate != k + 1) {
        return Err(BootstrapError::Input(format!(
            "replicate {} where replicate {} was expected",
            r.replicate,
            k + 1
        )));
    }
    if rows.len() != total {
        return Err(BootstrapError::Input(format!(
            "the shards hold {} replicates, run.json says {total}",
            rows.len()
        )));
    }
    // The fit's estimates as written (exactly) in the first shard's summary.
    let estimates = read_estimates(&shards[0].1.join("bootstrap_summary.csv"), &names)?;
    out.write_with("bootstrap.csv", |w| write_replicates(w, &names, &rows))?;
    let summary = summarise(&names, &estimates, &rows);
    out.write_with("bootstrap_summary.csv", |w| write_summary(w, &summary))?;
    let mut run: Value = template;
    mark_merged(&mut run, &shards);
    let text = serde_json::to_string_pretty(&run).unwrap_or_default();
    out.write("run.json", text.as_bytes())?;
    Ok(())
}
