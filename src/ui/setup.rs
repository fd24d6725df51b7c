//! Session setup: the patient's pseudonymous id, weight, height and sex (→ total blood volume)
//! and the target. Every input is checked where it is typed; nothing is computed from an
//! invalid value.

use egui::{Color32, RichText};
use serde_json::Value;

use crate::analysis::patient::{
    NumberError, Sex, nadler_tbv_ml, parse_number, validate_height_cm, validate_weight_kg,
};
use crate::recording::SessionMeta;

/// The setup form as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupForm {
    pub patient_id: String,
    pub weight: String,
    pub height: String,
    pub sex: Option<Sex>,
    pub target_in_litres: bool,
    pub target: String,
    pub operator: String,
}

impl SetupForm {
    pub fn new(default_target_tbv: f64) -> SetupForm {
        SetupForm {
            patient_id: String::new(),
            weight: String::new(),
            height: String::new(),
            sex: None,
            target_in_litres: false,
            target: format!("{default_target_tbv}"),
            operator: String::new(),
        }
    }

    /// Fills the form from metadata already saved.
    pub fn from_meta(meta: &SessionMeta, default_target_tbv: f64) -> SetupForm {
        let mut form = SetupForm::new(default_target_tbv);
        let text = |v: &Option<Value>| match v {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        if let Some(p) = &meta.patient {
            form.patient_id = p.id.clone().unwrap_or_default();
            form.weight = text(&p.weight_kg);
            form.height = text(&p.height_cm);
            form.sex = p.sex.as_ref().and_then(Value::as_str).and_then(Sex::parse);
        }
        if let Some(t) = &meta.targets {
            if t.wb_processed_l.is_some() {
                form.target_in_litres = true;
                form.target = text(&t.wb_processed_l);
            } else if t.tbv_processed.is_some() {
                form.target = text(&t.tbv_processed);
            }
        }
        form.operator = meta.operator.clone().unwrap_or_default();
        form
    }

    /// The weight if valid, else why not (`None` when empty).
    pub fn weight_kg(&self) -> Option<Result<f64, String>> {
        field(&self.weight, "weight", validate_weight_kg)
    }

    pub fn height_cm(&self) -> Option<Result<f64, String>> {
        field(&self.height, "height", validate_height_cm)
    }

    pub fn target_value(&self) -> Result<f64, String> {
        let value = parse_number(&self.target, "target").map_err(|e| e.to_string())?;
        let (low, high, unit) = if self.target_in_litres {
            (0.1, 50.0, "L")
        } else {
            (0.1, 6.0, "TBV")
        };
        if (low..=high).contains(&value) {
            Ok(value)
        } else {
            Err(format!(
                "target {value} {unit} is outside {low}–{high} {unit}"
            ))
        }
    }

    /// Nadler's TBV in mL when sex, height and weight are all valid.
    pub fn tbv_ml(&self) -> Option<f64> {
        let weight = self.weight_kg()?.ok()?;
        let height = self.height_cm()?.ok()?;
        Some(nadler_tbv_ml(self.sex?, height, weight))
    }

    /// Whether every filled field is valid (empty optional fields are fine).
    pub fn is_valid(&self) -> bool {
        !matches!(self.weight_kg(), Some(Err(_)))
            && !matches!(self.height_cm(), Some(Err(_)))
            && self.target_value().is_ok()
    }

    /// Writes the form's valid values into `meta` (invalid ones are never stored).
    pub fn apply_to(&self, meta: &mut SessionMeta) {
        let mut patient = meta.patient.clone().unwrap_or_default();
        let id = self.patient_id.trim();
        patient.id = (!id.is_empty()).then(|| id.to_owned());
        patient.weight_kg = self.weight_kg().and_then(Result::ok).map(Value::from);
        patient.height_cm = self.height_cm().and_then(Result::ok).map(Value::from);
        patient.sex = self.sex.map(|s| Value::from(s.as_str()));
        meta.patient = Some(patient);
        let mut targets = meta.targets.clone().unwrap_or_default();
        if let Ok(value) = self.target_value() {
            if self.target_in_litres {
                targets.wb_processed_l = Some(Value::from(value));
                targets.tbv_processed = None;
            } else {
                targets.tbv_processed = Some(Value::from(value));
                targets.wb_processed_l = None;
            }
        }
        meta.targets = Some(targets);
        let operator = self.operator.trim();
        meta.operator = (!operator.is_empty()).then(|| operator.to_owned());
    }
}

fn field(
    text: &str,
    name: &str,
    validate: fn(f64) -> Result<f64, NumberError>,
) -> Option<Result<f64, String>> {
    if text.trim().is_empty() {
        return None;
    }
    Some(
        parse_number(text, name)
            .and_then(validate)
            .map_err(|e| e.to_string()),
    )
}

/// What the user did in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupAction {
    None,
    Save,
    Cancel,
}

/// Draws the form; returns what the user asked for.
pub fn setup_form_ui(ui: &mut egui::Ui, form: &mut SetupForm) -> SetupAction {
    let error_color = Color32::from_rgb(0xFF, 0x6B, 0x6B);
    let mut action = SetupAction::None;
    egui::Grid::new("setup-grid")
        .num_columns(3)
        .spacing([12.0, 10.0])
        .show(ui, |ui| {
            labelled_edit(
                ui,
                "Patient ID (pseudonymous)",
                &mut form.patient_id,
                "e.g. P-0001 — never a name",
            );
            ui.label("");
            ui.end_row();

            labelled_edit(ui, "Weight (kg)", &mut form.weight, "2–300");
            problem_label(ui, form.weight_kg(), error_color);
            ui.end_row();

            labelled_edit(ui, "Height (cm)", &mut form.height, "40–230");
            problem_label(ui, form.height_cm(), error_color);
            ui.end_row();

            ui.label("Sex");
            ui.horizontal(|ui| {
                ui.radio_value(&mut form.sex, Some(Sex::Male), "Male");
                ui.radio_value(&mut form.sex, Some(Sex::Female), "Female");
            });
            ui.label("");
            ui.end_row();

            ui.label("Total blood volume");
            match form.tbv_ml() {
                Some(tbv) => {
                    ui.label(
                        RichText::new(format!("TBV {:.2} L", tbv / 1000.0))
                            .strong()
                            .size(20.0),
                    )
                    .on_hover_text("Nadler's formula from sex, height and weight");
                }
                None => {
                    ui.label(RichText::new("—").size(20.0))
                        .on_hover_text("Needs a valid weight, height and sex");
                }
            }
            ui.label("");
            ui.end_row();

            ui.label("Target");
            ui.horizontal(|ui| {
                ui.radio_value(&mut form.target_in_litres, false, "TBVs to process");
                ui.radio_value(&mut form.target_in_litres, true, "Litres of whole blood");
            });
            ui.label("");
            ui.end_row();

            let unit = if form.target_in_litres {
                "Target (L)"
            } else {
                "Target (TBV)"
            };
            labelled_edit(ui, unit, &mut form.target, "");
            problem_label(ui, Some(form.target_value()), error_color);
            ui.end_row();

            labelled_edit(
                ui,
                "Operator",
                &mut form.operator,
                "nurse running the collection",
            );
            ui.label("");
            ui.end_row();
        });
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        let save = ui.add_enabled(form.is_valid(), egui::Button::new("Save patient details"));
        if save.clicked() {
            action = SetupAction::Save;
        }
        if ui.button("Cancel").clicked() {
            action = SetupAction::Cancel;
        }
    });
    action
}

fn labelled_edit(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .hint_text(hint)
            .desired_width(220.0),
    )
    .labelled_by(label.id);
}

fn problem_label(ui: &mut egui::Ui, value: Option<Result<f64, String>>, color: Color32) {
    match value {
        Some(Err(problem)) => {
            ui.label(RichText::new(problem).color(color));
        }
        _ => {
            ui.label("");
        }
    }
}

/// The "Session setup" window: the patient, the target and the lab values of the session.
pub struct SetupWindow {
    pub open: bool,
    pub form: SetupForm,
}

impl SetupWindow {
    pub fn new(default_target_tbv: f64) -> SetupWindow {
        SetupWindow {
            open: false,
            form: SetupForm::new(default_target_tbv),
        }
    }

    /// Draws the window if it is open; returns the form to save when the nurse saves it.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<SetupForm> {
        if !self.open {
            return None;
        }
        let mut open = true;
        let mut action = SetupAction::None;
        egui::Window::new("Session setup")
            .open(&mut open)
            .collapsible(false)
            .default_width(620.0)
            .show(ctx, |ui| action = setup_form_ui(ui, &mut self.form));
        self.open = open && action == SetupAction::None;
        (action == SetupAction::Save).then(|| self.form.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_form_gives_nadler_tbv_and_is_saved() {
        let mut form = SetupForm::new(2.5);
        form.patient_id = " P-7 ".into();
        form.weight = "70".into();
        form.height = "175".into();
        form.sex = Some(Sex::Male);
        assert!((form.tbv_ml().unwrap() - 4823.75).abs() < 0.01);
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta);
        let patient = meta.patient.as_ref().unwrap();
        assert_eq!(patient.id.as_deref(), Some("P-7"));
        assert_eq!(patient.weight_kg, Some(Value::from(70.0)));
        assert_eq!(SetupForm::from_meta(&meta, 2.5).weight, "70.0");
    }

    #[test]
    fn an_invalid_weight_is_reported_never_used_nor_saved() {
        let mut form = SetupForm::new(2.5);
        form.weight = "-70".into();
        form.height = "175".into();
        form.sex = Some(Sex::Female);
        assert!(form.weight_kg().unwrap().unwrap_err().contains("positive"));
        assert_eq!(form.tbv_ml(), None);
        assert!(!form.is_valid());
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta);
        assert_eq!(meta.patient.unwrap().weight_kg, None);
    }
}
