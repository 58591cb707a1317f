//! `bootstrap.csv` (one row per replicate: `replicate, status, ofv`, then one column per
//! estimated parameter) and `bootstrap_summary.csv` (one row per parameter: `parameter,
//! estimate, median, p2_5, p97_5, n_replicates, n_converged, fraction_converged`).
//! Numbers are written so that they read back to the same `f64`
//! ([`crate::report::table`]), so the summary of merged shards equals the unsharded one.

use std::io::Write;
use std::path::Path;

use super::method::{ReplicateFit, ReplicateStatus};
use crate::report::table::{finite, number, optional, TableWriter};
use crate::simulate::percentile::type7;

/// One replicate of `bootstrap.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Replicate {
    /// Replicate number, 1-based.
    pub replicate: usize,
    /// Its refit.
    pub fit: ReplicateFit,
}

/// The first columns of `bootstrap.csv`, before the parameters.
pub const REPLICATE_COLUMNS: [&str; 3] = ["replicate", "status", "ofv"];

/// The columns of `bootstrap_summary.csv`.
pub const SUMMARY_COLUMNS: [&str; 8] = [
    "parameter",
    "estimate",
    "median",
    "p2_5",
    "p97_5",
    "n_replicates",
    "n_converged",
    "fraction_converged",
];

/// Write `bootstrap.csv` (`names`: the parameter columns).
pub fn write_replicates<W: Write>(
    out: W,
    names: &[String],
    rows: &[Replicate],
) -> std::io::Result<()> {
    let header: Vec<String> = REPLICATE_COLUMNS
        .iter()
        .map(|s| s.to_string())
        .chain(names.iter().cloned())
        .collect();
    let mut t = TableWriter::new(out, Some(header))?;
    for r in rows {
        let mut f = vec![
            r.replicate.to_string(),
            r.fit.status.as_str().to_string(),
            finite(r.fit.ofv),
        ];
        f.extend((0..names.len()).map(|k| finite(r.fit.values.get(k).copied().flatten())));
        t.record(f)?;
    }
    t.finish()?;
    Ok(())
}

/// Read `bootstrap.csv` back: the parameter names and the rows.
pub fn read_replicates(path: &Path) -> Result<(Vec<String>, Vec<Replicate>), String> {
    let at = |line: usize, m: String| format!("{}:{line}: {m}", path.display());
    let mut r = csv::Reader::from_path(path).map_err(|e| at(0, e.to_string()))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| at(1, e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    if header.len() < 3 || header[..3] != REPLICATE_COLUMNS {
        return Err(at(
            1,
            format!("expected a header starting {}", REPLICATE_COLUMNS.join(",")),
        ));
    }
    let names = header[3..].to_vec();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| at(line, e.to_string()))?;
        let num = |j: usize| -> Result<Option<f64>, String> {
            let s = &rec[j];
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<f64>()
                .map(Some)
                .map_err(|_| at(line, format!("column {}: '{s}' is not a number", header[j])))
        };
        let replicate = rec[0].parse().map_err(|_| {
            at(
                line,
                format!("replicate '{}': expected a whole number", &rec[0]),
            )
        })?;
        let status = ReplicateStatus::parse(&rec[1])
            .ok_or_else(|| at(line, format!("status '{}'", &rec[1])))?;
        rows.push(Replicate {
            replicate,
            fit: ReplicateFit {
                status,
                ofv: num(2)?,
                values: (3..header.len()).map(num).collect::<Result<_, _>>()?,
            },
        });
    }
    Ok((names, rows))
}

/// One row of `bootstrap_summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Parameter.
    pub parameter: String,
    /// The fit's estimate (the start of every refit).
    pub estimate: Option<f64>,
    /// Median over converged replicates.
    pub median: Option<f64>,
    /// 2.5th percentile over converged replicates.
    pub p2_5: Option<f64>,
    /// 97.5th percentile over converged replicates.
    pub p97_5: Option<f64>,
    /// Replicates.
    pub n_replicates: usize,
    /// Converged replicates.
    pub n_converged: usize,
}

/// The summary of `rows` per parameter (`names`, with the fit's `estimates`): type-7
/// percentiles over the converged replicates with a value.
pub fn summarise(
    names: &[String],
    estimates: &[Option<f64>],
    rows: &[Replicate],
) -> Vec<SummaryRow> {
    let converged: Vec<&Replicate> = rows
        .iter()
        .filter(|r| r.fit.status == ReplicateStatus::Converged)
        .collect();
    names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut v: Vec<f64> = converged
                .iter()
                .filter_map(|r| r.fit.values.get(k).copied().flatten())
                .filter(|x| x.is_finite())
                .collect();
            v.sort_by(f64::total_cmp);
            SummaryRow {
                parameter: name.clone(),
                estimate: estimates.get(k).copied().flatten(),
                median: type7(&v, 0.5),
                p2_5: type7(&v, 0.025),
                p97_5: type7(&v, 0.975),
                n_replicates: rows.len(),
                n_converged: converged.len(),
            }
        })
        .collect()
}

/// Write `bootstrap_summary.csv`.
pub fn write_summary<W: Write>(out: W, rows: &[SummaryRow]) -> std::io::Result<()> {
    let mut t = TableWriter::new(out, Some(SUMMARY_COLUMNS))?;
    for r in rows {
        let fraction = if r.n_replicates == 0 {
            None
        } else {
            Some(r.n_converged as f64 / r.n_replicates as f64)
        };
        t.record([
            r.parameter.clone(),
            optional(r.estimate),
            optional(r.median),
            optional(r.p2_5),
            optional(r.p97_5),
            r.n_replicates.to_string(),
            r.n_converged.to_string(),
            fraction.map(number).unwrap_or_default(),
        ])?;
    }
    t.finish()?;
    Ok(())
}
