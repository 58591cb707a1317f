//! The result files of `cartkin simulate`, written atomically (temporary name, then
//! rename; policy of [`crate::report`]).
//!
//! | file | columns | rows |
//! |---|---|---|
//! | `simulation.csv` | `id,dose,time,analyte,value` (+ `cens` with residual error) | subject, analyte, time |
//! | `summary.csv` | `dose,analyte,time,n,n_blq,p05,p25,median,p75,p95` | dose, analyte, time |
//! | `endpoints.csv` | `id,dose,analyte`, the [`METRICS`], `flags` | subject, analyte |
//! | `endpoints_summary.csv` | `dose,analyte,n`, per metric `_n,_median,_p05,_p95` | dose, analyte |
//! | `dataset.csv` | the input format ([`crate::data::write_csv`]), with `--as-dataset` | subject |
//! | `run.json` | model and its sha256, seed, settings, shard, files and their sha256 | |
//!
//! `dose` is the dose level as given (cells, or cells/kg). Tables follow the crate's one
//! table convention ([`crate::report::table`]): numbers in the shortest form that reads
//! back to the same `f64`, so summaries recomputed from the files equal those of the
//! run; a missing value is an empty field. `--profiles none` leaves out
//! `simulation.csv`. A shard writes `simulation.csv`, `endpoints.csv`, `dataset.csv`
//! (when asked) and `run.json`; `cartkin merge` ([`super::merge`]) joins the shards and
//! computes the summaries. The files are written in a stream ([`super::stream`]).

use std::io::{self, Write};
use std::ops::Range;
use std::path::PathBuf;

use serde_json::json;

use super::design::{DoseUnit, ValidDesign, Variability};
use super::endpoints::{EndpointRow, EndpointSummaryRow, METRICS};
use super::population::{CovariateDistribution, Omega};
use super::run::Simulation;
use super::stream::{simulate_chunks, Profiles, ResultSink};
use super::summary::SummaryRow;
use super::SimulateError;
use crate::report::table::{number, optional, TableWriter};
use crate::report::{sha256_file, OutputDir, OutputError};

/// The model behind a run, as recorded in run.json.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Model name.
    pub name: String,
    /// "built-in NAME" or the file path.
    pub origin: String,
    /// SHA-256 of the model source.
    pub sha256: String,
}

/// What run.json records besides the design.
#[derive(Debug, Clone, PartialEq)]
pub struct RunContext {
    /// The model.
    pub model: ModelInfo,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub elapsed_seconds: f64,
    /// Write dataset.csv.
    pub as_dataset: bool,
    /// The scenario file and its sha256, when one was used.
    pub scenario: Option<(PathBuf, String)>,
    /// Whether simulation.csv is written.
    pub profiles: Profiles,
}

/// A number in the shortest form that reads back to the same `f64`
/// ([`crate::report::table::number`]).
pub fn num(x: f64) -> String {
    number(x)
}

/// Header of simulation.csv.
pub fn simulation_header(residual_error: bool) -> &'static str {
    if residual_error {
        "id,dose,time,analyte,value,cens"
    } else {
        "id,dose,time,analyte,value"
    }
}

/// Write the simulation.csv rows of the subjects at positions `subjects` of `sim` (with
/// the header when `header`).
pub fn write_simulation(
    sim: &Simulation,
    subjects: Range<usize>,
    w: &mut dyn Write,
    header: bool,
) -> io::Result<()> {
    let head = header.then(|| simulation_header(sim.residual_error).split(','));
    let mut t = TableWriter::new(w, head)?;
    let times: Vec<String> = sim.times.iter().map(|&t| num(t)).collect();
    for s in &sim.subjects[subjects] {
        let (id, dose) = (s.id.to_string(), num(s.dose));
        for (k, a) in sim.analytes.iter().enumerate() {
            for (i, time) in times.iter().enumerate() {
                let (v, c) = sim.value(s, i, k);
                let value = num(v);
                let fields = [id.as_str(), &dose, time, a.name(), &value];
                if sim.residual_error {
                    let cens = if c { "1" } else { "0" };
                    t.record(fields.iter().copied().chain([cens]))?;
                } else {
                    t.record(fields)?;
                }
            }
        }
    }
    t.finish().map(|_| ())
}

/// Write summary.csv.
pub fn write_summary(rows: &[SummaryRow], w: &mut dyn Write) -> io::Result<()> {
    let header = "dose,analyte,time,n,n_blq,p05,p25,median,p75,p95".split(',');
    let mut t = TableWriter::new(w, Some(header))?;
    for r in rows {
        let mut rec = vec![
            num(r.dose),
            r.analyte.to_string(),
            num(r.time),
            r.n.to_string(),
            r.n_blq.to_string(),
        ];
        rec.extend(r.percentiles.map(optional));
        t.record(rec)?;
    }
    t.finish().map(|_| ())
}

/// Header fields of endpoints.csv.
pub fn endpoints_header() -> Vec<String> {
    let mut h: Vec<String> = ["id", "dose", "analyte"].map(String::from).to_vec();
    h.extend(METRICS.iter().map(|m| m.to_string()));
    h.push("flags".into());
    h
}

/// Write endpoints.csv rows (with the header when `header`).
pub fn write_endpoints(rows: &[EndpointRow], w: &mut dyn Write, header: bool) -> io::Result<()> {
    let mut t = TableWriter::new(w, header.then(endpoints_header))?;
    for r in rows {
        let mut rec = vec![r.id.to_string(), num(r.dose), r.analyte.to_string()];
        rec.extend(r.values.iter().map(|v| optional(*v)));
        rec.push(r.flags.clone());
        t.record(rec)?;
    }
    t.finish().map(|_| ())
}

/// Write endpoints_summary.csv.
pub fn write_endpoint_summary(rows: &[EndpointSummaryRow], w: &mut dyn Write) -> io::Result<()> {
    let mut header: Vec<String> = ["dose", "analyte", "n"].map(String::from).to_vec();
    for m in METRICS {
        header.extend(["n", "median", "p05", "p95"].map(|s| format!("{m}_{s}")));
    }
    let mut t = TableWriter::new(w, Some(header))?;
    for r in rows {
        let mut rec = vec![num(r.dose), r.analyte.to_string(), r.n.to_string()];
        for m in r.metrics {
            rec.extend([
                m.n.to_string(),
                optional(m.median),
                optional(m.p05),
                optional(m.p95),
            ]);
        }
        t.record(rec)?;
    }
    t.finish().map(|_| ())
}

fn covariate_json(d: &CovariateDistribution) -> serde_json::Value {
    match d {
        CovariateDistribution::Fixed(x) => json!({"distribution": "fixed", "value": x}),
        CovariateDistribution::LogNormal { median, cv_pct } => {
            json!({"distribution": "lognormal", "median": median, "cv_pct": cv_pct})
        }
        CovariateDistribution::Normal {
            mean,
            sd,
            lower,
            upper,
        } => {
            json!({"distribution": "normal", "mean": mean, "sd": sd, "lower": lower, "upper": upper})
        }
        CovariateDistribution::Uniform { lower, upper } => {
            json!({"distribution": "uniform", "lower": lower, "upper": upper})
        }
        CovariateDistribution::List(v) => json!({"distribution": "list", "values": v}),
    }
}

/// The settings of a design as JSON (everything that determines the results except the
/// model, which run.json records by hash).
pub fn settings_json(design: &ValidDesign) -> serde_json::Value {
    let d = &design.design;
    let variability = match &d.variability {
        Variability::Typical => json!("typical"),
        Variability::Population(Omega::Model) => json!("population, model omega (diagonal)"),
        Variability::Population(Omega::Full { parameters, matrix }) => {
            json!({"omega_parameters": parameters, "omega": matrix})
        }
    };
    json!({
        "doses": d.doses.iter().map(|l| json!({"dose": l.dose, "n": l.n})).collect::<Vec<_>>(),
        "dose_unit": match d.dose_unit { DoseUnit::Total => "cells", DoseUnit::PerKg => "cells/kg" },
        "times": d.times,
        "time_unit": "days",
        "analytes": design.analytes.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "lloq": design.lloq,
        "covariates": d.covariates.iter().map(|(n, c)| json!({"name": n, "distribution": covariate_json(c)})).collect::<Vec<_>>(),
        "parameters": d.parameters.iter().map(|(n, v)| json!({"name": n, "typical": v})).collect::<Vec<_>>(),
        "variability": variability,
        "residual_error": d.residual_error,
        "seed": d.seed,
        "total_subjects": design.total_subjects(),
        "rng": "ChaCha12, seed_from_u64(seed), stream = subject index",
        "percentiles": "type 7 (Hyndman & Fan 1996)",
    })
}

/// Write the results of a simulation held in memory into `out` and return the names of
/// the files written. A shard writes no summaries; a typical-subject run writes no
/// summaries either. The files are those of the streamed run ([`super::stream`]),
/// byte for byte.
pub fn write_results(
    out: &OutputDir,
    design: &ValidDesign,
    sim: &Simulation,
    ctx: &RunContext,
) -> Result<Vec<String>, SimulateError> {
    let mut sink = ResultSink::new(out, design, ctx.profiles, ctx.as_dataset)?;
    let chunk = super::memory::chunk_size(sim.times.len() * sim.analytes.len());
    for part in simulate_chunks(sim, chunk) {
        sink.add(&part)?;
    }
    sink.finish(ctx)
}

/// The text of run.json.
pub(crate) fn run_json(
    out: &OutputDir,
    design: &ValidDesign,
    ctx: &RunContext,
    files: &[String],
) -> Result<String, SimulateError> {
    let mut hashes = serde_json::Map::new();
    for f in files {
        let path = out.file(f);
        let h = sha256_file(&path).map_err(|source| OutputError::Io { path, source })?;
        hashes.insert(f.clone(), json!(h));
    }
    let range = design.subject_range();
    let v = json!({
        "command": "simulate",
        "cartkin_version": env!("CARGO_PKG_VERSION"),
        "model": {"name": ctx.model.name, "origin": ctx.model.origin, "sha256": ctx.model.sha256},
        "scenario": ctx.scenario.as_ref().map(|(p, h)| json!({"file": p.display().to_string(), "sha256": h})),
        "settings": settings_json(design),
        "shard": design.design.shard.map(|s| json!({"index": s.index, "count": s.count})),
        "subjects": {"first_id": range.start + 1, "last_id": range.end, "count": range.len()},
        "threads": ctx.threads,
        "elapsed_seconds": ctx.elapsed_seconds,
        "as_dataset": ctx.as_dataset,
        "profiles": ctx.profiles.name(),
        "files": hashes,
    });
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n")
}
