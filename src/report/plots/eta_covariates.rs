//! `eta_covariates`: the η of a population fit against the subjects' baseline
//! covariates, read from `eta_covariates.csv` (one row of panels per η, one column per
//! covariate), to spot a covariate effect the model lacks.
//!
//! A covariate is categorical when a value is not a number, or when it takes at most
//! [`MAX_LEVELS`] distinct integer values shared by several subjects (sex, dose level):
//! a box per level (25th–75th percentile, whiskers 5th–95th, type 7) with the subjects
//! as points beside it. Otherwise η is scattered against the value with a LOWESS
//! smoother ([`super::stats::lowess`]). Every panel has the reference line η = 0.

use super::panel::{colour, Layer, Marker, Panel};
use super::simulate::dose_label;
use super::stats::points_and_lowess;
use super::table::Table;
use super::{Figure, PlotError};
use crate::report::OutputDir;

/// Most distinct integer values of a covariate drawn as categories.
pub const MAX_LEVELS: usize = 5;

/// The η prefix of the columns of `eta_covariates.csv`.
const ETA: &str = "eta_";

/// How a covariate column is drawn.
enum Kind {
    /// Scatter and smoother.
    Continuous,
    /// Boxes for these levels (as written in the table), in order.
    Categorical(Vec<String>),
}

/// The figure of `eta_covariates.csv`, if the directory has one with at least one η and
/// one covariate.
pub fn figure(dir: &OutputDir) -> Result<Option<Figure>, PlotError> {
    let Some(t) = Table::read_optional(&dir.file("eta_covariates.csv"))? else {
        return Ok(None);
    };
    let id = t.require("id")?;
    let (etas, covariates): (Vec<usize>, Vec<usize>) = (0..t.header().len())
        .filter(|&c| c != id)
        .partition(|&c| t.header()[c].starts_with(ETA));
    let covariates: Vec<(usize, Kind)> = covariates
        .into_iter()
        .filter(|&c| (0..t.len()).any(|r| !t.text(r, c).trim().is_empty()))
        .map(|c| (c, kind(&t, c)))
        .collect();
    if etas.is_empty() || covariates.is_empty() {
        return Ok(None);
    }
    let mut panels = Vec::new();
    let mut legend = true;
    for &e in &etas {
        let eta = &t.header()[e];
        let label = format!("η {}", &eta[ETA.len()..]);
        for (c, kind) in &covariates {
            let name = &t.header()[*c];
            let mut p = Panel::new(format!("{label} vs {name}"), name, &label);
            p.layers.push(Layer::HLine {
                y: 0.0,
                dashed: true,
            });
            match kind {
                Kind::Continuous => {
                    continuous(&mut p, &t, *c, e, legend);
                    legend = false;
                }
                Kind::Categorical(levels) => categorical(&mut p, &t, *c, e, levels),
            }
            panels.push(p);
        }
    }
    Ok(Some(Figure {
        name: "eta_covariates".into(),
        title: "η (EBE) against baseline covariates".into(),
        columns: covariates.len(),
        panels,
    }))
}

/// Categorical when a value is not a number, or when the column holds at most
/// [`MAX_LEVELS`] distinct integers and fewer distinct values than subjects.
fn kind(t: &Table, c: usize) -> Kind {
    let present: Vec<usize> = (0..t.len())
        .filter(|&r| !t.text(r, c).trim().is_empty())
        .collect();
    let mut levels: Vec<String> = Vec::new();
    for &r in &present {
        let v = t.text(r, c).trim();
        if !levels.iter().any(|l| l == v) {
            levels.push(v.to_string());
        }
    }
    let numbers: Option<Vec<f64>> = levels.iter().map(|l| l.parse::<f64>().ok()).collect();
    match numbers {
        None => {
            levels.sort();
            Kind::Categorical(levels)
        }
        Some(values) => {
            let integers = values.iter().all(|v| v.is_finite() && v.fract() == 0.0);
            if integers && levels.len() <= MAX_LEVELS && levels.len() < present.len() {
                let mut pairs: Vec<(f64, String)> = values.into_iter().zip(levels).collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                Kind::Categorical(pairs.into_iter().map(|p| p.1).collect())
            } else {
                Kind::Continuous
            }
        }
    }
}

/// η against a continuous covariate: points and a LOWESS line.
fn continuous(p: &mut Panel, t: &Table, c: usize, e: usize, legend: bool) {
    let xy: Vec<(f64, f64)> = (0..t.len())
        .filter_map(|r| Some((t.num(r, c)?, t.num(r, e)?)))
        .collect();
    p.layers
        .extend(points_and_lowess(xy, (false, false), legend));
}

/// η by level: a box per level and the subjects as points, spread across its width.
fn categorical(p: &mut Panel, t: &Table, c: usize, e: usize, levels: &[String]) {
    p.x_categories = Some(levels.iter().map(|l| dose_label(l)).collect());
    for (k, level) in levels.iter().enumerate() {
        let mut v: Vec<f64> = (0..t.len())
            .filter(|&r| t.text(r, c).trim() == level)
            .filter_map(|r| t.num(r, e))
            .collect();
        // a deterministic spread (golden-ratio sequence) keeps equal η apart
        let xy: Vec<(f64, f64)> = v
            .iter()
            .enumerate()
            .map(|(i, &y)| (k as f64 + 0.3 * ((i as f64 * 0.618_034).fract() - 0.5), y))
            .collect();
        v.sort_by(f64::total_cmp);
        p.layers.extend(Layer::category_box(&v, k));
        p.layers.push(Layer::Points {
            xy,
            marker: Marker::Ring,
            colour: colour(6),
            label: None,
        });
    }
}
