//! Session setup: the patient's pseudonymous id, weight, height, sex and age (→ total blood
//! volume, or the TBV the nurse enters) and the target. Every input is checked where it is
//! typed; nothing is computed from an invalid value.

use egui::RichText;

use super::forms::error_text;
use super::setup_record::{RecordForm, free_text, record_form_ui};
use serde_json::Value;

use crate::analysis::Patient;
use crate::analysis::patient::{
    AgeUnit, NumberError, Sex, Tbv, parse_number, stamp_tbv_method, validate_age,
    validate_entered_tbv_ml, validate_height_cm, validate_weight_kg,
};
use crate::recording::SessionMeta;

/// The setup form as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupForm {
    pub patient_id: String,
    pub weight: String,
    pub height: String,
    pub sex: Option<Sex>,
    /// The age at the session, in `age_unit`.
    pub age: String,
    pub age_unit: AgeUnit,
    /// A TBV in mL that overrides the estimate (empty: estimated).
    pub tbv_entered: String,
    pub target_in_litres: bool,
    pub target: String,
    pub operator: String,
    /// The collection record: identity, consumables, labs.
    pub record: RecordForm,
}

/// Today's date (UTC), for the date checks (a date of birth in the future, an expired kit).
fn today() -> jiff::civil::Date {
    jiff::tz::Offset::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

impl SetupForm {
    pub fn new(default_target_tbv: f64) -> SetupForm {
        SetupForm {
            patient_id: String::new(),
            weight: String::new(),
            height: String::new(),
            sex: None,
            age: String::new(),
            age_unit: AgeUnit::Years,
            tbv_entered: String::new(),
            target_in_litres: false,
            target: format!("{default_target_tbv}"),
            operator: String::new(),
            record: RecordForm::default(),
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
            if let Some(age) = &p.age {
                form.age = text(&age.get("value").cloned());
                if let Some(unit) = age.get("unit").and_then(Value::as_str) {
                    form.age_unit = AgeUnit::parse(unit).unwrap_or(AgeUnit::Years);
                }
            }
            form.tbv_entered = text(&p.tbv_entered_ml);
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
        form.record = RecordForm::from_meta(meta);
        form
    }

    /// The weight if valid, else why not (`None` when empty).
    pub fn weight_kg(&self) -> Option<Result<f64, String>> {
        field(&self.weight, "weight", validate_weight_kg)
    }

    pub fn height_cm(&self) -> Option<Result<f64, String>> {
        field(&self.height, "height", validate_height_cm)
    }

    /// The age in its unit if valid, else why not (`None` when empty).
    pub fn age_value(&self) -> Option<Result<f64, String>> {
        let unit = self.age_unit;
        field_with(&self.age, "age", |v| validate_age(v, unit).map(|a| a.value))
    }

    /// The TBV entered in mL if valid (for the weight typed, when it is valid), else why not
    /// (`None` when empty).
    pub fn tbv_entered_ml(&self) -> Option<Result<f64, String>> {
        let weight = self.weight_kg().and_then(Result::ok);
        field_with(&self.tbv_entered, "TBV entered", |v| {
            validate_entered_tbv_ml(v, weight)
        })
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

    /// The patient as the form would save it.
    pub fn patient(&self) -> Patient {
        let mut meta = SessionMeta::default();
        self.apply_to(&mut meta);
        Patient::from_meta(meta.patient.as_ref())
    }

    /// The TBV and its method by the monitor's rule, when the patient's fields are valid.
    pub fn tbv(&self) -> Option<Tbv> {
        self.patient_fields_valid()
            .then(|| self.patient().tbv())
            .flatten()
    }

    /// The TBV in mL (see [`SetupForm::tbv`]).
    pub fn tbv_ml(&self) -> Option<f64> {
        self.tbv().map(|t| t.ml)
    }

    fn patient_fields_valid(&self) -> bool {
        [
            self.weight_kg(),
            self.height_cm(),
            self.age_value(),
            self.tbv_entered_ml(),
        ]
        .iter()
        .all(|f| !matches!(f, Some(Err(_))))
            && !matches!(self.patient_id_text(), Some(Err(_)))
            && !matches!(self.operator_text(), Some(Err(_)))
    }

    /// The patient ID typed, unless the record cannot print it.
    pub fn patient_id_text(&self) -> Option<Result<String, String>> {
        free_text(&self.patient_id, "Patient ID")
    }

    /// The operator typed, unless the record cannot print it.
    pub fn operator_text(&self) -> Option<Result<String, String>> {
        free_text(&self.operator, "Operator")
    }

    /// Whether every filled field is valid (empty optional fields are fine).
    pub fn is_valid(&self) -> bool {
        self.patient_fields_valid()
            && self.target_value().is_ok()
            && self.record.problems(today()).is_empty()
    }

    /// Writes the form's valid values into `meta` (invalid ones are never stored).
    pub fn apply_to(&self, meta: &mut SessionMeta) {
        let mut patient = meta.patient.clone().unwrap_or_default();
        patient.id = self.patient_id_text().and_then(Result::ok);
        patient.weight_kg = self.weight_kg().and_then(Result::ok).map(Value::from);
        patient.height_cm = self.height_cm().and_then(Result::ok).map(Value::from);
        patient.sex = self.sex.map(|s| Value::from(s.as_str()));
        patient.age = self.age_value().and_then(Result::ok).map(|value| {
            crate::analysis::patient::Age {
                value,
                unit: self.age_unit,
            }
            .to_json()
        });
        patient.tbv_entered_ml = self.tbv_entered_ml().and_then(Result::ok).map(Value::from);
        meta.patient = Some(patient);
        stamp_tbv_method(meta);
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
        meta.operator = self.operator_text().and_then(Result::ok);
        self.record.apply_to(meta, today());
    }
}

fn field(
    text: &str,
    name: &str,
    validate: fn(f64) -> Result<f64, NumberError>,
) -> Option<Result<f64, String>> {
    field_with(text, name, validate)
}

fn field_with(
    text: &str,
    name: &str,
    validate: impl FnOnce(f64) -> Result<f64, NumberError>,
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
    let mut action = SetupAction::None;
    // The actions first: the form is long, and the panel beside the monitor is short.
    ui.horizontal(|ui| {
        let save = ui
            .add_enabled(form.is_valid(), egui::Button::new("Save patient details"))
            .on_disabled_hover_text("A field below needs correcting first: it says why");
        if save.clicked() {
            action = SetupAction::Save;
        }
        if ui.button("Cancel").clicked() {
            action = SetupAction::Cancel;
        }
    });
    ui.add_space(8.0);
    egui::Grid::new("setup-grid")
        .num_columns(2)
        .spacing([12.0, 10.0])
        .show(ui, |ui| {
            labelled_edit(
                ui,
                "Patient ID (pseudonymous)",
                &mut form.patient_id,
                "e.g. P-0001 — never a name",
            );
            problem_row(ui, form.patient_id_text());

            labelled_edit(ui, "Weight (kg)", &mut form.weight, "2–300");
            problem_row(ui, form.weight_kg());

            labelled_edit(ui, "Height (cm)", &mut form.height, "40–230");
            problem_row(ui, form.height_cm());

            ui.label("Sex");
            ui.horizontal(|ui| {
                ui.radio_value(&mut form.sex, Some(Sex::Male), "Male");
                ui.radio_value(&mut form.sex, Some(Sex::Female), "Female");
            });
            ui.end_row();

            let age_label = ui.label("Age");
            ui.horizontal_wrapped(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut form.age)
                        .hint_text("number")
                        .desired_width(70.0),
                )
                .labelled_by(age_label.id);
                for unit in AgeUnit::ALL {
                    ui.radio_value(&mut form.age_unit, unit, unit.as_str());
                }
            });
            ui.end_row();
            problem_row(ui, form.age_value());

            labelled_edit(
                ui,
                "TBV entered (mL)",
                &mut form.tbv_entered,
                "empty: estimated",
            );
            problem_row(ui, form.tbv_entered_ml());

            ui.label("Total blood volume");
            // The TBV with how it was arrived at (or why there is none) beneath it.
            ui.vertical(|ui| {
                if let Some(tbv) = form.tbv() {
                    ui.label(
                        RichText::new(format!("TBV {:.2} L", tbv.ml / 1000.0))
                            .strong()
                            .size(20.0),
                    );
                    ui.label(tbv.method.describe());
                } else {
                    ui.label(RichText::new("—").size(20.0));
                    let why = if form.patient_fields_valid() {
                        form.patient().tbv_unavailable_reason().unwrap_or_default()
                    } else {
                        "needs valid patient details".to_owned()
                    };
                    ui.label(why);
                }
            });
            ui.end_row();

            ui.label("Target");
            ui.vertical(|ui| {
                ui.radio_value(&mut form.target_in_litres, false, "TBVs to process");
                ui.radio_value(&mut form.target_in_litres, true, "Litres of whole blood");
            });
            ui.end_row();

            let unit = if form.target_in_litres {
                "Target (L)"
            } else {
                "Target (TBV)"
            };
            labelled_edit(ui, unit, &mut form.target, "");
            problem_row(ui, Some(form.target_value()));

            labelled_edit(
                ui,
                "Operator",
                &mut form.operator,
                "nurse running the collection",
            );
            problem_row(ui, form.operator_text());
        });
    ui.add_space(8.0);
    record_form_ui(ui, &mut form.record, today());
    action
}

/// A labelled one-line field in a two-column grid row.
pub(super) fn labelled_edit(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .hint_text(hint)
            .desired_width(190.0),
    )
    .labelled_by(label.id);
    ui.end_row();
}

/// What is wrong with the field above, on a row of its own under it (none when all is well).
pub(super) fn problem_row<T>(ui: &mut egui::Ui, value: Option<Result<T, String>>) {
    if let Some(Err(problem)) = value {
        ui.label("");
        error_text(ui, problem);
        ui.end_row();
    }
}

/// The "Session setup" form: the patient, the target and the lab values of the session.
pub struct SetupWindow {
    pub form: SetupForm,
}

impl SetupWindow {
    pub fn new(default_target_tbv: f64) -> SetupWindow {
        SetupWindow {
            form: SetupForm::new(default_target_tbv),
        }
    }

    /// Draws the form; returns whether the nurse saved it and whether the form closes.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> (bool, bool) {
        let action = setup_form_ui(ui, &mut self.form);
        (action == SetupAction::Save, action != SetupAction::None)
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

    #[test]
    fn a_patient_id_or_operator_the_record_cannot_print_is_refused_never_saved() {
        let mut form = SetupForm::new(2.5);
        form.patient_id = "P-7 患者".into();
        form.operator = "Σοφία".into();
        assert!(!form.is_valid());
        let problem = form.patient_id_text().unwrap().unwrap_err();
        assert!(
            problem.starts_with("Patient ID: the record cannot print “患者”"),
            "{problem}"
        );
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta);
        assert_eq!(meta.patient.unwrap().id, None);
        assert_eq!(meta.operator.as_deref(), Some("Σοφία"));
        form.patient_id = "P-7".into();
        assert!(form.is_valid());
    }

    #[test]
    fn a_small_child_gets_the_per_kg_estimate_and_the_method_is_saved() {
        let mut form = SetupForm::new(2.5);
        form.weight = "10".into();
        form.height = "80".into();
        form.sex = Some(Sex::Male);
        // Under 25 kg without an age: no TBV, and the form says what is missing.
        assert_eq!(form.tbv(), None);
        assert!(
            form.patient()
                .tbv_unavailable_reason()
                .unwrap()
                .starts_with("needs the patient's age")
        );
        form.age = "3".into();
        // 75 mL/kg × 10 kg = 750 mL.
        let tbv = form.tbv().unwrap();
        assert_eq!((tbv.ml, tbv.method.key()), (750.0, "ml_per_kg_child"));
        form.age = "8".into();
        form.age_unit = AgeUnit::Months;
        // 80 mL/kg × 10 kg = 800 mL.
        assert_eq!(form.tbv_ml(), Some(800.0));
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta);
        let patient = meta.patient.as_ref().unwrap();
        assert_eq!(
            patient.age,
            Some(serde_json::json!({"value": 8.0, "unit": "months"}))
        );
        assert_eq!(patient.tbv_method, Some(Value::from("ml_per_kg_infant")));
        let again = SetupForm::from_meta(&meta, 2.5);
        assert_eq!(
            (again.age.as_str(), again.age_unit),
            ("8.0", AgeUnit::Months)
        );
        assert_eq!(again.tbv_ml(), Some(800.0));
    }

    #[test]
    fn an_entered_tbv_overrides_and_nonsense_is_refused_never_saved() {
        let mut form = SetupForm::new(2.5);
        form.weight = "80".into();
        form.height = "178".into();
        form.sex = Some(Sex::Male);
        form.tbv_entered = "5600".into();
        let tbv = form.tbv().unwrap();
        assert_eq!((tbv.ml, tbv.method.key()), (5600.0, "entered"));
        // 5.6 typed as if mL were L: refused, no TBV at all, not saved.
        form.tbv_entered = "5.6".into();
        assert_eq!(
            form.tbv_entered_ml().unwrap().unwrap_err(),
            "TBV entered 5.6 mL is outside 100–15000 mL"
        );
        assert_eq!(form.tbv(), None);
        assert!(!form.is_valid());
        // An age of −3 years or 200 years.
        form.tbv_entered.clear();
        form.age = "-3".into();
        assert_eq!(
            form.age_value().unwrap().unwrap_err(),
            "age -3 years is outside 0–120 years"
        );
        assert!(!form.is_valid());
        form.age = "200".into();
        assert!(!form.is_valid());
        form.age = "three".into();
        assert_eq!(
            form.age_value().unwrap().unwrap_err(),
            "age `three` is not a number"
        );
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta);
        let patient = meta.patient.unwrap();
        assert_eq!((patient.age, patient.tbv_entered_ml), (None, None));
        // Nadler still applies from 25 kg up whatever the age field holds.
        assert_eq!(patient.tbv_method, Some(Value::from("nadler")));
    }
}
