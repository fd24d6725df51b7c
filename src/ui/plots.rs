//! The three timeline plots (volumes, flows, pressures) on one shared time axis, with state
//! bands, alarm and note markers, follow-live, and hover read-outs of every series.

use std::fmt::Write as _;

use egui::{Color32, Id, RichText};
use egui_plot::{
    Corner, GridInput, GridMark, HLine, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoint,
    PlotPoints, Points, Span, Text, VLine,
};

use crate::analysis::{Series, Timeline};
use crate::model::Quantity;

use super::format::{clock_hm, clock_hms, duration_hm, duration_hms};
use super::theme::{priority_color, series_color, state_band_color};

/// How the time axis moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotView {
    /// Keep the newest data in view as it arrives.
    pub follow: bool,
    /// Width of the window shown while following; `None` shows the whole run.
    pub window_secs: Option<f64>,
}

impl Default for PlotView {
    fn default() -> Self {
        PlotView {
            follow: true,
            window_secs: None,
        }
    }
}

/// One plot's contents.
struct PlotSpec {
    id: &'static str,
    title: &'static str,
    series: &'static [Series],
    /// Dashed reference lines (value, label).
    limits: Vec<(f64, String)>,
}

/// Pressure limits drawn as dashed lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PressureLimits {
    pub access_low_mmhg: f64,
    pub return_high_mmhg: f64,
}

impl Default for PressureLimits {
    fn default() -> Self {
        PressureLimits {
            access_low_mmhg: -250.0,
            return_high_mmhg: 300.0,
        }
    }
}

const VOLUMES: &[Series] = &[
    Series::WbProcessedMl,
    Series::Measured(Quantity::AcMl),
    Series::Measured(Quantity::CollectMl),
    Series::Measured(Quantity::PlasmaMl),
];
const FLOWS: &[Series] = &[
    Series::Measured(Quantity::InletMlMin),
    Series::Measured(Quantity::AcMlMin),
    Series::Measured(Quantity::ReturnMlMin),
    Series::Measured(Quantity::CollectMlMin),
];
const PRESSURES: &[Series] = &[
    Series::Measured(Quantity::AccessMmhg),
    Series::Measured(Quantity::ReturnMmhg),
];

/// Draws the plots in the space given; `playhead` marks the replay position. Returns the
/// session time clicked, if a plot was clicked (replay seeks there).
pub fn plots_ui(
    ui: &mut egui::Ui,
    timeline: &Timeline,
    view: &mut PlotView,
    limits: PressureLimits,
    playhead: Option<f64>,
) -> Option<f64> {
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        let follow = ui.checkbox(&mut view.follow, "Follow live");
        follow.on_hover_text("Keep the newest data in view");
        if ui.button("Whole run").clicked() {
            view.follow = true;
            view.window_secs = None;
        }
        if ui.button("Last 30 min").clicked() {
            view.follow = true;
            view.window_secs = Some(1800.0);
        }
        if ui.button("Last 10 min").clicked() {
            view.follow = true;
            view.window_secs = Some(600.0);
        }
        ui.label(
            RichText::new("drag to pan · scroll or pinch to zoom · double-click to reset")
                .small()
                .weak(),
        );
    });
    let specs = [
        PlotSpec {
            id: "plot-volumes",
            title: "Volumes (mL)",
            series: VOLUMES,
            limits: Vec::new(),
        },
        PlotSpec {
            id: "plot-flows",
            title: "Flows (mL/min)",
            series: FLOWS,
            limits: Vec::new(),
        },
        PlotSpec {
            id: "plot-pressures",
            title: "Pressures (mmHg)",
            series: PRESSURES,
            limits: vec![
                (limits.access_low_mmhg, "access limit".into()),
                (limits.return_high_mmhg, "return limit".into()),
            ],
        },
    ];
    let x_range = follow_range(timeline, view, playhead);
    let available = ui.available_height();
    let axis_height = 34.0;
    let each = ((available - axis_height) / 3.0).max(80.0);
    let group = Id::unique("timeline-axis");
    let mut user_moved = false;
    let mut clicked_x = None;
    for (i, spec) in specs.iter().enumerate() {
        let last = i + 1 == specs.len();
        let height = if last { each + axis_height } else { each };
        let plot = Plot::new(spec.id)
            .height(height)
            .link_axis(group, [true, false])
            .link_cursor(group, [true, false])
            .allow_zoom([true, false])
            .allow_scroll([true, false])
            .allow_drag([true, false])
            .allow_boxed_zoom(false)
            .show_axes([last, true])
            .y_axis_min_width(56.0)
            .legend(
                Legend::default()
                    .position(Corner::LeftTop)
                    .title(spec.title)
                    .text_style(egui::TextStyle::Small)
                    .background_alpha(0.75)
                    .follow_insertion_order(true),
            )
            .x_grid_spacer(time_grid)
            .y_grid_spacer(value_grid)
            .x_axis_formatter(|mark, _range| axis_label(timeline, mark.value))
            .label_formatter(|hover| {
                let x = match hover {
                    egui_plot::HoverPosition::NearDataPoint { position, .. }
                    | egui_plot::HoverPosition::Elsewhere { position } => position.x,
                };
                Some(hover_text(timeline, spec.series, x))
            });
        let response = plot.show(ui, |plot_ui| {
            if let Some((from, to)) = x_range {
                plot_ui.set_plot_bounds_x(from..=to);
            }
            plot_ui.set_auto_bounds([false, true]);
            let bounds = plot_ui.plot_bounds();
            let (from, to) = x_range
                .or_else(|| {
                    let (a, b) = (bounds.min()[0], bounds.max()[0]);
                    (a.is_finite() && b.is_finite() && a < b).then_some((a, b))
                })
                .or_else(|| timeline.x_range())
                .unwrap_or((0.0, 60.0));
            // One min/max pair per two pixels: a smooth envelope with half the vertices.
            let columns = (plot_ui.response().rect.width() / 2.0).max(50.0) as usize;
            let pieces: Vec<(Series, Vec<[f64; 2]>)> = spec
                .series
                .iter()
                .flat_map(|series| {
                    timeline
                        .plot_points(*series, from, to, columns)
                        .into_iter()
                        .map(move |piece| (*series, piece))
                })
                .collect();
            // Markers sit at the edges of the data shown, never at the plot's own bounds (which
            // they would then hold in place).
            let (bottom, top) = pieces
                .iter()
                .flat_map(|(_, piece)| piece.iter().map(|p| p[1]))
                .fold(None, |acc: Option<(f64, f64)>, y| {
                    Some(acc.map_or((y, y), |(a, b)| (a.min(y), b.max(y))))
                })
                .unwrap_or((0.0, 1.0));
            for span in &timeline.states {
                let Some(fill) = state_band_color(span.state, dark) else {
                    continue;
                };
                let end = span
                    .end_x
                    .unwrap_or_else(|| timeline.x_range().map_or(span.start_x, |r| r.1));
                if end < from || span.start_x > to || end <= span.start_x {
                    continue;
                }
                plot_ui.span(Span::new("", span.start_x..=end).fill(fill));
                if i == 0 {
                    plot_ui.text(
                        Text::new(
                            "",
                            PlotPoint::new(f64::midpoint(span.start_x.max(from), end.min(to)), top),
                            RichText::new(span.state.as_str()).small(),
                        )
                        .anchor(egui::Align2::CENTER_TOP)
                        .color(if dark {
                            Color32::from_gray(170)
                        } else {
                            Color32::from_gray(80)
                        }),
                    );
                }
            }
            for (series, piece) in pieces {
                plot_ui.line(
                    Line::new(series.label(), PlotPoints::new(piece))
                        .color(series_color(series, dark))
                        .width(2.0)
                        .allow_band(false),
                );
            }
            for (value, label) in &spec.limits {
                plot_ui.hline(
                    HLine::new(label.clone(), *value)
                        .color(Color32::from_rgb(0xE0, 0x1B, 0x1B).gamma_multiply(0.7))
                        .style(LineStyle::dashed_loose())
                        .width(1.0),
                );
            }
            for alarm in timeline
                .alarms
                .iter()
                .filter(|a| a.raised_x >= from && a.raised_x <= to)
            {
                // Information events are marked without a line; alarms get a faint line
                // through all plots and their priority marker on the first.
                let color = priority_color(alarm.priority);
                if alarm.priority != crate::model::Priority::Info {
                    plot_ui.vline(
                        VLine::new("", alarm.raised_x)
                            .color(color.gamma_multiply(0.55))
                            .width(1.0),
                    );
                }
                if i == 0 {
                    plot_ui.text(
                        Text::new(
                            "",
                            PlotPoint::new(alarm.raised_x, bottom),
                            RichText::new(alarm.priority.marker()).strong(),
                        )
                        .anchor(egui::Align2::CENTER_BOTTOM)
                        .color(color),
                    );
                }
            }
            for note in timeline.notes.iter().filter(|n| n.x >= from && n.x <= to) {
                let color = if dark { Color32::WHITE } else { Color32::BLACK };
                plot_ui.vline(
                    VLine::new("", note.x)
                        .color(color.gamma_multiply(0.7))
                        .style(LineStyle::dashed_dense())
                        .width(1.0),
                );
                if i == 0 {
                    // A marker; hovering near it shows the whole note.
                    plot_ui.points(
                        Points::new("", vec![[note.x, bottom]])
                            .shape(MarkerShape::Up)
                            .filled(true)
                            .radius(6.0)
                            .color(color),
                    );
                }
            }
            if let Some(x) = playhead {
                plot_ui.vline(
                    VLine::new("", x)
                        .color(Color32::from_rgb(0xFF, 0x80, 0x00))
                        .width(2.0),
                );
            }
            let response = plot_ui.response();
            let moved = response.dragged()
                || (response.hovered()
                    && plot_ui
                        .ctx()
                        .input(|i| i.smooth_scroll_delta.x != 0.0 || i.zoom_delta() != 1.0));
            let clicked = response
                .clicked()
                .then(|| plot_ui.pointer_coordinate().map(|p| p.x))
                .flatten();
            (moved, clicked)
        });
        let (moved, clicked) = response.inner;
        if moved {
            user_moved = true;
        }
        if clicked.is_some() {
            clicked_x = clicked;
        }
        if response.response.double_clicked() {
            view.follow = true;
        }
    }
    if user_moved {
        view.follow = false;
    }
    clicked_x
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The x range to show when following, from the data.
fn follow_range(timeline: &Timeline, view: &PlotView, edge: Option<f64>) -> Option<(f64, f64)> {
    if !view.follow {
        return None;
    }
    let (first, last) = timeline.x_range()?;
    let span = (last - first).max(60.0);
    let edge = edge.unwrap_or(last);
    match view.window_secs {
        None => Some((first, first + span * 1.02)),
        Some(window) => Some((edge - window, edge + window * 0.02)),
    }
}

/// Value grid with about five labelled lines at 1, 2 or 5 × 10ⁿ, so even a short plot shows
/// its scale (the default powers of ten leave a 150-pixel plot of 0–10,000 mL with one label).
#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature egui_plot asks for"
)]
fn value_grid(input: GridInput) -> Vec<GridMark> {
    let (min, max) = input.bounds;
    let span = max - min;
    if !span.is_finite() || span <= 0.0 {
        return Vec::new();
    }
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw && *s >= input.base_step_size)
        .unwrap_or(10.0 * magnitude);
    let minor = step / 5.0;
    let mut marks = Vec::new();
    let mut value = (min / minor).floor() * minor;
    while value <= max {
        let major = ((value / step).round() * step - value).abs() < minor * 0.01;
        marks.push(GridMark {
            value: if major {
                (value / step).round() * step
            } else {
                value
            },
            step_size: if major { step } else { minor },
        });
        value += minor;
    }
    marks
}

/// Grid marks at round clock intervals: 1, 5, 10, 15, 30 min, 1, 2 h.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature egui_plot asks for"
)]
fn time_grid(input: GridInput) -> Vec<GridMark> {
    const STEPS: [f64; 9] = [
        10.0, 30.0, 60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    ];
    let (min, max) = input.bounds;
    let span = (max - min).max(1.0);
    let step = STEPS
        .into_iter()
        .find(|s| span / s <= 8.0 && *s >= input.base_step_size * 40.0)
        .unwrap_or(7200.0);
    let small = STEPS
        .into_iter()
        .rev()
        .find(|s| *s < step)
        .unwrap_or(step / 2.0);
    let mut marks = Vec::new();
    let mut value = (min / small).floor() * small;
    while value <= max {
        let major = (value / step).round() * step == value;
        marks.push(GridMark {
            value,
            step_size: if major { step } else { small },
        });
        value += small;
    }
    marks
}

fn axis_label(timeline: &Timeline, x: f64) -> String {
    let start = timeline.x_range().map_or(0.0, |r| r.0);
    match timeline.clock_at(x) {
        Some(t) => format!("{}\n+{}", clock_hm(t), duration_hm(x - start)),
        None => duration_hm(x - start),
    }
}

fn hover_text(timeline: &Timeline, series: &[Series], x: f64) -> String {
    let Some(index) = timeline.nearest_sample(x) else {
        return "no data".into();
    };
    let sx = timeline.xs()[index];
    let start = timeline.x_range().map_or(0.0, |r| r.0);
    let mut text = match timeline.clock_at(sx) {
        Some(t) => format!("{}  (+{})", clock_hms(t), duration_hms(sx - start)),
        None => format!("+{}", duration_hms(sx - start)),
    };
    if let Some(Some(state)) = timeline.sample_states().get(index) {
        let _ = write!(text, "  {state}");
    }
    for s in series {
        let value = timeline
            .value(*s, index)
            .map_or_else(|| "—".to_owned(), |v| format!("{v:.1} {}", s.unit()));
        let _ = write!(text, "\n{}: {value}", s.label());
    }
    // Notes and alarms within a minute of the pointer.
    for note in timeline.notes.iter().filter(|n| (n.x - x).abs() <= 60.0) {
        let _ = write!(
            text,
            "\nnote {}: {}",
            clock_hm_at(timeline, note.x),
            short(&note.text, 80)
        );
    }
    for alarm in timeline
        .alarms
        .iter()
        .filter(|a| (a.raised_x - x).abs() <= 60.0)
    {
        let _ = write!(
            text,
            "\n{} {} {}: {}",
            alarm.priority.marker(),
            clock_hm_at(timeline, alarm.raised_x),
            alarm.code,
            short(&alarm.text, 60)
        );
    }
    text
}

fn clock_hm_at(timeline: &Timeline, x: f64) -> String {
    timeline.clock_at(x).map(clock_hm).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plotted_series_keeps_a_pyramid() {
        for series in VOLUMES.iter().chain(FLOWS).chain(PRESSURES) {
            assert!(
                crate::analysis::timeline::PLOTTED.contains(series),
                "{series:?}"
            );
        }
    }
}
