//! `cartkin nca DATA.csv`: non-compartmental analysis of every subject × analyte
//! (docs/outputs.md) → `nca.csv` (one row per subject × analyte, a column per metric, the λz
//! points used, the status of each partial AUC and any remarks) and `nca_summary.csv`
//! (per dose level × analyte × metric: n, missing, geometric mean and CV%, mean, SD,
//! median, min, max). A thin layer over [`cartkin::nca::analyse_dataset`].

use std::path::PathBuf;

use super::data_args::DataArgs;
use super::{CliError, OutArgs};
use cartkin::data::Analyte;
use cartkin::nca::dataset::{kinetic_metric_names, partial_auc_name, BCELL_METRICS};
use cartkin::nca::{
    analyse_dataset, summarise_rows, AucMethod, BcellSettings, BeyondTlast, BlqRule, BlqRules,
    GroupSummary, Grouping, NcaSettings, SubjectRow, TimeZero,
};
use cartkin::report::table::{finite, number, TableWriter};

/// AUC rule on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Linear up, log down.
    Linlog,
    /// Linear throughout.
    Linear,
}

/// BLQ rule on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BlqArg {
    /// Concentration 0.
    Zero,
    /// Excluded.
    Drop,
    /// The limit of quantification.
    Lloq,
    /// Half the limit of quantification.
    HalfLloq,
}

/// Partial AUCs after Tlast on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BeyondArg {
    /// Missing (NA), status na_beyond_tlast.
    Na,
    /// Extrapolated with λz.
    Extrapolate,
    /// Concentration 0 after Tlast.
    Truncate,
}

/// C(0) without a sample at t = 0, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeZeroArg {
    /// Assume C(0) = 0.
    AssumeZero,
    /// Start the AUC at the first sample.
    FirstSample,
}

/// Arguments of `cartkin nca`.
#[derive(Debug, clap::Args)]
pub struct NcaArgs {
    /// The dataset (long CSV; see data/README.md).
    pub data: PathBuf,
    /// Analytes to analyse, comma-separated, by name or DVID code (default: every
    /// analyte in the data).
    #[arg(
        long,
        visible_alias = "analytes",
        value_delimiter = ',',
        value_name = "ANALYTE,..."
    )]
    pub analyte: Vec<String>,
    /// AUC rule: linear-up/log-down or linear.
    #[arg(long, value_enum, default_value = "linlog")]
    pub method: MethodArg,
    /// Group the summary by this covariate (default: DOSE, else each subject's total dose).
    #[arg(long, value_name = "COVARIATE")]
    pub by: Option<String>,
    /// Ends of the partial AUCs AUC0-x, in the data's time unit (days unless --time-unit).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "28,84,365",
        value_name = "T,..."
    )]
    pub auc_ends: Vec<f64>,
    /// BLQ before the first quantifiable sample.
    #[arg(long, value_enum, default_value = "zero")]
    pub blq_first: BlqArg,
    /// BLQ between quantifiable samples.
    #[arg(long, value_enum, default_value = "drop")]
    pub blq_between: BlqArg,
    /// BLQ after the last quantifiable sample.
    #[arg(long, value_enum, default_value = "drop")]
    pub blq_last: BlqArg,
    /// C(0) when there is no sample at time 0.
    #[arg(long, value_enum, default_value = "assume-zero")]
    pub time_zero: TimeZeroArg,
    /// Partial AUCs whose end lies after Tlast.
    #[arg(long, value_enum, default_value = "na")]
    pub beyond_tlast: BeyondArg,
    /// Fixed λz window in the data's time unit, e.g. `28,365` (default: PKNCA's automatic
    /// choice).
    #[arg(long, value_name = "START,END")]
    pub lambda_z_window: Option<String>,
    /// Allow the Tmax sample in the λz regression.
    #[arg(long)]
    pub include_tmax: bool,
    /// B-cell aplasia: below this many cells/uL.
    #[arg(long, default_value_t = 1.0)]
    pub aplasia_threshold: f64,
    /// B-cell recovery: back at or above this many cells/uL.
    #[arg(long, default_value_t = 10.0)]
    pub recovery_threshold: f64,
    /// Later samples that must confirm a recovery.
    #[arg(long, default_value_t = 1)]
    pub recovery_confirmations: usize,
    #[command(flatten)]
    pub read: DataArgs,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub plots: super::report::PlotArgs,
}

fn blq(a: BlqArg) -> BlqRule {
    match a {
        BlqArg::Zero => BlqRule::Zero,
        BlqArg::Drop => BlqRule::Drop,
        BlqArg::Lloq => BlqRule::Lloq,
        BlqArg::HalfLloq => BlqRule::HalfLloq,
    }
}

fn parse_window(text: &str) -> Result<(f64, f64), CliError> {
    let bad = || {
        CliError::Input(format!(
            "--lambda-z-window: value '{text}': expected START,END in the data's time unit, e.g. 28,365"
        ))
    };
    let (a, b) = text.split_once(',').ok_or_else(bad)?;
    let a: f64 = a.trim().parse().map_err(|_| bad())?;
    let b: f64 = b.trim().parse().map_err(|_| bad())?;
    Ok((a, b))
}

/// Run `cartkin nca`.
pub fn run(args: NcaArgs) -> Result<(), CliError> {
    let input = |e: cartkin::nca::NcaError| CliError::Input(e.to_string());
    let settings = NcaSettings {
        method: match args.method {
            MethodArg::Linlog => AucMethod::LinearUpLogDown,
            MethodArg::Linear => AucMethod::Linear,
        },
        blq: BlqRules {
            before_first: blq(args.blq_first),
            between: blq(args.blq_between),
            after_last: blq(args.blq_last),
        },
        time_zero: match args.time_zero {
            TimeZeroArg::AssumeZero => TimeZero::AssumeZero,
            TimeZeroArg::FirstSample => TimeZero::FirstSample,
        },
        beyond_tlast: match args.beyond_tlast {
            BeyondArg::Na => BeyondTlast::Missing,
            BeyondArg::Extrapolate => BeyondTlast::Extrapolate,
            BeyondArg::Truncate => BeyondTlast::Truncate,
        },
        partial_ends: args.auc_ends.clone(),
        include_tmax_in_lambda_z: args.include_tmax,
        lambda_z_window: args
            .lambda_z_window
            .as_deref()
            .map(parse_window)
            .transpose()?,
        ..NcaSettings::default()
    }
    .check()
    .map_err(input)?;
    let bcell = BcellSettings {
        aplasia_threshold: args.aplasia_threshold,
        recovery_threshold: args.recovery_threshold,
        recovery_confirmations: args.recovery_confirmations,
    }
    .check()
    .map_err(input)?;
    let dvid_map = super::dvid_map(args.read.dvid_map.as_deref())?;
    let requested = super::analyte_names(&args.analyte, &dvid_map)?;
    let loaded = args.read.read(&args.data)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let dataset = &loaded.dataset;
    let observed = dataset.analytes();
    let analytes: Vec<Analyte> = if args.analyte.is_empty() {
        observed.clone()
    } else {
        let mut chosen = Vec::new();
        for (name, a) in args.analyte.iter().zip(requested) {
            if !observed.contains(&a) {
                return Err(CliError::Input(format!(
                    "--analyte: value '{name}': expected an analyte of {} ({})",
                    args.data.display(),
                    names(&observed)
                )));
            }
            chosen.push(a);
        }
        chosen
    };
    if analytes.is_empty() {
        return Err(CliError::Input(format!(
            "{}: no observations to analyse",
            args.data.display()
        )));
    }
    let grouping = match &args.by {
        Some(name) => {
            let key = name.to_ascii_uppercase();
            if !dataset.covariate_names.contains(&key) {
                return Err(CliError::Input(format!(
                    "--by: value '{name}': expected a covariate of {} ({})",
                    args.data.display(),
                    if dataset.covariate_names.is_empty() {
                        "it has none".to_string()
                    } else {
                        dataset.covariate_names.join(", ")
                    }
                )));
            }
            Grouping::Covariate(key)
        }
        None => Grouping::Dose,
    };

    let rows = analyse_dataset(dataset, &analytes, &grouping, &settings, &bcell)
        .map_err(|e| CliError::Input(format!("{}: {e}", args.data.display())))?;
    let ends = &settings.get().partial_ends;
    let summary = summarise_rows(&rows, ends);
    let group_column = match &args.by {
        Some(name) => name.to_ascii_lowercase(),
        None => "dose_level".to_string(),
    };

    let out = args.out.prepare("nca")?;
    let nca_path = out.write_with("nca.csv", |buf| write_rows(buf, &rows, ends, &group_column))?;
    let summary_path = out.write_with("nca_summary.csv", |buf| {
        write_summary(buf, &summary, &group_column)
    })?;
    let run = run_json(&args, &settings)?;
    out.write("run.json", run.as_bytes())?;
    super::report::write_plots(&out, &args.plots, super::report::Plotted::Nca(dataset))?;
    println!(
        "{} subject × analyte rows: {}\nsummary by {group_column}: {}",
        rows.len(),
        nca_path.display(),
        summary_path.display()
    );
    Ok(())
}

fn names(analytes: &[Analyte]) -> String {
    analytes
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A metric value: missing (an empty field, the convention of every cartkin table,
/// `cartkin::report::table`) when absent or not finite.
fn num(x: Option<f64>) -> String {
    finite(x)
}

fn write_rows(
    buf: &mut Vec<u8>,
    rows: &[SubjectRow],
    ends: &[f64],
    group_column: &str,
) -> std::io::Result<()> {
    let mut header: Vec<String> = vec![
        "id".into(),
        "analyte".into(),
        group_column.into(),
        "n_obs".into(),
        "n_blq".into(),
    ];
    header.extend(kinetic_metric_names(ends));
    header.extend(
        ends.iter()
            .map(|&e| format!("{}_status", partial_auc_name(e))),
    );
    header.push("lambda_z_times".into());
    header.extend(BCELL_METRICS.iter().map(|s| s.to_string()));
    header.push("flags".into());
    let mut w = TableWriter::new(buf, Some(&header))?;
    for r in rows {
        let mut rec: Vec<String> = vec![
            r.id.clone(),
            r.analyte.name().to_string(),
            r.group.clone(),
            r.n_obs.to_string(),
            r.n_blq.to_string(),
        ];
        rec.extend(r.kinetic_values(ends).into_iter().map(num));
        match &r.pk {
            Some(pk) => {
                rec.extend(pk.partial.iter().map(|p| p.status.code().to_string()));
                rec.push(match &pk.lambda_z {
                    Some(l) => l
                        .times
                        .iter()
                        .map(|&t| number(t))
                        .collect::<Vec<_>>()
                        .join(";"),
                    None => String::new(),
                });
            }
            None => {
                rec.extend(ends.iter().map(|_| String::new()));
                rec.push(String::new());
            }
        }
        rec.extend(r.bcell_values().into_iter().map(num));
        rec.push(r.flags());
        w.record(&rec)?;
    }
    w.finish().map(|_| ())
}

fn write_summary(
    buf: &mut Vec<u8>,
    summary: &[GroupSummary],
    group_column: &str,
) -> std::io::Result<()> {
    let mut w = TableWriter::new(
        buf,
        Some([
            group_column,
            "analyte",
            "metric",
            "n",
            "n_missing",
            "n_positive",
            "geo_mean",
            "geo_cv_pct",
            "mean",
            "sd",
            "median",
            "min",
            "max",
        ]),
    )?;
    for g in summary {
        let s = &g.stats;
        w.record([
            g.group.clone(),
            g.analyte.name().to_string(),
            g.metric.clone(),
            s.n.to_string(),
            s.n_missing.to_string(),
            s.n_positive.to_string(),
            num(s.geo_mean),
            num(s.geo_cv_pct),
            num(s.mean),
            num(s.sd),
            num(s.median),
            num(s.min),
            num(s.max),
        ])?;
    }
    w.finish().map(|_| ())
}

/// `run.json`: the data (path, SHA-256, time unit: every time and AUC in `nca.csv` is in
/// the data's unit) and the settings.
fn run_json(args: &NcaArgs, settings: &cartkin::nca::ValidNcaSettings) -> Result<String, CliError> {
    use clap::ValueEnum;
    let name = |v: Option<clap::builder::PossibleValue>| v.map(|p| p.get_name().to_string());
    let sha = cartkin::report::sha256_file(&args.data)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", args.data.display())))?;
    let unit = args.read.unit()?.name();
    let s = settings.get();
    let run = serde_json::json!({
        "command": "nca",
        "inputs": { "data": {
            "path": args.data.display().to_string(),
            "sha256": sha,
            "time_unit": unit,
        } },
        "time_unit": unit,
        "settings": {
            "method": name(args.method.to_possible_value()),
            "auc_ends": s.partial_ends,
            "blq_first": name(args.blq_first.to_possible_value()),
            "blq_between": name(args.blq_between.to_possible_value()),
            "blq_last": name(args.blq_last.to_possible_value()),
            "time_zero": name(args.time_zero.to_possible_value()),
            "beyond_tlast": name(args.beyond_tlast.to_possible_value()),
            "lambda_z_window": s.lambda_z_window,
            "include_tmax_in_lambda_z": s.include_tmax_in_lambda_z,
            "aplasia_threshold": args.aplasia_threshold,
            "recovery_threshold": args.recovery_threshold,
            "recovery_confirmations": args.recovery_confirmations,
            "by": args.by,
        },
        "versions": { "cartkin": env!("CARGO_PKG_VERSION") },
    });
    serde_json::to_string_pretty(&run).map_err(|e| CliError::Numerical(format!("run.json: {e}")))
}
