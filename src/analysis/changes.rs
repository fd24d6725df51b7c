//! The change trail: every change to the session's clinical details while it is recorded (the
//! patient's weight, height, sex, age, entered TBV; the target; the limits and lab values kept
//! in the metadata) is written into the recording as a `note` row with the code
//! [`PATIENT_CHANGED`]: the row's time is when the change was saved, its text what changed from
//! what to what. A note row, because every reader of the recording format already takes a note
//! with any code (a new `link` code would make older readers skip the row).
//!
//! The text is one item per changed value, `key: old -> new`, items joined by `; `, in key
//! order: `patient.weight_kg: 80 -> 40; tbv_ml: 5249 -> 3961` (ASCII arrows: the fonts of the
//! screen and the PDF have no `→`). Keys are the metadata's, dotted
//! (`patient.age.value`, `targets.tbv_processed`), plus what the monitor derives from the
//! patient's details: `tbv_ml` (whole mL) and `tbv_method`. A value not given is `—`. A text
//! value holding `;` or `->` is written as a JSON string with `;` and `>` escaped. The patient id is
//! never written into the recording: its change reads `patient.id changed`.
//!
//! The summary reads the trail back ([`notices`]): its figures per kg and per TBV use the details
//! as last saved, for the whole session, and when the weight or the TBV changed during the
//! session it says so, with the values, in a notice.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::model::Note;
use crate::recording::SessionMeta;

use super::patient::Patient;

/// The note code of a change to the session's details.
pub const PATIENT_CHANGED: &str = "PATIENT_CHANGED";
/// What the trail writes for a value that is not there.
pub const ABSENT: &str = "—";
const ARROW: &str = " -> ";
const SEPARATOR: &str = "; ";
/// The item written for a change of the patient id, whose values stay out of the recording.
const ID_CHANGED: &str = "patient.id changed";

/// Top-level metadata keys that are not clinical details: not trailed.
const NOT_DETAILS: [&str; 5] = ["format", "machine", "started_utc", "operator", "demo"];
/// Keys under `patient` that are not trailed as such: the id (its values are kept out of the
/// recording) and the method (trailed as the derived `tbv_method`).
const PATIENT_NOT_TRAILED: [&str; 2] = ["id", "tbv_method"];

/// One changed value. `old` and `new` are as written in the trail, `None` when not given (both
/// `None` for the patient id, whose values are not written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// What changed in the session's details from `old` to `new`, in key order.
pub fn changes(old: &SessionMeta, new: &SessionMeta) -> Vec<Change> {
    let (values, new_values) = (details(old), details(new));
    let keys: BTreeSet<&String> = values.keys().chain(new_values.keys()).collect();
    let mut out: Vec<Change> = keys
        .into_iter()
        .filter_map(|key| {
            let (a, b) = (values.get(key), new_values.get(key));
            (!same(a, b)).then(|| Change {
                key: key.clone(),
                old: a.map(written),
                new: b.map(written),
            })
        })
        .collect();
    let id = |meta: &SessionMeta| meta.patient.as_ref().and_then(|p| p.id.clone());
    if id(old) != id(new) {
        out.insert(
            0,
            Change {
                key: "patient.id".to_owned(),
                old: None,
                new: None,
            },
        );
    }
    out
}

/// The trail's note for a change of the metadata from `old` to `new`, if anything changed.
pub fn change_note(old: &SessionMeta, new: &SessionMeta) -> Option<Note> {
    let changes = changes(old, new);
    (!changes.is_empty()).then(|| Note {
        code: PATIENT_CHANGED.to_owned(),
        text: note_text(&changes),
    })
}

/// The note's text for `changes`.
pub fn note_text(changes: &[Change]) -> String {
    let items: Vec<String> = changes
        .iter()
        .map(|c| {
            if c.key == "patient.id" {
                ID_CHANGED.to_owned()
            } else {
                format!(
                    "{}: {}{ARROW}{}",
                    c.key,
                    c.old.as_deref().unwrap_or(ABSENT),
                    c.new.as_deref().unwrap_or(ABSENT)
                )
            }
        })
        .collect();
    items.join(SEPARATOR)
}

/// Reads a [`PATIENT_CHANGED`] note's text back; items that are not `key: old -> new` are
/// skipped, except the id's.
pub fn parse_note_text(text: &str) -> Vec<Change> {
    let value = |v: &str| (v != ABSENT).then(|| v.to_owned());
    text.split(SEPARATOR)
        .filter_map(|item| {
            if item == ID_CHANGED {
                return Some(Change {
                    key: "patient.id".to_owned(),
                    old: None,
                    new: None,
                });
            }
            let (key, values) = item.split_once(": ")?;
            let (old, new) = values.split_once(ARROW)?;
            Some(Change {
                key: key.to_owned(),
                old: value(old),
                new: value(new),
            })
        })
        .collect()
}

/// The summary's notices about changes during the session, from the notes' `(code, text)` and
/// the patient as last saved (whose values the figures use).
pub fn notices<'a>(
    notes: impl IntoIterator<Item = (&'a str, &'a str)>,
    patient: &Patient,
) -> Vec<String> {
    let mut weights = Vec::new();
    let mut tbvs = Vec::new();
    for (_, text) in notes
        .into_iter()
        .filter(|(code, _)| *code == PATIENT_CHANGED)
    {
        for change in parse_note_text(text) {
            let (Some(old), new) = (&change.old, change.new.as_deref()) else {
                continue;
            };
            let from_to = |unit: &str| match new {
                Some(new) => format!("from {old} to {new} {unit}"),
                None => format!("from {old} {unit} to none"),
            };
            match change.key.as_str() {
                "patient.weight_kg" => weights.push(from_to("kg")),
                "tbv_ml" => tbvs.push(from_to("mL")),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    if !weights.is_empty() {
        let used = match patient.weight_kg {
            Some(kg) => format!(
                "the citrate figures (per kg) are computed for the whole session with the \
                 weight last saved, {kg} kg"
            ),
            None => "the weight last saved cannot be used, so the citrate figures (per kg) \
                     are not computed"
                .to_owned(),
        };
        out.push(format!(
            "The weight changed during the session ({}; see the {PATIENT_CHANGED} notes): {used}.",
            weights.join(", ")
        ));
    }
    if !tbvs.is_empty() {
        let used = match patient.tbv() {
            Some(tbv) => format!(
                "TBV processed is computed with the TBV last saved, {:.0} mL ({})",
                tbv.ml,
                tbv.method.short()
            ),
            None => "there is no TBV from the details last saved, so TBV processed is not \
                     computed"
                .to_owned(),
        };
        out.push(format!(
            "The TBV changed during the session ({}): {used}.",
            tbvs.join(", ")
        ));
    }
    out
}

/// The clinical details of `meta` as dotted keys and their values (nulls left out).
fn details(meta: &SessionMeta) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Ok(Value::Object(mut map)) = serde_json::to_value(meta) else {
        return out;
    };
    for key in NOT_DETAILS {
        map.remove(key);
    }
    if let Some(Value::Object(patient)) = map.get_mut("patient") {
        for key in PATIENT_NOT_TRAILED {
            patient.remove(key);
        }
    }
    for (key, value) in map {
        flatten(key, value, &mut out);
    }
    // What the monitor derives from the patient's details: the TBV and its method.
    if let Some(tbv) = Patient::from_meta(meta.patient.as_ref()).tbv() {
        out.insert("tbv_ml".to_owned(), Value::from(format!("{:.0}", tbv.ml)));
        out.insert("tbv_method".to_owned(), Value::from(tbv.method.key()));
    }
    out
}

fn flatten(key: String, value: Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (inner, value) in map {
                flatten(format!("{key}.{inner}"), value, out);
            }
        }
        value => {
            out.insert(key, value);
        }
    }
}

/// Whether two values are the same detail: numbers by value (`70` is `70.0`).
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A value as the trail writes it.
fn written(value: &Value) -> String {
    match value {
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |v| v.to_string()),
        Value::String(s) if s.is_empty() || s == ABSENT || s.contains(';') || s.contains("->") => {
            serde_json::to_string(s)
                .unwrap_or_default()
                .replace(';', "\\u003b")
                .replace('>', "\\u003e")
        }
        Value::String(s) => s.clone(),
        other => other.to_string().replace(';', "\\u003b"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::meta::{PatientMeta, TargetsMeta};

    fn adult(weight_kg: f64) -> SessionMeta {
        SessionMeta {
            patient: Some(PatientMeta {
                id: Some("P-0001".into()),
                weight_kg: Some(weight_kg.into()),
                height_cm: Some(178.into()),
                sex: Some("male".into()),
                ..PatientMeta::default()
            }),
            targets: Some(TargetsMeta {
                tbv_processed: Some(2.5.into()),
                ..TargetsMeta::default()
            }),
            operator: Some("RN A".into()),
            ..SessionMeta::default()
        }
    }

    #[test]
    fn a_weight_change_names_the_old_and_new_weight_and_tbv() {
        // Nadler, male, 178 cm: 0.3669 × 1.78³ = 0.3669 × 5.639752 = 2.0692250088;
        // 80 kg: + 2.5752 + 0.6041 = 5.2485250088 L -> 5249 mL;
        // 40 kg: + 1.2876 + 0.6041 = 3.9609250088 L -> 3961 mL.
        let note = change_note(&adult(80.0), &adult(40.0)).unwrap();
        assert_eq!(note.code, "PATIENT_CHANGED");
        assert_eq!(
            note.text,
            "patient.weight_kg: 80 -> 40; tbv_ml: 5249 -> 3961"
        );
        // The same values written another way, the operator or the machine: no change.
        let mut same = adult(80.0);
        same.patient.as_mut().unwrap().weight_kg = Some(serde_json::json!(80));
        same.operator = Some("RN B".into());
        assert_eq!(change_note(&adult(80.0), &same), None);
    }

    #[test]
    fn every_detail_is_trailed_the_id_without_its_values() {
        let old = adult(80.0);
        let mut new = adult(80.0);
        {
            let p = new.patient.as_mut().unwrap();
            p.id = Some("P-0002".into());
            p.sex = Some("female".into());
            p.age = Some(serde_json::json!({"value": 30, "unit": "years"}));
        }
        new.targets.as_mut().unwrap().tbv_processed = None;
        new.targets.as_mut().unwrap().wb_processed_l = Some(12.into());
        new.extra
            .insert("limits".into(), serde_json::json!({"citrate": 1.0}));
        // Nadler female, 178 cm, 80 kg: 0.3561 × 5.639752 + 0.03308 × 80 + 0.1833
        //   = 2.0083156872 + 2.6464 + 0.1833 = 4.8380156872 L -> 4838 mL.
        let text = change_note(&old, &new).unwrap().text;
        assert_eq!(
            text,
            "patient.id changed; limits.citrate: — -> 1; patient.age.unit: — -> years; \
             patient.age.value: — -> 30; patient.sex: male -> female; \
             targets.tbv_processed: 2.5 -> —; targets.wb_processed_l: — -> 12; \
             tbv_ml: 5249 -> 4838"
        );
        assert!(!text.contains("P-000"), "the id stays out of the recording");
        let back = parse_note_text(&text);
        assert_eq!(back.len(), 8);
        assert_eq!(back, changes(&old, &new));
    }

    #[test]
    fn a_first_entry_is_trailed_from_nothing_and_text_values_cannot_break_the_items() {
        let empty = SessionMeta::default();
        let mut new = SessionMeta::default();
        new.patient = Some(PatientMeta {
            weight_kg: Some(10.into()),
            age: Some(serde_json::json!({"value": 3, "unit": "years"})),
            ..PatientMeta::default()
        });
        new.extra
            .insert("ward".into(), Value::from("7B; bed 3 -> 4"));
        // 75 mL/kg × 10 kg = 750 mL.
        let text = change_note(&empty, &new).unwrap().text;
        assert_eq!(
            text,
            "patient.age.unit: — -> years; patient.age.value: — -> 3; patient.weight_kg: — -> 10; \
             tbv_method: — -> ml_per_kg_child; tbv_ml: — -> 750; \
             ward: — -> \"7B\\u003b bed 3 -\\u003e 4\""
        );
        let back = parse_note_text(&text);
        assert_eq!(back.len(), 6);
        let ward: String = serde_json::from_str(back[5].new.as_deref().unwrap()).unwrap();
        assert_eq!(ward, "7B; bed 3 -> 4");
    }

    #[test]
    fn the_summary_says_plainly_which_weight_and_tbv_it_used() {
        let patient = Patient::from_meta(adult(40.0).patient.as_ref());
        let notes = [
            ("OBSERVATION", "patient.weight_kg: 80 -> 40"),
            (
                PATIENT_CHANGED,
                "patient.weight_kg: — -> 80; tbv_ml: — -> 5249",
            ),
            (
                PATIENT_CHANGED,
                "patient.weight_kg: 80 -> 40; tbv_ml: 5249 -> 3961",
            ),
        ];
        assert_eq!(
            notices(notes, &patient),
            [
                "The weight changed during the session (from 80 to 40 kg; see the PATIENT_CHANGED \
                 notes): the citrate figures (per kg) are computed for the whole session with \
                 the weight last saved, 40 kg.",
                "The TBV changed during the session (from 5249 to 3961 mL): TBV processed is \
                 computed with the TBV last saved, 3961 mL (Nadler).",
            ]
        );
        // A first entry is no change of value: no notice.
        assert!(notices(notes[..2].iter().copied(), &patient).is_empty());
        // Changed to a weight that cannot be used.
        let none = Patient::default();
        let said = notices(notes, &none);
        assert!(
            said[0].ends_with(
                "the weight last saved cannot be used, so the citrate \
             figures (per kg) are not computed."
            ),
            "{said:?}"
        );
        assert!(
            said[1].ends_with("so TBV processed is not computed."),
            "{said:?}"
        );
    }
}
