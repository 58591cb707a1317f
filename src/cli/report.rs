//! Plots beside a command's tables (the `--no-plots` switch of `fit`, `nca` and
//! `simulate`), a thin layer over [`cartkin::report::plots`].

use super::CliError;
use cartkin::data::Dataset;
use cartkin::report::OutputDir;

/// The plotting switch shared by the commands that draw.
#[derive(Debug, Clone, clap::Args)]
pub struct PlotArgs {
    /// Do not write the PNG and SVG plots.
    #[arg(long)]
    pub no_plots: bool,
}

/// Which result directory the plots are drawn from.
#[cfg_attr(not(feature = "plots"), allow(dead_code))]
pub enum Plotted<'a> {
    /// A `fit` directory.
    Fit,
    /// An `nca` directory, with the dataset it analysed (profiles, follow-up).
    Nca(&'a Dataset),
    /// A `simulate` directory.
    Simulate,
    /// A `vpc` directory, with the observations drawn and whether they are
    /// prediction-corrected.
    Vpc(&'a [cartkin::simulate::vpc::ObservedPoint], bool),
}

/// Draw the plots of `dir` unless `--no-plots`. A failure to draw is a warning: the
/// tables are already written and stay valid.
pub fn write_plots(dir: &OutputDir, args: &PlotArgs, what: Plotted<'_>) -> Result<(), CliError> {
    if args.no_plots {
        return Ok(());
    }
    #[cfg(feature = "plots")]
    {
        use cartkin::report::plots;
        let figures = match what {
            Plotted::Fit => plots::fit::figures(dir),
            Plotted::Nca(data) => plots::nca::figures(dir, data),
            Plotted::Simulate => plots::simulate::figures(dir),
            Plotted::Vpc(observed, pc) => plots::vpc::figures(dir, observed, pc),
        };
        match figures.and_then(|f| plots::write_all(dir, &f)) {
            // quiet on success, like the rest of the output (the files sit beside the tables)
            Ok(_) => {}
            Err(plots::PlotError::Output(e)) => return Err(CliError::Output(e)),
            Err(e) => eprintln!("warning: plots not written: {e}"),
        }
    }
    #[cfg(not(feature = "plots"))]
    {
        let _ = (dir, what);
        eprintln!("warning: this cartkin was built without the `plots` feature; no plots written");
    }
    Ok(())
}

/// Arguments of `cartkin report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A result directory of `cartkin fit`, `nca`, `simulate`, `vpc` or `trial`.
    pub dir: std::path::PathBuf,
    /// Overwrite an existing report.html.
    #[arg(long)]
    pub force: bool,
}

/// Run `cartkin report DIR`: write `DIR/report.html` (see [`cartkin::report::html`]).
pub fn run(args: ReportArgs) -> Result<(), CliError> {
    if !args.dir.is_dir() {
        return Err(CliError::Input(format!(
            "{}: not a directory: expected the output directory of cartkin fit, nca, simulate, vpc or trial",
            args.dir.display()
        )));
    }
    let target = args.dir.join("report.html");
    if target.exists() && !args.force {
        return Err(CliError::Input(format!(
            "{} exists; use --force to overwrite it",
            target.display()
        )));
    }
    let html =
        cartkin::report::html::render(&args.dir).map_err(|e| CliError::Input(e.to_string()))?;
    // the directory exists and is kept as it is: write into it without the emptiness check
    let dir = OutputDir::prepare(&args.dir, true)?;
    let path = dir.write("report.html", html.as_bytes())?;
    println!("report: {}", path.display());
    Ok(())
}
