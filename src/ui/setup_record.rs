//! The collection record's part of the setup form: the chain of identity, the consumables and
//! the labs, each lab value with its unit chosen explicitly. Every field is checked where it is
//! typed, by the same checks the summary applies; a value that fails is never saved.

use std::str::FromStr;

use egui::RichText;
use jiff::civil::Date;
use serde_json::Value;

use crate::analysis::collection::AccessKind;
use crate::analysis::forecast::EXPECTED_CE2_KEY;
use crate::analysis::identity::{CollectionId, NhsNumber};
use crate::analysis::labs::{Analyte, LabUnit};
use crate::analysis::patient::parse_number;
use crate::present::typeface::undrawable_problem;
use crate::recording::SessionMeta;
use crate::recording::meta::LabMeta;

use super::forms::error_text;
use super::setup::{labelled_edit, problem_row};

/// One lab value as typed, with its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct LabField {
    pub analyte: Analyte,
    pub text: String,
    pub unit: LabUnit,
}

impl LabField {
    /// The value checked, or why it is refused; `None` when empty.
    pub fn checked(&self) -> Option<Result<Value, String>> {
        if self.text.trim().is_empty() {
            return None;
        }
        Some(
            parse_number(&self.text, self.analyte.name())
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    self.analyte
                        .check(v, self.unit)
                        .map(|lab| lab.to_json())
                        .map_err(|e| e.to_string())
                }),
        )
    }
}

/// A free-text field as typed: `None` when empty, else its text trimmed, or why the record
/// cannot keep it (characters its typeface cannot print, which would come out as empty boxes).
pub(super) fn free_text(text: &str, what: &str) -> Option<Result<String, String>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(undrawable_problem(what, text).map_or_else(|| Ok(text.to_owned()), Err))
}

/// The collection record's fields as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordForm {
    pub hospital_number: String,
    pub nhs_number: String,
    pub date_of_birth: String,
    pub collection_id: String,
    pub access: Option<AccessKind>,
    pub access_site: String,
    pub checker: String,
    pub anticoagulant_lot: String,
    pub kit_lot: String,
    pub kit_expiry: String,
    pub labs: Vec<LabField>,
    /// The target CD3+ dose, cells (`2e9`).
    pub target_cd3: String,
    /// The CE2 expected for the dose forecast, % (`40`).
    pub expected_ce2: String,
}

impl Default for RecordForm {
    fn default() -> Self {
        RecordForm {
            hospital_number: String::new(),
            nhs_number: String::new(),
            date_of_birth: String::new(),
            collection_id: String::new(),
            access: None,
            access_site: String::new(),
            checker: String::new(),
            anticoagulant_lot: String::new(),
            kit_lot: String::new(),
            kit_expiry: String::new(),
            labs: Analyte::ALL
                .into_iter()
                .map(|analyte| LabField {
                    analyte,
                    text: String::new(),
                    unit: analyte.canonical_unit(),
                })
                .collect(),
            target_cd3: String::new(),
            expected_ce2: String::new(),
        }
    }
}

fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A date typed `YYYY-MM-DD` (or, where `month` allows, `YYYY-MM`: the month's last day).
fn date(text: &str, what: &str, month: bool) -> Option<Result<Date, String>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = Date::from_str(text).ok().or_else(|| {
        month
            .then(|| Date::from_str(&format!("{text}-01")).ok())
            .flatten()
            .map(Date::last_of_month)
    });
    Some(parsed.ok_or_else(|| {
        format!(
            "{what} is a date: YYYY-MM-DD{}",
            if month { " or YYYY-MM" } else { "" }
        )
    }))
}

impl RecordForm {
    /// Fills the form from the metadata.
    pub fn from_meta(meta: &SessionMeta) -> RecordForm {
        let mut form = RecordForm::default();
        if let Some(p) = &meta.patient {
            form.hospital_number = text_of(p.hospital_number.as_ref());
            form.nhs_number = text_of(p.nhs_number.as_ref());
            form.date_of_birth = text_of(p.date_of_birth.as_ref());
        }
        if let Some(c) = &meta.collection {
            form.collection_id = text_of(c.id.as_ref());
            form.access = c
                .access
                .as_ref()
                .and_then(Value::as_str)
                .and_then(|k| AccessKind::ALL.into_iter().find(|a| a.key() == k));
            form.access_site = text_of(c.access_site.as_ref());
            form.checker = text_of(c.checker.as_ref());
            form.anticoagulant_lot = text_of(c.anticoagulant_lot.as_ref());
            form.kit_lot = text_of(c.kit_lot.as_ref());
            form.kit_expiry = text_of(c.kit_expiry.as_ref());
        }
        let lab = LabMeta::fields_of(Some(meta));
        for field in &mut form.labs {
            if let Ok(Some(v)) = field.analyte.read(&lab) {
                field.text = v.value.to_string();
                field.unit = v.unit;
            }
        }
        form.target_cd3 = text_of(lab.get("target_cd3_cells"));
        // A number as people write it: 45, not 45.0.
        form.expected_ce2 = match lab.get(EXPECTED_CE2_KEY).and_then(Value::as_f64) {
            Some(v) => v.to_string(),
            None => text_of(lab.get(EXPECTED_CE2_KEY)),
        };
        form
    }

    pub fn nhs_number(&self) -> Option<Result<NhsNumber, String>> {
        let text = self.nhs_number.trim();
        (!text.is_empty()).then(|| NhsNumber::parse(text).map_err(|e| e.to_string()))
    }

    pub fn date_of_birth(&self, today: Date) -> Option<Result<Date, String>> {
        date(&self.date_of_birth, "the date of birth", false).map(|r| {
            r.and_then(|d| {
                if d > today {
                    Err("the date of birth is in the future".into())
                } else if today.year() - d.year() > 120 {
                    Err("the date of birth is more than 120 years ago".into())
                } else {
                    Ok(d)
                }
            })
        })
    }

    pub fn collection_id(&self) -> Option<Result<CollectionId, String>> {
        let text = self.collection_id.trim();
        (!text.is_empty()).then(|| CollectionId::parse(text).map_err(|e| e.to_string()))
    }

    /// The kit's expiry; a kit expired by `today` is refused.
    pub fn kit_expiry(&self, today: Date) -> Option<Result<Date, String>> {
        date(&self.kit_expiry, "the kit expiry", true).map(|r| {
            r.and_then(|d| {
                if d < today {
                    Err(format!("the kit expired on {d}: use another kit"))
                } else {
                    Ok(d)
                }
            })
        })
    }

    pub fn target_cd3(&self) -> Option<Result<f64, String>> {
        let text = self.target_cd3.trim();
        (!text.is_empty()).then(|| {
            parse_number(text, "target CD3+ dose")
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    if (1e6..=1e12).contains(&v) {
                        Ok(v)
                    } else {
                        Err(format!(
                            "a target CD3+ dose of {v} cells is outside 1e6–1e12 cells"
                        ))
                    }
                })
        })
    }

    /// The CE2 expected for the dose forecast: a number of percent from 1 to 100.
    pub fn expected_ce2(&self) -> Option<Result<f64, String>> {
        let text = self.expected_ce2.trim();
        (!text.is_empty()).then(|| {
            parse_number(text, "expected CE2")
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    if (1.0..=100.0).contains(&v) {
                        Ok(v)
                    } else {
                        Err(format!("an expected CE2 of {v} % is outside 1–100 %"))
                    }
                })
        })
    }

    /// The free-text fields, each with its name.
    fn free_texts(&self) -> [(&'static str, &String); 5] {
        [
            ("Hospital number", &self.hospital_number),
            ("Access site", &self.access_site),
            ("Second checker", &self.checker),
            ("Anticoagulant lot", &self.anticoagulant_lot),
            ("Kit lot", &self.kit_lot),
        ]
    }

    /// Every problem of the fields typed, in form order (the free-text fields first).
    pub fn problems(&self, today: Date) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |e: Option<String>| out.extend(e);
        for (what, text) in self.free_texts() {
            add(free_text(text, what).and_then(Result::err));
        }
        add(self.nhs_number().and_then(Result::err));
        add(self.date_of_birth(today).and_then(Result::err));
        add(self.collection_id().and_then(Result::err));
        add(self.kit_expiry(today).and_then(Result::err));
        for field in &self.labs {
            add(field.checked().and_then(Result::err));
        }
        add(self.target_cd3().and_then(Result::err));
        add(self.expected_ce2().and_then(Result::err));
        out
    }

    /// Writes the valid fields into `meta` (invalid ones are never stored; an emptied field
    /// removes its value).
    pub fn apply_to(&self, meta: &mut SessionMeta, today: Date) {
        let text = |s: &str| free_text(s, "").and_then(Result::ok).map(Value::from);
        let mut patient = meta.patient.clone().unwrap_or_default();
        patient.hospital_number = text(&self.hospital_number);
        patient.nhs_number = self
            .nhs_number()
            .and_then(Result::ok)
            .map(|n| Value::from(n.digits()));
        patient.date_of_birth = self
            .date_of_birth(today)
            .and_then(Result::ok)
            .map(|d| Value::from(d.to_string()));
        meta.patient = Some(patient);
        let mut c = meta.collection.clone().unwrap_or_default();
        c.id = self
            .collection_id()
            .and_then(Result::ok)
            .map(|id| Value::from(id.to_string()));
        c.access = self.access.map(|a| Value::from(a.key()));
        c.access_site = text(&self.access_site);
        c.checker = text(&self.checker);
        c.anticoagulant_lot = text(&self.anticoagulant_lot);
        c.kit_lot = text(&self.kit_lot);
        c.kit_expiry = self
            .kit_expiry(today)
            .and_then(Result::ok)
            .map(|d| Value::from(d.to_string()));
        meta.collection = Some(c);
        let mut lab = meta.lab.clone().unwrap_or_default();
        for field in &self.labs {
            let value = field.checked().and_then(Result::ok);
            let key = field.analyte.key();
            if key == "product_volume_ml" {
                lab.product_volume_ml = value;
                continue;
            }
            // The bare number of an earlier version gives way to the value with its unit.
            match field.analyte.legacy_key() {
                Some("pre_cd3_per_ul") => lab.pre_cd3_per_ul = None,
                Some("product_cd3_per_ul") => lab.product_cd3_per_ul = None,
                _ => {}
            }
            match value {
                Some(v) => {
                    lab.extra.insert(key.to_owned(), v);
                }
                None => {
                    lab.extra.remove(key);
                }
            }
        }
        lab.target_cd3_cells = self.target_cd3().and_then(Result::ok).map(Value::from);
        match self.expected_ce2().and_then(Result::ok) {
            Some(ce2) => {
                lab.extra
                    .insert(EXPECTED_CE2_KEY.to_owned(), Value::from(ce2));
            }
            None => {
                lab.extra.remove(EXPECTED_CE2_KEY);
            }
        }
        meta.lab = Some(lab);
    }
}

/// Draws the collection record's fields.
pub fn record_form_ui(ui: &mut egui::Ui, form: &mut RecordForm, today: Date) {
    egui::CollapsingHeader::new(RichText::new("Chain of identity").strong())
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("identity-grid")
                .num_columns(2)
                .spacing([12.0, 8.0])
                .show(ui, |ui| {
                    labelled_edit(ui, "Hospital number", &mut form.hospital_number, "");
                    problem_row(ui, free_text(&form.hospital_number, "Hospital number"));
                    labelled_edit(ui, "NHS number", &mut form.nhs_number, "943 476 5919");
                    problem_row(ui, form.nhs_number());
                    labelled_edit(ui, "Date of birth", &mut form.date_of_birth, "YYYY-MM-DD");
                    problem_row(ui, form.date_of_birth(today));
                    labelled_edit(
                        ui,
                        "Collection ID",
                        &mut form.collection_id,
                        "manufacturer's ID or ISBT 128 DIN",
                    );
                    problem_row(ui, form.collection_id());
                    ui.label("Vascular access");
                    ui.horizontal_wrapped(|ui| {
                        for kind in AccessKind::ALL {
                            ui.radio_value(&mut form.access, Some(kind), kind.label());
                        }
                    });
                    ui.end_row();
                    labelled_edit(
                        ui,
                        "Access site",
                        &mut form.access_site,
                        "e.g. left antecubital",
                    );
                    problem_row(ui, free_text(&form.access_site, "Access site"));
                    labelled_edit(
                        ui,
                        "Second checker",
                        &mut form.checker,
                        "checks the identity",
                    );
                    problem_row(ui, free_text(&form.checker, "Second checker"));
                });
        });
    egui::CollapsingHeader::new(RichText::new("Consumables").strong())
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("consumables-grid")
                .num_columns(2)
                .spacing([12.0, 8.0])
                .show(ui, |ui| {
                    labelled_edit(ui, "Anticoagulant lot", &mut form.anticoagulant_lot, "");
                    problem_row(ui, free_text(&form.anticoagulant_lot, "Anticoagulant lot"));
                    labelled_edit(ui, "Kit lot", &mut form.kit_lot, "");
                    problem_row(ui, free_text(&form.kit_lot, "Kit lot"));
                    labelled_edit(
                        ui,
                        "Kit expiry",
                        &mut form.kit_expiry,
                        "YYYY-MM-DD or YYYY-MM",
                    );
                    problem_row(ui, form.kit_expiry(today));
                });
        });
    egui::CollapsingHeader::new(RichText::new("Labs").strong())
        .default_open(true)
        .show(ui, |ui| {
            // One analyte per block, its name above its value and unit, so the form stays
            // within the panel's width.
            for field in &mut form.labs {
                let label = ui.label(field.analyte.name());
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut field.text).desired_width(90.0))
                        .labelled_by(label.id);
                    let units = field.analyte.units();
                    if units.len() == 1 {
                        ui.label(units[0].label());
                    } else {
                        egui::ComboBox::from_id_salt(("lab-unit", field.analyte.key()))
                            .selected_text(field.unit.label())
                            .show_ui(ui, |ui| {
                                for &unit in units {
                                    ui.selectable_value(&mut field.unit, unit, unit.label());
                                }
                            })
                            .response
                            .labelled_by(label.id);
                    }
                });
                if let Some(Err(e)) = field.checked() {
                    error_text(ui, e);
                }
                ui.add_space(4.0);
            }
            let label = ui.label("Target CD3+ dose");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut form.target_cd3)
                        .hint_text("2e9")
                        .desired_width(90.0),
                )
                .labelled_by(label.id);
                ui.label("cells");
            });
            if let Some(Err(e)) = form.target_cd3() {
                error_text(ui, e);
            }
            ui.add_space(4.0);
            let label = ui.label("Expected CE2 (%)");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut form.expected_ce2)
                        .hint_text("40")
                        .desired_width(90.0),
                )
                .labelled_by(label.id);
                ui.label("% (for the dose forecast)");
            });
            if let Some(Err(e)) = form.expected_ce2() {
                error_text(ui, e);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::collection::CollectionDetails;
    use crate::analysis::labs::Analyte;

    fn today() -> Date {
        jiff::civil::date(2026, 11, 30)
    }

    fn lab(form: &mut RecordForm, analyte: Analyte) -> &mut LabField {
        form.labs.iter_mut().find(|f| f.analyte == analyte).unwrap()
    }

    #[test]
    fn the_record_typed_is_checked_saved_and_read_back() {
        let mut form = RecordForm {
            nhs_number: "943 476 5919".into(),
            date_of_birth: "1971-04-23".into(),
            collection_id: "g1234 98 654321 h".into(),
            access: Some(AccessKind::Vascath),
            kit_expiry: "2027-06".into(),
            ..RecordForm::default()
        };
        let pre = lab(&mut form, Analyte::PreCd3);
        pre.text = "0,30".into();
        pre.unit = LabUnit::E9PerLitre;
        form.target_cd3 = "2e9".into();
        form.expected_ce2 = "45".into();
        assert_eq!(form.problems(today()), Vec::<String>::new());
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta, today());
        let back = RecordForm::from_meta(&meta);
        assert_eq!(back.nhs_number, "9434765919");
        assert_eq!(back.collection_id, "G1234 98 654321 H");
        assert_eq!(back.kit_expiry, "2027-06-30");
        assert_eq!(back.expected_ce2, "45");
        let saved = meta.lab.as_ref().unwrap().extra.get(EXPECTED_CE2_KEY);
        assert_eq!(saved, Some(&Value::from(45.0)));
        let pre = back
            .labs
            .iter()
            .find(|f| f.analyte == Analyte::PreCd3)
            .unwrap();
        assert_eq!((pre.text.as_str(), pre.unit), ("0.3", LabUnit::E9PerLitre));
        // The summary reads what the form wrote.
        let details = CollectionDetails::from_meta(Some(&meta), today());
        assert_eq!(details.problems, Vec::<String>::new());
        assert_eq!(details.access, Some(AccessKind::Vascath));
    }

    #[test]
    fn free_text_the_record_cannot_print_is_refused_and_never_saved() {
        let form = RecordForm {
            hospital_number: "H 12345 山".into(),
            checker: "Zoë Ødegård".into(),
            kit_lot: "LOT-7 👍".into(),
            ..RecordForm::default()
        };
        let problems = form.problems(today());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("Hospital number: the record cannot print “山”"));
        assert!(problems[1].starts_with("Kit lot: the record cannot print"));
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta, today());
        assert_eq!(meta.patient.unwrap().hospital_number, None);
        let collection = meta.collection.unwrap();
        assert_eq!(collection.kit_lot, None);
        assert_eq!(collection.checker, Some(Value::from("Zoë Ødegård")));
    }

    #[test]
    fn wrong_fields_are_refused_with_the_reason_and_never_saved() {
        let mut form = RecordForm {
            nhs_number: "9434765918".into(),
            date_of_birth: "2030-01-01".into(),
            kit_expiry: "2026-10".into(),
            ..RecordForm::default()
        };
        let pre = lab(&mut form, Analyte::PreCd3);
        pre.text = "0.95".into();
        form.target_cd3 = "2".into();
        form.expected_ce2 = "140".into();
        assert_eq!(
            form.problems(today()),
            [
                "the NHS number's check digit does not match: a digit is mistyped",
                "the date of birth is in the future",
                "the kit expired on 2026-10-31: use another kit",
                "pre-collection CD3+ 0.95 cells/µL is outside the plausible 5–50000 cells/µL: \
                 check the unit",
                "a target CD3+ dose of 2 cells is outside 1e6–1e12 cells",
                "an expected CE2 of 140 % is outside 1–100 %",
            ]
        );
        let mut meta = SessionMeta::default();
        form.apply_to(&mut meta, today());
        let patient = meta.patient.unwrap();
        assert_eq!((patient.nhs_number, patient.date_of_birth), (None, None));
        assert_eq!(meta.collection.unwrap().kit_expiry, None);
        let lab = meta.lab.unwrap();
        assert_eq!(lab.extra.get("pre_cd3"), None);
        assert_eq!(lab.target_cd3_cells, None);
        assert_eq!(lab.extra.get(EXPECTED_CE2_KEY), None);
    }
}
