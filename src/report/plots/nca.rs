//! Plots of a `cartkin nca` directory (`nca.csv`) with the dataset it analysed.
//!
//! - `nca_profiles`: per analyte, the geometric mean profile of each dose level over the
//!   sampling times (records below the LLOQ at LLOQ/2, the common convention for
//!   summary profiles; Beal S.L., J Pharmacokinet Pharmacodyn 2001;28:481–504).
//! - `nca_dose_proportionality`: Cmax and AUC0–28 of each subject against its dose
//!   (log–log) with the power-model line and β with its 90 % CI
//!   ([`super::stats::power_model`]).
//! - `nca_bcell_recovery`: Kaplan–Meier curves ([`super::stats::kaplan_meier`]) of the
//!   time to B-cell recovery by dose level, over the subjects who reached aplasia; a
//!   subject not recovered is censored at its last B-cell sample.

use std::collections::BTreeMap;

use super::panel::{colour, number, Layer, Marker, Panel};
use super::simulate::dose_label;
use super::stats::{kaplan_meier, power_model};
use super::table::Table;
use super::{Figure, PlotError};
use crate::data::Dataset;
use crate::report::OutputDir;

/// The figures of an NCA directory.
pub fn figures(dir: &OutputDir, dataset: &Dataset) -> Result<Vec<Figure>, PlotError> {
    let t = Table::read(&dir.file("nca.csv"))?;
    let (id, analyte) = (t.require("id")?, t.require("analyte")?);
    // the group column is the third (dose_level, or the --by covariate)
    let group = 2;
    let group_name = t.header().get(group).cloned().unwrap_or_default();
    let mut group_of: BTreeMap<String, String> = BTreeMap::new();
    for r in 0..t.len() {
        group_of
            .entry(t.text(r, id).to_string())
            .or_insert_with(|| t.text(r, group).to_string());
    }
    let mut groups: Vec<String> = group_of.values().cloned().collect();
    groups.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    groups.dedup();

    let mut figs = Vec::new();
    if let Some(f) = profiles(dataset, &group_of, &groups, &group_name) {
        figs.push(f);
    }
    if let Some(f) = proportionality(&t, analyte, group, &group_name)? {
        figs.push(f);
    }
    if let Some(f) = recovery(&t, dataset, id, analyte, group, &groups)? {
        figs.push(f);
    }
    Ok(figs)
}

fn profiles(
    dataset: &Dataset,
    group_of: &BTreeMap<String, String>,
    groups: &[String],
    group_name: &str,
) -> Option<Figure> {
    let mut panels = Vec::new();
    for a in dataset.analytes() {
        // (group, time) → ln values
        let mut cells: BTreeMap<(usize, i64), (f64, Vec<f64>)> = BTreeMap::new();
        let mut positive = true;
        for s in &dataset.subjects {
            let Some(g) = group_of
                .get(&s.id)
                .and_then(|g| groups.iter().position(|x| x == g))
            else {
                continue;
            };
            for o in s.observations_of(&a) {
                let v = if o.censored { o.value / 2.0 } else { o.value };
                if v <= 0.0 {
                    positive = false;
                    continue;
                }
                // times keyed to 1e-6 day so equal nominal times pool
                let key = (g, (o.time * 1e6).round() as i64);
                cells
                    .entry(key)
                    .or_insert((o.time, Vec::new()))
                    .1
                    .push(v.ln());
            }
        }
        if cells.is_empty() {
            continue;
        }
        let mut p = Panel::new(
            a.name().to_string(),
            "time (days)",
            &format!("{} (geometric mean)", a.name()),
        );
        p.y_log = positive;
        for (k, g) in groups.iter().enumerate() {
            let xy: Vec<(f64, f64)> = cells
                .iter()
                .filter(|((gi, _), _)| *gi == k)
                .map(|(_, (t, v))| (*t, (v.iter().sum::<f64>() / v.len() as f64).exp()))
                .collect();
            if xy.is_empty() {
                continue;
            }
            p.layers.push(Layer::Line {
                xy: xy.clone(),
                colour: colour(k),
                dashed: false,
                width: 2,
                label: Some(format!("{group_name} {}", dose_label(g))),
            });
            p.layers.push(Layer::Points {
                xy,
                marker: Marker::Dot,
                colour: colour(k),
                label: None,
            });
        }
        panels.push(p);
    }
    if panels.is_empty() {
        return None;
    }
    Some(Figure {
        name: "nca_profiles".into(),
        title: format!("Geometric mean profiles by {group_name} (BLQ at LLOQ/2)"),
        columns: panels.len().min(3),
        panels,
    })
}

fn proportionality(
    t: &Table,
    analyte: usize,
    group: usize,
    group_name: &str,
) -> Result<Option<Figure>, PlotError> {
    let mut panels = Vec::new();
    for a in t.distinct(analyte) {
        for (metric, label) in [("cmax", "Cmax"), ("auc0_28", "AUC0–28")] {
            let Some(m) = t.column(metric) else { continue };
            let pts: Vec<(f64, f64)> = (0..t.len())
                .filter(|&r| t.text(r, analyte) == a)
                .filter_map(|r| Some((t.text(r, group).parse::<f64>().ok()?, t.num(r, m)?)))
                .filter(|(d, y)| *d > 0.0 && *y > 0.0)
                .collect();
            if pts.is_empty() {
                continue;
            }
            let mut p = Panel::new(format!("{a}: {label}"), group_name, label);
            p.x_log = true;
            p.y_log = true;
            p.layers.push(Layer::Points {
                xy: pts.clone(),
                marker: Marker::Dot,
                colour: colour(0),
                label: None,
            });
            match power_model(&pts) {
                Some(fit) => {
                    let lo = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
                    let hi = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
                    let line = |d: f64| (d, (fit.intercept + fit.slope * d.ln()).exp());
                    p.layers.push(Layer::Line {
                        xy: vec![line(lo), line(hi)],
                        colour: colour(1),
                        dashed: false,
                        width: 2,
                        label: Some("power model".into()),
                    });
                    p.layers.push(Layer::Note(format!(
                        "β = {} (90 % CI {} to {}), n = {}",
                        number(fit.slope),
                        number(fit.ci_low),
                        number(fit.ci_high),
                        fit.n
                    )));
                }
                None => p.layers.push(Layer::Note(
                    "power model needs ≥ 3 subjects at ≥ 2 doses".into(),
                )),
            }
            panels.push(p);
        }
    }
    if panels.is_empty() {
        return Ok(None);
    }
    Ok(Some(Figure {
        name: "nca_dose_proportionality".into(),
        title: "Dose proportionality: ln Y = α + β ln dose (β = 1: proportional)".into(),
        columns: 2,
        panels,
    }))
}

fn recovery(
    t: &Table,
    dataset: &Dataset,
    id: usize,
    analyte: usize,
    group: usize,
    groups: &[String],
) -> Result<Option<Figure>, PlotError> {
    let (Some(aplasia), Some(rec)) = (t.column("time_to_aplasia"), t.column("time_to_recovery"))
    else {
        return Ok(None);
    };
    let mut panels = Vec::new();
    for a in t.distinct(analyte) {
        let rows: Vec<usize> = (0..t.len())
            .filter(|&r| t.text(r, analyte) == a && t.num(r, aplasia).is_some())
            .collect();
        if rows.is_empty() {
            continue;
        }
        let last_sample = |subject: &str| -> Option<f64> {
            let s = dataset.subjects.iter().find(|s| s.id == subject)?;
            s.observations
                .iter()
                .filter(|o| o.analyte.name() == a)
                .map(|o| o.time)
                .reduce(f64::max)
        };
        let mut p = Panel::new(
            format!("{a}: time to recovery"),
            "time (days)",
            "not yet recovered",
        );
        for (k, g) in groups.iter().enumerate() {
            let subjects: Vec<(f64, bool)> = rows
                .iter()
                .filter(|&&r| t.text(r, group) == g)
                .filter_map(|&r| match t.num(r, rec) {
                    Some(time) => Some((time, true)),
                    None => last_sample(t.text(r, id)).map(|time| (time, false)),
                })
                .collect();
            if subjects.is_empty() {
                continue;
            }
            let mut steps = kaplan_meier(&subjects);
            let end = subjects.iter().map(|s| s.0).fold(0.0, f64::max);
            if let Some(&(_, last)) = steps.last() {
                steps.push((end, last));
            }
            p.layers.push(Layer::Steps {
                xy: steps,
                colour: colour(k),
                label: Some(format!("{} (n = {})", dose_label(g), subjects.len())),
            });
        }
        panels.push(p);
    }
    if panels.is_empty() {
        return Ok(None);
    }
    Ok(Some(Figure {
        name: "nca_bcell_recovery".into(),
        title: "Kaplan–Meier: time to B-cell recovery, subjects who reached aplasia".into(),
        columns: panels.len().min(2),
        panels,
    }))
}
