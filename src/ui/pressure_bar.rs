//! Access and return pressure as bars in the manner of a Spectra Optia: a scale with zero, the
//! alarm limit the monitor's rule compares with (from the session's limits), and the current
//! value; a value in alarm in its priority colour, flashing, with its limit beside it.

use egui::{Align2, Color32, FontId, Pos2, Rect, RichText, Stroke, vec2};

use crate::model::{Priority, Quantity};

use super::monitor::{MonitorModel, STALE_DIM, alarm_fill};
use super::primary::{TypeSizes, badge_ui};
use super::theme::{self, on_priority_color, quantity_color};
use super::value_alarms::integer;

/// One pressure bar.
#[derive(Debug, Clone, PartialEq)]
pub struct PressureBar {
    pub label: &'static str,
    pub value: Option<f64>,
    /// The alarm limit, mmHg.
    pub limit: f64,
    /// The alarm is for values below the limit (access), else above it (return).
    pub below: bool,
    pub alarm: Option<Priority>,
}

impl PressureBar {
    /// The range the scale shows: zero, the limit with room beyond it, and the value.
    pub fn scale(&self) -> (f64, f64) {
        let beyond = (self.limit.abs() * 0.4).max(60.0);
        let (mut lo, mut hi) = if self.below {
            (
                (self.limit - beyond).min(-100.0),
                100.0_f64.max(self.limit + 50.0),
            )
        } else {
            (
                (-100.0_f64).min(self.limit - 50.0),
                (self.limit + beyond).max(100.0),
            )
        };
        if let Some(v) = self.value.filter(|v| v.is_finite()) {
            lo = lo.min(v - 20.0);
            hi = hi.max(v + 20.0);
        }
        (lo, hi)
    }
}

/// The access and return bars for the monitor's model, in a tile `width` wide.
pub fn pressures_ui(ui: &mut egui::Ui, width: f32, model: &MonitorModel<'_>, sizes: TypeSizes) {
    let latest = |q: Quantity| {
        model
            .timeline
            .latest_value(crate::analysis::Series::Measured(q))
    };
    let bars = [
        (
            PressureBar {
                label: "Access",
                value: latest(Quantity::AccessMmhg),
                limit: model.limits.access_low.limit,
                below: true,
                alarm: model.in_alarm.access,
            },
            Quantity::AccessMmhg,
        ),
        (
            PressureBar {
                label: "Return",
                value: latest(Quantity::ReturnMmhg),
                limit: model.limits.return_high.limit,
                below: false,
                alarm: model.in_alarm.ret,
            },
            Quantity::ReturnMmhg,
        ),
    ];
    let not_current = model.not_current();
    let dark = ui.visuals().dark_mode;
    let weak = ui.visuals().weak_text_color();
    egui::Frame::new()
        .stroke(Stroke::new(
            1.0,
            ui.visuals().widgets.noninteractive.bg_stroke.color,
        ))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(10, 4))
        .show(ui, |ui| {
            ui.set_width(width - 22.0);
            ui.spacing_mut().item_spacing.y = 2.0;
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new("Line pressures  mmHg")
                            .size(sizes.small())
                            .color(weak),
                    );
                    if let Some(why) = &not_current {
                        badge_ui(ui, why, sizes.small());
                    }
                });
                for (bar, quantity) in &bars {
                    bar_row_ui(
                        ui,
                        bar,
                        quantity_color(*quantity, dark),
                        not_current.is_some(),
                        sizes,
                    );
                }
            });
        });
}

fn bar_row_ui(ui: &mut egui::Ui, bar: &PressureBar, color: Color32, dim: bool, sizes: TypeSizes) {
    let dimmed = |c: Color32| if dim { c.gamma_multiply(STALE_DIM) } else { c };
    let strong = ui.visuals().strong_text_color();
    let value_size = (sizes.secondary * 0.8).max(26.0);
    let row_height = value_size * 1.2;
    let (fill, text) = match bar.alarm {
        Some(p) => (alarm_fill(ui, p), on_priority_color(p)),
        None => (Color32::TRANSPARENT, strong),
    };
    ui.horizontal(|ui| {
        ui.set_height(row_height);
        egui::Frame::new()
            .fill(fill)
            .corner_radius(4.0)
            .inner_margin(egui::Margin::symmetric(4, 0))
            .show(ui, |ui| {
                ui.spacing_mut().item_spacing.x = 4.0;
                let label_color = if bar.alarm.is_some() { text } else { color };
                ui.add_sized(
                    vec2(sizes.small_title() * 3.5, row_height),
                    egui::Label::new(
                        RichText::new(bar.label)
                            .size(sizes.small_title())
                            .color(dimmed(label_color)),
                    ),
                );
                let value = bar.value.map_or_else(|| "—".to_owned(), integer);
                ui.add_sized(
                    vec2(value_size * 2.4, row_height),
                    egui::Label::new(
                        RichText::new(value)
                            .font(theme::bold(value_size))
                            .color(dimmed(text)),
                    ),
                );
                if bar.alarm.is_some() {
                    ui.label(
                        RichText::new(format!("limit {}", integer(bar.limit)))
                            .size(sizes.small_title())
                            .strong()
                            .color(text),
                    );
                }
            });
        let (rect, _) = ui.allocate_exact_size(
            vec2(ui.available_width().max(60.0), row_height),
            egui::Sense::hover(),
        );
        paint_bar(ui, rect, bar, color, dim);
    });
}

/// The scale, the zone beyond the limit, zero, the limit mark with its number, and the value.
fn paint_bar(ui: &egui::Ui, rect: Rect, bar: &PressureBar, color: Color32, dim: bool) {
    let visuals = ui.visuals();
    let painter = ui.painter_at(rect);
    let (lo, hi) = bar.scale();
    let track = Rect::from_min_max(
        Pos2::new(rect.left() + 4.0, rect.top() + 3.0),
        Pos2::new(rect.right() - 4.0, rect.top() + rect.height() * 0.55),
    );
    let x_of =
        |v: f64| track.left() + ((v - lo) / (hi - lo)).clamp(0.0, 1.0) as f32 * track.width();
    let weak = visuals.weak_text_color();
    let strong = visuals.strong_text_color();
    painter.rect_filled(track, 3.0, visuals.extreme_bg_color);
    // Beyond the limit: a neutral shade, not an alarm colour.
    let beyond = if bar.below {
        Rect::from_min_max(track.min, Pos2::new(x_of(bar.limit), track.bottom()))
    } else {
        Rect::from_min_max(Pos2::new(x_of(bar.limit), track.top()), track.max)
    };
    painter.rect_filled(beyond, 3.0, weak.gamma_multiply(0.3));
    painter.rect_stroke(
        track,
        3.0,
        Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color),
        egui::StrokeKind::Inside,
    );
    let zero = x_of(0.0);
    if let Some(v) = bar.value.filter(|v| v.is_finite()) {
        let x = x_of(v);
        let fill = match bar.alarm {
            Some(p) => alarm_fill(ui, p),
            None if dim => color.gamma_multiply(STALE_DIM),
            None => color,
        };
        let body = Rect::from_x_y_ranges(zero.min(x)..=zero.max(x), track.y_range())
            .shrink2(vec2(0.0, 3.0));
        painter.rect_filled(body, 2.0, fill);
        painter.line_segment(
            [
                Pos2::new(x, track.top() - 2.0),
                Pos2::new(x, track.bottom() + 2.0),
            ],
            Stroke::new(
                3.0,
                if dim {
                    strong.gamma_multiply(STALE_DIM)
                } else {
                    strong
                },
            ),
        );
    }
    painter.line_segment(
        [
            Pos2::new(zero, track.top()),
            Pos2::new(zero, track.bottom()),
        ],
        Stroke::new(1.0, weak),
    );
    let font = FontId::proportional(15.0);
    painter.text(
        Pos2::new(zero, track.bottom() + 1.0),
        Align2::CENTER_TOP,
        "0",
        font.clone(),
        weak,
    );
    let limit_x = x_of(bar.limit);
    painter.line_segment(
        [
            Pos2::new(limit_x, rect.top()),
            Pos2::new(limit_x, track.bottom() + 2.0),
        ],
        Stroke::new(2.5, strong),
    );
    painter.text(
        Pos2::new(limit_x, track.bottom() + 1.0),
        Align2::CENTER_TOP,
        integer(bar.limit),
        font,
        strong,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(limit: f64, below: bool, value: Option<f64>) -> PressureBar {
        PressureBar {
            label: "",
            value,
            limit,
            below,
            alarm: None,
        }
    }

    #[test]
    fn the_scale_holds_zero_the_limit_with_room_beyond_it_and_the_value() {
        for b in [
            bar(-200.0, true, Some(-45.0)),
            bar(-150.0, true, Some(-320.0)),
            bar(300.0, false, Some(118.0)),
            bar(250.0, false, Some(480.0)),
            bar(-200.0, true, None),
        ] {
            let (lo, hi) = b.scale();
            assert!(lo < 0.0 && hi > 0.0, "{b:?}");
            if b.below {
                assert!(lo < b.limit - 50.0, "{b:?}: no room below the limit");
            } else {
                assert!(hi > b.limit + 50.0, "{b:?}: no room above the limit");
            }
            if let Some(v) = b.value {
                assert!(lo < v && v < hi, "{b:?}");
            }
        }
    }
}
