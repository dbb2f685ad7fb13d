//! The pictures of a run, as SVG (plotters), beside its tables:
//!
//! - `walltimes.svg`: every timed run of every approach as a point, with
//!   the mean marked, so the spread behind a mean is visible;
//! - `timelines.svg`: the untimed profile run of each approach, one lane
//!   per server connection (grouped and coloured by server in a run on
//!   several) and one bar per query: waiting for a connection
//!   (light, thin), sent and waiting for the first row (medium), rows
//!   arriving (dark). It shows how each approach schedules the same work.
//!   Drawn from profiles that kept their queries (at most
//!   [`crate::table::CONDENSE_ABOVE`]) and have timestamps;
//! - `speedup.svg` (a sweep): each approach's speedup over the serial run
//!   of its language against the budget, with the ideal (the budget) and
//!   the bound the server allows.
//!
//! The pictures draw what the tables hold; they measure nothing.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::hyperfine::Export;
use crate::table::{CONDENSE_ABOVE, Profile, Stamps};
use crate::{ReportError, Result, write};

pub(crate) const FONT: &str = "sans-serif";

/// One line of the speedup chart: a name and (budget, speedup) points.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Renders into an SVG string with `draw`, then writes it to `path`.
pub(crate) fn svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<()> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.to_string()));
        drawn.map_err(|message| ReportError::Plot {
            path: path.to_owned(),
            message,
        })?;
    }
    write(path, &text)
}

/// One colour per way of scheduling, shared by a Rust approach and the
/// Python script it mirrors (the language is told by the line and marker).
pub(crate) fn color(command: &str) -> RGBColor {
    let (r, g, b) = model::registry::find(command).map_or((23, 190, 207), |a| a.colour);
    RGBColor(r, g, b)
}

/// How far a run's server CPU may stray from its approach's median before
/// `walltimes.svg` rings it.
const CPU_STRAY: f64 = 0.05;

/// `walltimes.svg`: one row per approach, each timed run a point, the mean
/// a cross; with the server's CPU per run, a ring marks a run whose server
/// CPU strayed from its approach's median by more than [`CPU_STRAY`]
/// (red above, blue below): the machine's speed drifts, and this shows
/// which runs met a slow or fast spell.
pub fn wall_times(
    export: &Export,
    server_cpu: Option<&BTreeMap<String, Vec<f64>>>,
    path: &Path,
) -> Result<()> {
    let results = &export.results;
    let rows = results.len().max(1);
    let times = || results.iter().flat_map(|b| b.times.iter().copied());
    let slowest = times().fold(0.0, f64::max);
    // A dot plot needs no zero: the axis starts near the fastest run, so
    // that the spread of each row stays visible.
    let fastest = times().fold(slowest, f64::min);
    let (from, to) = (fastest * 0.9, slowest * 1.05 + 1e-9);
    svg(path, (800, 60 + 28 * rows as u32), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                if server_cpu.is_some() {
                    "wall time of every timed run (× the mean; ring: server CPU >5% above (red) or below (blue) its median)"
                } else {
                    "wall time of every timed run (× the mean)"
                },
                (FONT, if server_cpu.is_some() { 13 } else { 18 }),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(140)
            .build_cartesian_2d(from..to, (0..rows - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        let names: Vec<&str> = results.iter().map(|b| b.command.as_str()).collect();
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => names.get(*i).copied().unwrap_or("").to_owned(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .y_labels(rows)
            .y_label_formatter(&label)
            .x_desc("seconds (hyperfine, process start-up included)")
            .disable_y_mesh()
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, b) in results.iter().enumerate() {
            let c = color(&b.command);
            chart
                .draw_series(
                    b.times.iter().map(|&t| {
                        Circle::new((t, SegmentValue::CenterOf(i)), 4, c.mix(0.6).filled())
                    }),
                )
                .map_err(|e| e.to_string())?;
            if let Some(cpu) = crate::server_cpu::timed(b, server_cpu) {
                let mut sorted = cpu.clone();
                sorted.sort_by(f64::total_cmp);
                let median = sorted[sorted.len() / 2];
                let rings = b.times.iter().zip(&cpu).filter_map(|(&t, &c)| {
                    let ring = if c > median * (1.0 + CPU_STRAY) {
                        RED
                    } else if c < median * (1.0 - CPU_STRAY) {
                        BLUE
                    } else {
                        return None;
                    };
                    Some(Circle::new(
                        (t, SegmentValue::CenterOf(i)),
                        7,
                        ring.stroke_width(2),
                    ))
                });
                chart.draw_series(rings).map_err(|e| e.to_string())?;
            }
            chart
                .draw_series(std::iter::once(Cross::new(
                    (b.mean, SegmentValue::CenterOf(i)),
                    5,
                    BLACK.stroke_width(1),
                )))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// `timelines.svg`: one panel per approach with usable timestamps, in
/// `order`; `false` when no profile has them (nothing is written).
pub fn timelines(
    profiles: &BTreeMap<String, Profile>,
    order: &[String],
    path: &Path,
) -> Result<bool> {
    let runs: Vec<(&str, Vec<(Stamps, Lane)>)> = order
        .iter()
        .filter_map(|name| {
            let p = profiles.get(name)?;
            if p.queries.is_empty() || p.queries.len() > CONDENSE_ABOVE {
                return None;
            }
            let bars = p
                .queries
                .iter()
                .map(|q| Some((q.at?, (q.server.unwrap_or(0), q.connection_id?))))
                .collect::<Option<Vec<_>>>()?;
            Some((name.as_str(), bars))
        })
        .collect();
    if runs.is_empty() {
        return Ok(false);
    }
    let end_s = runs
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|(s, _)| s.finished_us))
        .max()
        .unwrap_or(1) as f64
        / 1e6;
    let panel = 150;
    svg(path, (900, 40 + panel * runs.len() as u32), |root| {
        let root = root
            .titled(
                "a lane per connection, a bar per query (dark: rows arriving), \
                 a thin line: its wait for a connection",
                (FONT, 14),
            )
            .map_err(|e| e.to_string())?;
        for ((name, bars), area) in runs.iter().zip(root.split_evenly((runs.len(), 1))) {
            timeline(&area, name, bars, end_s)?;
        }
        Ok(())
    })
    .map(|()| true)
}

/// A connection: its server's index and the server's id for it (ids are
/// per server, so two servers may both have a connection 12).
type Lane = (usize, u64);

/// Each server's colour in the panels (the first is the one-server blue).
const SERVER_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// The lanes of a panel: grouped by server, in server order, and within a
/// server in the order its connections were first used.
fn lanes(bars: &[(Stamps, Lane)]) -> Vec<Lane> {
    let mut by_start: Vec<&(Stamps, Lane)> = bars.iter().collect();
    by_start.sort_by_key(|(s, lane)| (lane.0, s.connected_us));
    let mut lanes: Vec<Lane> = Vec::new();
    for (_, lane) in by_start {
        if !lanes.contains(lane) {
            lanes.push(*lane);
        }
    }
    lanes
}

/// Each query's place among the queries of its lane, in the order they
/// ran there (0 for the first): neighbours get alternating shades.
fn nth_on_lane(bars: &[(Stamps, Lane)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..bars.len()).collect();
    order.sort_by_key(|&i| (bars[i].1, bars[i].0.connected_us));
    let mut nth = vec![0; bars.len()];
    for pair in order.windows(2) {
        if bars[pair[0]].1 == bars[pair[1]].1 {
            nth[pair[1]] = nth[pair[0]] + 1;
        }
    }
    nth
}

/// One approach's panel.
fn timeline(
    area: &DrawingArea<SVGBackend, Shift>,
    name: &str,
    bars: &[(Stamps, Lane)],
    end_s: f64,
) -> Result<(), String> {
    let lanes = lanes(bars);
    let lane = |l: Lane| lanes.iter().position(|x| *x == l).unwrap_or(0) as f64;
    let servers: Vec<usize> = {
        let mut s: Vec<usize> = lanes.iter().map(|l| l.0).collect();
        s.dedup();
        s
    };
    let over = if servers.len() > 1 {
        format!(" over {} servers", servers.len())
    } else {
        String::new()
    };
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{name}: {} queries on {} connection{}{over}",
                bars.len(),
                lanes.len(),
                if lanes.len() == 1 { "" } else { "s" }
            ),
            (FONT, 14),
        )
        .margin(6)
        .x_label_area_size(22)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..end_s * 1.02 + 1e-9, 0.0..lanes.len() as f64)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(10)
        .x_label_formatter(&|s| {
            if end_s < 2.0 {
                format!("{:.0} ms", s * 1000.0)
            } else {
                format!("{s:.1} s")
            }
        })
        .draw()
        .map_err(|e| e.to_string())?;
    let s = |us: u64| us as f64 / 1e6;
    let color = |server: usize| SERVER_COLORS[server % SERVER_COLORS.len()];
    // Only what a connection does is drawn in its lane: a query's wait
    // for the connection ran before the queries ahead of it there, so it
    // is a thin line under the lane, not a bar over them.
    let nth = nth_on_lane(bars);
    chart
        .draw_series(bars.iter().zip(&nth).flat_map(|((t, l), &n)| {
            let y = lane(*l);
            let base = color(l.0);
            let sent = if n % 2 == 0 { 0.45 } else { 0.25 };
            [
                Rectangle::new(
                    [(s(t.submitted_us), y + 0.06), (s(t.connected_us), y + 0.14)],
                    base.mix(0.35).filled(),
                ),
                Rectangle::new(
                    [(s(t.connected_us), y + 0.3), (s(t.first_row_us), y + 0.95)],
                    base.mix(sent).filled(),
                ),
                Rectangle::new(
                    [(s(t.first_row_us), y + 0.3), (s(t.finished_us), y + 0.95)],
                    base.filled(),
                ),
                Rectangle::new(
                    [(s(t.connected_us), y + 0.3), (s(t.finished_us), y + 0.95)],
                    WHITE.stroke_width(1),
                ),
            ]
        }))
        .map_err(|e| e.to_string())?;
    if servers.len() > 1 {
        // Each server's group named at its first lane, a rule between groups.
        for &server in &servers {
            let first = lanes.iter().position(|l| l.0 == server).unwrap_or(0) as f64;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("server {}", server + 1),
                    (end_s * 1.02, first + 0.5),
                    (FONT, 11)
                        .into_font()
                        .color(&color(server))
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                )))
                .map_err(|e| e.to_string())?;
            if first > 0.0 {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        [(0.0, first), (end_s * 1.02, first)],
                        BLACK.mix(0.4),
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// `speedup.svg`: one line per approach against the budget (a log₂ axis),
/// the ideal and the bound; the legend beside the chart.
pub fn speedup(series: &[Series], bound: &[(f64, f64)], path: &Path) -> Result<()> {
    let log = |(b, y): (f64, f64)| (b.log2(), y);
    let budgets = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let widest = budgets().fold(2.0, f64::max).log2();
    // One scale for the measured curves and the ideal (up to the widest
    // budget); a bound far above both is drawn along the top, not allowed
    // to squash them to the bottom (a bound of 281× over curves of 16×).
    let measured = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let top = measured.max(widest.exp2()) * 1.15;
    let bound: Vec<(f64, f64)> = bound.iter().map(|&(b, y)| (b, y.min(top))).collect();
    let grey = RGBColor(120, 120, 120);
    // The legend: (name, colour, dashed, width).
    let mut legend: Vec<(String, RGBColor, bool, u32)> = vec![
        ("ideal (the budget)".to_owned(), BLACK, false, 1),
        (
            "bound (each cell's most limiting term)".to_owned(),
            grey,
            false,
            5,
        ),
    ];
    for s in series {
        legend.push((s.name.clone(), color(&s.name), s.name.starts_with("py_"), 2));
    }
    svg(path, (900, 520), |root| {
        let (left, right) = root.split_horizontally(640);
        let mut chart = ChartBuilder::on(&left)
            .caption("speedup over the serial run of the language", (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..widest, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("connection budget")
            .y_desc("speedup (×)")
            .x_labels(widest.ceil() as usize + 1)
            .x_label_formatter(&|x| format!("{:.0}", x.exp2()))
            .draw()
            .map_err(|e| e.to_string())?;
        // The ideal, y = budget, sampled so that it curves on the log axis,
        // up to the top of the chart.
        let ideal: Vec<(f64, f64)> = (0..=100)
            .map(|i| widest * f64::from(i) / 100.0)
            .map(|x| (x, x.exp2()))
            .filter(|(_, y)| *y <= top)
            .collect();
        chart
            .draw_series(LineSeries::new(ideal, BLACK.stroke_width(1)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                bound.iter().copied().map(log),
                grey.mix(0.5).stroke_width(5),
            ))
            .map_err(|e| e.to_string())?;
        for s in series {
            let points: Vec<(f64, f64)> = s.points.iter().copied().map(log).collect();
            draw_approach(&mut chart, &s.name, &points)?;
        }
        draw_legend(&right, &legend)
    })
}

/// One approach's line on a chart, in its colour: Rust solid with filled
/// points, Python dashed with hollow ones.
pub(crate) fn draw_approach<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    name: &str,
    points: &[(f64, f64)],
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let c = color(name);
    let points = points.to_vec();
    if name.starts_with("py_") {
        chart
            .draw_series(DashedLineSeries::new(
                points.clone(),
                6,
                4,
                c.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.stroke_width(2))))
            .map_err(|e| e.to_string())?;
    } else {
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A legend down `area`: each line's name, colour, whether it is dashed
/// (Python) and its width.
pub(crate) fn draw_legend(
    area: &DrawingArea<SVGBackend, Shift>,
    lines: &[(String, RGBColor, bool, u32)],
) -> Result<(), String> {
    for (i, (name, c, dashed, width)) in lines.iter().enumerate() {
        let y = 60 + 24 * i as i32;
        let line: Vec<(i32, i32)> = if *dashed {
            vec![(10, y), (16, y)]
        } else {
            vec![(10, y), (34, y)]
        };
        area.draw(&PathElement::new(line, c.stroke_width(*width)))
            .map_err(|e| e.to_string())?;
        if *dashed {
            area.draw(&PathElement::new(
                vec![(22, y), (34, y)],
                c.stroke_width(*width),
            ))
            .map_err(|e| e.to_string())?;
        }
        area.draw(&Text::new(name.clone(), (42, y - 7), (FONT, 13)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyperfine::Benchmark;

    #[test]
    fn a_run_whose_server_cpu_strayed_is_ringed() {
        let export = Export {
            results: vec![Benchmark {
                command: "test_asyncio".into(),
                mean: 2.0,
                stddev: Some(0.1),
                min: 1.9,
                max: 2.1,
                user: 0.1,
                system: 0.1,
                times: vec![1.9, 2.0, 2.1],
            }],
        };
        // A warm-up run first, then three timed runs: the last one 20%
        // above the median.
        let mut cpu = BTreeMap::new();
        cpu.insert("test_asyncio".to_owned(), vec![30.0, 10.0, 10.2, 12.0]);
        let dir = std::env::temp_dir().join(format!("dbio-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let circles = |cpu: Option<&BTreeMap<String, Vec<f64>>>| {
            let path = dir.join("walltimes.svg");
            wall_times(&export, cpu, &path).expect("plot");
            std::fs::read_to_string(&path)
                .expect("svg")
                .matches("<circle")
                .count()
        };
        assert_eq!(circles(None), 3);
        assert_eq!(circles(Some(&cpu)), 4, "three runs and one ring");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lanes_are_grouped_by_server_and_ids_are_per_server() {
        let at = |connected_us| Stamps {
            submitted_us: 0,
            connected_us,
            first_row_us: connected_us + 1,
            finished_us: connected_us + 2,
        };
        // Server 1 and server 0 both have a connection 7; server 1's
        // connections were used first.
        let bars = [
            (at(0), (1, 7)),
            (at(1), (1, 9)),
            (at(2), (0, 7)),
            (at(3), (1, 7)),
            (at(4), (0, 8)),
        ];
        assert_eq!(lanes(&bars), [(0, 7), (0, 8), (1, 7), (1, 9)]);
        // Counted per lane in the order they ran there: (1, 7) ran at 0 and 3.
        assert_eq!(nth_on_lane(&bars), [0, 0, 0, 1, 0]);
    }
}
