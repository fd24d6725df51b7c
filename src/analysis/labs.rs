//! Lab values with explicit units: what each analyte of a collection record may be entered in,
//! the exact conversion to the unit the arithmetic uses, and the plausible range outside which
//! a value is refused (with the range named).
//!
//! A count typed in the wrong unit is off by a factor of 1,000 (0.95 ×10⁹/L typed as cells/µL
//! makes a CE2 of tens of thousands of per cent). So a value never travels without its unit,
//! and a value outside its analyte's plausible range is refused rather than computed with.
//!
//! Units are UCUM codes, as HL7 uses them. In the metadata a lab value is
//! `{"value": 950, "unit": "/uL"}`.
//!
//! Conversions are exact in decimal: the value's shortest decimal form is shifted by a power
//! of ten, so 0.95 ×10⁹/L is 950 cells/µL exactly, not 949.9999999999999.

use std::fmt;

use serde_json::Value;

/// A unit a lab value is entered in (its UCUM code in [`LabUnit::ucum`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabUnit {
    /// Cells per microlitre.
    PerMicrolitre,
    /// ×10⁹ cells per litre (the same number as ×10³/µL).
    E9PerLitre,
    /// ×10⁶ cells per millilitre.
    E6PerMillilitre,
    Millilitre,
    GramPerDecilitre,
    GramPerLitre,
    Percent,
    /// Litre per litre (a haematocrit as a fraction).
    LitrePerLitre,
}

impl LabUnit {
    pub const ALL: [LabUnit; 8] = [
        LabUnit::PerMicrolitre,
        LabUnit::E9PerLitre,
        LabUnit::E6PerMillilitre,
        LabUnit::Millilitre,
        LabUnit::GramPerDecilitre,
        LabUnit::GramPerLitre,
        LabUnit::Percent,
        LabUnit::LitrePerLitre,
    ];

    /// The UCUM code, as stored in the metadata.
    pub fn ucum(self) -> &'static str {
        match self {
            LabUnit::PerMicrolitre => "/uL",
            LabUnit::E9PerLitre => "10*9/L",
            LabUnit::E6PerMillilitre => "10*6/mL",
            LabUnit::Millilitre => "mL",
            LabUnit::GramPerDecilitre => "g/dL",
            LabUnit::GramPerLitre => "g/L",
            LabUnit::Percent => "%",
            LabUnit::LitrePerLitre => "L/L",
        }
    }

    /// The unit as printed for a reader: `cells/µL`, `×10⁹/L`.
    pub fn label(self) -> &'static str {
        match self {
            LabUnit::PerMicrolitre => "cells/µL",
            LabUnit::E9PerLitre => "×10⁹/L",
            LabUnit::E6PerMillilitre => "×10⁶/mL",
            LabUnit::Millilitre => "mL",
            LabUnit::GramPerDecilitre => "g/dL",
            LabUnit::GramPerLitre => "g/L",
            LabUnit::Percent => "%",
            LabUnit::LitrePerLitre => "L/L",
        }
    }

    /// The unit of a UCUM code; `None` for a code this version does not take.
    pub fn from_ucum(code: &str) -> Option<LabUnit> {
        LabUnit::ALL.into_iter().find(|u| u.ucum() == code.trim())
    }

    /// The power of ten that takes a value in this unit to the same value in `canonical`;
    /// `None` when the two do not measure the same kind of thing.
    fn shift_to(self, canonical: LabUnit) -> Option<i32> {
        use LabUnit::{
            E6PerMillilitre, E9PerLitre, GramPerDecilitre, GramPerLitre, LitrePerLitre,
            PerMicrolitre, Percent,
        };
        match (self, canonical) {
            (a, b) if a == b => Some(0),
            // 1 ×10⁹/L = 10⁹ cells / 10⁶ µL = 1000 cells/µL; 1 ×10⁶/mL = 10⁶ / 10³ µL, the same.
            (E9PerLitre | E6PerMillilitre, PerMicrolitre) => Some(3),
            (PerMicrolitre, E9PerLitre | E6PerMillilitre) => Some(-3),
            (E9PerLitre, E6PerMillilitre) | (E6PerMillilitre, E9PerLitre) => Some(0),
            (GramPerLitre, GramPerDecilitre) => Some(-1),
            (GramPerDecilitre, GramPerLitre) => Some(1),
            (LitrePerLitre, Percent) => Some(2),
            (Percent, LitrePerLitre) => Some(-2),
            _ => None,
        }
    }
}

impl fmt::Display for LabUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which lab value: the record's analytes, before and after collection and of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analyte {
    PreWbc,
    PreLymphocytes,
    PreCd3,
    PreHb,
    PreHct,
    PrePlatelets,
    PostHb,
    PostPlatelets,
    ProductVolume,
    ProductWbc,
    ProductCd3,
    ProductHct,
}

/// What an analyte is entered in, computed in, and plausibly is.
struct Spec {
    key: &'static str,
    name: &'static str,
    canonical: LabUnit,
    units: &'static [LabUnit],
    /// Plausible range in the canonical unit, inclusive.
    range: (f64, f64),
}

const COUNT_UNITS: &[LabUnit] = &[
    LabUnit::PerMicrolitre,
    LabUnit::E9PerLitre,
    LabUnit::E6PerMillilitre,
];
const PLATELET_UNITS: &[LabUnit] = &[
    LabUnit::E9PerLitre,
    LabUnit::PerMicrolitre,
    LabUnit::E6PerMillilitre,
];
const HB_UNITS: &[LabUnit] = &[LabUnit::GramPerDecilitre, LabUnit::GramPerLitre];
const HCT_UNITS: &[LabUnit] = &[LabUnit::Percent, LabUnit::LitrePerLitre];

impl Analyte {
    pub const ALL: [Analyte; 12] = [
        Analyte::PreWbc,
        Analyte::PreLymphocytes,
        Analyte::PreCd3,
        Analyte::PreHb,
        Analyte::PreHct,
        Analyte::PrePlatelets,
        Analyte::PostHb,
        Analyte::PostPlatelets,
        Analyte::ProductVolume,
        Analyte::ProductWbc,
        Analyte::ProductCd3,
        Analyte::ProductHct,
    ];

    fn spec(self) -> Spec {
        use Analyte::{
            PostHb, PostPlatelets, PreCd3, PreHb, PreHct, PreLymphocytes, PrePlatelets, PreWbc,
            ProductCd3, ProductHct, ProductVolume, ProductWbc,
        };
        let count = |key, name, range| Spec {
            key,
            name,
            canonical: LabUnit::PerMicrolitre,
            units: COUNT_UNITS,
            range,
        };
        let hb = |key, name| Spec {
            key,
            name,
            canonical: LabUnit::GramPerDecilitre,
            units: HB_UNITS,
            range: (3.0, 25.0),
        };
        let platelets = |key, name| Spec {
            key,
            name,
            canonical: LabUnit::E9PerLitre,
            units: PLATELET_UNITS,
            range: (1.0, 2000.0),
        };
        match self {
            // Peripheral counts: from a lymphopenic patient after chemotherapy to a
            // leukaemic one.
            PreWbc => count("pre_wbc", "pre-collection WBC", (100.0, 300_000.0)),
            PreLymphocytes => count(
                "pre_lymphocytes",
                "pre-collection lymphocytes",
                (10.0, 200_000.0),
            ),
            PreCd3 => count("pre_cd3", "pre-collection CD3+", (5.0, 50_000.0)),
            PreHb => hb("pre_hb", "pre-collection Hb"),
            PreHct => Spec {
                key: "pre_hct",
                name: "pre-collection Hct",
                canonical: LabUnit::Percent,
                units: HCT_UNITS,
                range: (10.0, 70.0),
            },
            PrePlatelets => platelets("pre_platelets", "pre-collection platelets"),
            PostHb => hb("post_hb", "post-collection Hb"),
            PostPlatelets => platelets("post_platelets", "post-collection platelets"),
            ProductVolume => Spec {
                key: "product_volume_ml",
                name: "product volume (weighed)",
                canonical: LabUnit::Millilitre,
                units: &[LabUnit::Millilitre],
                range: (1.0, 1000.0),
            },
            // A leukapheresis product is concentrated: tens to hundreds of ×10⁹/L.
            ProductWbc => count("product_wbc", "product WBC", (1_000.0, 2_000_000.0)),
            ProductCd3 => count("product_cd3", "product CD3+", (100.0, 1_000_000.0)),
            ProductHct => Spec {
                key: "product_hct",
                name: "product Hct",
                canonical: LabUnit::Percent,
                units: HCT_UNITS,
                range: (0.1, 30.0),
            },
        }
    }

    /// The metadata key (unit-free): `pre_cd3`, `product_volume_ml`.
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    /// The analyte as a reader names it: `pre-collection CD3+`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The unit the arithmetic uses, and values are compared to their range in.
    pub fn canonical_unit(self) -> LabUnit {
        self.spec().canonical
    }

    /// The units a value may be entered in, the canonical first.
    pub fn units(self) -> &'static [LabUnit] {
        self.spec().units
    }

    /// The plausible range, inclusive, in the canonical unit.
    pub fn range(self) -> (f64, f64) {
        self.spec().range
    }

    /// The key of the bare number (cells/µL or mL) that earlier versions wrote, if any. The
    /// product volume kept its key, whose name carries the unit.
    pub fn legacy_key(self) -> Option<&'static str> {
        match self {
            Analyte::PreCd3 => Some("pre_cd3_per_ul"),
            Analyte::ProductCd3 => Some("product_cd3_per_ul"),
            Analyte::ProductVolume => Some("product_volume_ml"),
            _ => None,
        }
    }

    /// Checks a value typed in `unit`: it must be a finite number, in a unit this analyte
    /// takes, and within the plausible range once converted. The error names the range in the
    /// unit the value was typed in.
    pub fn check(self, value: f64, unit: LabUnit) -> Result<LabValue, LabError> {
        if !value.is_finite() {
            return Err(LabError::NotANumber {
                analyte: self,
                text: value.to_string(),
            });
        }
        let spec = self.spec();
        let Some(shift) = unit.shift_to(spec.canonical) else {
            return Err(LabError::WrongUnit {
                analyte: self,
                unit: unit.ucum().to_owned(),
            });
        };
        let canonical = shift_decimal(value, shift);
        let (lo, hi) = spec.range;
        if !(lo..=hi).contains(&canonical) {
            let back = -shift;
            return Err(LabError::OutOfRange {
                analyte: self,
                value,
                unit,
                low: shift_decimal(lo, back),
                high: shift_decimal(hi, back),
            });
        }
        Ok(LabValue {
            analyte: self,
            value,
            unit,
            canonical,
        })
    }

    /// Reads the analyte from a metadata object: `{"value": n, "unit": "<UCUM>"}` under its
    /// key, or the bare number of an earlier version under its legacy key (in the canonical
    /// unit). `Ok(None)` when neither is there.
    pub fn read(
        self,
        object: &serde_json::Map<String, Value>,
    ) -> Result<Option<LabValue>, LabError> {
        if let Some(value) = object.get(self.key()).filter(|v| !v.is_null()) {
            let bare_in_its_key = value.is_number() && self.legacy_key() == Some(self.key());
            if !bare_in_its_key {
                return self.from_json(value).map(Some);
            }
        }
        match self.legacy_key().and_then(|k| object.get(k)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => self
                .check(n.as_f64().unwrap_or(f64::NAN), self.canonical_unit())
                .map(Some),
            Some(other) => Err(LabError::NotANumber {
                analyte: self,
                text: other.to_string(),
            }),
        }
    }

    /// A value as the metadata holds it: `{"value": n, "unit": "<UCUM>"}`.
    pub fn from_json(self, value: &Value) -> Result<LabValue, LabError> {
        let Value::Object(fields) = value else {
            return Err(LabError::NoUnit { analyte: self });
        };
        let unit = match fields.get("unit") {
            Some(Value::String(code)) => {
                LabUnit::from_ucum(code).ok_or_else(|| LabError::WrongUnit {
                    analyte: self,
                    unit: code.clone(),
                })?
            }
            _ => return Err(LabError::NoUnit { analyte: self }),
        };
        match fields.get("value") {
            Some(Value::Number(n)) => self.check(n.as_f64().unwrap_or(f64::NAN), unit),
            other => Err(LabError::NotANumber {
                analyte: self,
                text: other.map_or_else(|| "nothing".to_owned(), Value::to_string),
            }),
        }
    }
}

/// A checked lab value: as typed, and in the analyte's canonical unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabValue {
    pub analyte: Analyte,
    /// The number as typed.
    pub value: f64,
    /// The unit it was typed in.
    pub unit: LabUnit,
    /// The same value in [`Analyte::canonical_unit`].
    pub canonical: f64,
}

impl LabValue {
    /// As the metadata stores it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"value": self.value, "unit": self.unit.ucum()})
    }
}

impl fmt::Display for LabValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.unit)
    }
}

/// Why a lab value is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabError {
    #[error("{} {text} is not a number", .analyte.name())]
    NotANumber { analyte: Analyte, text: String },
    #[error("{} has no unit: give one of {}", .analyte.name(), unit_list(*.analyte))]
    NoUnit { analyte: Analyte },
    #[error("{} cannot be in `{unit}`: give one of {}", .analyte.name(), unit_list(*.analyte))]
    WrongUnit { analyte: Analyte, unit: String },
    #[error("{} {value} {unit} is outside the plausible {low}–{high} {unit}: check the unit", .analyte.name())]
    OutOfRange {
        analyte: Analyte,
        value: f64,
        unit: LabUnit,
        low: f64,
        high: f64,
    },
}

fn unit_list(analyte: Analyte) -> String {
    analyte
        .units()
        .iter()
        .map(|u| u.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `value` × 10^`shift`, exact in decimal: the shortest decimal form of `value` with its
/// exponent moved, read back as the nearest double.
pub fn shift_decimal(value: f64, shift: i32) -> f64 {
    if shift == 0 || !value.is_finite() {
        return value;
    }
    format!("{value:e}")
        .split_once('e')
        .and_then(|(mantissa, exp)| {
            let exp: i32 = exp.parse().ok()?;
            format!("{mantissa}e{}", exp + shift).parse().ok()
        })
        .unwrap_or(value * 10f64.powi(shift))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_convert_exactly_between_the_three_units() {
        // (typed, unit, cells/µL)
        for (typed, unit, per_ul) in [
            (0.95, LabUnit::E9PerLitre, 950.0),
            (0.95, LabUnit::E6PerMillilitre, 950.0),
            (950.0, LabUnit::PerMicrolitre, 950.0),
            (1.1, LabUnit::E9PerLitre, 1100.0),
            (0.07, LabUnit::E9PerLitre, 70.0),
            (123.456, LabUnit::E6PerMillilitre, 123_456.0),
        ] {
            let v = Analyte::PreCd3.check(typed, unit);
            let v = v
                .or_else(|_| Analyte::ProductCd3.check(typed, unit))
                .unwrap();
            assert_eq!(v.canonical, per_ul, "{typed} {unit}");
        }
        // A naive multiplication is not exact; the decimal shift is.
        assert_ne!(2.01 * 1000.0, 2010.0);
        assert_eq!(shift_decimal(2.01, 3), 2010.0);
        assert_eq!(
            Analyte::PreWbc
                .check(2.01, LabUnit::E9PerLitre)
                .unwrap()
                .canonical,
            2010.0
        );
        assert_eq!(shift_decimal(950.0, -3), 0.95);
        assert_eq!(shift_decimal(12.5, 1), 125.0);
        assert_eq!(shift_decimal(0.42, 2), 42.0);
    }

    #[test]
    fn other_units_convert_to_the_canonical_one() {
        let hb = Analyte::PreHb.check(125.0, LabUnit::GramPerLitre).unwrap();
        assert_eq!(hb.canonical, 12.5);
        let hct = Analyte::PreHct.check(0.42, LabUnit::LitrePerLitre).unwrap();
        assert_eq!(hct.canonical, 42.0);
        let plt = Analyte::PrePlatelets
            .check(250_000.0, LabUnit::PerMicrolitre)
            .unwrap();
        assert_eq!(plt.canonical, 250.0);
    }

    #[test]
    fn a_count_typed_in_the_wrong_unit_is_refused_with_the_range_in_the_unit_typed() {
        // The UK lab's 0.95 ×10⁹/L typed as cells/µL.
        let e = Analyte::PreCd3
            .check(0.95, LabUnit::PerMicrolitre)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "pre-collection CD3+ 0.95 cells/µL is outside the plausible 5–50000 cells/µL: check the unit"
        );
        // 950/µL typed as ×10⁹/L: a million per µL.
        let e = Analyte::PreCd3
            .check(950.0, LabUnit::E9PerLitre)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "pre-collection CD3+ 950 ×10⁹/L is outside the plausible 0.005–50 ×10⁹/L: check the unit"
        );
        // Hb in g/L typed as g/dL.
        assert!(matches!(
            Analyte::PostHb.check(125.0, LabUnit::GramPerDecilitre),
            Err(LabError::OutOfRange { .. })
        ));
    }

    #[test]
    fn every_range_edge_is_taken_and_just_outside_is_refused() {
        for analyte in Analyte::ALL {
            let (lo, hi) = analyte.range();
            let unit = analyte.canonical_unit();
            assert!(analyte.check(lo, unit).is_ok(), "{analyte:?} low edge");
            assert!(analyte.check(hi, unit).is_ok(), "{analyte:?} high edge");
            assert!(
                analyte.check(lo * 0.999, unit).is_err(),
                "{analyte:?} below"
            );
            assert!(
                analyte.check(hi * 1.001, unit).is_err(),
                "{analyte:?} above"
            );
            assert!(analyte.check(-lo, unit).is_err(), "{analyte:?} negative");
            assert!(analyte.check(f64::NAN, unit).is_err(), "{analyte:?} NaN");
            assert_eq!(
                analyte.units()[0],
                unit,
                "{analyte:?}: the canonical unit first"
            );
        }
    }

    #[test]
    fn a_unit_of_another_kind_is_refused() {
        let e = Analyte::PreHb
            .check(12.0, LabUnit::PerMicrolitre)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "pre-collection Hb cannot be in `/uL`: give one of g/dL, g/L"
        );
        assert!(
            Analyte::ProductVolume
                .check(200.0, LabUnit::Percent)
                .is_err()
        );
    }

    #[test]
    fn values_read_from_the_metadata_with_their_unit_or_as_an_earlier_bare_number() {
        let object = |v: Value| v.as_object().unwrap().clone();
        let m = object(serde_json::json!({
            "pre_cd3": {"value": 0.95, "unit": "10*9/L"},
            "product_cd3_per_ul": 48000,
            "pre_hb": {"value": 12.5},
            "pre_wbc": 4.2,
            "post_hb": {"value": 11, "unit": "mg/dL"},
            "product_volume_ml": {"value": "lots", "unit": "mL"},
        }));
        let earlier = object(serde_json::json!({"product_volume_ml": 260.0}));
        assert_eq!(
            Analyte::ProductVolume
                .read(&earlier)
                .unwrap()
                .unwrap()
                .canonical,
            260.0
        );
        assert_eq!(Analyte::PreCd3.read(&m).unwrap().unwrap().canonical, 950.0);
        assert_eq!(
            Analyte::ProductCd3.read(&m).unwrap().unwrap().canonical,
            48_000.0
        );
        assert_eq!(
            Analyte::PreHb.read(&m).unwrap_err(),
            LabError::NoUnit {
                analyte: Analyte::PreHb
            }
        );
        // A bare number under a new key has no unit: refused, never guessed.
        assert!(matches!(
            Analyte::PreWbc.read(&m),
            Err(LabError::NoUnit { .. })
        ));
        assert!(matches!(
            Analyte::PostHb.read(&m),
            Err(LabError::WrongUnit { .. })
        ));
        assert!(matches!(
            Analyte::ProductVolume.read(&m),
            Err(LabError::NotANumber { .. })
        ));
        assert_eq!(Analyte::PrePlatelets.read(&m), Ok(None));
        // Written back as typed.
        let v = Analyte::PreCd3.read(&m).unwrap().unwrap();
        assert_eq!(
            v.to_json(),
            serde_json::json!({"value": 0.95, "unit": "10*9/L"})
        );
        assert_eq!(v.to_string(), "0.95 ×10⁹/L");
    }

    #[test]
    fn every_unit_code_reads_back() {
        for unit in LabUnit::ALL {
            assert_eq!(LabUnit::from_ucum(unit.ucum()), Some(unit));
        }
        assert_eq!(LabUnit::from_ucum("cells/uL"), None);
    }
}
