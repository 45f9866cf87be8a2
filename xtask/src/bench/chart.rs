//! The book's charts, drawn with plotters' SVG backend: horizontal bars, one group per workload
//! and one bar per engine, on a logarithmic axis (the stages differ by orders of magnitude).
//!
//! The SVG backend writes text as `<text>` elements for the browser to render, so neither
//! drawing nor building needs a font library or system fonts.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::results::Summary;

/// What a chart plots for one engine on one workload: the bar, and a whisker from low to high.
#[derive(Clone, Copy, Debug)]
pub struct Bar {
    /// The bar's length.
    pub value: f64,
    /// The whisker's left end.
    pub low: f64,
    /// The whisker's right end.
    pub high: f64,
}

/// Which quantity a chart shows.
#[derive(Clone, Copy, Debug)]
pub enum Quantity {
    /// Median ops/s, whiskers from the slowest to the fastest repeat.
    Throughput,
    /// p99 latency of the median repeat, no whiskers.
    P99,
}

impl Quantity {
    fn bar(self, s: &Summary) -> Bar {
        match self {
            Quantity::Throughput => Bar {
                value: s.median_ops_per_sec,
                low: s.min_ops_per_sec,
                high: s.max_ops_per_sec,
            },
            Quantity::P99 => {
                let v = s.median.latency_ns.p99 as f64;
                Bar {
                    value: v,
                    low: v,
                    high: v,
                }
            }
        }
    }

    fn title(self) -> &'static str {
        match self {
            Quantity::Throughput => {
                "Operations per second (median of the repeats; whiskers: slowest to fastest). Longer is better."
            }
            Quantity::P99 => "p99 latency per operation. Shorter is better.",
        }
    }

    /// An axis label: the gridlines fall on whole decades, so no decimals are needed.
    fn label(self, v: f64) -> String {
        let (scaled, unit) = match self {
            Quantity::Throughput => match v {
                v if v >= 1e6 => (v / 1e6, " M"),
                v if v >= 1e3 => (v / 1e3, " k"),
                v => (v, ""),
            },
            Quantity::P99 => match v {
                v if v >= 1e9 => (v / 1e9, " s"),
                v if v >= 1e6 => (v / 1e6, " ms"),
                v if v >= 1e3 => (v / 1e3, " µs"),
                v => (v, " ns"),
            },
        };
        if scaled >= 1.0 {
            format!("{scaled:.0}{unit}")
        } else {
            format!("{scaled}{unit}")
        }
    }
}

/// Width of every chart, in pixels.
const WIDTH: u32 = 960;

/// Engines per line of the legend.
const LEGEND_COLUMNS: usize = 5;

/// Colours of our stages, in lesson order: cool colours.
const STAGE_COLOURS: &[RGBColor] = &[
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(23, 190, 207),
    RGBColor(148, 103, 189),
    RGBColor(57, 59, 121),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(82, 84, 163),
];

/// Colours of the peers: warm colours, so they stand apart from the stages.
const PEER_COLOURS: &[RGBColor] = &[
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(227, 119, 194),
    RGBColor(140, 86, 75),
    RGBColor(231, 186, 82),
];

/// Draws `quantity` for every engine (in `engines` order, each with whether it is a peer) on
/// every workload (in `workloads` order) into the SVG file `path`.
pub fn draw(
    path: &Path,
    quantity: Quantity,
    engines: &[(String, bool)],
    workloads: &[String],
    summaries: &[Summary],
) -> Result<()> {
    let find = |e: &str, w: &str| {
        summaries
            .iter()
            .find(|s| s.engine == e && s.workload == w)
            .map(|s| quantity.bar(s))
    };
    let values: Vec<f64> = summaries
        .iter()
        .flat_map(|s| {
            let b = quantity.bar(s);
            [b.value, b.low, b.high]
        })
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if values.is_empty() {
        (1.0, 10.0)
    } else {
        // Whole decades around the data, so the axis labels are round.
        (
            10f64.powf(lo.log10().floor()),
            10f64.powf((hi.log10() + 0.05).ceil()),
        )
    };

    let rows = workloads.len().max(1);
    // Thinner bars when many engines share a row, so the chart stays readable on one screen.
    let bar = if engines.len() > 6 { 9 } else { 14 };
    let row_height = bar * engines.len().max(1) as u32 + 16;
    let legend_rows = engines.len().div_ceil(LEGEND_COLUMNS) as u32;
    let legend_height = 16 + 20 * legend_rows;
    let height = 90 + row_height * rows as u32 + legend_height;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    let fail = |e: &dyn std::fmt::Display| anyhow!("drawing {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (plot, legend) = root.split_vertically(height - legend_height);
    let names = workloads.to_vec();
    // Each workload is a row of 100 units on the y axis, labelled at its middle; row 0 is at
    // the bottom, so the first workload goes into the top row.
    let rows_i = rows as i32;
    let key_points: Vec<i32> = (0..rows_i).map(|i| i * 100 + 50).collect();
    let mut chart = ChartBuilder::on(&plot)
        .caption(quantity.title(), ("sans-serif", 16))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(36)
        .y_label_area_size(110)
        .build_cartesian_2d(
            (lo..hi).log_scale(),
            (0..rows_i * 100).with_key_points(key_points),
        )
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_label_formatter(&|v| quantity.label(*v))
        .y_label_formatter(&|v| {
            let index = rows.saturating_sub(1 + (*v).max(0) as usize / 100);
            names.get(index).cloned().unwrap_or_default()
        })
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| fail(&e))?;

    let slot = 80 / engines.len().max(1) as i32;
    let (mut stages, mut peers) = (0, 0);
    for (e_index, (engine, is_peer)) in engines.iter().enumerate() {
        let colour = if *is_peer {
            peers += 1;
            PEER_COLOURS[(peers - 1) % PEER_COLOURS.len()]
        } else {
            stages += 1;
            STAGE_COLOURS[(stages - 1) % STAGE_COLOURS.len()]
        };
        let mut bars = Vec::new();
        let mut whiskers = Vec::new();
        for (w_index, workload) in workloads.iter().enumerate() {
            let Some(bar) = find(engine, workload) else {
                continue;
            };
            let row = (rows - 1 - w_index) as i32 * 100;
            let top = row + 90 - slot * e_index as i32;
            let bottom = top - (slot * 85 / 100).max(1);
            bars.push(Rectangle::new(
                [(lo, bottom), (bar.value.max(lo), top)],
                colour.filled(),
            ));
            if bar.high > bar.low {
                let mid = (top + bottom) / 2;
                whiskers.push(PathElement::new(
                    vec![(bar.low.max(lo), mid), (bar.high.max(lo), mid)],
                    BLACK.stroke_width(1),
                ));
            }
        }
        chart.draw_series(bars).map_err(|e| fail(&e))?;
        chart.draw_series(whiskers).map_err(|e| fail(&e))?;

        // The legend, below the plot so that it never hides a bar.
        let column = (e_index % LEGEND_COLUMNS) as i32;
        let line = (e_index / LEGEND_COLUMNS) as i32;
        let (x, y) = (130 + column * 165, 8 + line * 20);
        legend
            .draw(&Rectangle::new([(x, y), (x + 12, y + 12)], colour.filled()))
            .map_err(|e| fail(&e))?;
        legend
            .draw(&Text::new(engine.as_str(), (x + 18, y), ("sans-serif", 13)))
            .map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}
