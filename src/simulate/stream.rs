//! A simulation run in bounded memory: subjects are simulated in chunks of
//! [`super::memory::chunk_size`] (in parallel within a chunk), and each chunk, in id
//! order, is written to the result files and added to the summaries before the next one
//! is simulated.
//!
//! - `simulation.csv`, `endpoints.csv` and `dataset.csv` are written through temporary
//!   files ([`AtomicFile`]) renamed only when the run has succeeded, so a failed run
//!   leaves no partial result and an earlier result is intact;
//! - the text of a chunk's rows is formatted in parallel, one buffer per subject, and
//!   written in id order;
//! - summaries keep one dose level's values at a time
//!   ([`super::summary::SummaryAccumulator`]) and 13 numbers per subject × analyte for
//!   the endpoint summary ([`super::endpoints::EndpointAccumulator`]).
//!
//! Every row depends only on its subject, and subjects are written in id order, so the
//! files are byte-identical to those of the in-memory path ([`super::output::write_results`]
//! on [`super::simulate`]) whatever the chunk size and thread count.

use std::io::Write;
use std::str::FromStr;

use rayon::prelude::*;

use super::design::{ValidDesign, Variability};
use super::endpoints::{subject_endpoints, EndpointAccumulator, EndpointSettings};
use super::output::{
    run_json, write_endpoint_summary, write_endpoints, write_simulation, write_summary, RunContext,
};
use super::run::{simulate_range, Simulation};
use super::summary::SummaryAccumulator;
use super::SimulateError;
use crate::model::Predict;
use crate::report::{AtomicFile, OutputDir};

/// Whether `simulation.csv` (the per-subject profiles) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profiles {
    /// Every subject × analyte × time (the default).
    #[default]
    All,
    /// No `simulation.csv`: summaries and endpoints only.
    None,
}

impl Profiles {
    /// The name used on the command line and in run.json.
    pub fn name(self) -> &'static str {
        match self {
            Profiles::All => "all",
            Profiles::None => "none",
        }
    }
}

impl FromStr for Profiles {
    type Err = SimulateError;
    fn from_str(s: &str) -> Result<Self, SimulateError> {
        match s {
            "all" => Ok(Profiles::All),
            "none" => Ok(Profiles::None),
            _ => Err(SimulateError::setting("--profiles", s, "all or none")),
        }
    }
}

fn io(file: &AtomicFile, e: std::io::Error) -> SimulateError {
    SimulateError::Output(file.error(e))
}

/// The result files of a run, filled chunk by chunk.
pub struct ResultSink<'a> {
    out: &'a OutputDir,
    design: &'a ValidDesign,
    simulation: Option<AtomicFile>,
    endpoints: AtomicFile,
    dataset: Option<AtomicFile>,
    summary: Option<SummaryAccumulator>,
    endpoint_summary: EndpointAccumulator,
    settings: EndpointSettings,
    first: bool,
}

impl<'a> ResultSink<'a> {
    /// Start the files of `design` in `out`: `simulation.csv` unless `profiles` is
    /// [`Profiles::None`], `endpoints.csv`, and `dataset.csv` when `as_dataset`.
    pub fn new(
        out: &'a OutputDir,
        design: &'a ValidDesign,
        profiles: Profiles,
        as_dataset: bool,
    ) -> Result<Self, SimulateError> {
        let simulation = match profiles {
            Profiles::All => Some(AtomicFile::create(&out.file("simulation.csv"))?),
            Profiles::None => None,
        };
        let dataset = match as_dataset {
            true => Some(AtomicFile::create(&out.file("dataset.csv"))?),
            false => None,
        };
        let summaries =
            design.design.shard.is_none() && design.design.variability != Variability::Typical;
        let summary = summaries.then(|| {
            let sizes: Vec<(f64, usize)> =
                design.design.doses.iter().map(|l| (l.dose, l.n)).collect();
            SummaryAccumulator::new(
                &design.design.times,
                &design.analytes,
                design.design.residual_error,
                &sizes,
            )
        });
        Ok(ResultSink {
            out,
            design,
            simulation,
            endpoints: AtomicFile::create(&out.file("endpoints.csv"))?,
            dataset,
            summary,
            endpoint_summary: EndpointAccumulator::default(),
            settings: EndpointSettings::default(),
            first: true,
        })
    }

    /// Bytes held by the summary arrays now.
    pub fn summary_bytes(&self) -> u64 {
        self.summary.as_ref().map_or(0, |s| s.allocated_bytes())
    }

    /// Write and accumulate the next subjects (in id order).
    pub fn add(&mut self, chunk: &Simulation) -> Result<(), SimulateError> {
        let header = self.first;
        self.first = false;
        if let Some(file) = self.simulation.as_mut() {
            let texts: Vec<std::io::Result<Vec<u8>>> = chunk
                .subjects
                .par_iter()
                .enumerate()
                .map(|(i, _)| {
                    let mut buf = Vec::new();
                    write_simulation(chunk, i..i + 1, &mut buf, header && i == 0)?;
                    Ok(buf)
                })
                .collect();
            for t in texts {
                let t = t.map_err(|e| io(file, e))?;
                file.write_all(&t).map_err(|e| io(file, e))?;
            }
        }
        let rows: Vec<_> = chunk
            .subjects
            .par_iter()
            .map(|s| subject_endpoints(chunk, s, &self.settings))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        write_endpoints(&rows, &mut self.endpoints, header).map_err(|e| io(&self.endpoints, e))?;
        if self.summary.is_some() {
            for r in &rows {
                self.endpoint_summary.add(r);
            }
        }
        if let Some(acc) = self.summary.as_mut() {
            for s in &chunk.subjects {
                acc.add(s)
                    .map_err(|m| SimulateError::setting("summary", "the simulated subjects", m))?;
            }
        }
        if let Some(file) = self.dataset.as_mut() {
            let data = super::dataset::to_dataset(self.design, chunk);
            let mut buf = Vec::new();
            crate::data::write_csv(&data, &mut buf).map_err(|e| {
                SimulateError::setting(
                    "--as-dataset",
                    "the simulated records",
                    format!("records the data layer can write ({e})"),
                )
            })?;
            // Every chunk's text starts with the same header (the same covariates).
            let body = match header {
                true => &buf[..],
                false => buf
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(&buf[..0], |p| &buf[p + 1..]),
            };
            file.write_all(body).map_err(|e| io(file, e))?;
        }
        Ok(())
    }

    /// Commit the files, write the summaries and run.json; the names of the files
    /// written.
    pub fn finish(self, ctx: &RunContext) -> Result<Vec<String>, SimulateError> {
        let mut files = Vec::new();
        if let Some(f) = self.simulation {
            f.commit()?;
            files.push("simulation.csv".to_string());
        }
        self.endpoints.commit()?;
        files.push("endpoints.csv".into());
        if let Some(acc) = self.summary {
            let rows = acc
                .finish()
                .map_err(|m| SimulateError::setting("summary", "the simulated subjects", m))?;
            write_table(self.out, "summary.csv", |w| write_summary(&rows, w))?;
            let es = self.endpoint_summary.finish();
            write_table(self.out, "endpoints_summary.csv", |w| {
                write_endpoint_summary(&es, w)
            })?;
            files.push("summary.csv".into());
            files.push("endpoints_summary.csv".into());
        }
        if let Some(f) = self.dataset {
            f.commit()?;
            files.push("dataset.csv".into());
        }
        let run = run_json(self.out, self.design, ctx, &files)?;
        self.out.write("run.json", run.as_bytes())?;
        Ok(files)
    }
}

/// Write a small file atomically through `fill`.
pub(crate) fn write_table<F>(out: &OutputDir, name: &str, fill: F) -> Result<(), SimulateError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let mut f = AtomicFile::create(&out.file(name))?;
    fill(&mut f).map_err(|e| io(&f, e))?;
    f.commit()?;
    Ok(())
}

/// Simulate the design chunk by chunk into `sink` (see the module header); `progress`
/// as in [`super::simulate`]. Returns the number of subjects simulated.
pub fn simulate_streamed(
    model: &dyn Predict,
    design: &ValidDesign,
    sink: &mut ResultSink<'_>,
    chunk: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<usize, SimulateError> {
    let range = design.subject_range();
    let chunk = chunk.max(1);
    let mut start = range.start;
    while start < range.end {
        let end = (start + chunk).min(range.end);
        let part = simulate_range(model, design, start..end, progress)?;
        sink.add(&part)?;
        start = end;
    }
    Ok(range.len())
}

/// The subjects of an in-memory simulation in consecutive chunks of `chunk` subjects
/// (copies), as [`simulate_streamed`] produces them.
pub fn simulate_chunks(sim: &Simulation, chunk: usize) -> impl Iterator<Item = Simulation> + '_ {
    sim.subjects.chunks(chunk.max(1)).map(|part| Simulation {
        times: sim.times.clone(),
        analytes: sim.analytes.clone(),
        lloq: sim.lloq.clone(),
        residual_error: sim.residual_error,
        subjects: part.to_vec(),
    })
}
