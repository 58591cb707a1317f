//! A panel described as data (axes, scales, layers) and one renderer for it.
//!
//! Every plot of cartkin is a grid of [`Panel`]s. A panel says what to draw: its axis
//! titles, whether each axis is logarithmic (copy numbers and cell counts span decades),
//! its ranges, and its [`Layer`]s (points, lines, bands, boxes, reference lines).
//! [`draw_panel`] turns it into plotters calls on any backend, so the SVG and the PNG of
//! a figure come from the same description.
//!
//! Markers: a filled circle is a quantified observation; a triangle pointing down (in
//! another colour) is a record below the LLOQ, drawn at the LLOQ (the convention of xpose and the `vpc`
//! package).

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::simulate::percentile::{type7, PERCENTILES};

/// A triangle pointing down, in pixels around a point.
const TRIANGLE: [(i32, i32); 3] = [(-4, -3), (4, -3), (0, 4)];

/// The font family registered from the bundled font (see [`super::font`]).
pub const FONT: &str = "sans-serif";

/// Colour-blind-safe palette (Okabe & Ito, 2008), black first.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// The palette colour of series `i` (cycling).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// How points are marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Filled circle: a quantified observation.
    Dot,
    /// Triangle pointing down: a record below the LLOQ, drawn at the LLOQ.
    Blq,
    /// Small open circle.
    Ring,
}

/// Something drawn in a panel, in data coordinates.
#[derive(Debug, Clone)]
pub enum Layer {
    /// Scattered points.
    Points {
        /// (x, y) pairs.
        xy: Vec<(f64, f64)>,
        /// Marker.
        marker: Marker,
        /// Colour.
        colour: RGBColor,
        /// Legend entry, if any.
        label: Option<String>,
    },
    /// A polyline.
    Line {
        /// (x, y) pairs in drawing order.
        xy: Vec<(f64, f64)>,
        /// Colour.
        colour: RGBColor,
        /// Dashed instead of solid.
        dashed: bool,
        /// Stroke width in pixels.
        width: u32,
        /// Legend entry, if any.
        label: Option<String>,
    },
    /// A filled band between a lower and an upper curve at the same x.
    Band {
        /// (x, lower, upper).
        xlu: Vec<(f64, f64, f64)>,
        /// Colour.
        colour: RGBColor,
        /// Opacity of the fill, 0..1.
        opacity: f64,
        /// Legend entry, if any.
        label: Option<String>,
    },
    /// A horizontal reference line across the panel.
    HLine {
        /// Height.
        y: f64,
        /// Dashed instead of solid.
        dashed: bool,
    },
    /// The identity line y = x across the panel.
    Identity,
    /// A box and whiskers at `x`: (5th, 25th, 50th, 75th, 95th) percentiles.
    Box {
        /// Centre.
        x: f64,
        /// Half width in x units.
        half_width: f64,
        /// Percentiles 5, 25, 50, 75, 95.
        q: [f64; 5],
        /// Colour.
        colour: RGBColor,
    },
    /// Filled rectangles (x0, x1, height) from y = 0: a histogram.
    Bars {
        /// (left, right, height).
        bars: Vec<(f64, f64, f64)>,
        /// Colour.
        colour: RGBColor,
    },
    /// A step function: (x, y) with y holding until the next x (a survival curve).
    Steps {
        /// Points where the function changes.
        xy: Vec<(f64, f64)>,
        /// Colour.
        colour: RGBColor,
        /// Legend entry, if any.
        label: Option<String>,
    },
    /// A note in the top-left corner of the plotting area.
    Note(String),
}

impl Layer {
    /// The box of category `k` (at x = k, half width 0.3, in its colour) from `sorted`
    /// values: their [`PERCENTILES`] by type 7; `None` without values.
    pub fn category_box(sorted: &[f64], k: usize) -> Option<Layer> {
        let q: Option<Vec<f64>> = PERCENTILES.iter().map(|&p| type7(sorted, p)).collect();
        q.map(|q| Layer::Box {
            x: k as f64,
            half_width: 0.3,
            q: [q[0], q[1], q[2], q[3], q[4]],
            colour: colour(k),
        })
    }
}

/// One panel of a figure.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// X axis title.
    pub x_label: String,
    /// Y axis title.
    pub y_label: String,
    /// Logarithmic x axis.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// Labels of integer x positions 0, 1, ... (categorical axis), if any.
    pub x_categories: Option<Vec<String>>,
    /// What to draw.
    pub layers: Vec<Layer>,
}

impl Panel {
    /// An empty panel with titles, linear axes.
    pub fn new(title: impl Into<String>, x_label: &str, y_label: &str) -> Self {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_log: false,
            y_log: false,
            x_categories: None,
            layers: Vec::new(),
        }
    }

    /// Every finite (x, y) the layers reach, for the axis ranges (reference lines aside).
    fn extent(&self) -> (Vec<f64>, Vec<f64>) {
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for l in &self.layers {
            match l {
                Layer::Points { xy, .. } | Layer::Line { xy, .. } | Layer::Steps { xy, .. } => {
                    for &(x, y) in xy {
                        xs.push(x);
                        ys.push(y);
                    }
                }
                Layer::Band { xlu, .. } => {
                    for &(x, lo, up) in xlu {
                        xs.push(x);
                        ys.extend([lo, up]);
                    }
                }
                Layer::Box {
                    x, half_width, q, ..
                } => {
                    xs.extend([x - half_width, x + half_width]);
                    ys.extend(q.iter().copied());
                }
                Layer::Bars { bars, .. } => {
                    for &(a, b, h) in bars {
                        xs.extend([a, b]);
                        ys.extend([0.0, h]);
                    }
                }
                Layer::HLine { .. } | Layer::Identity | Layer::Note(_) => {}
            }
        }
        let keep = |v: Vec<f64>, log: bool| -> Vec<f64> {
            v.into_iter()
                .filter(|x| x.is_finite() && (!log || *x > 0.0))
                .collect()
        };
        (keep(xs, self.x_log), keep(ys, self.y_log))
    }
}

/// Range of an axis with a margin: 5 % of the span (linear) or a fraction of a decade
/// (log); a fallback when there is nothing to show.
fn axis_range(values: &[f64], log: bool) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        let (a, b) = (lo.log10(), hi.log10());
        let pad = ((b - a) * 0.05).max(0.1);
        (10f64.powf(a - pad), 10f64.powf(b + pad))
    } else {
        let span = hi - lo;
        let pad = if span > 0.0 {
            span * 0.05
        } else {
            lo.abs().max(1.0) * 0.1
        };
        (lo - pad, hi + pad)
    }
}

/// Errors of the drawing layer, as text (plotters' errors are backend-generic).
pub type DrawResult = Result<(), String>;

/// Draw `panel` into `area`.
pub fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult {
    let (xs, ys) = panel.extent();
    let (mut x0, mut x1) = axis_range(&xs, panel.x_log);
    let (mut y0, mut y1) = axis_range(&ys, panel.y_log);
    if panel.layers.iter().any(|l| matches!(l, Layer::Identity)) {
        // square axes for DV against predictions
        x0 = x0.min(y0);
        y0 = x0;
        x1 = x1.max(y1);
        y1 = x1;
    }
    if panel.layers.iter().any(|l| matches!(l, Layer::Bars { .. })) && !panel.y_log {
        y0 = 0.0;
    }
    if let Some(c) = &panel.x_categories {
        x0 = -0.6;
        x1 = c.len() as f64 - 0.4;
    }
    match (panel.x_log, panel.y_log) {
        (false, false) => chart(area, panel, x0..x1, y0..y1),
        (true, false) => chart(area, panel, (x0..x1).log_scale(), y0..y1),
        (false, true) => chart(area, panel, x0..x1, (y0..y1).log_scale()),
        (true, true) => chart(area, panel, (x0..x1).log_scale(), (y0..y1).log_scale()),
    }
}

fn chart<DB, XR, YR>(area: &DrawingArea<DB, Shift>, panel: &Panel, xr: XR, yr: YR) -> DrawResult
where
    DB: DrawingBackend,
    XR: AsRangedCoord<Value = f64>,
    YR: AsRangedCoord<Value = f64>,
    XR::CoordDescType: ValueFormatter<f64>,
    YR::CoordDescType: ValueFormatter<f64>,
{
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 15))
        .margin(8)
        .x_label_area_size(38)
        .y_label_area_size(58)
        .build_cartesian_2d(xr, yr)
        .map_err(|x| e(&x))?;
    let categories = panel.x_categories.clone();
    let format_x = move |v: &f64| -> String {
        match &categories {
            Some(c) => {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                    c[i as usize].clone()
                } else {
                    String::new()
                }
            }
            None => number(*v),
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(225, 225, 225))
        .x_label_formatter(&format_x)
        .y_label_formatter(&|v: &f64| number(*v));
    if let Some(c) = &panel.x_categories {
        mesh.x_labels(c.len());
    }
    mesh.draw().map_err(|x| e(&x))?;

    let (xmin, xmax) = {
        let r = chart.x_range();
        (r.start, r.end)
    };
    let (ymin, ymax) = {
        let r = chart.y_range();
        (r.start, r.end)
    };
    let mut has_legend = false;
    for layer in &panel.layers {
        match layer {
            Layer::Band {
                xlu,
                colour,
                opacity,
                label,
            } => {
                let mut poly: Vec<(f64, f64)> = xlu.iter().map(|&(x, lo, _)| (x, lo)).collect();
                poly.extend(xlu.iter().rev().map(|&(x, _, up)| (x, up)));
                let poly: Vec<(f64, f64)> = poly
                    .into_iter()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|(x, y)| (x, y.clamp(ymin, ymax)))
                    .collect();
                let style = colour.mix(*opacity).filled();
                let s = chart
                    .draw_series(std::iter::once(Polygon::new(poly, style)))
                    .map_err(|x| e(&x))?;
                if let Some(l) = label {
                    has_legend = true;
                    let c = colour.mix(*opacity);
                    s.label(l.as_str()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 16, y + 5)], c.filled())
                    });
                }
            }
            Layer::Bars { bars, colour } => {
                let c = *colour;
                chart
                    .draw_series(bars.iter().map(|&(a, b, h)| {
                        Rectangle::new([(a, ymin.max(0.0)), (b, h)], c.mix(0.6).filled())
                    }))
                    .map_err(|x| e(&x))?;
            }
            _ => {}
        }
    }
    for layer in &panel.layers {
        match layer {
            Layer::Points {
                xy,
                marker,
                colour,
                label,
            } => {
                let c = *colour;
                let pts = xy
                    .iter()
                    .copied()
                    .filter(|(x, y)| x.is_finite() && y.is_finite());
                let label = label.as_deref().unwrap_or("");
                has_legend |= !label.is_empty();
                match marker {
                    Marker::Dot => {
                        let s = chart
                            .draw_series(pts.map(|p| Circle::new(p, 3, c.filled())))
                            .map_err(|x| e(&x))?;
                        if !label.is_empty() {
                            s.label(label)
                                .legend(move |(x, y)| Circle::new((x + 8, y), 3, c.filled()));
                        }
                    }
                    Marker::Ring => {
                        let s = chart
                            .draw_series(pts.map(|p| Circle::new(p, 3, c.stroke_width(1))))
                            .map_err(|x| e(&x))?;
                        if !label.is_empty() {
                            s.label(label).legend(move |(x, y)| {
                                Circle::new((x + 8, y), 3, c.stroke_width(1))
                            });
                        }
                    }
                    Marker::Blq => {
                        let s = chart
                            .draw_series(pts.map(|p| {
                                EmptyElement::at(p)
                                    + Polygon::new(TRIANGLE.to_vec(), c.stroke_width(1))
                            }))
                            .map_err(|x| e(&x))?;
                        if !label.is_empty() {
                            s.label(label).legend(move |(x, y)| {
                                let tri: Vec<(i32, i32)> =
                                    TRIANGLE.iter().map(|&(a, b)| (x + 8 + a, y + b)).collect();
                                Polygon::new(tri, c.stroke_width(1))
                            });
                        }
                    }
                }
            }
            Layer::Line {
                xy,
                colour,
                dashed,
                width,
                label,
            } => {
                let style = colour.stroke_width(*width);
                let pts: Vec<(f64, f64)> = xy
                    .iter()
                    .copied()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
                let s = if *dashed {
                    chart
                        .draw_series(DashedLineSeries::new(pts, 6, 4, style))
                        .map_err(|x| e(&x))?
                } else {
                    chart
                        .draw_series(LineSeries::new(pts, style))
                        .map_err(|x| e(&x))?
                };
                if let Some(l) = label {
                    has_legend = true;
                    s.label(l.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
                }
            }
            Layer::Steps { xy, colour, label } => {
                let mut path = Vec::with_capacity(2 * xy.len());
                for (i, &(x, y)) in xy.iter().enumerate() {
                    if i > 0 {
                        path.push((x, xy[i - 1].1));
                    }
                    path.push((x, y));
                }
                let style = colour.stroke_width(2);
                let s = chart
                    .draw_series(LineSeries::new(path, style))
                    .map_err(|x| e(&x))?;
                if let Some(l) = label {
                    has_legend = true;
                    s.label(l.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
                }
            }
            Layer::HLine { y, dashed } => {
                let style = RGBColor(90, 90, 90).stroke_width(1);
                let pts = vec![(xmin, *y), (xmax, *y)];
                if *dashed {
                    chart
                        .draw_series(DashedLineSeries::new(pts, 5, 4, style))
                        .map_err(|x| e(&x))?;
                } else {
                    chart
                        .draw_series(LineSeries::new(pts, style))
                        .map_err(|x| e(&x))?;
                }
            }
            Layer::Identity => {
                let (a, b) = (xmin.max(ymin), xmax.min(ymax));
                chart
                    .draw_series(LineSeries::new(
                        vec![(a, a), (b, b)],
                        RGBColor(90, 90, 90).stroke_width(1),
                    ))
                    .map_err(|x| e(&x))?;
            }
            Layer::Box {
                x,
                half_width,
                q,
                colour,
            } => {
                let c = *colour;
                let (l, r) = (x - half_width, x + half_width);
                chart
                    .draw_series([
                        Rectangle::new([(l, q[1]), (r, q[3])], c.mix(0.25).filled()),
                        Rectangle::new([(l, q[1]), (r, q[3])], c.stroke_width(1)),
                    ])
                    .map_err(|x| e(&x))?;
                chart
                    .draw_series([
                        PathElement::new(vec![(l, q[2]), (r, q[2])], c.stroke_width(2)),
                        PathElement::new(vec![(*x, q[0]), (*x, q[1])], c.stroke_width(1)),
                        PathElement::new(vec![(*x, q[3]), (*x, q[4])], c.stroke_width(1)),
                    ])
                    .map_err(|x| e(&x))?;
            }
            Layer::Note(text) => {
                let style = TextStyle::from((FONT, 12).into_font()).color(&BLACK);
                area.draw_text(text, &style, (74, 30)).map_err(|x| e(&x))?;
            }
            Layer::Band { .. } | Layer::Bars { .. } => {}
        }
    }
    if has_legend {
        chart
            .configure_series_labels()
            .label_font((FONT, 11))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|x| e(&x))?;
    }
    Ok(())
}

/// Tick label: plain for moderate magnitudes, scientific (1e6) for large or tiny ones;
/// below 1e-14 it is the rounding error of a tick meant to be 0 (−0.3 + 3·0.1).
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a < 1e-14 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.0e}");
        s.replace("e0", "")
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
