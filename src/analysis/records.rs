//! Structured records made during a run: calcium given (with its dose in mmol), reactions
//! (with their CTCAE grade, the action taken and the outcome) and vital signs (before, during,
//! after).
//!
//! Each is recorded as a note row whose text is a small versioned JSON payload that starts with
//! the sentence a reader needs, so an older reader still shows it as text:
//! `{"aph":"calcium/1","text":"Calcium gluconate 10 % 10 mL IV (2.2 mmol)",…}`. The note's code
//! says which record it is ([`Record::code`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::analysis::Timeline;
use crate::model::MachineState;

/// Molar mass of calcium, g/mol.
const CALCIUM_G_PER_MOL: f64 = 40.078;

/// A calcium product.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CalciumProduct {
    /// Calcium gluconate 10 % injection: 2.2 mmol Ca²⁺ per 10 mL.
    Gluconate10,
    /// Calcium chloride 10 % injection (dihydrate): 6.8 mmol Ca²⁺ per 10 mL.
    Chloride10,
    /// Calcium carbonate tablets, by their elemental calcium per tablet, mg.
    OralCarbonate { mg_per_tablet: f64 },
    /// Another product, by its strength in mmol Ca²⁺ per mL.
    Other { mmol_per_ml: f64 },
}

impl CalciumProduct {
    /// mmol Ca²⁺ per unit given (mL, or tablet).
    fn mmol_per_unit(self) -> f64 {
        match self {
            CalciumProduct::Gluconate10 => 0.22,
            CalciumProduct::Chloride10 => 0.68,
            CalciumProduct::OralCarbonate { mg_per_tablet } => mg_per_tablet / CALCIUM_G_PER_MOL,
            CalciumProduct::Other { mmol_per_ml } => mmol_per_ml,
        }
    }

    /// What the amount is counted in.
    pub fn amount_unit(self) -> &'static str {
        match self {
            CalciumProduct::OralCarbonate { .. } => "tablets",
            _ => "mL",
        }
    }

    fn name(self) -> String {
        match self {
            CalciumProduct::Gluconate10 => "Calcium gluconate 10 %".into(),
            CalciumProduct::Chloride10 => "Calcium chloride 10 %".into(),
            CalciumProduct::OralCarbonate { mg_per_tablet } => {
                format!("Calcium carbonate ({mg_per_tablet} mg Ca per tablet)")
            }
            CalciumProduct::Other { mmol_per_ml } => format!("Calcium ({mmol_per_ml} mmol/mL)"),
        }
    }
}

/// How calcium was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Iv,
    Oral,
}

/// A calcium dose given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalciumGiven {
    pub product: CalciumProduct,
    /// mL, or tablets for oral carbonate.
    pub amount: f64,
    pub route: Route,
    /// The dose, mmol Ca²⁺ (computed when the record is made).
    pub mmol: f64,
}

impl CalciumGiven {
    /// A dose, checked: a positive amount within what one dose can be, a strength within
    /// what a product can be, and a route that suits the product.
    pub fn new(product: CalciumProduct, amount: f64, route: Route) -> Result<CalciumGiven, String> {
        let (max, unit) = match product {
            CalciumProduct::OralCarbonate { mg_per_tablet } => {
                if !(100.0..=1000.0).contains(&mg_per_tablet) {
                    return Err(format!(
                        "{mg_per_tablet} mg calcium per tablet is outside 100–1000 mg"
                    ));
                }
                if route != Route::Oral {
                    return Err("calcium carbonate tablets are given by mouth".into());
                }
                (4.0, "tablets")
            }
            CalciumProduct::Other { mmol_per_ml } => {
                if !(0.01..=2.0).contains(&mmol_per_ml) {
                    return Err(format!("{mmol_per_ml} mmol/mL is outside 0.01–2 mmol/mL"));
                }
                (100.0, "mL")
            }
            CalciumProduct::Gluconate10 | CalciumProduct::Chloride10 => (100.0, "mL"),
        };
        if !(amount.is_finite() && amount > 0.0 && amount <= max) {
            return Err(format!(
                "a calcium dose of {amount} {unit} is outside 0–{max} {unit}"
            ));
        }
        let mmol = (amount * product.mmol_per_unit() * 100.0).round() / 100.0;
        Ok(CalciumGiven {
            product,
            amount,
            route,
            mmol,
        })
    }

    pub fn sentence(&self) -> String {
        let route = match self.route {
            Route::Iv => "IV",
            Route::Oral => "by mouth",
        };
        format!(
            "{} {} {} {route} ({} mmol)",
            self.product.name(),
            self.amount,
            self.product.amount_unit(),
            self.mmol
        )
    }
}

/// A reaction's kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReactionKind {
    Paraesthesia,
    Hypotension,
    Vasovagal,
    Nausea,
    Chills,
    Other(String),
}

/// A reaction during the collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    pub kind: ReactionKind,
    /// CTCAE grade, 1–4.
    pub grade: u8,
    pub action: String,
    pub outcome: String,
}

impl Reaction {
    pub fn new(
        kind: ReactionKind,
        grade: u8,
        action: &str,
        outcome: &str,
    ) -> Result<Reaction, String> {
        if !(1..=4).contains(&grade) {
            return Err(format!("CTCAE grade {grade} is not 1–4"));
        }
        if let ReactionKind::Other(what) = &kind
            && what.trim().is_empty()
        {
            return Err("name the reaction".into());
        }
        Ok(Reaction {
            kind,
            grade,
            action: action.trim().to_owned(),
            outcome: outcome.trim().to_owned(),
        })
    }

    pub fn sentence(&self) -> String {
        let kind = match &self.kind {
            ReactionKind::Paraesthesia => "Paraesthesia",
            ReactionKind::Hypotension => "Hypotension",
            ReactionKind::Vasovagal => "Vasovagal reaction",
            ReactionKind::Nausea => "Nausea",
            ReactionKind::Chills => "Chills",
            ReactionKind::Other(what) => what.as_str(),
        };
        let mut s = format!("{kind}, CTCAE grade {}", self.grade);
        if !self.action.is_empty() {
            s.push_str("; action: ");
            s.push_str(&self.action);
        }
        if !self.outcome.is_empty() {
            s.push_str("; outcome: ");
            s.push_str(&self.outcome);
        }
        s
    }
}

/// When vital signs were taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Before,
    During,
    After,
}

impl Phase {
    /// The phase of the session at wall-clock time `at` (`None`: now, as the latest state
    /// stands), from the machine's states: after collection once the machine is at END,
    /// during it once RUN has begun, else before. A time the timeline cannot place (no sample
    /// yet) is taken as now. `None` while the machine has not stated its state: nobody can
    /// say then.
    pub fn of_session_at(timeline: &Timeline, at: Option<Timestamp>) -> Option<Phase> {
        let moment = match at.and_then(|t| timeline.x_at(t)) {
            Some(x) => timeline.moment(x),
            None => timeline.now(),
        };
        let mut begun = false;
        let mut last = None;
        for span in moment.states() {
            begun |= span.state == MachineState::Run;
            last = Some(span.state);
        }
        Some(match last? {
            MachineState::End => Phase::After,
            _ if begun => Phase::During,
            _ => Phase::Before,
        })
    }
}

/// Vital signs; at least one is given.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Vitals {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bp_mmhg: Option<(f64, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hr_per_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_c: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spo2_percent: Option<f64>,
}

/// The plausible ranges of vital signs, inclusive: (name, low, high, unit).
pub const SYSTOLIC: (&str, f64, f64, &str) = ("systolic BP", 40.0, 260.0, "mmHg");
pub const DIASTOLIC: (&str, f64, f64, &str) = ("diastolic BP", 20.0, 180.0, "mmHg");
pub const HEART_RATE: (&str, f64, f64, &str) = ("heart rate", 20.0, 250.0, "/min");
pub const SPO2: (&str, f64, f64, &str) = ("SpO₂", 50.0, 100.0, "%");
pub const TEMPERATURE: (&str, f64, f64, &str) = ("temperature", 30.0, 43.0, "°C");

fn in_range(
    value: Option<f64>,
    (name, low, high, unit): (&str, f64, f64, &str),
) -> Result<(), String> {
    match value {
        Some(v) if !(v.is_finite() && (low..=high).contains(&v)) => {
            Err(format!("{name} {v} {unit} is outside {low}–{high} {unit}"))
        }
        _ => Ok(()),
    }
}

impl Vitals {
    /// Checks every value against its range, the diastolic below the systolic, and that there
    /// is at least one.
    pub fn check(self) -> Result<Vitals, String> {
        in_range(self.bp_mmhg.map(|b| b.0), SYSTOLIC)?;
        in_range(self.bp_mmhg.map(|b| b.1), DIASTOLIC)?;
        if let Some((sys, dia)) = self.bp_mmhg
            && dia >= sys
        {
            return Err(format!("diastolic BP {dia} is not below systolic {sys}"));
        }
        in_range(self.hr_per_min, HEART_RATE)?;
        in_range(self.spo2_percent, SPO2)?;
        in_range(self.temp_c, TEMPERATURE)?;
        if self.bp_mmhg.is_none()
            && self.hr_per_min.is_none()
            && self.spo2_percent.is_none()
            && self.temp_c.is_none()
        {
            return Err("enter at least one vital sign".into());
        }
        Ok(self)
    }

    pub fn sentence(&self) -> String {
        let mut parts = Vec::new();
        if let Some(phase) = self.phase {
            parts.push(
                match phase {
                    Phase::Before => "Before collection:",
                    Phase::During => "During collection:",
                    Phase::After => "After collection:",
                }
                .to_owned(),
            );
        }
        if let Some((s, d)) = self.bp_mmhg {
            parts.push(format!("BP {s:.0}/{d:.0} mmHg"));
        }
        if let Some(hr) = self.hr_per_min {
            parts.push(format!("HR {hr:.0}/min"));
        }
        if let Some(spo2) = self.spo2_percent {
            parts.push(format!("SpO₂ {spo2:.0} %"));
        }
        if let Some(t) = self.temp_c {
            parts.push(format!("T {t:.1} °C"));
        }
        parts.join(" ")
    }
}

/// A sample of the product bag taken during the run: its CD3+ count and the bag's volume
/// then, from which the collection efficiency so far is observed
/// ([`crate::analysis::forecast::ExpectedCe::observed`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSample {
    /// The sample's CD3+ count, cells/µL (converted from the unit typed).
    pub cd3_per_ul: f64,
    /// The unit the count was typed in (UCUM), and the number typed.
    pub typed_value: f64,
    pub typed_unit: String,
    /// The bag's volume when sampled, mL.
    pub bag_ml: f64,
}

impl ProductSample {
    /// A sample, checked: the count against the product CD3+ range in its unit, the bag's
    /// volume against the product volume range.
    pub fn new(
        value: f64,
        unit: crate::analysis::labs::LabUnit,
        bag_ml: f64,
    ) -> Result<ProductSample, String> {
        use crate::analysis::labs::{Analyte, LabUnit};
        let count = Analyte::ProductCd3
            .check(value, unit)
            .map_err(|e| e.to_string())?;
        let bag = Analyte::ProductVolume
            .check(bag_ml, LabUnit::Millilitre)
            .map_err(|e| e.to_string())?;
        Ok(ProductSample {
            cd3_per_ul: count.canonical,
            typed_value: value,
            typed_unit: unit.ucum().to_owned(),
            bag_ml: bag.canonical,
        })
    }

    pub fn sentence(&self) -> String {
        let unit = crate::analysis::labs::LabUnit::from_ucum(&self.typed_unit)
            .map_or(self.typed_unit.as_str(), |u| u.label());
        format!(
            "Product sample: CD3+ {} {unit}, bag {} mL",
            self.typed_value, self.bag_ml
        )
    }
}

/// A structured record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Calcium(CalciumGiven),
    Reaction(Reaction),
    Vitals(Vitals),
    ProductSample(ProductSample),
}

/// The payload as written: the version tag, the sentence, the record's fields.
#[derive(Serialize, Deserialize)]
struct Payload<T> {
    aph: String,
    text: String,
    #[serde(flatten)]
    record: T,
}

impl Record {
    /// The note code the record is recorded under.
    pub fn code(&self) -> &'static str {
        match self {
            Record::Calcium(_) => "CALCIUM_GIVEN",
            Record::Reaction(_) => "REACTION",
            Record::Vitals(_) => "VITALS",
            Record::ProductSample(_) => "PRODUCT_SAMPLE",
        }
    }

    fn tag(&self) -> &'static str {
        match self {
            Record::Calcium(_) => "calcium/1",
            Record::Reaction(_) => "reaction/1",
            Record::Vitals(_) => "vitals/1",
            Record::ProductSample(_) => "product-sample/1",
        }
    }

    pub fn sentence(&self) -> String {
        match self {
            Record::Calcium(c) => c.sentence(),
            Record::Reaction(r) => r.sentence(),
            Record::Vitals(v) => v.sentence(),
            Record::ProductSample(p) => p.sentence(),
        }
    }

    /// The note text: the versioned payload, its sentence first.
    pub fn to_text(&self) -> String {
        self.payload_text(self.sentence())
    }

    /// The note text of a record written up later: `mark` (say, `[for 14:05, entered later at
    /// 14:20]`) goes before the sentence in the payload's `text`, so a reader shows it and the
    /// payload stays one that [`Record::from_text`] reads.
    pub fn to_text_marked(&self, mark: &str) -> String {
        self.payload_text(format!("{mark} {}", self.sentence()))
    }

    fn payload_text(&self, text: String) -> String {
        let aph = self.tag().to_owned();
        let written = match self {
            Record::Calcium(record) => serde_json::to_string(&Payload { aph, text, record }),
            Record::Reaction(record) => serde_json::to_string(&Payload { aph, text, record }),
            Record::Vitals(record) => serde_json::to_string(&Payload { aph, text, record }),
            Record::ProductSample(record) => serde_json::to_string(&Payload { aph, text, record }),
        };
        written.unwrap_or_default()
    }

    /// Reads a note's text back; `None` for a plain note, or a payload of a version this one
    /// does not know (shown as its text).
    pub fn from_text(text: &str) -> Option<Record> {
        if !text.starts_with("{\"aph\":") {
            return None;
        }
        let tag: serde_json::Value = serde_json::from_str(text).ok()?;
        match tag.get("aph")?.as_str()? {
            "calcium/1" => serde_json::from_str::<Payload<CalciumGiven>>(text)
                .ok()
                .map(|p| Record::Calcium(p.record)),
            "reaction/1" => serde_json::from_str::<Payload<Reaction>>(text)
                .ok()
                .map(|p| Record::Reaction(p.record)),
            "vitals/1" => serde_json::from_str::<Payload<Vitals>>(text)
                .ok()
                .map(|p| Record::Vitals(p.record)),
            "product-sample/1" => serde_json::from_str::<Payload<ProductSample>>(text)
                .ok()
                .map(|p| Record::ProductSample(p.record)),
            _ => None,
        }
    }

    /// The sentence of a note's text: a payload's own, else the text as it is.
    pub fn readable(text: &str) -> String {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|v| v.get("aph").is_some())
            .and_then(|v| v.get("text")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| text.to_owned())
    }
}

/// The calcium given in all, mmol, over the records of a session.
pub fn calcium_total_mmol<'a>(records: impl IntoIterator<Item = &'a Record>) -> f64 {
    let total: f64 = records
        .into_iter()
        .filter_map(|r| match r {
            Record::Calcium(c) => Some(c.mmol),
            _ => None,
        })
        .sum();
    (total * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entry, EntryBody, Quantity, Sample};

    #[test]
    fn the_phase_of_a_time_follows_the_machine_states_before_run_during_it_and_after_end() {
        let at = |s: i64| Timestamp::from_second(1_700_000_000 + s).unwrap();
        let entry = |s: i64, body: EntryBody| Entry {
            time_utc: at(s),
            elapsed_ms: Some(s as u64 * 1000),
            seq: None,
            body,
        };
        let sample = || EntryBody::Sample(Sample::default().with(Quantity::InletMl, 1.0));
        let mut t = Timeline::new();
        // No state stated yet: nobody can say.
        assert_eq!(Phase::of_session_at(&t, Some(at(0))), None);
        assert_eq!(Phase::of_session_at(&t, None), None);
        t.push(&entry(0, EntryBody::State(MachineState::Prime)));
        t.push(&entry(10, sample()));
        t.push(&entry(100, EntryBody::State(MachineState::Run)));
        t.push(&entry(110, sample()));
        t.push(&entry(200, EntryBody::State(MachineState::Pause)));
        t.push(&entry(210, sample()));
        t.push(&entry(300, EntryBody::State(MachineState::Rinseback)));
        t.push(&entry(400, EntryBody::State(MachineState::End)));
        t.push(&entry(410, sample()));
        for (s, phase) in [
            (50, Phase::Before),
            (99, Phase::Before),
            (100, Phase::During),
            (250, Phase::During),
            (350, Phase::During),
            (400, Phase::After),
            (500, Phase::After),
        ] {
            assert_eq!(
                Phase::of_session_at(&t, Some(at(s))),
                Some(phase),
                "at {s} s"
            );
        }
        assert_eq!(Phase::of_session_at(&t, None), Some(Phase::After));
        // The machine runs again after END (a second procedure): during, from then.
        t.push(&entry(600, EntryBody::State(MachineState::Run)));
        t.push(&entry(610, sample()));
        assert_eq!(Phase::of_session_at(&t, Some(at(450))), Some(Phase::After));
        assert_eq!(Phase::of_session_at(&t, Some(at(700))), Some(Phase::During));
        assert_eq!(Phase::of_session_at(&t, None), Some(Phase::During));
    }

    #[test]
    fn calcium_doses_are_computed_in_mmol_by_product() {
        for (product, amount, route, mmol) in [
            (CalciumProduct::Gluconate10, 10.0, Route::Iv, 2.2),
            (CalciumProduct::Chloride10, 10.0, Route::Iv, 6.8),
            (CalciumProduct::Gluconate10, 20.0, Route::Iv, 4.4),
            // 500 mg of calcium is 12.48 mmol.
            (
                CalciumProduct::OralCarbonate {
                    mg_per_tablet: 500.0,
                },
                1.0,
                Route::Oral,
                12.48,
            ),
            (
                CalciumProduct::Other { mmol_per_ml: 0.46 },
                5.0,
                Route::Iv,
                2.3,
            ),
        ] {
            let given = CalciumGiven::new(product, amount, route).unwrap();
            assert_eq!(given.mmol, mmol, "{product:?}");
        }
        for (product, amount, route) in [
            (CalciumProduct::Gluconate10, 0.0, Route::Iv),
            (CalciumProduct::Gluconate10, -10.0, Route::Iv),
            (CalciumProduct::Gluconate10, 150.0, Route::Iv),
            (
                CalciumProduct::OralCarbonate {
                    mg_per_tablet: 500.0,
                },
                1.0,
                Route::Iv,
            ),
            (
                CalciumProduct::OralCarbonate {
                    mg_per_tablet: 5000.0,
                },
                1.0,
                Route::Oral,
            ),
            (CalciumProduct::Other { mmol_per_ml: 22.0 }, 1.0, Route::Iv),
        ] {
            assert!(
                CalciumGiven::new(product, amount, route).is_err(),
                "{product:?} {amount}"
            );
        }
    }

    #[test]
    fn records_round_trip_through_a_note_text_that_reads_as_a_sentence() {
        let records = [
            Record::Calcium(
                CalciumGiven::new(CalciumProduct::Chloride10, 10.0, Route::Iv).unwrap(),
            ),
            Record::Reaction(
                Reaction::new(
                    ReactionKind::Paraesthesia,
                    2,
                    "rate reduced, calcium",
                    "resolved",
                )
                .unwrap(),
            ),
            Record::Reaction(Reaction::new(ReactionKind::Other("itch".into()), 1, "", "").unwrap()),
            Record::ProductSample(
                ProductSample::new(12.0, crate::analysis::labs::LabUnit::E6PerMillilitre, 95.0)
                    .unwrap(),
            ),
            Record::Vitals(
                Vitals {
                    phase: Some(Phase::After),
                    bp_mmhg: Some((118.0, 72.0)),
                    hr_per_min: Some(80.0),
                    ..Vitals::default()
                }
                .check()
                .unwrap(),
            ),
        ];
        for record in &records {
            let text = record.to_text();
            assert_eq!(Record::from_text(&text).as_ref(), Some(record), "{text}");
            assert_eq!(Record::readable(&text), record.sentence());
            // The sentence comes first, for a reader that shows the text as it is.
            assert!(
                text.starts_with(&format!("{{\"aph\":\"{}\",\"text\":", record.tag())),
                "{text}"
            );
        }
        assert_eq!(
            records[0].sentence(),
            "Calcium chloride 10 % 10 mL IV (6.8 mmol)"
        );
        assert_eq!(
            records[1].sentence(),
            "Paraesthesia, CTCAE grade 2; action: rate reduced, calcium; outcome: resolved"
        );
        assert_eq!(
            records[3].sentence(),
            "Product sample: CD3+ 12 ×10⁶/mL, bag 95 mL"
        );
        assert_eq!(
            records[4].sentence(),
            "After collection: BP 118/72 mmHg HR 80/min"
        );
        assert_eq!(calcium_total_mmol(&records), 6.8);
        // Plain notes, and versions not known, stay text.
        assert_eq!(Record::from_text("arm repositioned"), None);
        let future = r#"{"aph":"calcium/2","text":"Calcium 3 mmol"}"#;
        assert_eq!(Record::from_text(future), None);
        assert_eq!(Record::readable(future), "Calcium 3 mmol");
        assert_eq!(Record::readable("{not json"), "{not json");
    }

    #[test]
    fn a_record_written_up_later_carries_its_mark_and_still_reads_back() {
        let record = Record::Calcium(
            CalciumGiven::new(CalciumProduct::Gluconate10, 10.0, Route::Iv).unwrap(),
        );
        let text = record.to_text_marked("[for 14:05, entered later at 14:20]");
        assert_eq!(Record::from_text(&text), Some(record));
        assert_eq!(
            Record::readable(&text),
            "[for 14:05, entered later at 14:20] Calcium gluconate 10 % 10 mL IV (2.2 mmol)"
        );
    }

    #[test]
    fn reactions_and_vitals_are_checked() {
        assert!(Reaction::new(ReactionKind::Nausea, 0, "", "").is_err());
        assert!(Reaction::new(ReactionKind::Nausea, 5, "", "").is_err());
        assert!(Reaction::new(ReactionKind::Other(" ".into()), 1, "", "").is_err());
        assert_eq!(
            Vitals::default().check(),
            Err("enter at least one vital sign".to_owned())
        );
        let bad = |v: Vitals| v.check().unwrap_err();
        assert_eq!(
            bad(Vitals {
                bp_mmhg: Some((80.0, 120.0)),
                ..Vitals::default()
            }),
            "diastolic BP 120 is not below systolic 80"
        );
        assert_eq!(
            bad(Vitals {
                temp_c: Some(98.6),
                ..Vitals::default()
            }),
            "temperature 98.6 °C is outside 30–43 °C"
        );
        assert!(
            Vitals {
                spo2_percent: Some(f64::NAN),
                ..Vitals::default()
            }
            .check()
            .is_err()
        );
    }
}
