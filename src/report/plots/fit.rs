//! Plots of a `cartkin fit` directory: individual profiles, goodness of fit, residuals
//! and the distribution of the individual parameters.
//!
//! - `fit_profiles_<analyte>_<page>`: 12 subjects per page; observations (dots), records
//!   below the LLOQ (triangles pointing down, at the LLOQ), IPRED (solid) and PRED (dashed) at the
//!   observation times (on a log axis, curves stop two decades below the lowest DV).
//! - `fit_gof_<analyte>`: DV against PRED and against IPRED with the identity line,
//!   quantified records only (a BLQ record has no DV to compare).
//! - `fit_residuals_<analyte>`: the best residual the fit wrote — CWRES, else NPDE,
//!   else WRES, else IWRES — against time and against PRED, with the reference lines
//!   0 and ±1.96 and a LOWESS smoother (see [`super::stats::lowess`]).
//! - `fit_parameters`: histograms of η̂ᵢ = ln(θ̂ᵢ / θ̂) for each estimated parameter, θ̂ᵢ
//!   the individual estimate (EBE for a population fit) and θ̂ the typical value of
//!   `parameters.csv` (parameters are log-normal, so η is the log-scale deviation).
//! - `eta_covariates` (population fits on data with covariates): η against each
//!   baseline covariate ([`super::eta_covariates`]).

use std::collections::BTreeMap;

use super::panel::{colour, Layer, Marker, Panel};
use super::stats::points_and_lowess;
use super::table::Table;
use super::{slug, Figure, PlotError};
use crate::report::OutputDir;

/// Subjects per page of individual profiles.
pub const SUBJECTS_PER_PAGE: usize = 12;

/// Residual columns in order of preference.
const RESIDUALS: [(&str, &str); 4] = [
    ("cwres", "CWRES"),
    ("npde", "NPDE"),
    ("wres", "WRES"),
    ("iwres", "IWRES"),
];

/// One record of `predictions.csv`.
#[derive(Debug, Clone)]
struct Record {
    id: String,
    time: f64,
    dv: Option<f64>,
    censored: bool,
    pred: Option<f64>,
    ipred: Option<f64>,
    residual: Option<f64>,
}

/// The figures of a fit directory (reads `predictions.csv`, `individual.csv`,
/// `parameters.csv`, `eta_covariates.csv`).
pub fn figures(dir: &OutputDir) -> Result<Vec<Figure>, PlotError> {
    let pred = Table::read(&dir.file("predictions.csv"))?;
    let c = |n: &str| pred.require(n);
    let (id, time, analyte, dv, cens) = (c("id")?, c("time")?, c("analyte")?, c("dv")?, c("cens")?);
    let (cp, ci) = (c("pred")?, c("ipred")?);
    let residual = RESIDUALS.iter().find(|(col, _)| pred.has_values(col));
    let rcol = residual.and_then(|(col, _)| pred.column(col));

    let mut by_analyte: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for r in 0..pred.len() {
        by_analyte
            .entry(pred.text(r, analyte).to_string())
            .or_default()
            .push(Record {
                id: pred.text(r, id).to_string(),
                time: pred.num(r, time).unwrap_or(f64::NAN),
                dv: pred.num(r, dv),
                censored: pred.text(r, cens).trim() == "1",
                pred: pred.num(r, cp),
                ipred: pred.num(r, ci),
                residual: rcol.and_then(|k| pred.num(r, k)),
            });
    }
    let mut figs = Vec::new();
    for (a, recs) in &by_analyte {
        let log = recs.iter().filter_map(|r| r.dv).all(|v| v > 0.0);
        figs.extend(profiles(a, recs, log));
        figs.push(gof(a, recs, log));
        if let Some((_, label)) = residual {
            figs.push(residuals(a, recs, label));
        }
    }
    if let Some(f) = parameters(dir)? {
        figs.push(f);
    }
    if let Some(f) = super::eta_covariates::figure(dir)? {
        figs.push(f);
    }
    Ok(figs)
}

fn profiles(analyte: &str, recs: &[Record], log: bool) -> Vec<Figure> {
    let mut ids: Vec<&str> = Vec::new();
    for r in recs {
        if !ids.contains(&r.id.as_str()) {
            ids.push(&r.id);
        }
    }
    let pages = ids.len().div_ceil(SUBJECTS_PER_PAGE);
    let lowest_dv = recs
        .iter()
        .filter_map(|r| r.dv)
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    ids.chunks(SUBJECTS_PER_PAGE)
        .enumerate()
        .map(|(page, chunk)| {
            let panels = chunk
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let mine: Vec<&Record> = recs.iter().filter(|r| r.id == *id).collect();
                    let at = |f: fn(&Record) -> Option<f64>| -> Vec<(f64, f64)> {
                        mine.iter()
                            .filter_map(|r| f(r).map(|v| (r.time, v)))
                            .collect()
                    };
                    // predictions far below the data (a decline extrapolated over months)
                    // would squeeze the observations: lines stop two decades under them
                    let floor = if log {
                        lowest_dv / 100.0
                    } else {
                        f64::NEG_INFINITY
                    };
                    let curve = |f: fn(&Record) -> Option<f64>| -> Vec<(f64, f64)> {
                        at(f).into_iter().filter(|p| p.1 >= floor).collect()
                    };
                    let first = page == 0 && k == 0;
                    let mut p = Panel::new(format!("ID {id}"), "time (days)", analyte);
                    p.y_log = log;
                    p.layers = vec![
                        Layer::Line {
                            xy: curve(|r| r.pred),
                            colour: colour(1),
                            dashed: true,
                            width: 1,
                            label: first.then(|| "PRED".into()),
                        },
                        Layer::Line {
                            xy: curve(|r| r.ipred),
                            colour: colour(0),
                            dashed: false,
                            width: 2,
                            label: first.then(|| "IPRED".into()),
                        },
                        Layer::Points {
                            xy: at(|r| if r.censored { None } else { r.dv }),
                            marker: Marker::Dot,
                            colour: colour(6),
                            label: first.then(|| "observed".into()),
                        },
                        Layer::Points {
                            xy: at(|r| if r.censored { r.dv } else { None }),
                            marker: Marker::Blq,
                            colour: colour(1),
                            label: first.then(|| "BLQ (at LLOQ)".into()),
                        },
                    ];
                    p
                })
                .collect();
            Figure {
                name: format!("fit_profiles_{}_{}", slug(analyte), page + 1),
                title: format!(
                    "{analyte}: individual profiles (page {} of {pages})",
                    page + 1
                ),
                panels,
                columns: 4,
            }
        })
        .collect()
}

fn gof(analyte: &str, recs: &[Record], log: bool) -> Figure {
    let quantified = recs.iter().filter(|r| !r.censored);
    let pair = |f: fn(&Record) -> Option<f64>| -> Vec<(f64, f64)> {
        quantified
            .clone()
            .filter_map(|r| Some((f(r)?, r.dv?)))
            .collect()
    };
    let panel = |what: &str, xy: Vec<(f64, f64)>| {
        let mut p = Panel::new(format!("DV vs {what}"), what, &format!("DV ({analyte})"));
        p.x_log = log;
        p.y_log = log;
        p.layers = vec![Layer::Identity];
        p.layers.extend(points_and_lowess(xy, (log, log), true));
        p
    };
    Figure {
        name: format!("fit_gof_{}", slug(analyte)),
        title: format!("{analyte}: goodness of fit (quantified records)"),
        panels: vec![
            panel("PRED", pair(|r| r.pred)),
            panel("IPRED", pair(|r| r.ipred)),
        ],
        columns: 2,
    }
}

fn residuals(analyte: &str, recs: &[Record], label: &str) -> Figure {
    let against = |title: &str, x_label: &str, x_log: bool, f: fn(&Record) -> Option<f64>| {
        let xy: Vec<(f64, f64)> = recs
            .iter()
            .filter_map(|r| Some((f(r)?, r.residual?)))
            .filter(|(x, _)| !x_log || *x > 0.0)
            .collect();
        let mut p = Panel::new(title, x_label, label);
        p.x_log = x_log;
        p.layers = vec![
            Layer::HLine {
                y: 0.0,
                dashed: false,
            },
            Layer::HLine {
                y: 1.96,
                dashed: true,
            },
            Layer::HLine {
                y: -1.96,
                dashed: true,
            },
        ];
        p.layers.extend(points_and_lowess(xy, (x_log, false), true));
        p
    };
    Figure {
        name: format!("fit_residuals_{}", slug(analyte)),
        title: format!("{analyte}: {label}"),
        panels: vec![
            against(&format!("{label} vs time"), "time (days)", false, |r| {
                Some(r.time)
            }),
            against(&format!("{label} vs PRED"), "PRED", true, |r| r.pred),
        ],
        columns: 2,
    }
}

/// Histograms of η̂ᵢ = ln(θ̂ᵢ/θ̂) of the estimated parameters.
fn parameters(dir: &OutputDir) -> Result<Option<Figure>, PlotError> {
    let (Some(params), Some(ind)) = (
        Table::read_optional(&dir.file("parameters.csv"))?,
        Table::read_optional(&dir.file("individual.csv"))?,
    ) else {
        return Ok(None);
    };
    let (pname, pest) = (params.require("parameter")?, params.require("estimate")?);
    let fixed = params.column("fixed");
    let mut panels = Vec::new();
    for r in 0..params.len() {
        let name = params.text(r, pname);
        if fixed.is_some_and(|f| params.text(r, f) == "true") || name.starts_with("omega2_") {
            continue;
        }
        let (Some(typical), Some(col)) = (params.num(r, pest), ind.column(name)) else {
            continue;
        };
        if typical <= 0.0 {
            continue;
        }
        let etas: Vec<f64> = (0..ind.len())
            .filter_map(|i| ind.num(i, col))
            .filter(|v| *v > 0.0)
            .map(|v| (v / typical).ln())
            .collect();
        if etas.len() < 2 {
            continue;
        }
        let mut p = Panel::new(
            name.to_string(),
            &format!("η = ln({name}ᵢ / {name})"),
            "subjects",
        );
        p.layers = vec![
            Layer::Bars {
                bars: histogram(&etas),
                colour: colour(0),
            },
            Layer::Note(format!("n = {}", etas.len())),
        ];
        panels.push(p);
    }
    if panels.is_empty() {
        return Ok(None);
    }
    Ok(Some(Figure {
        name: "fit_parameters".into(),
        title: "Individual parameters: η distributions".into(),
        panels,
        columns: 4,
    }))
}

/// Equal-width bins, ⌈√n⌉ of them (at least 5, at most 30): (left, right, count).
pub fn histogram(values: &[f64]) -> Vec<(f64, f64, f64)> {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return Vec::new();
    }
    let k = ((values.len() as f64).sqrt().ceil() as usize).clamp(5, 30);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let w = (hi - lo) / k as f64;
    let mut counts = vec![0usize; k];
    for v in values {
        let i = (((v - lo) / w).floor() as usize).min(k - 1);
        counts[i] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (lo + i as f64 * w, lo + (i + 1) as f64 * w, c as f64))
        .collect()
}
