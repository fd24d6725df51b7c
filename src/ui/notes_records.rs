//! The structured parts of the note form: calcium given, a reaction, a product sample. Each
//! is typed as text and choices, and becomes a [`Record`] (checked by the record's own
//! constructor, whose reason is shown when it refuses).

use crate::analysis::labs::{Analyte, LabUnit};
use crate::analysis::patient::parse_number;
use crate::analysis::records::{
    CalciumGiven, CalciumProduct, ProductSample, Reaction, ReactionKind, Route,
};

/// Which calcium product, as chosen in the form (its strength typed apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalciumChoice {
    Gluconate10,
    Chloride10,
    OralCarbonate,
    Other,
}

impl CalciumChoice {
    pub const ALL: [CalciumChoice; 4] = [
        CalciumChoice::Gluconate10,
        CalciumChoice::Chloride10,
        CalciumChoice::OralCarbonate,
        CalciumChoice::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CalciumChoice::Gluconate10 => "Gluconate 10 %",
            CalciumChoice::Chloride10 => "Chloride 10 %",
            CalciumChoice::OralCarbonate => "Carbonate tablets",
            CalciumChoice::Other => "Other product",
        }
    }

    /// How the product is usually given: the route chosen with it.
    fn usual_route(self) -> Route {
        match self {
            CalciumChoice::OralCarbonate => Route::Oral,
            _ => Route::Iv,
        }
    }
}

/// Calcium given, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct CalciumFields {
    pub product: CalciumChoice,
    /// Elemental calcium per carbonate tablet, mg.
    pub mg_per_tablet: String,
    /// Another product's strength, mmol Ca²⁺ per mL.
    pub mmol_per_ml: String,
    /// mL, or tablets.
    pub amount: String,
    pub route: Route,
}

impl Default for CalciumFields {
    fn default() -> Self {
        CalciumFields {
            product: CalciumChoice::Gluconate10,
            mg_per_tablet: String::new(),
            mmol_per_ml: String::new(),
            amount: String::new(),
            route: Route::Iv,
        }
    }
}

impl CalciumFields {
    /// The label of the amount's field: its unit follows the product.
    pub fn amount_label(&self) -> &'static str {
        match self.product {
            CalciumChoice::OralCarbonate => "Amount (tablets)",
            _ => "Amount (mL)",
        }
    }

    pub fn record(&self) -> Result<CalciumGiven, String> {
        let product = match self.product {
            CalciumChoice::Gluconate10 => CalciumProduct::Gluconate10,
            CalciumChoice::Chloride10 => CalciumProduct::Chloride10,
            CalciumChoice::OralCarbonate => CalciumProduct::OralCarbonate {
                mg_per_tablet: number(&self.mg_per_tablet, "mg calcium per tablet")?,
            },
            CalciumChoice::Other => CalciumProduct::Other {
                mmol_per_ml: number(&self.mmol_per_ml, "the product's strength (mmol/mL)")?,
            },
        };
        let amount = number(&self.amount, "the amount given")?;
        CalciumGiven::new(product, amount, self.route)
    }
}

/// A reaction's kind, as chosen in the form (another's name typed apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionChoice {
    Paraesthesia,
    Hypotension,
    Vasovagal,
    Nausea,
    Chills,
    Other,
}

impl ReactionChoice {
    pub const ALL: [ReactionChoice; 6] = [
        ReactionChoice::Paraesthesia,
        ReactionChoice::Hypotension,
        ReactionChoice::Vasovagal,
        ReactionChoice::Nausea,
        ReactionChoice::Chills,
        ReactionChoice::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ReactionChoice::Paraesthesia => "Paraesthesia",
            ReactionChoice::Hypotension => "Hypotension",
            ReactionChoice::Vasovagal => "Vasovagal",
            ReactionChoice::Nausea => "Nausea",
            ReactionChoice::Chills => "Chills",
            ReactionChoice::Other => "Other reaction",
        }
    }
}

/// The CTCAE grades, with the words CTCAE gives them.
pub const GRADES: [(u8, &str); 4] = [
    (1, "1 mild"),
    (2, "2 moderate"),
    (3, "3 severe"),
    (4, "4 life-threatening"),
];

/// A reaction, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReactionFields {
    pub kind: ReactionChoice,
    /// The reaction's name, for another kind.
    pub other: String,
    /// The CTCAE grade chosen, if any: there is no default grade.
    pub grade: Option<u8>,
    pub action: String,
    pub outcome: String,
}

impl Default for ReactionFields {
    fn default() -> Self {
        ReactionFields {
            kind: ReactionChoice::Paraesthesia,
            other: String::new(),
            grade: None,
            action: String::new(),
            outcome: String::new(),
        }
    }
}

impl ReactionFields {
    pub fn record(&self) -> Result<Reaction, String> {
        let kind = match self.kind {
            ReactionChoice::Paraesthesia => ReactionKind::Paraesthesia,
            ReactionChoice::Hypotension => ReactionKind::Hypotension,
            ReactionChoice::Vasovagal => ReactionKind::Vasovagal,
            ReactionChoice::Nausea => ReactionKind::Nausea,
            ReactionChoice::Chills => ReactionKind::Chills,
            ReactionChoice::Other => ReactionKind::Other(self.other.trim().to_owned()),
        };
        let grade = self.grade.ok_or("choose the CTCAE grade (1–4)")?;
        Reaction::new(kind, grade, &self.action, &self.outcome)
    }
}

/// A product sample, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleFields {
    pub cd3: String,
    pub unit: LabUnit,
    pub bag_ml: String,
}

impl Default for SampleFields {
    fn default() -> Self {
        SampleFields {
            cd3: String::new(),
            unit: Analyte::ProductCd3.canonical_unit(),
            bag_ml: String::new(),
        }
    }
}

impl SampleFields {
    pub fn record(&self) -> Result<ProductSample, String> {
        let cd3 = number(&self.cd3, "the sample's CD3+ count")?;
        let bag = number(&self.bag_ml, "the bag's volume")?;
        ProductSample::new(cd3, self.unit, bag)
    }
}

/// A number typed (a comma is a decimal point), or what is missing or wrong.
fn number(text: &str, name: &str) -> Result<f64, String> {
    parse_number(text, name).map_err(|e| e.to_string())
}

/// A labelled single-line field; returns whether it changed.
pub fn field(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str, width: f32) -> bool {
    let l = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .hint_text(hint)
            .desired_width(width),
    )
    .labelled_by(l.id)
    .changed()
}

/// Draws the calcium fields, the dose computed as typed; returns whether anything changed.
pub fn calcium_ui(ui: &mut egui::Ui, c: &mut CalciumFields) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
        ui.label("Product");
        for choice in CalciumChoice::ALL {
            if ui
                .radio_value(&mut c.product, choice, choice.label())
                .changed()
            {
                c.route = choice.usual_route();
                changed = true;
            }
        }
    });
    egui::Grid::new("note-calcium")
        .num_columns(3)
        .spacing([10.0, 8.0])
        .show(ui, |ui| {
            match c.product {
                CalciumChoice::OralCarbonate => {
                    changed |= field(ui, "mg Ca per tablet", &mut c.mg_per_tablet, "500", 90.0);
                    ui.end_row();
                }
                CalciumChoice::Other => {
                    changed |= field(ui, "Strength (mmol/mL)", &mut c.mmol_per_ml, "0.22", 90.0);
                    ui.end_row();
                }
                CalciumChoice::Gluconate10 | CalciumChoice::Chloride10 => {}
            }
            let unit = if c.product == CalciumChoice::OralCarbonate {
                "tablets"
            } else {
                "mL"
            };
            changed |= field(ui, c.amount_label(), &mut c.amount, unit, 90.0);
            // The dose in mmol as soon as it can be computed, beside the amount (so nothing
            // below moves): what the nurse checks against the chart.
            if let Ok(given) = c.record() {
                ui.label(egui::RichText::new(format!("= {} mmol", given.mmol)).strong());
            }
            ui.end_row();
            ui.label("Route");
            ui.horizontal(|ui| {
                changed |= ui.radio_value(&mut c.route, Route::Iv, "IV").changed();
                changed |= ui
                    .radio_value(&mut c.route, Route::Oral, "By mouth")
                    .changed();
            });
            ui.end_row();
        });
    changed
}

/// Draws the reaction's fields; returns whether anything changed.
pub fn reaction_ui(ui: &mut egui::Ui, r: &mut ReactionFields) -> bool {
    let mut changed = false;
    // The kind from a list, and another's name beside it: one row, so the form fits the panel.
    ui.horizontal(|ui| {
        let label = ui.label("Kind");
        egui::ComboBox::from_id_salt("note-reaction-kind")
            .selected_text(r.kind.label())
            .show_ui(ui, |ui| {
                for choice in ReactionChoice::ALL {
                    changed |= ui
                        .selectable_value(&mut r.kind, choice, choice.label())
                        .changed();
                }
            })
            .response
            .labelled_by(label.id);
        if r.kind == ReactionChoice::Other {
            changed |= field(ui, "Name", &mut r.other, "e.g. itch", 120.0);
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("CTCAE grade");
        for (grade, label) in GRADES {
            changed |= ui.radio_value(&mut r.grade, Some(grade), label).changed();
        }
    });
    egui::Grid::new("note-reaction")
        .num_columns(2)
        .spacing([10.0, 8.0])
        .show(ui, |ui| {
            changed |= field(
                ui,
                "Action taken",
                &mut r.action,
                "e.g. rate reduced",
                200.0,
            );
            ui.end_row();
            changed |= field(ui, "Outcome", &mut r.outcome, "e.g. resolved", 200.0);
            ui.end_row();
        });
    changed
}

/// Draws the product sample's fields; returns whether anything changed.
pub fn sample_ui(ui: &mut egui::Ui, s: &mut SampleFields) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let label = ui.label("Sample CD3+");
        changed |= ui
            .add(
                egui::TextEdit::singleline(&mut s.cd3)
                    .hint_text("count")
                    .desired_width(90.0),
            )
            .labelled_by(label.id)
            .changed();
        egui::ComboBox::from_id_salt("note-sample-unit")
            .selected_text(s.unit.label())
            .show_ui(ui, |ui| {
                for &unit in Analyte::ProductCd3.units() {
                    changed |= ui
                        .selectable_value(&mut s.unit, unit, unit.label())
                        .changed();
                }
            })
            .response
            .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        changed |= field(ui, "Bag volume (mL)", &mut s.bag_ml, "mL", 90.0);
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calcium_is_computed_in_mmol_and_refused_with_its_reason() {
        let mut c = CalciumFields {
            product: CalciumChoice::Chloride10,
            amount: "10".into(),
            ..CalciumFields::default()
        };
        assert_eq!(c.record().unwrap().mmol, 6.8);
        c.product = CalciumChoice::Gluconate10;
        c.amount = "10,0".into();
        assert_eq!(c.record().unwrap().mmol, 2.2);
        c.amount = "150".into();
        assert_eq!(
            c.record().unwrap_err(),
            "a calcium dose of 150 mL is outside 0–100 mL"
        );
        c.amount.clear();
        assert!(c.record().unwrap_err().contains("the amount given"));
        // Tablets: their strength is needed, and they go by mouth.
        c.product = CalciumChoice::OralCarbonate;
        c.amount = "1".into();
        assert!(c.record().unwrap_err().contains("mg calcium per tablet"));
        c.mg_per_tablet = "500".into();
        assert_eq!(
            c.record().unwrap_err(),
            "calcium carbonate tablets are given by mouth"
        );
        c.route = Route::Oral;
        assert_eq!(c.record().unwrap().mmol, 12.48);
        assert_eq!(c.amount_label(), "Amount (tablets)");
        // Another product: by its strength.
        c.product = CalciumChoice::Other;
        c.route = Route::Iv;
        c.amount = "5".into();
        c.mmol_per_ml = "22".into();
        assert_eq!(
            c.record().unwrap_err(),
            "22 mmol/mL is outside 0.01–2 mmol/mL"
        );
        c.mmol_per_ml = "0.46".into();
        assert_eq!(c.record().unwrap().mmol, 2.3);
    }

    #[test]
    fn a_reaction_needs_its_grade_and_another_reaction_its_name() {
        let mut r = ReactionFields {
            kind: ReactionChoice::Hypotension,
            action: " fluids ".into(),
            outcome: "resolved".into(),
            ..ReactionFields::default()
        };
        assert_eq!(r.record().unwrap_err(), "choose the CTCAE grade (1–4)");
        r.grade = Some(2);
        assert_eq!(
            r.record().unwrap().sentence(),
            "Hypotension, CTCAE grade 2; action: fluids; outcome: resolved"
        );
        r.kind = ReactionChoice::Other;
        assert_eq!(r.record().unwrap_err(), "name the reaction");
        r.other = "itch".into();
        assert_eq!(r.record().unwrap().kind, ReactionKind::Other("itch".into()));
    }

    #[test]
    fn a_product_sample_keeps_its_unit_and_is_refused_out_of_range() {
        let mut s = SampleFields {
            cd3: "12".into(),
            unit: LabUnit::E6PerMillilitre,
            bag_ml: "95".into(),
        };
        let sample = s.record().unwrap();
        assert_eq!(sample.cd3_per_ul, 12_000.0);
        assert_eq!(sample.typed_unit, "10*6/mL");
        // 12 cells/µL is not a product's count: the unit was forgotten.
        s.unit = LabUnit::PerMicrolitre;
        assert!(s.record().unwrap_err().contains("check the unit"));
        s.unit = LabUnit::E9PerLitre;
        s.bag_ml.clear();
        assert!(s.record().unwrap_err().contains("the bag's volume"));
    }
}
