//! `latency.svg`: each approach's request p99 (log scale) against the
//! offered rate (log scale), Python dashed, with the ideal queue's bound
//! and, when given, the SLO: the hockey stick past capacity.

use std::path::Path;

use plotters::prelude::*;

use model::latency::Percentiles;

use super::{Cell, Slo, at_rates};
use crate::Result;
use crate::plot::{FONT, color, svg};

pub fn latency(cells: &[Cell], slo: Option<&Slo>, path: &Path) -> Result<()> {
    let slo_ms = slo.map(|s| s.us as f64 / 1e3);
    let names: Vec<String> = cells[0].records.iter().map(|(n, _)| n.clone()).collect();
    let mut series: Vec<(String, Vec<(f64, f64)>)> = names
        .iter()
        .map(|name| {
            let points = at_rates(cells, name)
                .into_iter()
                .map(|(rate, records)| {
                    let p = Cell::pooled(records, 0..records.len());
                    (rate, p.p99_us as f64 / 1e3)
                })
                .collect();
            (name.clone(), points)
        })
        .collect();
    let bound: Vec<(f64, f64)> = cells
        .iter()
        .filter_map(|c| {
            let p = Percentiles::of(c.bound.as_ref()?.iter().copied());
            Some((c.rate, p.p99_us as f64 / 1e3))
        })
        .collect();
    let all = || {
        series
            .iter()
            .flat_map(|(_, p)| p.iter().copied())
            .chain(bound.iter().copied())
            .chain(slo_ms.map(|ms| (cells[0].rate, ms)))
    };
    let (lo_x, hi_x) = all().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(x), b.max(x)));
    let (lo_y, hi_y) = all().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(y), b.max(y)));
    let x_range = (lo_x * 0.8)..(hi_x * 1.25);
    let y_range = (lo_y.max(1e-3) * 0.8)..(hi_y.max(1e-3) * 1.25);
    let grey = RGBColor(120, 120, 120);
    series.retain(|(_, p)| !p.is_empty());
    svg(path, (900, 520), |root| {
        let (left, right) = root.split_horizontally(640);
        let mut chart = ChartBuilder::on(&left)
            .caption("request latency p99 against the offered rate", (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_range.clone().log_scale(), y_range.clone().log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("offered rate (requests/s, log scale)")
            .y_desc("p99 (ms, log scale)")
            // The swept rates are the x labels, drawn below; one light
            // line per y label.
            .x_labels(0)
            .y_labels(8)
            .light_line_style(WHITE)
            .y_label_formatter(&|y| short(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        for c in cells {
            let (x, y) = chart.backend_coord(&(c.rate, y_range.start));
            left.draw(&Text::new(short(c.rate), (x - 8, y + 6), (FONT, 12)))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(LineSeries::new(
                bound.iter().copied(),
                grey.mix(0.5).stroke_width(5),
            ))
            .map_err(|e| e.to_string())?;
        if let Some(ms) = slo_ms {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x_range.start, ms), (x_range.end, ms)],
                    3,
                    3,
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        for (name, points) in &series {
            crate::plot::draw_approach(&mut chart, name, points)?;
        }
        let mut legend: Vec<(String, RGBColor, bool, u32)> =
            vec![("bound (ideal queue)".into(), grey, false, 5)];
        if slo_ms.is_some() {
            legend.push(("SLO".into(), BLACK, true, 1));
        }
        legend.extend(
            series
                .iter()
                .map(|(n, _)| (n.clone(), color(n), n.starts_with("py_"), 2)),
        );
        crate::plot::draw_legend(&right, &legend)
    })
}

/// A tick's value in three significant digits at most, without trailing
/// zeros.
fn short(v: f64) -> String {
    let digits = (2 - v.abs().max(1e-9).log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}
