//! The alarm review list: every alarm of the session, newest first — when it was raised, its
//! priority, its text, when it cleared (or that it lasts) and when and by whom it was
//! acknowledged. A high-priority alarm that cleared itself before anyone acknowledged it says
//! so prominently, in its priority colour (it is still shown in the banner until acknowledged).
//! The records come from the alarm engine ([`crate::alarms::AlarmEngine::review`]); the
//! integrator shows this in a side panel.

use egui::RichText;
use jiff::Timestamp;

use crate::alarms::AlarmRecord;
use crate::model::Priority;

use super::format::{age, clock_hms};
use super::theme::{self, on_priority_color, priority_color};

/// The text size of the list: read from the bedside, at least 16 px.
const TEXT_SIZE: f32 = 16.0;

/// What the list says of an alarm's end at `now`.
pub fn cleared_text(record: &AlarmRecord, now: Timestamp) -> String {
    match record.cleared {
        Some(at) => format!("cleared {}", clock_hms(at)),
        None if record.end_unknown => "end unknown (link lost)".to_owned(),
        None => format!(
            "active ({})",
            age(now.duration_since(record.raised).as_secs_f64().max(0.0))
        ),
    }
}

/// What the list says of an alarm's acknowledgement.
pub fn acknowledged_text(record: &AlarmRecord) -> String {
    match &record.acknowledged {
        Some(ack) => format!("acknowledged {} {}", clock_hms(ack.at), ack.by),
        None if record.cleared_not_acknowledged() => "cleared, not acknowledged".to_owned(),
        None => "not acknowledged".to_owned(),
    }
}

/// Draws the review of `records` (in the order raised, as the engine keeps them) as a list,
/// newest first, at `now`.
pub fn alarm_review_ui(ui: &mut egui::Ui, records: &[AlarmRecord], now: Timestamp) {
    ui.label(
        RichText::new("Alarm review")
            .font(theme::bold(20.0))
            .strong(),
    );
    if records.is_empty() {
        ui.label(RichText::new("No alarm this session").size(TEXT_SIZE));
        return;
    }
    let waiting = records
        .iter()
        .filter(|r| r.cleared_not_acknowledged())
        .count();
    if waiting > 0 {
        ui.label(
            RichText::new(format!(
                "{waiting} cleared, not acknowledged: acknowledge to clear them"
            ))
            .size(TEXT_SIZE)
            .strong(),
        );
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for (i, record) in records.iter().enumerate().rev() {
                if i + 1 < records.len() {
                    ui.separator();
                }
                record_ui(ui, record, now);
            }
        });
}

/// One alarm: time raised, the priority swatch and name, the text and its source, then its
/// end and acknowledgement.
fn record_ui(ui: &mut egui::Ui, record: &AlarmRecord, now: Timestamp) {
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(clock_hms(record.raised))
                .size(TEXT_SIZE)
                .monospace(),
        );
        swatch(ui, record.priority);
        ui.label(
            RichText::new(record.priority.name())
                .size(TEXT_SIZE)
                .strong(),
        );
        let strong = ui.visuals().strong_text_color();
        ui.add(egui::Label::new(RichText::new(&record.text).size(TEXT_SIZE).color(strong)).wrap())
            .on_hover_text(record.source.code());
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(cleared_text(record, now)).size(TEXT_SIZE));
        ui.label(RichText::new("·").size(TEXT_SIZE));
        let ack = acknowledged_text(record);
        if record.cleared_not_acknowledged() {
            // The alarm is still shown, latched, in the banner: say so in its colour.
            egui::Frame::new()
                .fill(priority_color(record.priority))
                .inner_margin(egui::Margin::symmetric(6, 2))
                .show(ui, |ui| {
                    ui.label(
                        RichText::new(ack)
                            .size(18.0)
                            .strong()
                            .color(on_priority_color(record.priority)),
                    );
                });
        } else {
            ui.label(RichText::new(ack).size(TEXT_SIZE));
        }
    });
}

/// A small square in the priority's colour, with the IEC marker, so colour is not the only cue
/// (information has no alarm colour: an outline).
fn swatch(ui: &mut egui::Ui, priority: Priority) {
    let size = egui::vec2(TEXT_SIZE, TEXT_SIZE);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Image,
            true,
            format!("{} priority colour", priority.name()),
        )
    });
    let painter = ui.painter();
    if priority == Priority::Info {
        let stroke = egui::Stroke::new(1.5, ui.visuals().text_color());
        painter.rect_stroke(rect, 2.0, stroke, egui::StrokeKind::Inside);
    } else {
        painter.rect_filled(rect, 2.0, priority_color(priority));
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            priority.marker(),
            egui::FontId::proportional(11.0),
            on_priority_color(priority),
        );
    }
}
