//! Plots of a `cartkin vpc` directory, one figure `vpc_<analyte>` per analyte from
//! `vpc.csv`:
//!
//! - percentiles: the 90 % intervals of the simulated 5th and 95th percentiles (blue)
//!   and of the simulated median (orange) as bands over the bin times; the observed
//!   median (solid) and 5th/95th percentiles (dashed); the observations (rings; a record
//!   below the LLOQ as a triangle at the LLOQ) and the LLOQ (dashed line). Percentiles
//!   below the LLOQ are not drawn. Log axis when every value drawn is positive.
//! - below the LLOQ (when the analyte has an LLOQ): the observed fraction of records
//!   below the LLOQ per bin (solid) against the simulated median (dashed) and 90 %
//!   interval (band).

use super::panel::{colour, Layer, Marker, Panel, PALETTE};
use super::table::Table;
use super::{slug, Figure, PlotError};
use crate::report::OutputDir;
use crate::simulate::vpc::ObservedPoint;

/// The figures of a vpc directory; `observed` are the points drawn (prediction-corrected
/// when `pred_corrected`).
pub fn figures(
    dir: &OutputDir,
    observed: &[ObservedPoint],
    pred_corrected: bool,
) -> Result<Vec<Figure>, PlotError> {
    let t = Table::read(&dir.file("vpc.csv"))?;
    let c = |n: &str| t.require(n);
    let (analyte, time, lloq, blq_obs) = (c("analyte")?, c("time")?, c("lloq")?, c("blq_obs")?);
    let col = |p: &str, s: &str| c(&format!("{p}_{s}"));
    let mut figs = Vec::new();
    for a in t.distinct(analyte) {
        let rows: Vec<usize> = (0..t.len()).filter(|&r| t.text(r, analyte) == a).collect();
        let points: Vec<&ObservedPoint> =
            observed.iter().filter(|p| p.analyte.name() == a).collect();
        let log = points.iter().all(|p| p.value > 0.0);
        let y_label = if pred_corrected {
            format!("{a} (prediction-corrected)")
        } else {
            a.clone()
        };
        let mut p = Panel::new(format!("{a}: percentiles"), "time", &y_label);
        p.y_log = log;
        let band_in = |lo: usize, hi: usize, positive: bool| -> Vec<(f64, f64, f64)> {
            rows.iter()
                .filter_map(|&r| Some((t.num(r, time)?, t.num(r, lo)?, t.num(r, hi)?)))
                .filter(|&(_, l, _)| !positive || l > 0.0)
                .collect()
        };
        let band = |lo: usize, hi: usize| band_in(lo, hi, log);
        let line = |q: usize| -> Vec<(f64, f64)> {
            rows.iter()
                .filter_map(|&r| Some((t.num(r, time)?, t.num(r, q)?)))
                .collect()
        };
        for (k, (pct, label)) in [
            ("p05", Some("simulated 5th, 95th: 90 % interval")),
            ("p95", None),
            ("p50", Some("simulated median: 90 % interval")),
        ]
        .into_iter()
        .enumerate()
        {
            p.layers.push(Layer::Band {
                xlu: band(col(pct, "sim_lo")?, col(pct, "sim_hi")?),
                colour: colour(usize::from(k == 2)),
                opacity: 0.25,
                label: label.map(String::from),
            });
        }
        p.layers.push(Layer::Points {
            xy: points
                .iter()
                .filter(|q| !q.censored)
                .map(|q| (q.time, q.value))
                .collect(),
            marker: Marker::Ring,
            colour: plotters::style::RGBColor(150, 150, 150),
            label: Some("observed".into()),
        });
        let blq: Vec<(f64, f64)> = points
            .iter()
            .filter(|q| q.censored)
            .map(|q| (q.time, q.value))
            .collect();
        if !blq.is_empty() {
            p.layers.push(Layer::Points {
                xy: blq,
                marker: Marker::Blq,
                colour: colour(1),
                label: Some("below LLOQ".into()),
            });
        }
        p.layers.push(Layer::Line {
            xy: line(col("p50", "obs")?),
            colour: PALETTE[6],
            dashed: false,
            width: 2,
            label: Some("observed median".into()),
        });
        for (pct, label) in [("p05", Some("observed 5th, 95th")), ("p95", None)] {
            p.layers.push(Layer::Line {
                xy: line(col(pct, "obs")?),
                colour: PALETTE[6],
                dashed: true,
                width: 1,
                label: label.map(String::from),
            });
        }
        let lloqs: Vec<f64> = rows.iter().filter_map(|&r| t.num(r, lloq)).collect();
        if let Some(&l) = lloqs.iter().max_by(|x, y| x.total_cmp(y)) {
            if !pred_corrected {
                p.layers.push(Layer::HLine { y: l, dashed: true });
            }
        }
        let mut panels = vec![p];
        if !lloqs.is_empty() {
            let mut q = Panel::new(format!("{a}: fraction below LLOQ"), "time", "fraction");
            q.layers.push(Layer::Band {
                xlu: band_in(c("blq_sim_lo")?, c("blq_sim_hi")?, false),
                colour: colour(0),
                opacity: 0.25,
                label: Some("simulated: 90 % interval".into()),
            });
            q.layers.push(Layer::Line {
                xy: line(c("blq_sim_median")?),
                colour: colour(0),
                dashed: true,
                width: 2,
                label: Some("simulated median".into()),
            });
            q.layers.push(Layer::Line {
                xy: line(blq_obs),
                colour: PALETTE[6],
                dashed: false,
                width: 2,
                label: Some("observed".into()),
            });
            q.layers.push(Layer::HLine {
                y: 0.0,
                dashed: false,
            });
            panels.push(q);
        }
        let kind = if pred_corrected {
            "Prediction-corrected VPC"
        } else {
            "Visual predictive check"
        };
        figs.push(Figure {
            name: format!("vpc_{}", slug(&a)),
            title: format!(
                "{kind}: {a} (observed against 90 % intervals of simulated percentiles)"
            ),
            columns: panels.len(),
            panels,
        });
    }
    Ok(figs)
}
