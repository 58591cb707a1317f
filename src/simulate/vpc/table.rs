//! `vpc.csv`: one row per analyte and bin. The columns are listed once, in [`COLUMNS`]
//! (docs/outputs.md describes each); numbers and missing values follow
//! [`crate::report::table`].

use std::io::Write;

use crate::data::Analyte;
use crate::report::table::{finite, number, optional, TableWriter};

/// One analyte and bin of a VPC (see [`super`] for how each value is computed).
#[derive(Debug, Clone, PartialEq)]
pub struct VpcRow {
    /// Analyte.
    pub analyte: Analyte,
    /// Bin number within the analyte, 1-based, in time order.
    pub bin: usize,
    /// Median observation time of the bin.
    pub time: f64,
    /// Earliest observation time of the bin.
    pub time_min: f64,
    /// Latest observation time of the bin.
    pub time_max: f64,
    /// Observed records.
    pub n: usize,
    /// Observed records below the LLOQ.
    pub n_blq: usize,
    /// Highest LLOQ of the bin's records (`None`: no LLOQ).
    pub lloq: Option<f64>,
    /// Observed fraction below the LLOQ.
    pub blq_obs: f64,
    /// Simulated fraction below the LLOQ: 5th, 50th, 95th percentile over replicates.
    pub blq_sim: [Option<f64>; 3],
    /// Observed 5th, 50th, 95th percentiles (`None`: below the LLOQ).
    pub obs: [Option<f64>; 3],
    /// Simulated percentiles [5th, 50th, 95th], each as the 5th, 50th, 95th percentile
    /// over replicates (`None`: below the LLOQ).
    pub sim: [[Option<f64>; 3]; 3],
}

/// A column: its name and how a row fills it.
pub type Column = (&'static str, fn(&VpcRow) -> String);

/// The columns of `vpc.csv`, in order.
pub const COLUMNS: [Column; 24] = [
    ("analyte", |r| r.analyte.to_string()),
    ("bin", |r| r.bin.to_string()),
    ("time", |r| finite(Some(r.time))),
    ("time_min", |r| finite(Some(r.time_min))),
    ("time_max", |r| finite(Some(r.time_max))),
    ("n", |r| r.n.to_string()),
    ("n_blq", |r| r.n_blq.to_string()),
    ("lloq", |r| optional(r.lloq)),
    ("blq_obs", |r| number(r.blq_obs)),
    ("blq_sim_lo", |r| optional(r.blq_sim[0])),
    ("blq_sim_median", |r| optional(r.blq_sim[1])),
    ("blq_sim_hi", |r| optional(r.blq_sim[2])),
    ("p05_obs", |r| optional(r.obs[0])),
    ("p05_sim_lo", |r| optional(r.sim[0][0])),
    ("p05_sim_median", |r| optional(r.sim[0][1])),
    ("p05_sim_hi", |r| optional(r.sim[0][2])),
    ("p50_obs", |r| optional(r.obs[1])),
    ("p50_sim_lo", |r| optional(r.sim[1][0])),
    ("p50_sim_median", |r| optional(r.sim[1][1])),
    ("p50_sim_hi", |r| optional(r.sim[1][2])),
    ("p95_obs", |r| optional(r.obs[2])),
    ("p95_sim_lo", |r| optional(r.sim[2][0])),
    ("p95_sim_median", |r| optional(r.sim[2][1])),
    ("p95_sim_hi", |r| optional(r.sim[2][2])),
];

/// Write `vpc.csv`.
pub fn write_vpc<W: Write>(out: W, rows: &[VpcRow]) -> std::io::Result<()> {
    let mut t = TableWriter::new(out, Some(COLUMNS.iter().map(|c| c.0)))?;
    for r in rows {
        t.record(COLUMNS.iter().map(|c| (c.1)(r)))?;
    }
    t.finish()?;
    Ok(())
}
