//! The collection record: what a CAR-T collection's summary carries besides the figures: the
//! chain of identity, the consumables, every lab value with its unit, the product's two
//! volumes (the machine's collect counter and the weighed bag), the CD3+ yield against the
//! target dose, and the calcium given (in mmol), reactions and vital signs recorded during the
//! run. Its inputs are printed with it, so every figure can be checked by hand.

use serde::{Deserialize, Serialize};

use crate::analysis::collection::{CollectionDetails, target_cd3_cells};
use crate::analysis::labs::Analyte;
use crate::analysis::records::{Record, calcium_total_mmol};
use crate::recording::SessionMeta;
use crate::recording::meta::LabMeta;

use super::{Figure, NoteRecord, Summary};

/// One lab value as entered, with its unit, and the same in the unit the arithmetic uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabLine {
    /// The metadata key: `pre_cd3`.
    pub key: String,
    /// `pre-collection CD3+`.
    pub name: String,
    pub value: f64,
    /// UCUM code: `10*9/L`.
    pub unit: String,
    /// The unit as printed: `×10⁹/L`.
    pub unit_label: String,
    pub canonical_value: f64,
    pub canonical_unit: String,
}

impl LabLine {
    /// `0.95 ×10⁹/L (= 950 cells/µL)`, or the value alone when typed in the canonical unit.
    pub fn describe(&self) -> String {
        if self.unit == self.canonical_unit {
            format!("{} {}", self.value, self.unit_label)
        } else {
            let canonical = Analyte::ALL
                .into_iter()
                .find(|a| a.key() == self.key)
                .map_or_else(
                    || self.canonical_unit.clone(),
                    |a| a.canonical_unit().label().to_owned(),
                );
            format!(
                "{} {} (= {} {canonical})",
                self.value, self.unit_label, self.canonical_value
            )
        }
    }
}

/// An input behind the figures, as written for a reader (`Weight`, `80 kg`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputLine {
    pub label: String,
    pub value: String,
}

/// A structured record of the run, at its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordLine {
    /// Seconds from the start of the recording.
    pub at_s: f64,
    pub text: String,
}

/// The collection record (see the module's documentation). Empty fields are `None` or empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CollectionRecord {
    pub hospital_number: Option<String>,
    pub nhs_number: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    pub age_years: Option<i16>,
    pub collection_id: Option<String>,
    pub vascular_access: Option<String>,
    pub access_site: Option<String>,
    pub checker: Option<String>,
    pub anticoagulant_lot: Option<String>,
    pub kit_lot: Option<String>,
    /// `YYYY-MM-DD`.
    pub kit_expiry: Option<String>,
    pub labs: Vec<LabLine>,
    /// The bag weighed after collection, mL: the volume the yield and CE2 use.
    pub product_volume_weighed_ml: Option<f64>,
    /// The machine's collect counter at the end, mL (the `collect_ml` figure).
    pub product_volume_machine_ml: Option<f64>,
    pub target_cd3_cells: Option<f64>,
    /// Whether the CD3+ yield reached the target dose.
    pub cd3_target_met: Option<bool>,
    /// The CD3+ yield as a multiple of the target dose.
    pub cd3_target_multiple: Option<f64>,
    /// The earlier days of the same collection (same patient number and collection ID) found
    /// beside the recording, and the CD3+ yield of all days so far, this one included (set by
    /// the export, which can look at the other recordings).
    pub earlier_days: usize,
    pub cd3_yield_so_far_cells: Option<f64>,
    /// Calcium given in all, mmol Ca²⁺.
    pub calcium_total_mmol: f64,
    pub calcium: Vec<RecordLine>,
    pub reactions: Vec<RecordLine>,
    pub vitals: Vec<RecordLine>,
    /// Product samples taken during the run (CD3+ count, bag volume).
    pub product_samples: Vec<RecordLine>,
    /// Details given that cannot be used, and why (never quoting an identifier).
    pub problems: Vec<String>,
    /// The inputs behind the figures (patient, target, anticoagulant, alarm limits), for every
    /// session (set by the export, which reads the metadata and the limits in force).
    pub inputs: Vec<InputLine>,
}

impl CollectionRecord {
    /// Whether there is anything of a CAR-T collection record (the inputs aside, which every
    /// session has): else the report leaves the record's parts out.
    pub fn is_empty(&self) -> bool {
        CollectionRecord {
            inputs: Vec::new(),
            ..self.clone()
        } == CollectionRecord::default()
    }
}

/// Builds the record from the metadata, the notes and the figures already computed.
pub(super) fn collection_record(
    s: &Summary,
    meta: Option<&SessionMeta>,
    notes: &[NoteRecord],
) -> CollectionRecord {
    // The collection's date: the run's start, else the recording's (a recording without rows
    // has no date to check the kit and the age against; any date will do for it).
    let on = s
        .time(Figure::RunStartUtc)
        .or_else(|| s.time(Figure::StartedUtc))
        .map_or_else(
            || jiff::civil::date(2000, 1, 1),
            |t| jiff::tz::Offset::UTC.to_datetime(t).date(),
        );
    let details = CollectionDetails::from_meta(meta, on);
    let mut r = CollectionRecord {
        hospital_number: details.hospital_number.clone(),
        nhs_number: details.nhs_number.as_ref().map(ToString::to_string),
        date_of_birth: details.date_of_birth.map(|d| d.to_string()),
        age_years: details.age_years,
        collection_id: details.collection_id.as_ref().map(ToString::to_string),
        vascular_access: details.access.map(|a| a.label().to_owned()),
        access_site: details.access_site.clone(),
        checker: details.checker.clone(),
        anticoagulant_lot: details.anticoagulant_lot.clone(),
        kit_lot: details.kit_lot.clone(),
        kit_expiry: details.kit_expiry.map(|d| d.to_string()),
        problems: details.problems,
        product_volume_machine_ml: s.number(Figure::CollectMl),
        ..CollectionRecord::default()
    };
    let lab = LabMeta::fields_of(meta);
    for analyte in Analyte::ALL {
        match analyte.read(&lab) {
            Ok(Some(v)) => {
                if analyte == Analyte::ProductVolume {
                    r.product_volume_weighed_ml = Some(v.canonical);
                }
                r.labs.push(LabLine {
                    key: analyte.key().to_owned(),
                    name: analyte.name().to_owned(),
                    value: v.value,
                    unit: v.unit.ucum().to_owned(),
                    unit_label: v.unit.label().to_owned(),
                    canonical_value: v.canonical,
                    canonical_unit: analyte.canonical_unit().ucum().to_owned(),
                });
            }
            Ok(None) => {}
            Err(e) => r.problems.push(e.to_string()),
        }
    }
    r.target_cd3_cells = meta.and_then(target_cd3_cells);
    if let (Some(cells), Some(target)) = (s.number(Figure::Cd3YieldCells), r.target_cd3_cells) {
        r.cd3_target_met = Some(cells >= target);
        r.cd3_target_multiple = Some(cells / target);
    }
    let mut records = Vec::new();
    for note in notes {
        let Some(record) = Record::from_text(&note.text) else {
            continue;
        };
        let line = RecordLine {
            at_s: note.at_s,
            // The note's own sentence: it keeps a time set back ("[for 14:05, entered later…]").
            text: Record::readable(&note.text),
        };
        match record {
            Record::Calcium(_) => r.calcium.push(line),
            Record::Reaction(_) => r.reactions.push(line),
            Record::Vitals(_) => r.vitals.push(line),
            Record::ProductSample(_) => r.product_samples.push(line),
        }
        records.push(record);
    }
    r.calcium_total_mmol = calcium_total_mmol(&records);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::records::{CalciumGiven, CalciumProduct, Route};
    use crate::recording::meta::parse_meta;

    fn note(at_s: f64, text: String) -> NoteRecord {
        NoteRecord {
            time_utc: jiff::Timestamp::from_second(1_800_000_000).unwrap(),
            at_s,
            code: String::new(),
            text,
        }
    }

    #[test]
    fn the_record_carries_labs_with_units_both_volumes_the_target_and_calcium_in_mmol() {
        let meta = parse_meta(
            r#"{"format": "aph-session/1",
                "patient": {"nhs_number": "9434765919", "date_of_birth": "1980-05-17"},
                "collection": {"id": "KTE-2026-00417", "kit_expiry": "2030-01"},
                "lab": {"pre_cd3": {"value": 0.95, "unit": "10*9/L"},
                        "product_cd3_per_ul": 38000,
                        "product_volume_ml": {"value": 260, "unit": "mL"},
                        "pre_hb": {"value": 125, "unit": "g/L"},
                        "post_hb": {"value": 11.2},
                        "target_cd3_cells": 2e9}}"#,
        )
        .unwrap();
        let mut s = Summary::default();
        s.set(Figure::CollectMl, super::super::Value::Number(182.0));
        s.set(
            Figure::Cd3YieldCells,
            super::super::Value::Number(38_000.0 * 1000.0 * 260.0),
        );
        let gluconate = |ml| {
            Record::Calcium(CalciumGiven::new(CalciumProduct::Gluconate10, ml, Route::Iv).unwrap())
        };
        let notes = [
            note(600.0, gluconate(10.0).to_text()),
            note(900.0, "arm repositioned".into()),
            note(1200.0, gluconate(20.0).to_text()),
        ];
        let r = collection_record(&s, Some(&meta), &notes);
        assert_eq!(r.nhs_number.as_deref(), Some("943 476 5919"));
        assert_eq!(r.collection_id.as_deref(), Some("KTE-2026-00417"));
        assert_eq!(r.kit_expiry.as_deref(), Some("2030-01-31"));
        assert_eq!(
            r.labs.iter().map(LabLine::describe).collect::<Vec<_>>(),
            [
                "0.95 ×10⁹/L (= 950 cells/µL)",
                "125 g/L (= 12.5 g/dL)",
                "260 mL",
                "38000 cells/µL"
            ]
        );
        // post_hb has no unit: refused and said why.
        assert_eq!(
            r.problems,
            ["post-collection Hb has no unit: give one of g/dL, g/L"]
        );
        assert_eq!(
            (r.product_volume_machine_ml, r.product_volume_weighed_ml),
            (Some(182.0), Some(260.0))
        );
        assert_eq!(r.cd3_target_met, Some(true));
        assert!((r.cd3_target_multiple.unwrap() - 4.94).abs() < 1e-9);
        assert_eq!(r.calcium_total_mmol, 6.6);
        assert_eq!(r.calcium.len(), 2);
        assert_eq!(
            r.calcium[1].text,
            "Calcium gluconate 10 % 20 mL IV (4.4 mmol)"
        );
        assert!(!r.is_empty());
        assert!(collection_record(&Summary::default(), None, &[]).is_empty());
    }
}
