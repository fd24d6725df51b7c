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

/// A rule's limit: its unit, range and the decimals it is shown with.
struct Limit {
    unit: &'static str,
    range: std::ops::RangeInclusive<f64>,
    decimals: usize,
}

/// Draws the settings; every change is made in `settings` at once.
fn alarm_settings_ui(ui: &mut egui::Ui, settings: &mut AlarmSettings, whose: Whose<'_>) {
    // The technical alarms tell the nurse the monitor cannot watch: they cannot be switched off.
    settings.no_data.enabled = true;
    settings.link_lost.enabled = true;
    ui.label(
        RichText::new("The monitor's own alarms. The machine's alarms are always shown.").weak(),
    );
    let mmhg = |range| {
        Some(Limit {
            unit: "mmHg",
            range,
            decimals: 0,
        })
    };
    rule_row(
        ui,
        "Access pressure below",
        mmhg(-500.0..=0.0),
        &mut settings.access_low,
        |_, _| {},
    );
    rule_row(
        ui,
        "Return pressure above",
        mmhg(0.0..=600.0),
        &mut settings.return_high,
        |_, _| {},
    );
    rule_row(
        ui,
        "Citrate (ACD-A per L TBV) above",
        Some(Limit {
            unit: "mL/min/L",
            range: LIMIT_RANGE.0..=LIMIT_RANGE.1,
            decimals: 2,
        }),
        &mut settings.citrate_high,
        |ui, limit| mg_kg_min_beside(ui, limit, whose),
    );
    citrate_ui(ui, &mut settings.citrate, settings.citrate_high.limit);
    ui.separator();
    rule_row(
        ui,
        "Inlet stopped while running",
        None,
        &mut settings.inlet_stopped,
        |_, _| {},
    );
    rule_row(
        ui,
        "Target reached (information)",
        None,
        &mut settings.target_reached,
        |_, _| {},
    );
    ui.separator();
    ui.label(RichText::new("Technical alarms (always on)").strong());
    // The stale limit is one constant for the alarm, the tiles and the header.
    always_on_row(ui, &format!("No data for {STALE_AFTER_S:.0} s"), None);
    always_on_row(ui, "Link lost", Some(&mut settings.link_lost));
    always_on_row(ui, "Recording failed", None);
    ui.separator();
    ui.horizontal(|ui| {
        let label = ui.label("Acknowledge silences for");
        ui.add(
            egui::DragValue::new(&mut settings.audio_pause_s)
                .range(30.0..=300.0)
                .fixed_decimals(0)
                .suffix(" s"),
        )
        .labelled_by(label.id);
    });
    if ui.button("Restore defaults").clicked() {
        *settings = AlarmSettings::default();
    }
}

/// A number as the nurse reads it: `decimals` places and a real minus sign.
fn shown(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}").replace('-', "−")
}

/// A number typed with either minus sign.
fn typed(text: &str) -> Option<f64> {
    text.trim().replace('−', "-").parse().ok()
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
    ui.horizontal_wrapped(|ui| {
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
    ui.horizontal_wrapped(|ui| {
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

/// One rule: its name, then on/off, its limit, delay and latching.
fn rule_row(
    ui: &mut egui::Ui,
    name: &str,
    limit: Option<Limit>,
    rule: &mut RuleSettings,
    beside: impl FnOnce(&mut egui::Ui, f64),
) {
    let label = ui.label(RichText::new(name).strong());
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut rule.enabled, "on").labelled_by(label.id);
        if let Some(Limit {
            unit,
            range,
            decimals,
        }) = limit
        {
            let step = 10f64.powi(-(decimals as i32));
            ui.add(
                egui::DragValue::new(&mut rule.limit)
                    .range(range)
                    .speed(step)
                    .custom_formatter(move |v, _| shown(v, decimals))
                    .custom_parser(typed)
                    .suffix(format!(" {unit}")),
            )
            .labelled_by(label.id);
            beside(ui, rule.limit);
        }
        delay_and_latching(ui, label.id, rule);
    });
    ui.add_space(4.0);
}

fn delay_and_latching(ui: &mut egui::Ui, label: egui::Id, rule: &mut RuleSettings) {
    ui.label("delay");
    ui.add(
        egui::DragValue::new(&mut rule.delay_s)
            .range(0.0..=600.0)
            .fixed_decimals(0)
            .suffix(" s"),
    )
    .labelled_by(label);
    ui.checkbox(&mut rule.latching, "latching")
        .labelled_by(label);
}

/// A technical alarm: always on (no checkbox); a `rule` given keeps its delay and latching.
fn always_on_row(ui: &mut egui::Ui, name: &str, rule: Option<&mut RuleSettings>) {
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(name);
        ui.label(RichText::new("always on").weak());
        if let Some(rule) = rule {
            delay_and_latching(ui, label.id, rule);
        }
    });
}

/// The "Alarm limits" form.
#[derive(Default)]
pub struct AlarmLimitsWindow {
    /// A session's limits being dragged: handed over when the pointer lets go, so the session's
    /// metadata is not rewritten every frame of a drag.
    draft: Option<AlarmSettings>,
}

impl AlarmLimitsWindow {
    /// Forgets a drag in progress (the form is not shown).
    pub fn forget_draft(&mut self) {
        self.draft = None;
    }

    /// Draws the form. With a live `session` (its settings and patient) it shows that
    /// session's limits and returns them when they were changed; otherwise changes go straight
    /// into `defaults`, the settings new sessions start from.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        defaults: &mut AlarmSettings,
        session: Option<(AlarmSettings, &Patient)>,
    ) -> Option<AlarmSettings> {
        let mut changed = None;
        if let Some((current, patient)) = session {
            ui.label(RichText::new("Limits of this session, saved with its recording").strong());
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
        changed
    }
}
