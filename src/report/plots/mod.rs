//! Plots of a result directory, PNG and SVG, written beside its CSV files.
//!
//! Each plot reads the tables a command wrote (`predictions.csv`, `individual.csv`,
//! `parameters.csv`, `eta_covariates.csv` of `fit`; `nca.csv` of `nca`; `summary.csv`
//! and `endpoints.csv` of `simulate`), so the same code draws an individual fit today and a population fit
//! (CWRES, NPDE, Ω) when those columns hold values. The CSV files are never rewritten.
//!
//! A figure is a grid of [`panel::Panel`]s rendered twice from one description: SVG
//! (vector, for reports; text as `<text>` elements) and PNG (96 dpi bitmap; text drawn
//! with DejaVu Sans, bundled in `assets/fonts/` and loaded from bytes, so no system font
//! library is needed). Copy numbers and cell counts are drawn on log axes; a record below
//! the LLOQ is a downward triangle at the LLOQ.
//!
//! Files: `fit_profiles_<analyte>_<page>`, `fit_gof_<analyte>`, `fit_residuals_<analyte>`,
//! `fit_parameters` ([`fit`]), `eta_covariates` ([`eta_covariates`]); `nca_profiles`,
//! `nca_dose_proportionality`, `nca_bcell_recovery` ([`nca`]); `simulate_bands`,
//! `simulate_endpoints` ([`simulate`]); `vpc_<analyte>` ([`vpc`]).

pub mod eta_covariates;
pub mod fit;
pub mod nca;
pub mod panel;
pub mod simulate;
pub mod stats;
pub mod table;
pub mod vpc;

use std::path::PathBuf;
use std::sync::OnceLock;

use plotters::prelude::*;

use super::{OutputDir, OutputError};
use panel::{draw_panel, Panel, FONT};

/// The bundled font (DejaVu Sans 2.37; license in `assets/fonts/`).
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Errors of the plotting layer.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A result table could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong (line and column when known).
        message: String,
    },
    /// Drawing failed.
    #[error("plot {name}: {message}")]
    Draw {
        /// The figure.
        name: String,
        /// The cause.
        message: String,
    },
    /// The bundled font could not be loaded.
    #[error("the bundled font assets/fonts/DejaVuSans.ttf is not a valid font")]
    Font,
    /// Writing a file failed.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Register the bundled font as the `sans-serif` family (once per process).
fn register_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// A figure: a title and panels laid out in `columns` columns.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem (`<name>.svg`, `<name>.png`).
    pub name: String,
    /// Title across the top.
    pub title: String,
    /// Panels, row by row.
    pub panels: Vec<Panel>,
    /// Columns of the grid.
    pub columns: usize,
}

impl Figure {
    /// Size in pixels: 420 × 340 per panel.
    fn size(&self) -> (u32, u32) {
        let cols = self.columns.clamp(1, self.panels.len().max(1));
        let rows = self.panels.len().div_ceil(cols).max(1);
        (420 * cols as u32, 340 * rows as u32 + 36)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (top, body) = root.split_vertically(36);
        top.titled(&self.title, (FONT, 18))
            .map_err(|e| e.to_string())?;
        let cols = self.columns.clamp(1, self.panels.len().max(1));
        let rows = self.panels.len().div_ceil(cols).max(1);
        let cells = body.split_evenly((rows, cols));
        for (panel, cell) in self.panels.iter().zip(cells.iter()) {
            draw_panel(cell, panel)?;
        }
        root.present().map_err(|e| e.to_string())
    }

    /// The SVG text of the figure.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        register_font()?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            self.draw(root).map_err(|message| self.error(message))?;
        }
        Ok(svg)
    }

    /// The PNG bytes of the figure.
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        register_font()?;
        let (w, h) = self.size();
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(root).map_err(|message| self.error(message))?;
        }
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(|e| self.error(e.to_string()))?;
            writer
                .write_image_data(&rgb)
                .map_err(|e| self.error(e.to_string()))?;
        }
        Ok(bytes)
    }

    /// Write `<name>.svg` and `<name>.png` into `dir` (atomically); returns the file names.
    pub fn write(&self, dir: &OutputDir) -> Result<Vec<String>, PlotError> {
        let svg = self.to_svg()?;
        let png = self.to_png()?;
        let (s, p) = (format!("{}.svg", self.name), format!("{}.png", self.name));
        dir.write(&s, svg.as_bytes())?;
        dir.write(&p, &png)?;
        Ok(vec![s, p])
    }

    fn error(&self, message: String) -> PlotError {
        PlotError::Draw {
            name: self.name.clone(),
            message,
        }
    }
}

/// Write every figure; returns the names of the files written.
pub fn write_all(dir: &OutputDir, figures: &[Figure]) -> Result<Vec<String>, PlotError> {
    let mut files = Vec::new();
    for f in figures {
        files.extend(f.write(dir)?);
    }
    Ok(files)
}

/// A file-name-safe form of an analyte or parameter name.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}
