//! The patient's body for the clinical formulas: validated weight, height and sex, Nadler's
//! total blood volume and the citrate infusion rate.
//!
//! Nothing is computed from an invalid value: each accessor returns `None` for a missing or
//! invalid input, and the reason is kept for the screen and the report. The nurse's lab values
//! from the metadata are checked here too ([`validate_lab_value`]).

use serde_json::Value;

use crate::recording::meta::PatientMeta;

/// Plausible weight, kg (inclusive).
pub const WEIGHT_KG_RANGE: (f64, f64) = (2.0, 300.0);
/// Plausible height, cm (inclusive).
pub const HEIGHT_CM_RANGE: (f64, f64) = (40.0, 230.0);
/// Citrate in ACD-A, mg per mL.
pub const ACD_A_CITRATE_MG_PER_ML: f64 = 21.3;

/// Sex as used by Nadler's formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn parse(text: &str) -> Option<Sex> {
        match text.trim().to_ascii_lowercase().as_str() {
            "male" | "m" => Some(Sex::Male),
            "female" | "f" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// Why a number for the patient (typed in a form or read from the metadata) cannot be used.
/// The messages are shown as they are, on the screen and in the report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NumberError {
    #[error("{name} is missing")]
    Missing { name: String },
    #[error("{name} `{text}` is not a number")]
    NotANumber { name: String, text: String },
    /// Not finite (NaN or infinite).
    #[error("{name} is not a number")]
    NotFinite { name: String },
    #[error("{name} must be positive ({low}–{high} {unit})")]
    NotPositive {
        name: String,
        low: f64,
        high: f64,
        unit: &'static str,
    },
    #[error("{name} {value} {unit} is outside {low}–{high} {unit}")]
    OutOfRange {
        name: String,
        value: f64,
        low: f64,
        high: f64,
        unit: &'static str,
    },
}

/// Checks a weight in kg; the error says why it cannot be used.
pub fn validate_weight_kg(weight_kg: f64) -> Result<f64, NumberError> {
    validate_range(weight_kg, WEIGHT_KG_RANGE, "weight", "kg")
}

/// Checks a height in cm; the error says why it cannot be used.
pub fn validate_height_cm(height_cm: f64) -> Result<f64, NumberError> {
    validate_range(height_cm, HEIGHT_CM_RANGE, "height", "cm")
}

fn validate_range(
    value: f64,
    (low, high): (f64, f64),
    name: &str,
    unit: &'static str,
) -> Result<f64, NumberError> {
    let name = name.to_owned();
    if !value.is_finite() {
        return Err(NumberError::NotFinite { name });
    }
    if value <= 0.0 {
        return Err(NumberError::NotPositive {
            name,
            low,
            high,
            unit,
        });
    }
    if !(low..=high).contains(&value) {
        return Err(NumberError::OutOfRange {
            name,
            value,
            low,
            high,
            unit,
        });
    }
    Ok(value)
}

/// Parses a number typed by a person (`70`, `70.5`, `70,5`); the error says what is wrong.
pub fn parse_number(text: &str, name: &str) -> Result<f64, NumberError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NumberError::Missing {
            name: name.to_owned(),
        });
    }
    text.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| NumberError::NotANumber {
            name: name.to_owned(),
            text: text.to_owned(),
        })
}

/// Why a lab value from the metadata (`lab.<key>`) cannot be used. The messages are shown as
/// they are, in the summary's "not computed" reasons.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabValueError {
    #[error("lab {key} is missing")]
    Missing { key: &'static str },
    #[error("lab {key} {value} is not a positive number")]
    NotPositive {
        key: &'static str,
        value: serde_json::Number,
    },
    #[error("lab {key} {value} is not a number")]
    NotANumber { key: &'static str, value: Value },
}

/// A lab value that must be a positive number; the error says why it cannot be used.
pub fn validate_lab_value(value: Option<&Value>, key: &'static str) -> Result<f64, LabValueError> {
    match value {
        None | Some(Value::Null) => Err(LabValueError::Missing { key }),
        Some(Value::Number(n)) => {
            n.as_f64()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| LabValueError::NotPositive {
                    key,
                    value: n.clone(),
                })
        }
        Some(other) => Err(LabValueError::NotANumber {
            key,
            value: other.clone(),
        }),
    }
}

/// Nadler's total blood volume, mL.
pub fn nadler_tbv_ml(sex: Sex, height_cm: f64, weight_kg: f64) -> f64 {
    let h_m = height_cm / 100.0;
    let litres = match sex {
        Sex::Male => 0.3669 * h_m.powi(3) + 0.03219 * weight_kg + 0.6041,
        Sex::Female => 0.3561 * h_m.powi(3) + 0.03308 * weight_kg + 0.1833,
    };
    litres * 1000.0
}

/// Estimated citrate infusion rate, mg/kg/min, from the AC (ACD-A) flow.
pub fn citrate_mg_kg_min(ac_ml_min: f64, weight_kg: f64) -> f64 {
    ac_ml_min * ACD_A_CITRATE_MG_PER_ML / weight_kg
}

/// A patient's validated body measures. Missing or invalid inputs are `None`, with the reason
/// in [`Patient::problems`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patient {
    pub id: Option<String>,
    pub weight_kg: Option<f64>,
    pub height_cm: Option<f64>,
    pub sex: Option<Sex>,
    /// Why an input given could not be used (`weight 0 kg is outside 2–300 kg`).
    pub problems: Vec<String>,
}

impl Patient {
    /// Validates the metadata's patient block.
    pub fn from_meta(meta: Option<&PatientMeta>) -> Patient {
        let mut patient = Patient::default();
        let Some(meta) = meta else {
            return patient;
        };
        patient.id = meta.id.clone().filter(|id| !id.trim().is_empty());
        patient.weight_kg = patient.checked(meta.weight_kg.as_ref(), "weight", validate_weight_kg);
        patient.height_cm = patient.checked(meta.height_cm.as_ref(), "height", validate_height_cm);
        patient.sex = match &meta.sex {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if Sex::parse(s).is_some() => Sex::parse(s),
            Some(other) => {
                patient
                    .problems
                    .push(format!("sex {other} is not \"male\" or \"female\""));
                None
            }
        };
        patient
    }

    fn checked(
        &mut self,
        value: Option<&Value>,
        name: &str,
        validate: fn(f64) -> Result<f64, NumberError>,
    ) -> Option<f64> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_f64().map(validate) {
                Some(Ok(v)) => Some(v),
                Some(Err(problem)) => {
                    self.problems.push(problem.to_string());
                    None
                }
                None => {
                    self.problems.push(format!("{name} is not a number"));
                    None
                }
            },
            Some(other) => {
                self.problems
                    .push(format!("{name} {other} is not a number"));
                None
            }
        }
    }

    /// Total blood volume by Nadler's formula, when sex, height and weight are all valid.
    pub fn tbv_ml(&self) -> Option<f64> {
        Some(nadler_tbv_ml(self.sex?, self.height_cm?, self.weight_kg?))
    }

    /// Why the total blood volume cannot be computed, if it cannot.
    pub fn tbv_unavailable_reason(&self) -> Option<String> {
        if self.tbv_ml().is_some() {
            return None;
        }
        let mut missing = Vec::new();
        if self.sex.is_none() {
            missing.push("sex");
        }
        if self.height_cm.is_none() {
            missing.push("height");
        }
        if self.weight_kg.is_none() {
            missing.push("weight");
        }
        Some(format!("needs a valid {}", missing.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nadler_matches_hand_calculation() {
        // Male, 175 cm, 70 kg: 0.3669 × 1.75³ + 0.03219 × 70 + 0.6041 = 4.82375 L.
        let tbv = nadler_tbv_ml(Sex::Male, 175.0, 70.0);
        assert!((tbv - 4823.75).abs() < 0.01, "{tbv}");
        // Female, 160 cm, 40 kg: 0.3561 × 1.6³ + 0.03308 × 40 + 0.1833 = 2.96509 L.
        let tbv = nadler_tbv_ml(Sex::Female, 160.0, 40.0);
        assert!((tbv - 2965.09).abs() < 0.01, "{tbv}");
    }

    #[test]
    fn citrate_rate_matches_hand_calculation() {
        // 4.6 mL/min × 21.3 mg/mL ÷ 70 kg = 1.3997 mg/kg/min.
        assert!((citrate_mg_kg_min(4.6, 70.0) - 1.39971).abs() < 1e-4);
    }

    #[test]
    fn invalid_inputs_are_reported_and_never_used() {
        let cases = [
            (0.0, "weight must be positive"),
            (-5.0, "weight must be positive"),
            (1.5, "outside 2–300 kg"),
            (301.0, "outside 2–300 kg"),
            (f64::NAN, "not a number"),
        ];
        for (weight, message) in cases {
            let err = validate_weight_kg(weight).unwrap_err().to_string();
            assert!(err.contains(message), "{weight}: {err}");
        }
        assert!(validate_weight_kg(2.0).is_ok());
        assert!(
            validate_height_cm(900.0)
                .unwrap_err()
                .to_string()
                .contains("40–230 cm")
        );
        assert!(
            parse_number("seventy", "weight")
                .unwrap_err()
                .to_string()
                .contains("not a number")
        );
        assert_eq!(parse_number(" 70,5 ", "weight"), Ok(70.5));
    }

    #[test]
    fn each_problem_reads_as_a_sentence_for_the_screen_and_the_report() {
        fn text(result: Result<f64, impl std::fmt::Display>) -> String {
            result.err().map(|e| e.to_string()).unwrap_or_default()
        }
        assert_eq!(text(parse_number(" ", "target")), "target is missing");
        assert_eq!(
            text(parse_number(" 7O ", "heart rate")),
            "heart rate `7O` is not a number"
        );
        assert_eq!(
            text(parse_number("inf", "weight")),
            "weight `inf` is not a number"
        );
        assert_eq!(text(validate_weight_kg(f64::NAN)), "weight is not a number");
        assert_eq!(
            text(validate_height_cm(-1.0)),
            "height must be positive (40–230 cm)"
        );
        assert_eq!(
            text(validate_weight_kg(300.5)),
            "weight 300.5 kg is outside 2–300 kg"
        );
        assert_eq!(
            text(validate_height_cm(1000.0)),
            "height 1000 cm is outside 40–230 cm"
        );
    }

    #[test]
    fn a_lab_value_must_be_a_positive_number() {
        let check = |json: &str| validate_lab_value(serde_json::from_str(json).ok().as_ref(), "k");
        assert_eq!(check("1e6"), Ok(1e6));
        assert_eq!(check("0.5"), Ok(0.5));
        let text = |json: &str| check(json).unwrap_err().to_string();
        assert_eq!(text("null"), "lab k is missing");
        assert_eq!(
            validate_lab_value(None, "k").unwrap_err().to_string(),
            "lab k is missing"
        );
        assert_eq!(text("0"), "lab k 0 is not a positive number");
        assert_eq!(text("-2.5"), "lab k -2.5 is not a positive number");
        assert_eq!(text(r#""lots""#), r#"lab k "lots" is not a number"#);
        assert_eq!(text("[1]"), "lab k [1] is not a number");
    }

    #[test]
    fn the_range_edges_are_accepted_and_just_outside_them_refused() {
        // Weight 2–300 kg and height 40–230 cm, both ends included.
        for weight in [2.0, 300.0] {
            assert_eq!(validate_weight_kg(weight), Ok(weight));
        }
        for weight in [1.99, 300.01, 2.0 - 1e-9, 300.0 + 1e-9] {
            let err = validate_weight_kg(weight).unwrap_err().to_string();
            assert!(err.contains("is outside 2–300 kg"), "{weight}: {err}");
        }
        for height in [40.0, 230.0] {
            assert_eq!(validate_height_cm(height), Ok(height));
        }
        for height in [39.99, 230.01, 40.0 - 1e-9, 230.0 + 1e-9] {
            let err = validate_height_cm(height).unwrap_err().to_string();
            assert!(err.contains("is outside 40–230 cm"), "{height}: {err}");
        }
        for (height, message) in [(0.0, "must be positive"), (f64::INFINITY, "not a number")] {
            let err = validate_height_cm(height).unwrap_err().to_string();
            assert!(err.contains(message), "{height}: {err}");
        }
        // The same edges through the metadata.
        let meta: PatientMeta =
            serde_json::from_str(r#"{"weight_kg":2,"height_cm":230,"sex":"female"}"#).unwrap();
        let p = Patient::from_meta(Some(&meta));
        assert_eq!((p.weight_kg, p.height_cm), (Some(2.0), Some(230.0)));
        let meta: PatientMeta =
            serde_json::from_str(r#"{"weight_kg":300.5,"height_cm":39.5,"sex":"female"}"#).unwrap();
        let p = Patient::from_meta(Some(&meta));
        assert_eq!((p.weight_kg, p.height_cm), (None, None));
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
    }

    #[test]
    fn the_sex_the_setup_form_writes_is_read_back_from_the_metadata() {
        // The setup form stores `Sex::as_str` in the session's metadata; the report and the
        // TBV read it back with `Patient::from_meta`, so it must be the word the metadata uses.
        for (sex, word) in [(Sex::Male, "male"), (Sex::Female, "female")] {
            assert_eq!(sex.as_str(), word);
            let meta = PatientMeta {
                sex: Some(Value::from(sex.as_str())),
                ..PatientMeta::default()
            };
            let p = Patient::from_meta(Some(&meta));
            assert_eq!((p.sex, p.problems.len()), (Some(sex), 0), "{word}");
            assert_eq!(serde_json::to_value(sex).unwrap(), Value::from(word));
        }
    }

    #[test]
    fn patient_from_meta_keeps_valid_parts_and_explains_the_rest() {
        let meta: PatientMeta =
            serde_json::from_str(r#"{"id":"P-1","weight_kg":0,"height_cm":900,"sex":"male"}"#)
                .unwrap();
        let p = Patient::from_meta(Some(&meta));
        assert_eq!(
            (p.weight_kg, p.height_cm, p.sex),
            (None, None, Some(Sex::Male))
        );
        assert_eq!(p.problems.len(), 2);
        assert_eq!(p.tbv_ml(), None);
        assert_eq!(
            p.tbv_unavailable_reason().unwrap(),
            "needs a valid height, weight"
        );

        let meta: PatientMeta = serde_json::from_str(r#"{"weight_kg":"70","sex":"x"}"#).unwrap();
        let p = Patient::from_meta(Some(&meta));
        assert_eq!(p.weight_kg, None);
        assert_eq!(p.problems.len(), 2);
    }
}
