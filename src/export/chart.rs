//! The report's timeline chart, drawn with plotters as SVG: cumulative volumes above, flows
//! below, on one time axis, with the machine states shaded and alarms and notes marked.
//!
//! The SVG is drawn at twice the size it has on the page (one SVG unit is half a point), so
//! that plotters' whole-pixel coordinates are fine enough for print.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::analysis::{Series, Timeline};
use crate::model::{MachineState, Priority, Quantity};
use crate::present::palette::{self, Rgb};
use crate::present::text::offset_hm;

use super::fonts::{CHART_FAMILY, FontError, register_chart_font};

/// Why the chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error(transparent)]
    Font(#[from] FontError),
    /// Plotters failed to draw on the SVG.
    #[error(transparent)]
    Draw(#[from] DrawingAreaErrorKind<std::io::Error>),
    #[error("cannot split the chart area")]
    Split,
    /// The SVG drawn cannot be read back for the PDF.
    #[error("the chart's SVG cannot be read: {0}")]
    Svg(#[from] usvg::Error),
}

/// SVG units per point on the page.
pub const SVG_UNITS_PER_PT: f64 = 2.0;
/// The chart's size on the page, points.
pub const CHART_WIDTH_PT: f64 = 511.0;
pub const CHART_HEIGHT_PT: f64 = 346.0;

const TEXT: RGBColor = RGBColor(0x30, 0x30, 0x30);
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
const NOTE_MARK: RGBColor = RGBColor(0x30, 0x30, 0x30);

/// A palette colour for plotters.
fn rgb(Rgb(r, g, b): Rgb) -> RGBColor {
    RGBColor(r, g, b)
}

/// The colour of a series on paper: the monitor's day-theme colour.
fn series_rgb(series: Series) -> RGBColor {
    rgb(palette::series(series, false))
}

/// The alarm colours (IEC 60601-1-8), as on the monitor.
fn priority_rgb(priority: Priority) -> RGBColor {
    rgb(palette::priority(priority))
}

/// The shading of a machine state, in the monitor's band colour (`None`: not shaded). Paper
/// shades only the states a reader looks for: priming, pauses and the rinseback.
fn band(state: MachineState) -> Option<(RGBAColor, &'static str)> {
    let (opacity, label) = match state {
        MachineState::Prime => (0.22, "Prime"),
        MachineState::Pause => (0.35, "Pause"),
        MachineState::Rinseback => (0.22, "Rinseback"),
        MachineState::Idle | MachineState::Run | MachineState::End => return None,
    };
    palette::state_band(state).map(|c| (rgb(c).mix(opacity), label))
}

/// One line of a panel.
struct Line {
    label: &'static str,
    color: RGBColor,
    /// On the right-hand axis.
    secondary: bool,
    /// Pieces of `(hours, value)`.
    pieces: Vec<Vec<(f64, f64)>>,
}

impl Line {
    fn max(&self) -> f64 {
        self.pieces
            .iter()
            .flatten()
            .map(|p| p.1)
            .fold(0.0, f64::max)
    }
}

/// Font size for plotters, from the wanted size in points on the page. (The SVG backend writes
/// `size / 1.24` as the font size.)
fn font(size_pt: f64) -> TextStyle<'static> {
    (CHART_FAMILY, size_pt * SVG_UNITS_PER_PT * 1.24)
        .into_font()
        .color(&TEXT)
}

fn px(pt: f64) -> i32 {
    (pt * SVG_UNITS_PER_PT).round() as i32
}

/// Draws the chart; `Ok(None)` when the recording has no samples to chart.
pub fn chart_svg(timeline: &Timeline) -> Result<Option<String>, ChartError> {
    let Some((x0, x1)) = timeline.x_range() else {
        return Ok(None);
    };
    if timeline.sample_count() == 0 || x1 <= x0 {
        return Ok(None);
    }
    register_chart_font()?;
    let hours = |x: f64| (x - x0) / 3600.0;
    let span_h = hours(x1);
    let lines = |specs: &[(Series, &'static str, bool)], averaged: bool| -> Vec<Line> {
        specs
            .iter()
            .map(|&(series, label, secondary)| Line {
                label,
                color: series_rgb(series),
                secondary,
                pieces: if averaged {
                    mean_pieces(timeline, series, x0, x1)
                } else {
                    timeline.plot_points(series, x0, x1, 700)
                }
                .into_iter()
                .map(|piece| piece.into_iter().map(|[x, y]| (hours(x), y)).collect())
                .collect(),
            })
            // A line that stays at zero says nothing and hides the axis.
            .filter(|line| line.max() > 0.0)
            .collect()
    };
    let volumes = lines(
        &[
            (Series::WbProcessedMl, "WB processed", false),
            (Series::Measured(Quantity::AcMl), "AC", false),
            (Series::Measured(Quantity::PlasmaMl), "Plasma", false),
            (Series::Measured(Quantity::ReplaceMl), "Replacement", false),
            (
                Series::Measured(Quantity::CollectMl),
                "Product (right axis)",
                true,
            ),
        ],
        false,
    );
    let flows = lines(
        &[
            (Series::Measured(Quantity::InletMlMin), "Inlet", false),
            (Series::Measured(Quantity::ReturnMlMin), "Return", false),
            (Series::Measured(Quantity::AcMlMin), "AC", false),
            (Series::Measured(Quantity::PlasmaMlMin), "Plasma", false),
            (
                Series::Measured(Quantity::CollectMlMin),
                "Collect (right axis)",
                true,
            ),
        ],
        true,
    );

    let width = px(CHART_WIDTH_PT) as u32;
    let height = px(CHART_HEIGHT_PT) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        // Legend, volumes, legend, flows (with the time axis below), key.
        let legend_h = px(16.0);
        let panel_h = px(139.0);
        let axis_h = px(24.0);
        let areas = root.split_by_breakpoints(
            [0; 0],
            [
                legend_h,
                legend_h + panel_h,
                2 * legend_h + panel_h,
                2 * legend_h + 2 * panel_h + axis_h,
            ],
        );
        let [legend1, panel1, legend2, panel2, legend3] = areas.as_slice() else {
            return Err(ChartError::Split);
        };
        draw_legend(legend1, "Volumes, mL", &volumes)?;
        let panel = Panel {
            span_h,
            y_desc: "mL",
            y2_desc: "Product, mL",
            x_axis: false,
            markers: true,
        };
        draw_panel(panel1, &panel, &volumes, timeline, &hours)?;
        draw_legend(legend2, "Flows, mL/min", &flows)?;
        let panel = Panel {
            span_h,
            y_desc: "mL/min",
            y2_desc: "Collect, mL/min",
            x_axis: true,
            markers: false,
        };
        draw_panel(panel2, &panel, &flows, timeline, &hours)?;
        draw_key(legend3, timeline)?;
        root.present()?;
    }
    Ok(Some(svg))
}

struct Panel {
    span_h: f64,
    y_desc: &'static str,
    y2_desc: &'static str,
    /// Labels on the time axis (the bottom panel only).
    x_axis: bool,
    /// Alarm and note labels (the top panel only; both panels get the lines).
    markers: bool,
}

fn nice_top(max: f64, minimum: f64) -> f64 {
    (max * 1.08).max(minimum)
}

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    panel: &Panel,
    lines: &[Line],
    timeline: &Timeline,
    hours: &dyn Fn(f64) -> f64,
) -> Result<(), ChartError> {
    let y_max = nice_top(
        lines
            .iter()
            .filter(|l| !l.secondary)
            .map(Line::max)
            .fold(0.0, f64::max),
        1.0,
    );
    // The right-hand axis runs to twice its line's maximum, so that line keeps to the lower
    // half and does not lie on top of the others.
    let right_max = nice_top(
        2.0 * lines
            .iter()
            .filter(|l| l.secondary)
            .map(Line::max)
            .fold(0.0, f64::max),
        1.0,
    );
    let mut chart = ChartBuilder::on(area)
        .margin_left(px(2.0))
        .margin_right(px(2.0))
        .margin_top(px(if panel.markers {
            2.0 + MARKER_ROW_PT * MARKER_ROWS as f64
        } else {
            4.0
        }))
        .x_label_area_size(px(if panel.x_axis { 24.0 } else { 2.0 }))
        .y_label_area_size(px(38.0))
        .right_y_label_area_size(px(38.0))
        .build_cartesian_2d(0.0..panel.span_h, 0.0..y_max)?
        .set_secondary_coord(0.0..panel.span_h, 0.0..right_max);

    let time_label = |h: &f64| offset_hm(h * 3600.0);
    let no_label = |_: &f64| String::new();
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(12)
        .y_labels(6)
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(TEXT.stroke_width(1))
        .label_style(font(6.5))
        .axis_desc_style(font(6.5))
        .y_desc(panel.y_desc)
        .y_label_formatter(&|v| format!("{v:.0}"));
    if panel.x_axis {
        mesh.x_label_formatter(&time_label)
            .x_desc("time since the start of the recording (h:mm)");
    } else {
        mesh.x_label_formatter(&no_label);
    }
    mesh.draw()?;
    // The right-hand axis is the product's, in its colour.
    let product = series_rgb(Series::Measured(Quantity::CollectMl));
    chart
        .configure_secondary_axes()
        .y_labels(6)
        .label_style(font(6.5).color(&product))
        .axis_desc_style(font(6.5).color(&product))
        .axis_style(TEXT.stroke_width(1))
        .y_desc(panel.y2_desc)
        .y_label_formatter(&|v| {
            if *v < 10.0 {
                format!("{v:.1}")
            } else {
                format!("{v:.0}")
            }
        })
        .draw()?;

    // State bands behind the lines.
    let end = timeline.x_range().map_or(0.0, |(_, last)| last);
    for span in &timeline.states {
        if let Some((color, _)) = band(span.state) {
            let (a, b) = (hours(span.start_x), hours(span.end_x.unwrap_or(end)));
            if b > a {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, y_max)],
                    color.filled(),
                )))?;
            }
        }
    }

    // Alarm and note lines.
    for alarm in &timeline.alarms {
        if alarm.priority == Priority::Info {
            continue;
        }
        let x = hours(alarm.raised_x);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, y_max)],
            priority_rgb(alarm.priority).mix(0.9).stroke_width(2),
        )))?;
    }
    for note in &timeline.notes {
        let x = hours(note.x);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, y_max)],
            NOTE_MARK.mix(0.5).stroke_width(1),
        )))?;
    }

    for line in lines {
        let style = line.color.stroke_width(3);
        for piece in &line.pieces {
            if line.secondary {
                // Dashed: read against the right-hand axis.
                chart.draw_secondary_series(DashedLineSeries::new(
                    piece.iter().copied(),
                    px(4.0),
                    px(2.0),
                    style,
                ))?;
            } else {
                chart.draw_series(LineSeries::new(piece.iter().copied(), style))?;
            }
        }
    }

    if panel.markers {
        draw_markers(&mut chart, timeline, hours, y_max)?;
    }
    Ok(())
}

/// Rows of marker labels above the top panel.
const MARKER_ROWS: usize = 3;
/// Height of one row of marker labels, points.
const MARKER_ROW_PT: f64 = 7.0;

/// Numbered markers above the plot, numbered as in the report's logs: alarms (A1…) as
/// triangles in their priority's colour, notes (N1…) as diamonds. A label that would overlap
/// the one before it goes up a row.
fn draw_markers(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    timeline: &Timeline,
    hours: &dyn Fn(f64) -> f64,
    top: f64,
) -> Result<(), ChartError> {
    enum Mark {
        Alarm(RGBColor),
        Note,
    }
    let mut marks: Vec<(f64, String, Mark)> = timeline
        .alarms
        .iter()
        .enumerate()
        .filter(|(_, a)| a.priority != Priority::Info)
        .map(|(i, a)| {
            let color = priority_rgb(a.priority);
            (hours(a.raised_x), format!("A{}", i + 1), Mark::Alarm(color))
        })
        .chain(
            timeline
                .notes
                .iter()
                .enumerate()
                .map(|(i, n)| (hours(n.x), format!("N{}", i + 1), Mark::Note)),
        )
        .collect();
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let metrics = super::fonts::Metrics::get();
    let mut row_ends = [i32::MIN; MARKER_ROWS];
    for (x, label, mark) in marks {
        let left = chart.backend_coord(&(x, top)).0 - px(3.5);
        let width = px(3.5 + 0.5)
            + metrics.map_or(px(8.0), |m| px(f64::from(m.width(&label, 6.0))))
            + px(3.5);
        let row = (0..MARKER_ROWS)
            .find(|&r| left > row_ends[r] + px(2.0))
            .unwrap_or_else(|| (0..MARKER_ROWS).min_by_key(|&r| row_ends[r]).unwrap_or(0));
        row_ends[row] = left + width;
        let centre = -px(4.0 + MARKER_ROW_PT * row as f64);
        let label = Text::new(label, (px(4.0), centre - px(3.6)), font(6.0));
        let result = match mark {
            Mark::Alarm(color) => chart.draw_series(std::iter::once(
                EmptyElement::at((x, top))
                    + TriangleMarker::new((0, centre), px(3.4), TEXT.filled())
                    + TriangleMarker::new((0, centre), px(2.6), color.filled())
                    + label,
            )),
            Mark::Note => chart.draw_series(std::iter::once(
                EmptyElement::at((x, top)) + diamond(0, centre, px(2.4)) + label,
            )),
        };
        result?;
    }
    Ok(())
}

/// Means of `series` over equal time buckets of `[x0, x1]` (about 250 of them, each at least
/// a few sample intervals long), as line pieces of `[x, mean]`; an empty bucket (no samples:
/// the link was down) breaks the line. Noisy flows read better as means than as envelopes.
fn mean_pieces(timeline: &Timeline, series: Series, x0: f64, x1: f64) -> Vec<Vec<[f64; 2]>> {
    let xs = timeline.xs();
    let span = x1 - x0;
    if xs.is_empty() || span <= 0.0 {
        return Vec::new();
    }
    let mean_interval = span / xs.len() as f64;
    let width = (span / 250.0).max(2.5 * mean_interval);
    let mut pieces = Vec::new();
    let mut current: Vec<[f64; 2]> = Vec::new();
    let mut i = 0;
    let mut start = x0;
    while start < x1 {
        let end = start + width;
        let (mut sum, mut n) = (0.0, 0u32);
        while i < xs.len() && xs[i] < end {
            if let Some(v) = timeline.value(series, i) {
                sum += v;
                n += 1;
            }
            i += 1;
        }
        if n > 0 {
            current.push([f64::midpoint(start, end.min(x1)), sum / f64::from(n)]);
        } else if !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        start = end;
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// A filled diamond of half-diagonal `r` centred on `(x, y)` (backend coordinates).
fn diamond(x: i32, y: i32, r: i32) -> Polygon<(i32, i32)> {
    Polygon::new(
        vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
        NOTE_MARK.filled(),
    )
}

/// A legend row: a title, then a short line and the label of each series.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    lines: &[Line],
) -> Result<(), ChartError> {
    let y = px(10.0);
    let mut x = px(2.0);
    let title_font = font(7.5);
    area.draw(&Text::new(
        title.to_owned(),
        (x, y - px(6.0)),
        title_font.clone(),
    ))?;
    x += area.estimate_text_size(title, &title_font)?.0 as i32 + px(12.0);
    for line in lines {
        let style = line.color.stroke_width(3);
        if line.secondary {
            for (a, b) in [(0.0, 4.0), (6.0, 10.0), (12.0, 13.0)] {
                area.draw(&PathElement::new(
                    vec![(x + px(a), y), (x + px(b), y)],
                    style,
                ))?;
            }
        } else {
            area.draw(&PathElement::new(vec![(x, y), (x + px(13.0), y)], style))?;
        }
        x += px(15.0);
        let label_font = font(6.5);
        area.draw(&Text::new(
            line.label.to_owned(),
            (x, y - px(4.0)),
            label_font.clone(),
        ))?;
        x += area.estimate_text_size(line.label, &label_font)?.0 as i32 + px(10.0);
    }
    if lines.is_empty() {
        area.draw(&Text::new(
            "(no values recorded)".to_owned(),
            (x, y - px(4.0)),
            font(6.5),
        ))?;
    }
    Ok(())
}

/// The key below the chart: state shading and the alarm and note markers present.
fn draw_key(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    timeline: &Timeline,
) -> Result<(), ChartError> {
    let y = px(10.0);
    let mut x = px(40.0);
    let label_font = font(6.5);
    let item = |x: &mut i32, label: &str| -> Result<(), ChartError> {
        area.draw(&Text::new(
            label.to_owned(),
            (*x, y - px(4.0)),
            label_font.clone(),
        ))?;
        *x += area.estimate_text_size(label, &label_font)?.0 as i32 + px(10.0);
        Ok(())
    };
    for state in [
        MachineState::Prime,
        MachineState::Pause,
        MachineState::Rinseback,
    ] {
        if !timeline.states.iter().any(|s| s.state == state) {
            continue;
        }
        if let Some((color, label)) = band(state) {
            area.draw(&Rectangle::new(
                [(x, y - px(4.0)), (x + px(10.0), y + px(3.0))],
                color.filled(),
            ))?;
            x += px(13.0);
            item(&mut x, label)?;
        }
    }
    for (priority, label) in [
        (Priority::High, "High alarm"),
        (Priority::Medium, "Medium alarm"),
        (Priority::Low, "Low alarm"),
    ] {
        if !timeline.alarms.iter().any(|a| a.priority == priority) {
            continue;
        }
        let color = priority_rgb(priority);
        // Outlined, so yellow and cyan read on white.
        area.draw(&TriangleMarker::new(
            (x + px(4.0), y),
            px(4.5),
            TEXT.filled(),
        ))?;
        area.draw(&TriangleMarker::new(
            (x + px(4.0), y),
            px(3.5),
            color.filled(),
        ))?;
        x += px(11.0);
        item(&mut x, label)?;
    }
    if !timeline.notes.is_empty() {
        area.draw(&diamond(x + px(4.0), y, px(3.0)))?;
        x += px(11.0);
        item(&mut x, "Nurse note")?;
    }
    Ok(())
}
