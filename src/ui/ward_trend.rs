//! The side panel of the ward: one bed's recent trend (whole blood processed, and the access
//! and return pressures, over the trend window the bedside publishes) and its recent alarm
//! events, in the monitor's plot style (series colours from the palette, legend above).

use egui::RichText;
use egui_plot::{Line, Plot, PlotPoints};

use crate::analysis::Series;
use crate::model::Quantity;
use crate::present::text::{clock_hm, offset_hm};
use crate::ward::board::{Board, priority_of};
use crate::ward::message::TrendPoint;
use crate::ward::topic::Bed;

use super::theme::{self, priority_color, quantity_color, series_color};

/// The panel's width.
pub const TREND_PANEL_WIDTH: f32 = 460.0;

/// Draws `bed`'s trend panel; returns whether it was closed.
pub fn trend_ui(ui: &mut egui::Ui, board: &Board, bed: &Bed) -> bool {
    let dark = ui.visuals().dark_mode;
    let weak = ui.visuals().weak_text_color();
    let mut closed = false;
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!("{bed} — trend"))
                .font(theme::bold(24.0))
                .strong(),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            closed = ui.button("Close trend").clicked();
        });
    });
    let points = board.trend(bed);
    if points.is_empty() {
        ui.label(RichText::new("No trend from this bed yet.").color(weak));
    } else {
        let span = points.last().map_or(0.0, |p| p.t_s) - points[0].t_s;
        ui.label(
            RichText::new(format!(
                "the last {} of the session, one point a minute",
                crate::present::text::duration(span)
            ))
            .small()
            .color(weak),
        );
        let height = ((ui.available_height() - 200.0) / 2.0).clamp(120.0, 260.0);
        let wb = series_color(Series::WbProcessedMl, dark);
        legend(ui, "Whole blood processed (mL)", &[(wb, "WB processed")]);
        plot(
            ui,
            "ward-trend-wb",
            height,
            &[(wb, points_of(points, |p| p.wb_processed_ml))],
        );
        let access = quantity_color(Quantity::AccessMmhg, dark);
        let ret = quantity_color(Quantity::ReturnMmhg, dark);
        legend(
            ui,
            "Pressures (mmHg)",
            &[(access, "access"), (ret, "return")],
        );
        plot(
            ui,
            "ward-trend-pressures",
            height,
            &[
                (access, points_of(points, |p| p.access_mmhg)),
                (ret, points_of(points, |p| p.return_mmhg)),
            ],
        );
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Recent alarm events").strong());
    let events: Vec<_> = board.alarm_log(bed).collect();
    if events.is_empty() {
        ui.label(RichText::new("none received").color(weak));
    }
    egui::ScrollArea::vertical()
        .id_salt("ward-trend-alarms")
        .show(ui, |ui| {
            for event in events.iter().rev() {
                let priority = priority_of(&event.priority);
                let at = event
                    .at_utc
                    .parse::<jiff::Timestamp>()
                    .map_or_else(|_| "--:--".to_owned(), clock_hm);
                ui.horizontal(|ui| {
                    // The priority marker in its alarm colour: this is an alarm indication.
                    ui.label(
                        RichText::new(priority.marker())
                            .strong()
                            .color(priority_color(priority)),
                    );
                    ui.label(format!("{at} {} {}", event.event, event.text));
                });
            }
        });
    closed
}

/// `(t_s, value)` of the points that have a value.
fn points_of(points: &[TrendPoint], value: impl Fn(&TrendPoint) -> Option<f64>) -> Vec<[f64; 2]> {
    points
        .iter()
        .filter_map(|p| value(p).map(|v| [p.t_s, v]))
        .collect()
}

fn legend(ui: &mut egui::Ui, title: &str, series: &[(egui::Color32, &str)]) {
    let weak = ui.visuals().weak_text_color();
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        ui.label(RichText::new(title).small().strong());
        for (color, name) in series {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(16.0, 8.0), egui::Sense::hover());
            ui.painter().line_segment(
                [rect.left_center(), rect.right_center()],
                egui::Stroke::new(2.5, *color),
            );
            ui.label(RichText::new(*name).small().color(weak));
        }
    });
}

fn plot(ui: &mut egui::Ui, id: &str, height: f32, lines: &[(egui::Color32, Vec<[f64; 2]>)]) {
    Plot::new(id)
        .height(height)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .y_axis_min_width(48.0)
        .x_axis_formatter(|mark, _range| offset_hm(mark.value))
        .label_formatter(|hover| {
            let p = match hover {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => position,
            };
            Some(format!("{}  {:.0}", offset_hm(p.x), p.y))
        })
        .show(ui, |plot_ui| {
            for (color, points) in lines {
                plot_ui.line(
                    Line::new("", PlotPoints::new(points.clone()))
                        .color(*color)
                        .width(2.0)
                        .allow_band(false),
                );
            }
        });
}
