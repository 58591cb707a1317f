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
//! `dose` is the dose level as given (cells, or cells/kg). Numbers are written in the
//! shortest form that reads back to the same `f64` (plain decimals between 1e-5 and
//! 1e16, exponent form outside), so summaries recomputed from the files equal those of
//! the run; missing values are empty. A shard writes `simulation.csv`, `endpoints.csv`,
//! `dataset.csv` (when asked) and `run.json`; `cartkin merge` ([`super::merge`]) joins
//! the shards and computes the summaries.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::design::{DoseUnit, ValidDesign, Variability};
use super::endpoints::{EndpointRow, EndpointSummaryRow, METRICS};
use super::population::{CovariateDistribution, Omega};
use super::run::Simulation;
use super::summary::SummaryRow;
use super::SimulateError;
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
}

/// A number in the shortest form that reads back to the same `f64`.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-5..1e16).contains(&a) || !x.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// Write a file through a temporary name and a rename, streaming through `fill`.
pub fn write_streamed<F>(path: &Path, fill: F) -> Result<(), SimulateError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let io_err = |source| {
        SimulateError::Output(OutputError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = fs::File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err)
}

/// Header of simulation.csv.
pub fn simulation_header(residual_error: bool) -> &'static str {
    if residual_error {
        "id,dose,time,analyte,value,cens"
    } else {
        "id,dose,time,analyte,value"
    }
}

/// Write simulation.csv rows (with the header when `header`).
pub fn write_simulation(sim: &Simulation, w: &mut dyn Write, header: bool) -> io::Result<()> {
    if header {
        writeln!(w, "{}", simulation_header(sim.residual_error))?;
    }
    let times: Vec<String> = sim.times.iter().map(|&t| num(t)).collect();
    for s in &sim.subjects {
        let dose = num(s.dose);
        for (k, a) in sim.analytes.iter().enumerate() {
            for (t, time) in times.iter().enumerate() {
                let (v, c) = sim.value(s, t, k);
                write!(w, "{},{dose},{time},{a},{}", s.id, num(v))?;
                if sim.residual_error {
                    writeln!(w, ",{}", u8::from(c))?;
                } else {
                    writeln!(w)?;
                }
            }
        }
    }
    Ok(())
}

/// Write summary.csv.
pub fn write_summary(rows: &[SummaryRow], w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "dose,analyte,time,n,n_blq,p05,p25,median,p75,p95")?;
    for r in rows {
        write!(
            w,
            "{},{},{},{},{}",
            num(r.dose),
            r.analyte,
            num(r.time),
            r.n,
            r.n_blq
        )?;
        for p in r.percentiles {
            write!(w, ",{}", opt(p))?;
        }
        writeln!(w)?;
    }
    Ok(())
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
    let mut out = csv::Writer::from_writer(w);
    if header {
        out.write_record(endpoints_header())?;
    }
    for r in rows {
        let mut rec = vec![r.id.to_string(), num(r.dose), r.analyte.to_string()];
        rec.extend(r.values.iter().map(|v| opt(*v)));
        rec.push(r.flags.clone());
        out.write_record(&rec)?;
    }
    out.flush()
}

/// Write endpoints_summary.csv.
pub fn write_endpoint_summary(rows: &[EndpointSummaryRow], w: &mut dyn Write) -> io::Result<()> {
    write!(w, "dose,analyte,n")?;
    for m in METRICS {
        write!(w, ",{m}_n,{m}_median,{m}_p05,{m}_p95")?;
    }
    writeln!(w)?;
    for r in rows {
        write!(w, "{},{},{}", num(r.dose), r.analyte, r.n)?;
        for m in r.metrics {
            write!(
                w,
                ",{},{},{},{}",
                m.n,
                opt(m.median),
                opt(m.p05),
                opt(m.p95)
            )?;
        }
        writeln!(w)?;
    }
    Ok(())
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

/// Write the results of a run into `out` and return the names of the files written.
/// A shard writes no summaries; a typical-subject run writes no summaries either.
pub fn write_results(
    out: &OutputDir,
    design: &ValidDesign,
    sim: &Simulation,
    ctx: &RunContext,
) -> Result<Vec<String>, SimulateError> {
    let mut files = vec!["simulation.csv".to_string()];
    write_streamed(&out.file("simulation.csv"), |w| {
        write_simulation(sim, w, true)
    })?;
    let endpoint_rows = super::endpoints::endpoints(sim);
    write_streamed(&out.file("endpoints.csv"), |w| {
        write_endpoints(&endpoint_rows, w, true)
    })?;
    files.push("endpoints.csv".into());
    let summaries =
        design.design.shard.is_none() && design.design.variability != Variability::Typical;
    if summaries {
        let rows = super::summary::summarise(sim);
        write_streamed(&out.file("summary.csv"), |w| write_summary(&rows, w))?;
        let es = super::endpoints::summarise_endpoints(&endpoint_rows);
        write_streamed(&out.file("endpoints_summary.csv"), |w| {
            write_endpoint_summary(&es, w)
        })?;
        files.push("summary.csv".into());
        files.push("endpoints_summary.csv".into());
    }
    if ctx.as_dataset {
        let data = super::dataset::to_dataset(design, sim);
        let mut buf = Vec::new();
        crate::data::write_csv(&data, &mut buf).map_err(|e| {
            SimulateError::setting(
                "--as-dataset",
                "the simulated records",
                format!("records the data layer can write ({e})"),
            )
        })?;
        out.write("dataset.csv", &buf)?;
        files.push("dataset.csv".into());
    }
    let run = run_json(out, design, ctx, &files)?;
    out.write("run.json", run.as_bytes())?;
    Ok(files)
}

/// The text of run.json.
fn run_json(
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
        "files": hashes,
    });
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n")
}
