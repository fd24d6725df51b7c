//! The alarm limits window: each monitor rule on or off, its limit, delay and latching.

use egui::RichText;

use crate::alarms::{AlarmSettings, RuleSettings, STALE_AFTER_S};

/// Draws the settings; changes apply at once and persist with the app's settings.
pub fn alarm_settings_ui(ui: &mut egui::Ui, settings: &mut AlarmSettings) {
    ui.label(
        RichText::new("The monitor's own alarms. The machine's alarms are always shown.").weak(),
    );
    egui::Grid::new("alarm-settings")
        .num_columns(5)
        .spacing([14.0, 8.0])
        .show(ui, |ui| {
            for title in ["Rule", "On", "Limit", "Delay (s)", "Latching"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            rule_row(
                ui,
                "Access pressure below",
                Some(("mmHg", -500.0..=0.0)),
                &mut settings.access_low,
            );
            rule_row(
                ui,
                "Return pressure above",
                Some(("mmHg", 0.0..=600.0)),
                &mut settings.return_high,
            );
            rule_row(
                ui,
                "Citrate rate above",
                Some(("mg/kg/min", 0.5..=3.0)),
                &mut settings.citrate_high,
            );
            rule_row(
                ui,
                "Inlet stopped while running",
                None,
                &mut settings.inlet_stopped,
            );
            // The stale limit is one constant for the alarm, the tiles and the header.
            rule_row(
                ui,
                &format!("No data for {STALE_AFTER_S:.0} s"),
                None,
                &mut settings.no_data,
            );
            rule_row(ui, "Link lost", None, &mut settings.link_lost);
            rule_row(
                ui,
                "Target reached (information)",
                None,
                &mut settings.target_reached,
            );
        });
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let label = ui.label("Acknowledge silences for");
        ui.add(
            egui::DragValue::new(&mut settings.audio_pause_s)
                .range(30.0..=300.0)
                .suffix(" s"),
        )
        .labelled_by(label.id);
    });
    if ui.button("Restore defaults").clicked() {
        *settings = AlarmSettings::default();
    }
}

fn rule_row(
    ui: &mut egui::Ui,
    name: &str,
    limit: Option<(&str, std::ops::RangeInclusive<f64>)>,
    rule: &mut RuleSettings,
) {
    let label = ui.label(name);
    ui.checkbox(&mut rule.enabled, "").labelled_by(label.id);
    match limit {
        Some((unit, range)) => {
            ui.add(
                egui::DragValue::new(&mut rule.limit)
                    .range(range)
                    .speed(0.05)
                    .suffix(format!(" {unit}")),
            )
            .labelled_by(label.id);
        }
        None => {
            ui.label("");
        }
    }
    ui.add(
        egui::DragValue::new(&mut rule.delay_s)
            .range(0.0..=600.0)
            .suffix(" s"),
    )
    .labelled_by(label.id);
    ui.checkbox(&mut rule.latching, "").labelled_by(label.id);
    ui.end_row();
}

/// The "Alarm limits" window.
#[derive(Default)]
pub struct AlarmLimitsWindow {
    pub open: bool,
}

impl AlarmLimitsWindow {
    /// Draws the window if it is open; changes go straight into `settings`.
    pub fn show(&mut self, ctx: &egui::Context, settings: &mut AlarmSettings) {
        if !self.open {
            return;
        }
        let mut open = true;
        egui::Window::new("Alarm limits")
            .open(&mut open)
            .collapsible(false)
            .default_width(560.0)
            .show(ctx, |ui| alarm_settings_ui(ui, settings));
        self.open = open;
    }
}
