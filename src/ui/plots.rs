//! The three timeline plots (volumes, flows, pressures) on one shared time axis, with state
//! bands, alarm and note markers, follow-live, and hover read-outs of every series.

use std::fmt::Write as _;

use egui::{Color32, Id, RichText};
use egui_plot::{
    GridInput, GridMark, HLine, Line, LineStyle, MarkerShape, Plot, PlotPoint, PlotPoints, Points,
    Span, Text, VLine,
};

use crate::alarms::engine::AlarmSettings;
use crate::analysis::{Series, Timeline};
use crate::model::Quantity;

use super::format::{clock_hm, clock_hms, duration_hm, duration_hms};
use super::theme::{Accent, accent_color, priority_color, series_color, state_band_color};
use super::value_alarms::integer;

/// How much room the plots take: they are secondary to the values above them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlotMode {
    /// Volumes, flows and pressures.
    #[default]
    Full,
    /// The pressures alone, with their limits.
    Strip,
    /// No plots: the values take the screen.
    Hidden,
}

impl PlotMode {
    pub const ALL: [PlotMode; 3] = [PlotMode::Full, PlotMode::Strip, PlotMode::Hidden];

    pub fn label(self) -> &'static str {
        match self {
            PlotMode::Full => "full",
            PlotMode::Strip => "strip",
            PlotMode::Hidden => "hidden",
        }
    }
}

/// How the time axis moves, and how much of the plots is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotView {
    /// Keep the newest data in view as it arrives.
    pub follow: bool,
    /// Width of the window shown while following; `None` shows the whole run.
    pub window_secs: Option<f64>,
    pub mode: PlotMode,
}

impl Default for PlotView {
    fn default() -> Self {
        PlotView {
            follow: true,
            window_secs: None,
            mode: PlotMode::default(),
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

/// The pressure alarm limits, drawn as dashed neutral lines (they are limits, not alarms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PressureLimits {
    pub access_low_mmhg: f64,
    pub return_high_mmhg: f64,
}

impl PressureLimits {
    /// The limits the monitor's rules compare with (the engine's, or a recording's).
    pub fn from_settings(settings: &AlarmSettings) -> PressureLimits {
        PressureLimits {
            access_low_mmhg: settings.access_low.limit,
            return_high_mmhg: settings.return_high.limit,
        }
    }

    /// The lines the pressure plot draws: value and label.
    pub fn lines(self) -> Vec<(f64, String)> {
        vec![
            (
                self.access_low_mmhg,
                format!("access limit {}", integer(self.access_low_mmhg)),
            ),
            (
                self.return_high_mmhg,
                format!("return limit {}", integer(self.return_high_mmhg)),
            ),
        ]
    }
}

impl Default for PressureLimits {
    fn default() -> Self {
        PressureLimits::from_settings(&AlarmSettings::default())
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
    toolbar_ui(ui, view);
    let pressures = PlotSpec {
        id: "plot-pressures",
        title: "Pressures (mmHg)",
        series: PRESSURES,
        limits: limits.lines(),
    };
    let specs = match view.mode {
        PlotMode::Hidden => return None,
        PlotMode::Strip => vec![pressures],
        PlotMode::Full => vec![
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
            pressures,
        ],
    };
    let x_range = follow_range(timeline, view, playhead);
    let legend_height = ui.text_style_height(&egui::TextStyle::Small) + ui.spacing().item_spacing.y;
    let count = specs.len() as f32;
    let available = ui.available_height() - legend_height * count;
    let axis_height = 34.0;
    let each = ((available - axis_height) / count).max(60.0);
    // Limit lines, state labels and notes in the text colours: none of them is an alarm.
    let neutral = ui.visuals().text_color();
    let ui_strong = ui.visuals().strong_text_color();
    let weak = ui.visuals().weak_text_color();
    let group = Id::unique("timeline-axis");
    let mut user_moved = false;
    let mut clicked_x = None;
    for (i, spec) in specs.iter().enumerate() {
        let last = i + 1 == specs.len();
        let height = if last { each + axis_height } else { each };
        legend_ui(ui, spec, dark);
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
            let px_per_s = f64::from(plot_ui.response().rect.width()) / (to - from).max(1e-9);
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
                let (a, b) = (span.start_x.max(from), end.min(to));
                let label = span.state.as_str();
                // A label wider than its band is left out: two close pauses never print
                // "PAUSEPAUSE".
                if i == 0 && label_fits((b - a) * px_per_s, label_width(plot_ui.ctx(), label)) {
                    plot_ui.text(
                        Text::new(
                            "",
                            PlotPoint::new(f64::midpoint(a, b), top),
                            RichText::new(label).small(),
                        )
                        .anchor(egui::Align2::CENTER_TOP)
                        .color(weak),
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
                        .color(neutral.gamma_multiply(0.8))
                        .style(LineStyle::dashed_loose())
                        .width(1.5),
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
                let color = ui_strong;
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
                        .color(accent_color(Accent::Playhead, dark))
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

/// The row above the plot: its title, and each series and limit line with its colour. Outside
/// the plot, so it never covers the data or the state labels.
fn legend_ui(ui: &mut egui::Ui, spec: &PlotSpec, dark: bool) {
    let weak = ui.visuals().weak_text_color();
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        ui.label(RichText::new(spec.title).small().strong());
        let swatch = |ui: &mut egui::Ui, color: Color32, dashed: bool| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(16.0, 8.0), egui::Sense::hover());
            let y = rect.center().y;
            let pieces: &[(f32, f32)] = if dashed {
                &[(0.0, 4.0), (6.0, 10.0), (12.0, 16.0)]
            } else {
                &[(0.0, 16.0)]
            };
            for (a, b) in pieces {
                ui.painter().line_segment(
                    [
                        egui::pos2(rect.left() + a, y),
                        egui::pos2(rect.left() + b, y),
                    ],
                    egui::Stroke::new(2.5, color),
                );
            }
        };
        for series in spec.series {
            swatch(ui, series_color(*series, dark), false);
            ui.label(RichText::new(series.label()).small().color(weak));
        }
        for (_, label) in &spec.limits {
            swatch(ui, ui.visuals().text_color(), true);
            ui.label(RichText::new(label).small().color(weak));
        }
    });
}

/// The width of a state label on the plots, in points.
fn label_width(ctx: &egui::Context, text: &str) -> f64 {
    let font = egui::TextStyle::Small.resolve(&ctx.global_style());
    f64::from(
        ctx.fonts_mut(|f| f.layout_no_wrap(text.to_owned(), font, Color32::PLACEHOLDER))
            .size()
            .x,
    )
}

/// Whether a label `label_px` wide fits in a band `band_px` wide, with a little room each side.
fn label_fits(band_px: f64, label_px: f64) -> bool {
    band_px >= label_px + 6.0
}

/// The plots' toolbar: how much of them to show, and the time window.
fn toolbar_ui(ui: &mut egui::Ui, view: &mut PlotView) {
    ui.horizontal(|ui| {
        ui.label("Plots:");
        for mode in PlotMode::ALL {
            ui.selectable_value(&mut view.mode, mode, mode.label());
        }
        if view.mode == PlotMode::Hidden {
            return;
        }
        ui.separator();
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
            short(&crate::analysis::records::Record::readable(&note.text), 80)
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
    fn the_pressure_limit_lines_follow_the_sessions_limits() {
        let mut settings = AlarmSettings::default();
        let lines = |s: &AlarmSettings| PressureLimits::from_settings(s).lines();
        assert_eq!(
            lines(&settings),
            vec![
                (-200.0, "access limit -200".to_owned()),
                (300.0, "return limit 300".to_owned()),
            ]
        );
        settings.access_low.limit = -150.0;
        settings.return_high.limit = 280.0;
        assert_eq!(
            lines(&settings),
            vec![
                (-150.0, "access limit -150".to_owned()),
                (280.0, "return limit 280".to_owned()),
            ]
        );
        // No fixed lines: the defaults are the engine's default limits.
        assert_eq!(
            PressureLimits::default(),
            PressureLimits::from_settings(&AlarmSettings::default())
        );
    }

    #[test]
    fn a_state_label_is_drawn_only_where_its_band_holds_it() {
        assert!(label_fits(60.0, 40.0));
        assert!(!label_fits(40.0, 40.0));
        assert!(!label_fits(10.0, 40.0));
    }

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
