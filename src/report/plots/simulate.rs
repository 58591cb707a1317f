//! Plots of a `cartkin simulate` directory.
//!
//! - `simulate_bands`: one panel per analyte; per dose level the median (line), the
//!   50 % band (25th–75th percentile) and the 90 % band (5th–95th) over the follow-up,
//!   from `summary.csv`. Log axis when every median is positive.
//! - `simulate_endpoints`: box plots by dose level (box 25th–75th, line at the median,
//!   whiskers 5th–95th) of the endpoints of `endpoints.csv` that hold values: Cmax and
//!   AUC0–28 of the kinetic analytes, time to B-cell recovery and the B-cell nadir.

use super::panel::{colour, number, Layer, Panel};
use super::table::Table;
use super::{Figure, PlotError};
use crate::report::OutputDir;

/// Endpoints drawn, with their axis titles and whether the axis is logarithmic.
const ENDPOINTS: [(&str, &str, bool); 4] = [
    ("cmax", "Cmax", true),
    ("auc0_28", "AUC0–28", true),
    ("time_to_recovery", "time to B-cell recovery (days)", false),
    ("nadir", "B-cell nadir", true),
];

/// The figures of a simulate directory.
pub fn figures(dir: &OutputDir) -> Result<Vec<Figure>, PlotError> {
    let mut figs = Vec::new();
    if let Some(t) = Table::read_optional(&dir.file("summary.csv"))? {
        if let Some(f) = bands(&t)? {
            figs.push(f);
        }
    }
    if let Some(t) = Table::read_optional(&dir.file("endpoints.csv"))? {
        if let Some(f) = endpoints(&t)? {
            figs.push(f);
        }
    }
    Ok(figs)
}

/// Dose label: 2.5e7 → "25e6".
pub fn dose_label(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(v) if v >= 1e5 => format!("{}e6", number(v / 1e6)),
        _ => text.to_string(),
    }
}

fn bands(t: &Table) -> Result<Option<Figure>, PlotError> {
    let c = |n: &str| t.require(n);
    let (dose, analyte, time) = (c("dose")?, c("analyte")?, c("time")?);
    let q: Vec<usize> = ["p05", "p25", "median", "p75", "p95"]
        .iter()
        .map(|n| c(n))
        .collect::<Result<_, _>>()?;
    let doses = t.distinct(dose);
    let mut panels = Vec::new();
    for a in t.distinct(analyte) {
        let rows: Vec<usize> = (0..t.len()).filter(|&r| t.text(r, analyte) == a).collect();
        let log = rows
            .iter()
            .all(|&r| t.num(r, q[2]).is_some_and(|v| v > 0.0));
        let mut p = Panel::new(a.clone(), "time (days)", &a);
        p.y_log = log;
        for (k, d) in doses.iter().enumerate() {
            let mine: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| t.text(r, dose) == d)
                .collect();
            let band = |lo: usize, hi: usize| -> Vec<(f64, f64, f64)> {
                mine.iter()
                    .filter_map(|&r| Some((t.num(r, time)?, t.num(r, lo)?, t.num(r, hi)?)))
                    .map(|(x, l, u)| {
                        if log {
                            (x, l.max(f64::MIN_POSITIVE), u)
                        } else {
                            (x, l, u)
                        }
                    })
                    .collect()
            };
            p.layers.push(Layer::Band {
                xlu: band(q[0], q[4]),
                colour: colour(k),
                opacity: 0.15,
                label: None,
            });
            p.layers.push(Layer::Band {
                xlu: band(q[1], q[3]),
                colour: colour(k),
                opacity: 0.3,
                label: None,
            });
            p.layers.push(Layer::Line {
                xy: mine
                    .iter()
                    .filter_map(|&r| Some((t.num(r, time)?, t.num(r, q[2])?)))
                    .collect(),
                colour: colour(k),
                dashed: false,
                width: 2,
                label: Some(format!("dose {}", dose_label(d))),
            });
        }
        panels.push(p);
    }
    if panels.is_empty() {
        return Ok(None);
    }
    Ok(Some(Figure {
        name: "simulate_bands".into(),
        title: "Simulated median, 50 % and 90 % bands by dose level".into(),
        columns: panels.len().min(3),
        panels,
    }))
}

fn endpoints(t: &Table) -> Result<Option<Figure>, PlotError> {
    let (dose, analyte) = (t.require("dose")?, t.require("analyte")?);
    let doses = t.distinct(dose);
    let mut panels = Vec::new();
    for a in t.distinct(analyte) {
        for (metric, label, log) in ENDPOINTS {
            let Some(m) = t.column(metric) else { continue };
            let mut p = Panel::new(format!("{a}: {label}"), "dose", label);
            p.y_log = log;
            p.x_categories = Some(doses.iter().map(|d| dose_label(d)).collect());
            for (k, d) in doses.iter().enumerate() {
                let mut v: Vec<f64> = (0..t.len())
                    .filter(|&r| t.text(r, analyte) == a && t.text(r, dose) == d)
                    .filter_map(|r| t.num(r, m))
                    .filter(|v| !log || *v > 0.0)
                    .collect();
                v.sort_by(f64::total_cmp);
                p.layers.extend(Layer::category_box(&v, k));
            }
            if !p.layers.is_empty() {
                panels.push(p);
            }
        }
    }
    if panels.is_empty() {
        return Ok(None);
    }
    Ok(Some(Figure {
        name: "simulate_endpoints".into(),
        title: "Endpoints by dose level (box 25th–75th, whiskers 5th–95th percentile)".into(),
        columns: panels.len().min(4),
        panels,
    }))
}
