//! `cartkin simulate`: virtual subjects at dose levels of a model, or a trial scenario
//! (docs/outputs.md) → `simulation.csv`, `summary.csv`, `endpoints.csv`,
//! `endpoints_summary.csv`, optionally `dataset.csv`, and `run.json`. A thin layer over
//! [`cartkin::simulate`]; see that module for the definitions.
//!
//! The run streams subjects to the files in chunks ([`cartkin::simulate::stream`]), after
//! checking that its summary arrays fit in the available memory
//! ([`cartkin::simulate::memory`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::data_args::DataArgs;
use super::input;
use super::progress::SubjectProgress;
use super::{CliError, OutArgs};
use cartkin::data::TimeUnit;
use cartkin::model::Model;
use cartkin::report::sha256_hex;
use cartkin::simulate::design::daily_grid;
use cartkin::simulate::from_fit::FittedPopulation;
use cartkin::simulate::memory::{self, chunk_size, RunSize};
use cartkin::simulate::output::{ModelInfo, RunContext};
use cartkin::simulate::population::parse_covariate;
use cartkin::simulate::scenario::LoadedScenario;
use cartkin::simulate::{
    simulate_streamed, DoseLevel, DoseUnit, Omega, Profiles, ResultSink, SimulateError,
    SimulationDesign, ValidDesign, Variability,
};

/// Arguments of `cartkin simulate`.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct SimulateArgs {
    /// Model: a built-in name (see `cartkin models`) or a model file.
    #[arg(
        long,
        required_unless_present_any = ["scenario", "fit"],
        conflicts_with = "scenario"
    )]
    pub model: Option<String>,
    /// Dose levels, comma-separated: total CAR+ cells (e.g. 25e6,50e6), or cells/kg with --per-kg.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present_any = ["scenario", "data"],
        conflicts_with_all = ["scenario", "data"],
        value_name = "D1,D2,..."
    )]
    pub dose: Vec<f64>,
    /// Doses are cells/kg, multiplied by each subject's WT (give --covariate WT~...).
    #[arg(long, conflicts_with = "scenario")]
    pub per_kg: bool,
    /// Subjects per dose level [default: 100; with --scenario, replaces its cohort sizes].
    #[arg(long, conflicts_with = "typical")]
    pub n: Option<usize>,
    /// Simulate the typical subject of each dose level (typical parameters and covariates).
    #[arg(long)]
    pub typical: bool,
    /// Daily grid 0..=DAYS [default: 365].
    #[arg(long, conflicts_with_all = ["schedule", "times", "scenario"])]
    pub days: Option<u32>,
    /// File of sampling times in --time-unit (default days; numbers separated by commas,
    /// spaces or lines; # comments).
    #[arg(long, conflicts_with_all = ["times", "scenario"])]
    pub schedule: Option<PathBuf>,
    /// Sampling times in --time-unit (default days), comma-separated (negative: before
    /// the infusion, e.g. -7,0,1,...).
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        conflicts_with = "scenario",
        value_name = "T1,T2,..."
    )]
    pub times: Vec<f64>,
    /// Covariate distribution, repeatable: NAME=VALUE, NAME~lognormal:MEDIAN:CV%,
    /// NAME~normal:MEAN:SD[:LOWER:UPPER], NAME~uniform:LOWER:UPPER, NAME~list:V1,V2,...
    #[arg(long = "covariate", conflicts_with = "scenario", value_name = "SPEC")]
    pub covariates: Vec<String>,
    /// Analytes to simulate, comma-separated, by name or DVID code [default: every
    /// output of the model].
    #[arg(
        long,
        visible_alias = "analytes",
        value_delimiter = ',',
        conflicts_with = "scenario"
    )]
    pub analyte: Vec<String>,
    /// LLOQ of an analyte, repeatable: ANALYTE=VALUE [default: the model's].
    #[arg(
        long = "lloq",
        conflicts_with = "scenario",
        value_name = "ANALYTE=VALUE"
    )]
    pub lloq: Vec<String>,
    /// Typical value of a parameter, repeatable: NAME=VALUE [default: the model's].
    #[arg(long = "param", conflicts_with = "scenario", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Between-subject covariance on the estimation scale replacing the model's diagonal
    /// ω² (e.g. from a population fit): a CSV matrix with a header `parameter,P1,P2,...`
    /// and one row `Pi,v1,v2,...` per parameter, in the same order.
    #[arg(long, conflicts_with = "typical", value_name = "FILE.csv")]
    pub omega: Option<PathBuf>,
    /// Simulate a fitted model: the output directory of `cartkin fit --method individual`
    /// gives the model (unless --model), the typical values of the estimated parameters
    /// and their between-subject variance (the spread of the individual estimates; see
    /// `cartkin::simulate::from_fit`). --param and --omega still override.
    #[arg(long, conflicts_with = "scenario", value_name = "FIT_DIR")]
    pub fit: Option<PathBuf>,
    /// Add residual error (the model's error models) and censor below the LLOQ.
    #[arg(long, conflicts_with = "typical")]
    pub with_error: bool,
    /// Random seed [default: the scenario's, else 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: all cores; 0 also means all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Simulate only the i-th of N slices of the subjects (1 <= i <= N); join with
    /// `cartkin merge`. `slurm`: the slice of this Slurm array task; `auto`: Slurm's
    /// inside an array task, else all subjects.
    #[arg(long, value_name = "i/N|slurm|auto")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub slurm: super::slurm::SlurmArgs,
    /// Also write dataset.csv in the input CSV format (for `cartkin fit`).
    #[arg(long)]
    pub as_dataset: bool,
    /// Per-subject profiles: `all` writes simulation.csv (subjects × analytes × times
    /// rows), `none` leaves it out (summaries and endpoints only).
    #[arg(long, default_value = "all", value_name = "all|none")]
    pub profiles: String,
    /// A trial scenario (TOML, see data/trials/).
    #[arg(long, value_name = "FILE.toml")]
    pub scenario: Option<PathBuf>,
    /// Simulate at the records of a dataset (its doses, infusions, ADDL, covariates,
    /// observation times and analytes) → records.csv; see `cartkin::simulate::records`.
    #[arg(
        long,
        value_name = "DATA.csv",
        conflicts_with_all = ["scenario", "days", "schedule", "times", "per_kg", "covariates", "shard", "analyte", "lloq"]
    )]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub read: DataArgs,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub plots: super::report::PlotArgs,
}

fn from_sim(e: SimulateError) -> CliError {
    match e {
        SimulateError::Predict { .. } => CliError::Numerical(e.to_string()),
        SimulateError::Output(o) => CliError::Output(o),
        other => CliError::Input(other.to_string()),
    }
}

/// Read a schedule file: numbers separated by commas, white space or lines; `#` comments.
fn read_schedule(path: &Path) -> Result<Vec<f64>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| input(format!("--schedule {}: cannot read: {e}", path.display())))?;
    let mut times = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for field in line.split([',', ' ', '\t', ';']).filter(|f| !f.is_empty()) {
            let t: f64 = field.parse().map_err(|_| {
                input(format!(
                    "{}:{}: '{field}': expected a time in days",
                    path.display(),
                    i + 1
                ))
            })?;
            times.push(t);
        }
    }
    if times.is_empty() {
        return Err(input(format!(
            "{}: no times found: expected sampling days",
            path.display()
        )));
    }
    Ok(times)
}

/// The model a fit directory's run.json names, checked against the hash recorded there
/// (the model file must not have changed since the fit).
pub(super) fn fitted_model(dir: &Path) -> Result<Model, CliError> {
    model_of_fit(
        dir,
        "--fit",
        "; give --model explicitly to simulate it anyway",
    )
}

/// [`fitted_model`] for any command: messages start with `context` and end with `hint`.
pub(super) fn model_of_fit(dir: &Path, context: &str, hint: &str) -> Result<Model, CliError> {
    let path = dir.join("run.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| input(format!("{context}: cannot read {}: {e}", path.display())))?;
    let run: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        input(format!(
            "{context}: {}: not JSON written by cartkin fit: {e}",
            path.display()
        ))
    })?;
    let origin = run["model"]["origin"].as_str().unwrap_or_default();
    let recorded = run["model"]["sha256"].as_str().unwrap_or_default();
    if let Some(name) = origin.strip_prefix("built-in ") {
        let model =
            Model::load(name).map_err(|e| input(format!("{context}: {}: {e}", path.display())))?;
        if recorded != sha256_hex(model.source().as_bytes()) {
            return Err(input(format!(
                "{context}: model `{name}` has changed since the fit in {} (its SHA-256 differs from run.json's){hint}",
                dir.display()
            )));
        }
        return Ok(model);
    }
    if origin.is_empty() {
        return Err(input(format!(
            "{context}: {}: no model.origin",
            path.display()
        )));
    }
    // A model file: where run.json says relative to the fit directory (model.path, written
    // by cartkin fit), then the origin relative to the fit directory, then the origin as
    // given (relative to the current directory). The first file with the recorded SHA-256
    // is the fitted model.
    let mut candidates = Vec::new();
    if let Some(p) = run["model"]["path"].as_str() {
        candidates.push(dir.join(p));
    }
    candidates.push(dir.join(origin));
    candidates.push(PathBuf::from(origin));
    let mut changed = None;
    for c in &candidates {
        if !c.is_file() {
            continue;
        }
        let model = Model::from_file(c)
            .map_err(|e| input(format!("{context}: {}: {e}", path.display())))?;
        if recorded == sha256_hex(model.source().as_bytes()) {
            return Ok(model);
        }
        changed.get_or_insert(c.clone());
    }
    let tried = candidates
        .iter()
        .map(|c| c.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(input(match changed {
        Some(c) => format!(
            "{context}: model file {} has changed since the fit in {} (its SHA-256 differs from run.json's){hint}",
            c.display(),
            dir.display()
        ),
        None => format!(
            "{context}: {}: model file `{origin}` not found (tried {tried})",
            path.display()
        ),
    }))
}

/// Read a covariance matrix file (see `--omega`).
pub(super) fn read_omega(path: &Path) -> Result<Omega, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| input(format!("--omega {}: cannot read: {e}", path.display())))?;
    let at = |line: usize, m: String| input(format!("{}:{line}: {m}", path.display()));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(input(format!(
            "{}: empty: expected a header parameter,P1,P2,...",
            path.display()
        )));
    };
    let names: Vec<String> = header
        .split(',')
        .skip(1)
        .map(|n| n.trim().to_string())
        .collect();
    let mut matrix = Vec::with_capacity(names.len() * names.len());
    let mut rows = 0;
    for (i, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let expected = names
            .get(rows)
            .map(String::as_str)
            .unwrap_or("(no more rows)");
        if f[0] != expected {
            return Err(at(
                i + 1,
                format!(
                    "row '{}': expected the row of '{expected}' (rows in the header's order)",
                    f[0]
                ),
            ));
        }
        if f.len() != names.len() + 1 {
            return Err(at(
                i + 1,
                format!("{} values: expected {}", f.len() - 1, names.len()),
            ));
        }
        for v in &f[1..] {
            matrix.push(
                v.parse::<f64>()
                    .map_err(|_| at(i + 1, format!("'{v}': expected a number")))?,
            );
        }
        rows += 1;
    }
    if rows != names.len() {
        return Err(input(format!(
            "{}: {rows} rows: expected {} (a square matrix)",
            path.display(),
            names.len()
        )));
    }
    Ok(Omega::Full {
        parameters: names,
        matrix,
    })
}

pub(super) fn name_value(flag: &str, spec: &str) -> Result<(String, f64), CliError> {
    let bad = || {
        input(format!(
            "{flag} '{spec}': expected NAME=VALUE with a number"
        ))
    };
    let (n, v) = spec.split_once('=').ok_or_else(bad)?;
    let v: f64 = v.trim().parse().map_err(|_| bad())?;
    Ok((n.trim().to_string(), v))
}

/// The model, the design and the scenario (if any) of the command line.
fn design_of(
    a: &SimulateArgs,
) -> Result<(Model, SimulationDesign, Option<LoadedScenario>), CliError> {
    let (model, mut design, scenario) = match &a.scenario {
        Some(path) => {
            let sc = LoadedScenario::read(path).map_err(from_sim)?;
            let model = Model::load(&sc.model())
                .map_err(|e| input(format!("{}: model: {e}", path.display())))?;
            let d = match a.n {
                Some(n) => sc.design_per_level(a.seed, &model, n),
                None => sc.design(a.seed, &model),
            }
            .map_err(from_sim)?;
            (model, d, Some(sc))
        }
        None => {
            let codes = super::dvid_map(a.read.dvid_map.as_deref())?;
            let n = if a.typical { 1 } else { a.n.unwrap_or(100) };
            if let Some(days) = a.days {
                // Before the grid is built: at least one analyte, every dose level.
                let size = RunSize {
                    largest_level: n as u128,
                    subjects: n as u128 * a.dose.len() as u128,
                    times: days as u128 + 1,
                    analytes: 1,
                    residual_error: false,
                    summaries: a.shard.is_none() && !a.typical,
                };
                let (available, reported) = memory::available_bytes();
                memory::check(&size, available, reported).map_err(from_sim)?;
            }
            // --times and --schedule are in --time-unit; designs are in days.
            let to_days = a.read.unit()?.factor_to(TimeUnit::Days);
            let times = if let Some(p) = &a.schedule {
                read_schedule(p)?.iter().map(|t| t * to_days).collect()
            } else if !a.times.is_empty() {
                a.times.iter().map(|t| t * to_days).collect()
            } else {
                daily_grid(a.days.unwrap_or(365))
            };
            let d = SimulationDesign {
                doses: a.dose.iter().map(|&dose| DoseLevel { dose, n }).collect(),
                dose_unit: if a.per_kg {
                    DoseUnit::PerKg
                } else {
                    DoseUnit::Total
                },
                times,
                analytes: super::analyte_names(&a.analyte, &codes)?
                    .iter()
                    .map(|x| x.name().to_string())
                    .collect(),
                lloq: a
                    .lloq
                    .iter()
                    .map(|s| {
                        let (name, v) = name_value("--lloq", s)?;
                        let analyte = super::analyte_names(&[name], &codes)?.remove(0);
                        Ok((analyte.name().to_string(), v))
                    })
                    .collect::<Result<_, CliError>>()?,
                covariates: a
                    .covariates
                    .iter()
                    .map(|s| parse_covariate(s))
                    .collect::<Result<_, _>>()
                    .map_err(from_sim)?,
                parameters: a
                    .params
                    .iter()
                    .map(|s| name_value("--param", s))
                    .collect::<Result<_, _>>()?,
                seed: a.seed.unwrap_or(1),
                ..SimulationDesign::default()
            };
            let model = match (&a.model, &a.fit) {
                (Some(name), _) => Model::load(name).map_err(input)?,
                (None, Some(dir)) => fitted_model(dir)?,
                (None, None) => Model::load("").map_err(input)?,
            };
            let mut d = d;
            if let Some(dir) = &a.fit {
                let fitted = FittedPopulation::read(dir, &model).map_err(from_sim)?;
                for (name, value) in fitted.typical {
                    if !d.parameters.iter().any(|(n, _)| *n == name) {
                        d.parameters.push((name, value));
                    }
                }
                d.variability = Variability::Population(fitted.omega);
            }
            (model, d, None)
        }
    };
    if let Some(p) = &a.omega {
        design.variability = Variability::Population(read_omega(p)?);
    }
    if a.typical {
        design.variability = Variability::Typical;
        for d in &mut design.doses {
            d.n = 1;
        }
    }
    design.residual_error = a.with_error;
    design.shard = super::slurm::shard(a.shard.as_deref())?;
    Ok((model, design, scenario))
}

/// The size of a checked design for the memory estimate.
fn run_size(design: &ValidDesign) -> RunSize {
    let d = &design.design;
    RunSize {
        largest_level: d.doses.iter().map(|l| l.n as u128).max().unwrap_or(0),
        subjects: design.subject_range().len() as u128,
        times: d.times.len() as u128,
        analytes: design.analytes.len() as u128,
        residual_error: d.residual_error,
        summaries: d.shard.is_none() && d.variability != Variability::Typical,
    }
}

/// Run `cartkin simulate`.
pub fn run(a: SimulateArgs) -> Result<(), CliError> {
    if a.data.is_some() {
        return super::simulate_data::run(&a);
    }
    if a.slurm.slurm.is_some() {
        if a.shard.is_some() {
            return Err(input(
                "--slurm and --shard: give one (--slurm N runs N shards)",
            ));
        }
        design_of(&a)?; // refuse bad settings now, not in N jobs
        return super::slurm::run_as_array("simulate", &a.out, &a.slurm);
    }
    let profiles: Profiles = a.profiles.parse().map_err(from_sim)?;
    let (model, design, scenario) = design_of(&a)?;
    let total = design
        .doses
        .iter()
        .try_fold(0usize, |acc, l| acc.checked_add(l.n));
    if total.is_none() {
        return Err(input(format!(
            "--n: {} dose levels of {} subjects: expected a total number of subjects below 2^64",
            design.doses.len(),
            design.doses.first().map_or(0, |l| l.n)
        )));
    }
    let design = design.check(&model).map_err(from_sim)?;
    let (available, reported) = memory::available_bytes();
    memory::check(&run_size(&design), available, reported).map_err(from_sim)?;
    let threads = super::thread_count(a.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| input(format!("--threads {threads}: {e}")))?;
    let out = a.out.prepare("simulate")?;

    let n = design.subject_range().len() as u64;
    let bar = SubjectProgress::new(n);
    let progress = |k: u64| bar.inc(k);
    let start = Instant::now();
    let mut sink = ResultSink::new(&out, &design, profiles, a.as_dataset).map_err(from_sim)?;
    let chunk = chunk_size(design.design.times.len() * design.analytes.len());
    let n_subjects = pool
        .install(|| simulate_streamed(&model, &design, &mut sink, chunk, &progress))
        .map_err(from_sim)?;
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish();
    let ctx = RunContext {
        model: ModelInfo {
            name: cartkin::model::Predict::name(&model).to_string(),
            origin: model.origin().to_string(),
            sha256: sha256_hex(model.source().as_bytes()),
        },
        threads,
        elapsed_seconds: elapsed,
        as_dataset: a.as_dataset,
        scenario: scenario.map(|s| (s.file.clone(), sha256_hex(s.text.as_bytes()))),
        profiles,
    };
    let files = pool.install(|| sink.finish(&ctx)).map_err(from_sim)?;
    super::report::write_plots(&out, &a.plots, super::report::Plotted::Simulate)?;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    println!(
        "simulated {} x {} x {} ({:.2} s) -> {}: {}, run.json",
        plural(n_subjects, "subject"),
        plural(design.design.times.len(), "time"),
        plural(design.analytes.len(), "analyte"),
        elapsed,
        out.path().display(),
        files.join(", ")
    );
    Ok(())
}
