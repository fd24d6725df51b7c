//! The alarm limits window: each monitor rule on or off, its limit, delay and latching. With a
//! live session it shows and changes that patient's session's limits (saved in its metadata);
//! without one, the defaults new sessions start from (the app's settings).

use egui::RichText;

use crate::alarms::citrate::{
    self, CitrateSettings, LIMIT_RANGE, MAX_AVERAGE_MIN, MIN_AVERAGE_MIN,
};
use crate::alarms::{AlarmSettings, RuleSettings, STALE_AFTER_S};
use crate::analysis::Patient;
use crate::analysis::citrate::{ANTICOAGULANTS, Anticoagulant, CUSTOM_CITRATE_MG_PER_ML_RANGE};

/// Whose limits the window shows.
#[derive(Clone, Copy)]
enum Whose<'a> {
    /// The defaults for new sessions.
    Defaults,
    /// A session's, for its patient.
    Session(&'a Patient),
}

/// Draws the settings; every change is made in `settings` at once.
fn alarm_settings_ui(ui: &mut egui::Ui, settings: &mut AlarmSettings, whose: Whose<'_>) {
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
                |_, _| {},
            );
            rule_row(
                ui,
                "Return pressure above",
                Some(("mmHg", 0.0..=600.0)),
                &mut settings.return_high,
                |_, _| {},
            );
            rule_row(
                ui,
                "Citrate (ACD-A per L TBV) above",
                Some(("mL/min/L", LIMIT_RANGE.0..=LIMIT_RANGE.1)),
                &mut settings.citrate_high,
                |ui, limit| mg_kg_min_beside(ui, limit, whose),
            );
            rule_row(
                ui,
                "Inlet stopped while running",
                None,
                &mut settings.inlet_stopped,
                |_, _| {},
            );
            // The stale limit is one constant for the alarm, the tiles and the header.
            rule_row(
                ui,
                &format!("No data for {STALE_AFTER_S:.0} s"),
                None,
                &mut settings.no_data,
                |_, _| {},
            );
            rule_row(ui, "Link lost", None, &mut settings.link_lost, |_, _| {});
            rule_row(
                ui,
                "Target reached (information)",
                None,
                &mut settings.target_reached,
                |_, _| {},
            );
        });
    ui.add_space(6.0);
    citrate_ui(ui, &mut settings.citrate, settings.citrate_high.limit);
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

/// The citrate limit as mg/kg/min for the session's patient, beside the limit.
fn mg_kg_min_beside(ui: &mut egui::Ui, limit: f64, whose: Whose<'_>) {
    match whose {
        Whose::Session(patient) => match citrate::limit_mg_kg_min(limit, patient) {
            Some(mg) => {
                ui.label(format!("= {mg:.2} mg/kg/min")).on_hover_text(
                    "For this patient: the limit × 21.3 mg/mL (ACD-A) × TBV ÷ weight.",
                );
            }
            None => {
                ui.label(RichText::new("mg/kg/min: needs weight and TBV").weak())
                    .on_hover_text(
                        "The citrate alarm needs the patient's TBV (Setup); mg/kg/min needs \
                         the weight too.",
                    );
            }
        },
        Whose::Defaults => {
            ui.label(RichText::new("mg/kg/min: per patient").weak())
                .on_hover_text(
                    "In mg/kg/min the limit is limit × 21.3 mg/mL × TBV ÷ weight: shown for \
                     the patient of a live session.",
                );
        }
    }
}

/// The citrate rule's averaging window and anticoagulant.
fn citrate_ui(ui: &mut egui::Ui, citrate: &mut CitrateSettings, limit: f64) {
    ui.horizontal(|ui| {
        let label = ui.label("Citrate: mean AC flow over the last");
        ui.add(
            egui::DragValue::new(&mut citrate.average_min)
                .range(MIN_AVERAGE_MIN..=MAX_AVERAGE_MIN)
                .speed(0.1)
                .suffix(" min"),
        )
        .labelled_by(label.id);
        ui.label(
            RichText::new(format!(
                "raised above {limit:.2}, cleared below {:.2} (10 % under)",
                citrate::clears_below(limit)
            ))
            .weak(),
        );
    });
    ui.horizontal(|ui| {
        let label = ui.label("Anticoagulant");
        egui::ComboBox::from_id_salt("anticoagulant")
            .selected_text(citrate.anticoagulant.name())
            .show_ui(ui, |ui| {
                for choice in ANTICOAGULANTS {
                    ui.selectable_value(&mut citrate.anticoagulant, choice, choice.name());
                }
                let custom = match citrate.anticoagulant {
                    custom @ Anticoagulant::Custom { .. } => custom,
                    _ => Anticoagulant::Custom {
                        citrate_mg_per_ml: 15.0,
                    },
                };
                ui.selectable_value(&mut citrate.anticoagulant, custom, custom.name());
            })
            .response
            .labelled_by(label.id);
        match &mut citrate.anticoagulant {
            Anticoagulant::Custom { citrate_mg_per_ml } => {
                let label = ui.label("citrate");
                let (low, high) = CUSTOM_CITRATE_MG_PER_ML_RANGE;
                ui.add(
                    egui::DragValue::new(citrate_mg_per_ml)
                        .range(low..=high)
                        .speed(0.1)
                        .suffix(" mg/mL"),
                )
                .labelled_by(label.id);
            }
            named => {
                if let Some(mg) = named.citrate_mg_per_ml() {
                    ui.label(RichText::new(format!("{mg} mg/mL citrate")).weak());
                }
            }
        }
    });
}

fn rule_row(
    ui: &mut egui::Ui,
    name: &str,
    limit: Option<(&str, std::ops::RangeInclusive<f64>)>,
    rule: &mut RuleSettings,
    beside: impl FnOnce(&mut egui::Ui, f64),
) {
    let label = ui.label(name);
    ui.checkbox(&mut rule.enabled, "").labelled_by(label.id);
    match limit {
        Some((unit, range)) => {
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut rule.limit)
                        .range(range)
                        .speed(0.05)
                        .suffix(format!(" {unit}")),
                )
                .labelled_by(label.id);
                beside(ui, rule.limit);
            });
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
    /// A session's limits being dragged: handed over when the pointer lets go, so the session's
    /// metadata is not rewritten every frame of a drag.
    draft: Option<AlarmSettings>,
}

impl AlarmLimitsWindow {
    /// Draws the window if it is open. With a live `session` (its settings and patient) it
    /// shows that session's limits and returns them when they were changed; otherwise changes
    /// go straight into `defaults`, the settings new sessions start from.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        defaults: &mut AlarmSettings,
        session: Option<(AlarmSettings, &Patient)>,
    ) -> Option<AlarmSettings> {
        if !self.open {
            self.draft = None;
            return None;
        }
        let mut open = true;
        let mut changed = None;
        egui::Window::new("Alarm limits")
            .open(&mut open)
            .collapsible(false)
            .default_width(620.0)
            .show(ctx, |ui| {
                if let Some((current, patient)) = session {
                    ui.label(
                        RichText::new("Limits of this session, saved with its recording").strong(),
                    );
                    let mut edited = self.draft.unwrap_or(current);
                    alarm_settings_ui(ui, &mut edited, Whose::Session(patient));
                    if ui
                        .button("Make these the defaults for new sessions")
                        .clicked()
                    {
                        *defaults = edited;
                    }
                    self.draft = None;
                    if edited != current {
                        if ui.ctx().egui_is_using_pointer() {
                            self.draft = Some(edited);
                        } else {
                            changed = Some(edited);
                        }
                    }
                } else {
                    self.draft = None;
                    ui.label(RichText::new("Defaults for new sessions").strong());
                    alarm_settings_ui(ui, defaults, Whose::Defaults);
                }
            });
        self.open = open;
        changed
    }
}
