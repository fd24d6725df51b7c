//! The collection's chain of identity and consumables, checked: patient numbers, date of birth
//! (and so age), collection ID, vascular access, operator and checker, anticoagulant and kit
//! lots, and the kit's expiry. An expired kit is refused.
//!
//! What cannot be used is named in [`CollectionDetails::problems`]; the problems never repeat
//! an identifier, as they may be shown or logged.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde_json::Value;

use crate::present::typeface::undrawable;
use crate::recording::SessionMeta;
use crate::recording::meta::LabMeta;

use super::identity::{CollectionId, NhsNumber};
use super::labs::Analyte;

/// How the patient's blood is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    Peripheral,
    CentralLine,
    Vascath,
}

impl AccessKind {
    pub const ALL: [AccessKind; 3] = [
        AccessKind::Peripheral,
        AccessKind::CentralLine,
        AccessKind::Vascath,
    ];

    /// As stored in the metadata.
    pub fn key(self) -> &'static str {
        match self {
            AccessKind::Peripheral => "peripheral",
            AccessKind::CentralLine => "central_line",
            AccessKind::Vascath => "vascath",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccessKind::Peripheral => "peripheral",
            AccessKind::CentralLine => "central line",
            AccessKind::Vascath => "vascath",
        }
    }
}

impl fmt::Display for AccessKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The collection's identity and consumables, each checked; `None` when missing or refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionDetails {
    pub hospital_number: Option<String>,
    pub nhs_number: Option<NhsNumber>,
    pub date_of_birth: Option<Date>,
    /// Whole years at the collection date.
    pub age_years: Option<i16>,
    pub collection_id: Option<CollectionId>,
    pub access: Option<AccessKind>,
    pub access_site: Option<String>,
    pub operator: Option<String>,
    pub checker: Option<String>,
    pub anticoagulant_lot: Option<String>,
    pub kit_lot: Option<String>,
    pub kit_expiry: Option<Date>,
    /// Why a value given cannot be used (never quoting an identifier).
    pub problems: Vec<String>,
}

/// A short free-text field: 1 to 60 printable characters, each one the record's typeface can
/// draw (a journal written elsewhere may hold what the forms refuse).
fn text_field(value: Option<&Value>, name: &str, problems: &mut Vec<String>) -> Option<String> {
    match value? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) if !undrawable(s).is_empty() => {
            problems.push(format!(
                "{name} has characters the record cannot print (its typeface has Latin, Greek \
                 and Cyrillic letters)"
            ));
            None
        }
        Value::String(s) if s.trim().chars().count() <= 60 && !s.chars().any(char::is_control) => {
            Some(s.trim().to_owned())
        }
        _ => {
            problems.push(format!("{name} must be up to 60 characters of text"));
            None
        }
    }
}

/// A date `YYYY-MM-DD`; for an expiry also `YYYY-MM` (the last day of that month).
fn date_field(
    value: Option<&Value>,
    name: &str,
    month_ok: bool,
    problems: &mut Vec<String>,
) -> Option<Date> {
    let text = match value? {
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) => s.trim().to_owned(),
        _ => {
            problems.push(format!("{name} must be a date, YYYY-MM-DD"));
            return None;
        }
    };
    if let Ok(date) = Date::from_str(&text) {
        return Some(date);
    }
    if month_ok && let Ok(first) = Date::from_str(&format!("{text}-01")) {
        return Some(first.last_of_month());
    }
    problems.push(format!(
        "{name} must be a date, YYYY-MM-DD{}",
        if month_ok { " or YYYY-MM" } else { "" }
    ));
    None
}

impl CollectionDetails {
    /// Reads and checks the metadata's details as of the collection's date `on`.
    pub fn from_meta(meta: Option<&SessionMeta>, on: Date) -> CollectionDetails {
        let mut d = CollectionDetails::default();
        let Some(meta) = meta else {
            return d;
        };
        let p = &mut d.problems;
        if let Some(patient) = &meta.patient {
            d.hospital_number = text_field(patient.hospital_number.as_ref(), "hospital number", p);
            d.nhs_number = match patient.nhs_number.as_ref() {
                None => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => {
                    NhsNumber::parse(s).map_err(|e| p.push(e.to_string())).ok()
                }
                Some(_) => {
                    p.push("an NHS number has 10 digits".into());
                    None
                }
            };
            d.date_of_birth = date_field(patient.date_of_birth.as_ref(), "date of birth", false, p);
            if let Some(dob) = d.date_of_birth {
                if dob > on {
                    p.push("the date of birth is after the collection".into());
                    d.date_of_birth = None;
                } else if on.year() - dob.year() > 120 {
                    p.push("the date of birth is more than 120 years ago".into());
                    d.date_of_birth = None;
                } else {
                    d.age_years = whole_years(dob, on);
                }
            }
        }
        d.operator = text_field(
            meta.operator.clone().map(Value::String).as_ref(),
            "operator",
            p,
        );
        if let Some(c) = &meta.collection {
            d.collection_id = match c.id.as_ref() {
                None => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => CollectionId::parse(s)
                    .map_err(|e| p.push(e.to_string()))
                    .ok(),
                Some(_) => {
                    p.push("the collection ID must be text".into());
                    None
                }
            };
            d.access = match c.access.as_ref() {
                None => None,
                Some(Value::String(s)) => {
                    let found = AccessKind::ALL.into_iter().find(|k| k.key() == s.trim());
                    if found.is_none() {
                        p.push("vascular access is peripheral, central_line or vascath".into());
                    }
                    found
                }
                Some(_) => {
                    p.push("vascular access is peripheral, central_line or vascath".into());
                    None
                }
            };
            d.access_site = text_field(c.access_site.as_ref(), "access site", p);
            d.checker = text_field(c.checker.as_ref(), "checker", p);
            d.anticoagulant_lot = text_field(c.anticoagulant_lot.as_ref(), "anticoagulant lot", p);
            d.kit_lot = text_field(c.kit_lot.as_ref(), "kit lot", p);
            d.kit_expiry = date_field(c.kit_expiry.as_ref(), "kit expiry", true, p);
            if let Some(expiry) = d.kit_expiry
                && expiry < on
            {
                p.push(format!("the kit expired on {expiry}: it must not be used"));
            }
        }
        if d.checker.is_some() && d.checker == d.operator {
            d.problems
                .push("the checker must be another person than the operator".into());
        }
        d
    }

    /// Whether the kit had expired by the collection date.
    pub fn kit_expired(&self, on: Date) -> bool {
        self.kit_expiry.is_some_and(|e| e < on)
    }
}

/// What links a patient's collections over several days: the patient's number (the NHS
/// number when valid, else the hospital number) and the collection ID. Two sessions with the
/// same key are days of one collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CollectionKey {
    pub patient: String,
    pub collection_id: String,
}

impl CollectionKey {
    /// The key of a session's metadata; `None` without a valid patient number and collection ID.
    pub fn of(meta: &SessionMeta) -> Option<CollectionKey> {
        // The date only matters for the kit and the age, not for the key.
        let d = CollectionDetails::from_meta(Some(meta), jiff::civil::date(2000, 1, 1));
        let patient = d
            .nhs_number
            .map(|n| format!("nhs:{}", n.digits()))
            .or_else(|| d.hospital_number.map(|h| format!("hospital:{h}")))?;
        Some(CollectionKey {
            patient,
            collection_id: d.collection_id?.to_string(),
        })
    }
}

/// The CD3+ cells collected, from the metadata's product count and weighed volume (with their
/// units); `None` without both, or when either is refused.
pub fn cd3_yield_cells(meta: &SessionMeta) -> Option<f64> {
    let lab = LabMeta::fields_of(Some(meta));
    let count = Analyte::ProductCd3.read(&lab).ok()??;
    let volume = Analyte::ProductVolume.read(&lab).ok()??;
    Some(count.canonical * 1000.0 * volume.canonical)
}

/// The target CD3+ dose, cells, when the metadata gives a plausible one.
pub fn target_cd3_cells(meta: &SessionMeta) -> Option<f64> {
    LabMeta::fields_of(Some(meta))
        .get("target_cd3_cells")
        .and_then(Value::as_f64)
        .filter(|t| t.is_finite() && *t > 0.0)
}

/// The CE2 of a finished collection, %: its CD3+ yield over the CD3+ cells in the whole
/// blood processed (pre-count × 1000 × mL); `None` without the inputs or above 100 %.
pub fn ce2_percent(meta: &SessionMeta, wb_processed_ml: f64) -> Option<f64> {
    let pre = Analyte::PreCd3
        .read(&LabMeta::fields_of(Some(meta)))
        .ok()??;
    let ce2 = 100.0 * cd3_yield_cells(meta)? / (pre.canonical * 1000.0 * wb_processed_ml);
    (ce2.is_finite() && ce2 > 0.0 && ce2 <= 100.0).then_some(ce2)
}

/// Whole years from `from` to `to` (birthdays counted on the day; 29 February on 28 February
/// in other years, as `Date::checked_add` clamps).
fn whole_years(from: Date, to: Date) -> Option<i16> {
    let mut years = to.year() - from.year();
    let birthday = from.checked_add(jiff::Span::new().years(years)).ok()?;
    if birthday > to {
        years -= 1;
    }
    Some(years)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::meta::parse_meta;

    fn date(s: &str) -> Date {
        Date::from_str(s).unwrap()
    }

    fn details(json: &str, on: &str) -> CollectionDetails {
        let meta = parse_meta(json).unwrap();
        CollectionDetails::from_meta(Some(&meta), date(on))
    }

    #[test]
    fn a_complete_record_reads_back_checked() {
        let d = details(
            r#"{"format": "aph-session/1",
                "patient": {"hospital_number": "RX1234567", "nhs_number": "943 476 5919",
                            "date_of_birth": "1980-05-17"},
                "operator": "RN One",
                "collection": {"id": "G1234 98 654321 H", "access": "central_line",
                               "access_site": "right internal jugular", "checker": "RN Two",
                               "anticoagulant_lot": "AC2291", "kit_lot": "K7781",
                               "kit_expiry": "2027-03"}}"#,
            "2026-11-30",
        );
        assert_eq!(d.problems, Vec::<String>::new());
        assert_eq!(d.nhs_number.unwrap().to_string(), "943 476 5919");
        assert_eq!(d.age_years, Some(46));
        assert_eq!(d.collection_id.unwrap().to_string(), "G1234 98 654321 H");
        assert_eq!(d.access, Some(AccessKind::CentralLine));
        assert_eq!(d.kit_expiry, Some(date("2027-03-31")));
        assert_eq!(d.operator.as_deref(), Some("RN One"));
    }

    #[test]
    fn wrong_details_are_refused_without_repeating_them() {
        let d = details(
            r#"{"format": "aph-session/1",
                "patient": {"nhs_number": "9434765918", "date_of_birth": "2030-01-01"},
                "operator": "RN One",
                "collection": {"id": "G1234 98 654331 H", "access": "arm",
                               "checker": "RN One", "kit_expiry": "2026-10-31"}}"#,
            "2026-11-30",
        );
        assert_eq!(
            d.problems,
            [
                "the NHS number's check digit does not match: a digit is mistyped",
                "the date of birth is after the collection",
                "the donation identification number's check character does not match",
                "vascular access is peripheral, central_line or vascath",
                "the kit expired on 2026-10-31: it must not be used",
                "the checker must be another person than the operator",
            ]
        );
        assert!(d.problems.iter().all(|p| !p.contains("943476")));
        assert_eq!(
            (&d.nhs_number, &d.collection_id, d.access),
            (&None, &None, None)
        );
        assert!(d.kit_expired(date("2026-11-30")));
        // The kit is good on its expiry day.
        assert!(!d.kit_expired(date("2026-10-31")));
    }

    #[test]
    fn free_text_the_record_cannot_print_is_refused_without_repeating_it() {
        let d = details(
            r#"{"format": "aph-session/1",
                "patient": {"hospital_number": "RX1 山田"},
                "collection": {"kit_lot": "K-1", "access_site": "左腕"}}"#,
            "2026-11-30",
        );
        assert_eq!(
            d.problems,
            [
                "hospital number has characters the record cannot print (its typeface has \
                 Latin, Greek and Cyrillic letters)",
                "access site has characters the record cannot print (its typeface has Latin, \
                 Greek and Cyrillic letters)",
            ]
        );
        assert_eq!((d.hospital_number, d.access_site), (None, None));
        assert_eq!(d.kit_lot.as_deref(), Some("K-1"));
    }

    #[test]
    fn collections_are_linked_by_patient_number_and_collection_id_and_yield_from_the_labs() {
        let meta = parse_meta(
            r#"{"format": "aph-session/1",
                "patient": {"nhs_number": "943 476 5919", "hospital_number": "RX1"},
                "collection": {"id": "KTE-2026-00417"},
                "lab": {"pre_cd3": {"value": 0.3, "unit": "10*9/L"},
                        "product_cd3": {"value": 6.2, "unit": "10*6/mL"},
                        "product_volume_ml": {"value": 210, "unit": "mL"},
                        "target_cd3_cells": 2e9}}"#,
        )
        .unwrap();
        let key = CollectionKey::of(&meta).unwrap();
        assert_eq!(key.patient, "nhs:9434765919");
        assert_eq!(key.collection_id, "KTE-2026-00417");
        // 6200/µL × 1000 × 210 mL.
        assert_eq!(cd3_yield_cells(&meta), Some(1.302e9));
        assert_eq!(target_cd3_cells(&meta), Some(2e9));
        // 1.302e9 ÷ (300 × 1000 × 11569 mL) = 37.5 %.
        let ce2 = ce2_percent(&meta, 11_569.2).unwrap();
        assert!((ce2 - 37.5).abs() < 0.05, "{ce2}");
        // 1 mL of blood cannot have given it: above 100 %, none.
        assert_eq!(ce2_percent(&meta, 1.0), None);
        // Without a collection ID or a patient number, no key.
        let mut lone = meta.clone();
        lone.collection = None;
        assert_eq!(CollectionKey::of(&lone), None);
        let mut hospital_only = meta;
        hospital_only.patient.as_mut().unwrap().nhs_number = None;
        assert_eq!(
            CollectionKey::of(&hospital_only).unwrap().patient,
            "hospital:RX1"
        );
    }

    #[test]
    fn age_counts_whole_years_to_the_day() {
        for (dob, on, years) in [
            ("2000-06-15", "2026-06-14", 25),
            ("2000-06-15", "2026-06-15", 26),
            ("2004-02-29", "2026-02-28", 22),
            ("2004-02-29", "2026-02-27", 21),
            ("2026-11-30", "2026-11-30", 0),
        ] {
            assert_eq!(whole_years(date(dob), date(on)), Some(years), "{dob} {on}");
        }
    }
}
