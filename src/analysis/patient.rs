//! The patient's body for the clinical formulas: validated weight, height, sex and age, the
//! total blood volume (TBV) and the citrate infusion rate.
//!
//! The TBV rule (docs/tbv-and-change-trail.md), in one place, [`estimate_tbv`]:
//! - a TBV the nurse entered overrides any estimate;
//! - from [`NADLER_FROM_KG`] up, Nadler's formula (sex, height, weight);
//! - below it, an estimate per kg of weight by age band ([`PAEDIATRIC_BANDS`]): Nadler's is an
//!   adult formula and overestimates small patients (a 10 kg, 80 cm boy gets 111 mL/kg), and an
//!   overestimated TBV over-processes them.
//!
//! Nothing is computed from an invalid value: each accessor returns `None` for a missing or
//! invalid input, and the reason is kept for the screen and the report. The nurse's lab values
//! from the metadata are checked here too ([`validate_lab_value`]).

use serde_json::Value;

use crate::recording::SessionMeta;
use crate::recording::meta::PatientMeta;

/// Plausible weight, kg (inclusive).
pub const WEIGHT_KG_RANGE: (f64, f64) = (2.0, 300.0);
/// Plausible height, cm (inclusive).
pub const HEIGHT_CM_RANGE: (f64, f64) = (40.0, 230.0);
/// Citrate in ACD-A, mg per mL.
pub const ACD_A_CITRATE_MG_PER_ML: f64 = 21.3;
/// From this weight up (inclusive) the TBV is Nadler's; below it, per kg by age band.
pub const NADLER_FROM_KG: f64 = 25.0;
/// Plausible TBV entered by the nurse, mL (inclusive).
pub const ENTERED_TBV_ML_RANGE: (f64, f64) = (100.0, 15_000.0);
/// Plausible TBV entered by the nurse per kg of weight, mL/kg (inclusive): wide enough for a
/// preterm neonate (~100 mL/kg) and a very obese adult (~40 mL/kg), narrow enough to catch
/// litres typed as millilitres or a TBV typed for another patient.
pub const ENTERED_TBV_ML_PER_KG_RANGE: (f64, f64) = (35.0, 150.0);

/// An age band of the per-kg TBV estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBand {
    /// Under 28 days (the neonatal period).
    Neonate,
    /// From 28 days to under 1 year.
    Infant,
    /// 1 year and over (and under [`NADLER_FROM_KG`]).
    Child,
}

/// One row of the per-kg estimate: from what age it applies and the blood volume per kg.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaediatricBand {
    pub band: AgeBand,
    /// The youngest age of the band, days (inclusive); the band ends where the next begins.
    pub from_days: f64,
    pub ml_per_kg: f64,
    /// The band as people read it.
    pub name: &'static str,
    /// Its key in the metadata and the summary's JSON (`tbv_method`).
    pub key: &'static str,
}

/// Blood volume per kg of weight for patients under [`NADLER_FROM_KG`], by age band, youngest
/// first. The one table of the estimate.
///
/// Sources: term neonate 85 and infant 80 mL/kg are the "average blood volumes" of Morgan &
/// Mikhail's Clinical Anesthesiology (ch. "Fluid Management & Blood Component Therapy");
/// child 75 mL/kg is the top of the 70–75 mL/kg of Roseff, Luban & Manno, "Guidelines for
/// assessing appropriateness of pediatric transfusion", Transfusion 2002;42:1398–1413 (whose
/// term neonate 80–90 and infant 70–80 mL/kg bracket the values above). A preterm neonate
/// (90–100 mL/kg) is not told apart by age: the nurse enters its TBV.
pub const PAEDIATRIC_BANDS: [PaediatricBand; 3] = [
    PaediatricBand {
        band: AgeBand::Neonate,
        from_days: 0.0,
        ml_per_kg: 85.0,
        name: "neonate, under 28 days",
        key: "ml_per_kg_neonate",
    },
    PaediatricBand {
        band: AgeBand::Infant,
        from_days: 28.0,
        ml_per_kg: 80.0,
        name: "infant, 28 days to 1 year",
        key: "ml_per_kg_infant",
    },
    PaediatricBand {
        band: AgeBand::Child,
        from_days: DAYS_PER_YEAR,
        ml_per_kg: 75.0,
        name: "child, 1 year and over",
        key: "ml_per_kg_child",
    },
];

impl AgeBand {
    /// The band's row of [`PAEDIATRIC_BANDS`].
    pub fn def(self) -> &'static PaediatricBand {
        match self {
            AgeBand::Neonate => &PAEDIATRIC_BANDS[0],
            AgeBand::Infant => &PAEDIATRIC_BANDS[1],
            AgeBand::Child => &PAEDIATRIC_BANDS[2],
        }
    }

    /// The band an age in days falls in.
    pub fn of_days(days: f64) -> AgeBand {
        PAEDIATRIC_BANDS
            .iter()
            .rev()
            .find(|b| days >= b.from_days)
            .map_or(AgeBand::Neonate, |b| b.band)
    }
}

/// How a TBV was arrived at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TbvMethod {
    /// Nadler's formula from sex, height and weight.
    Nadler,
    /// Weight × the band's mL/kg ([`PAEDIATRIC_BANDS`]).
    PerKg(AgeBand),
    /// Entered by the nurse.
    Entered,
}

impl TbvMethod {
    /// Every method, for reading keys back.
    pub const ALL: [TbvMethod; 5] = [
        TbvMethod::Nadler,
        TbvMethod::PerKg(AgeBand::Neonate),
        TbvMethod::PerKg(AgeBand::Infant),
        TbvMethod::PerKg(AgeBand::Child),
        TbvMethod::Entered,
    ];

    /// The key in the metadata (`patient.tbv_method`) and the summary's JSON (`tbv_method`).
    pub fn key(self) -> &'static str {
        match self {
            TbvMethod::Nadler => "nadler",
            TbvMethod::PerKg(band) => band.def().key,
            TbvMethod::Entered => "entered",
        }
    }

    pub fn from_key(key: &str) -> Option<TbvMethod> {
        TbvMethod::ALL.into_iter().find(|m| m.key() == key)
    }

    /// A few words, after the TBV on the monitor's header and in the figures: `Nadler`,
    /// `75 mL/kg, child`, `entered`.
    pub fn short(self) -> String {
        match self {
            TbvMethod::Nadler => "Nadler".to_owned(),
            TbvMethod::PerKg(band) => {
                let def = band.def();
                let word = def.name.split(',').next().unwrap_or(def.name);
                format!("{} mL/kg, {word}", def.ml_per_kg)
            }
            TbvMethod::Entered => "entered".to_owned(),
        }
    }

    /// The method in a sentence, for the setup form and the report.
    pub fn describe(self) -> String {
        match self {
            TbvMethod::Nadler => "Nadler's formula from sex, height and weight".to_owned(),
            TbvMethod::PerKg(band) => {
                let def = band.def();
                format!(
                    "{} mL/kg × weight ({}; under {NADLER_FROM_KG} kg)",
                    def.ml_per_kg, def.name
                )
            }
            TbvMethod::Entered => "entered by the nurse".to_owned(),
        }
    }
}

/// A total blood volume and how it was arrived at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tbv {
    pub ml: f64,
    pub method: TbvMethod,
}

/// The estimated TBV by the rule (see the module doc), without an entered one: `None` when an
/// input the rule needs for this weight is missing.
pub fn estimate_tbv(
    weight_kg: f64,
    height_cm: Option<f64>,
    sex: Option<Sex>,
    age: Option<Age>,
) -> Option<Tbv> {
    if weight_kg >= NADLER_FROM_KG {
        Some(Tbv {
            ml: nadler_tbv_ml(sex?, height_cm?, weight_kg),
            method: TbvMethod::Nadler,
        })
    } else {
        let band = age?.band();
        Some(Tbv {
            ml: weight_kg * band.def().ml_per_kg,
            method: TbvMethod::PerKg(band),
        })
    }
}

/// Days in a year, for ages (the Julian year).
pub const DAYS_PER_YEAR: f64 = 365.25;

/// The unit an age is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeUnit {
    Years,
    Months,
    Weeks,
    Days,
}

impl AgeUnit {
    pub const ALL: [AgeUnit; 4] = [
        AgeUnit::Years,
        AgeUnit::Months,
        AgeUnit::Weeks,
        AgeUnit::Days,
    ];

    /// The word in the metadata (`patient.age.unit`) and on the screen.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeUnit::Years => "years",
            AgeUnit::Months => "months",
            AgeUnit::Weeks => "weeks",
            AgeUnit::Days => "days",
        }
    }

    pub fn parse(text: &str) -> Option<AgeUnit> {
        AgeUnit::ALL.into_iter().find(|u| u.as_str() == text)
    }

    fn days(self) -> f64 {
        match self {
            AgeUnit::Years => DAYS_PER_YEAR,
            AgeUnit::Months => DAYS_PER_YEAR / 12.0,
            AgeUnit::Weeks => 7.0,
            AgeUnit::Days => 1.0,
        }
    }

    /// The oldest age accepted, in this unit: 120 years.
    fn max(self) -> f64 {
        match self {
            AgeUnit::Years => 120.0,
            AgeUnit::Months => 1440.0,
            AgeUnit::Weeks => 6260.0,
            AgeUnit::Days => 43_830.0,
        }
    }
}

/// The patient's age at the session, as the nurse gave it (`3 years`, `8 months`, `12 days`).
/// An age rather than a date of birth: it is all the estimate needs, and it does not identify.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Age {
    pub value: f64,
    pub unit: AgeUnit,
}

impl Age {
    pub fn days(self) -> f64 {
        self.value * self.unit.days()
    }

    pub fn band(self) -> AgeBand {
        AgeBand::of_days(self.days())
    }

    /// As the metadata stores it: `{"value": 3, "unit": "years"}`.
    pub fn to_json(self) -> Value {
        serde_json::json!({ "value": self.value, "unit": self.unit.as_str() })
    }
}

impl std::fmt::Display for Age {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.value, self.unit.as_str())
    }
}

/// Checks an age; the error says why it cannot be used.
pub fn validate_age(value: f64, unit: AgeUnit) -> Result<Age, NumberError> {
    if !value.is_finite() {
        return Err(NumberError::NotFinite { name: "age".into() });
    }
    if !(0.0..=unit.max()).contains(&value) {
        return Err(NumberError::OutOfRange {
            name: "age".into(),
            value,
            low: 0.0,
            high: unit.max(),
            unit: unit.as_str(),
        });
    }
    Ok(Age { value, unit })
}

/// Checks a TBV entered by the nurse, against the weight when there is one; the error says why
/// it cannot be used.
pub fn validate_entered_tbv_ml(ml: f64, weight_kg: Option<f64>) -> Result<f64, NumberError> {
    let ml = validate_range(ml, ENTERED_TBV_ML_RANGE, "TBV entered", "mL")?;
    if let Some(weight_kg) = weight_kg {
        let (low, high) = ENTERED_TBV_ML_PER_KG_RANGE;
        let per_kg = ml / weight_kg;
        if !(low..=high).contains(&per_kg) {
            return Err(NumberError::ImplausiblePerKg {
                name: "TBV entered".into(),
                value: ml,
                per_kg,
                weight_kg,
                low,
                high,
            });
        }
    }
    Ok(ml)
}

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
    /// A volume that does not fit the weight.
    #[error(
        "{name} {value} mL is {per_kg:.0} mL/kg for {weight_kg} kg, outside {low}–{high} mL/kg"
    )]
    ImplausiblePerKg {
        name: String,
        value: f64,
        per_kg: f64,
        weight_kg: f64,
        low: f64,
        high: f64,
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
    pub age: Option<Age>,
    /// The TBV the nurse entered, mL: `None` when none was, `Some(Err)` when the one entered
    /// cannot be used (then there is no TBV at all: an estimate never stands in for it).
    pub tbv_entered_ml: Option<Result<f64, String>>,
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
        patient.age = patient.checked_age(meta.age.as_ref());
        patient.tbv_entered_ml = match &meta.tbv_entered_ml {
            None | Some(Value::Null) => None,
            Some(value) => {
                let checked = match value.as_f64() {
                    Some(ml) => {
                        validate_entered_tbv_ml(ml, patient.weight_kg).map_err(|e| e.to_string())
                    }
                    None => Err(format!("TBV entered {value} is not a number")),
                };
                if let Err(problem) = &checked {
                    patient.problems.push(problem.clone());
                }
                Some(checked)
            }
        };
        patient
    }

    /// Reads `{"value": <number>, "unit": "years" | "months" | "weeks" | "days"}`.
    fn checked_age(&mut self, value: Option<&Value>) -> Option<Age> {
        let value = match value {
            None | Some(Value::Null) => return None,
            Some(value) => value,
        };
        let number = value.get("value").and_then(Value::as_f64);
        let unit = value
            .get("unit")
            .and_then(Value::as_str)
            .and_then(AgeUnit::parse);
        let (Some(number), Some(unit)) = (number, unit) else {
            self.problems.push(format!(
                "age {value} is not a number of years, months, weeks or days"
            ));
            return None;
        };
        match validate_age(number, unit) {
            Ok(age) => Some(age),
            Err(problem) => {
                self.problems.push(problem.to_string());
                None
            }
        }
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

    /// The total blood volume and its method, by the rule of [`estimate_tbv`], or the one the
    /// nurse entered; `None` when it cannot be worked out from valid inputs.
    pub fn tbv(&self) -> Option<Tbv> {
        match &self.tbv_entered_ml {
            Some(Ok(ml)) => Some(Tbv {
                ml: *ml,
                method: TbvMethod::Entered,
            }),
            Some(Err(_)) => None,
            None => estimate_tbv(self.weight_kg?, self.height_cm, self.sex, self.age),
        }
    }

    /// The total blood volume, mL (see [`Patient::tbv`]).
    pub fn tbv_ml(&self) -> Option<f64> {
        self.tbv().map(|tbv| tbv.ml)
    }

    /// Why the total blood volume cannot be computed, if it cannot.
    pub fn tbv_unavailable_reason(&self) -> Option<String> {
        if self.tbv().is_some() {
            return None;
        }
        if let Some(Err(_)) = &self.tbv_entered_ml {
            return Some("the TBV entered cannot be used".to_owned());
        }
        if self.weight_kg.is_some_and(|w| w < NADLER_FROM_KG) {
            return Some(format!(
                "needs the patient's age (under {NADLER_FROM_KG} kg the TBV is estimated per kg \
                 by age), or a TBV entered"
            ));
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

/// Writes the TBV method the details in `meta` give into `patient.tbv_method` (or removes it
/// when there is no TBV), so that a reader of the file sees how the monitor arrived at the TBV.
/// The monitor itself works the method out again from the details whenever it reads them, so
/// what it shows never depends on this key.
pub fn stamp_tbv_method(meta: &mut SessionMeta) {
    let Some(patient_meta) = &mut meta.patient else {
        return;
    };
    let method = Patient::from_meta(Some(patient_meta))
        .tbv()
        .map(|t| t.method);
    patient_meta.tbv_method = method.map(|m| Value::from(m.key()));
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

    fn patient(json: &str) -> Patient {
        let meta: PatientMeta = serde_json::from_str(json).unwrap();
        Patient::from_meta(Some(&meta))
    }

    #[test]
    fn a_10_kg_child_gets_75_ml_per_kg_not_nadlers_111() {
        // Nadler would give, male, 80 cm, 10 kg: 0.3669 × 0.8³ + 0.03219 × 10 + 0.6041
        //   = 0.1878528 + 0.3219 + 0.6041 = 1.1138528 L, 111 mL/kg.
        assert!((nadler_tbv_ml(Sex::Male, 80.0, 10.0) - 1_113.852_8).abs() < 1e-6);
        // Under 25 kg, 3 years old: the child band, 75 mL/kg × 10 kg = 750 mL.
        let p = patient(
            r#"{"weight_kg":10,"height_cm":80,"sex":"male","age":{"value":3,"unit":"years"}}"#,
        );
        let tbv = p.tbv().unwrap();
        assert_eq!(tbv.method, TbvMethod::PerKg(AgeBand::Child));
        assert!((tbv.ml - 750.0).abs() < 1e-9, "{tbv:?}");
        assert_eq!(p.tbv_ml(), Some(tbv.ml));
        assert_eq!(tbv.method.key(), "ml_per_kg_child");
        assert_eq!(tbv.method.short(), "75 mL/kg, child");
        assert_eq!(
            tbv.method.describe(),
            "75 mL/kg × weight (child, 1 year and over; under 25 kg)"
        );
        // 8 months old: the infant band, 80 mL/kg × 10 kg = 800 mL. Sex and height unused.
        let p = patient(r#"{"weight_kg":10,"age":{"value":8,"unit":"months"}}"#);
        assert_eq!(
            p.tbv(),
            Some(Tbv {
                ml: 800.0,
                method: TbvMethod::PerKg(AgeBand::Infant)
            })
        );
        // 10 days old, 3.5 kg: the neonate band, 85 × 3.5 = 297.5 mL.
        let p = patient(r#"{"weight_kg":3.5,"age":{"value":10,"unit":"days"}}"#);
        assert_eq!(
            p.tbv(),
            Some(Tbv {
                ml: 297.5,
                method: TbvMethod::PerKg(AgeBand::Neonate)
            })
        );
    }

    #[test]
    fn nadler_holds_from_25_kg_up_and_the_teenager_sample_keeps_it() {
        // Male, 130 cm, 25 kg, 8 years: 0.3669 × 1.3³ + 0.03219 × 25 + 0.6041
        //   = 0.3669 × 2.197 + 0.80475 + 0.6041 = 0.8060793 + 0.80475 + 0.6041 = 2.2149293 L.
        let p = patient(
            r#"{"weight_kg":25,"height_cm":130,"sex":"male","age":{"value":8,"unit":"years"}}"#,
        );
        let tbv = p.tbv().unwrap();
        assert_eq!(tbv.method, TbvMethod::Nadler);
        assert!((tbv.ml - 2_214.929_3).abs() < 1e-6, "{tbv:?}");
        // 24.9 kg, the same child: 75 × 24.9 = 1867.5 mL.
        let p = patient(
            r#"{"weight_kg":24.9,"height_cm":130,"sex":"male","age":{"value":8,"unit":"years"}}"#,
        );
        assert!((p.tbv_ml().unwrap() - 1_867.5).abs() < 1e-9);
        // The 40 kg teenager of sample-data/ (female, 155 cm, no age): 0.3561 × 1.55³
        //   + 0.03308 × 40 + 0.1833 = 0.3561 × 3.723875 + 1.3232 + 0.1833
        //   = 1.3260718875 + 1.3232 + 0.1833 = 2.8325718875 L, Nadler.
        let p = patient(r#"{"weight_kg":40,"height_cm":155,"sex":"female"}"#);
        let tbv = p.tbv().unwrap();
        assert_eq!(tbv.method, TbvMethod::Nadler);
        assert!((tbv.ml - 2_832.571_887_5).abs() < 1e-6, "{tbv:?}");
        assert_eq!(tbv.method.short(), "Nadler");
    }

    #[test]
    fn the_age_bands_begin_at_28_days_and_at_1_year() {
        let band = |value: f64, unit: AgeUnit| Age { value, unit }.band();
        assert_eq!(band(0.0, AgeUnit::Days), AgeBand::Neonate);
        assert_eq!(band(27.9, AgeUnit::Days), AgeBand::Neonate);
        assert_eq!(band(28.0, AgeUnit::Days), AgeBand::Infant);
        assert_eq!(band(4.0, AgeUnit::Weeks), AgeBand::Infant);
        // 52 weeks = 364 days, under a year of 365.25 days.
        assert_eq!(band(52.0, AgeUnit::Weeks), AgeBand::Infant);
        assert_eq!(band(11.9, AgeUnit::Months), AgeBand::Infant);
        assert_eq!(band(12.0, AgeUnit::Months), AgeBand::Child);
        assert_eq!(band(1.0, AgeUnit::Years), AgeBand::Child);
        assert_eq!(band(17.0, AgeUnit::Years), AgeBand::Child);
        // One table: each band's row is found by the band, and the keys read back.
        for row in PAEDIATRIC_BANDS {
            assert_eq!(row.band.def(), &row);
            assert_eq!(
                TbvMethod::from_key(row.key),
                Some(TbvMethod::PerKg(row.band))
            );
        }
        for method in TbvMethod::ALL {
            assert_eq!(TbvMethod::from_key(method.key()), Some(method));
        }
        assert_eq!(TbvMethod::from_key("guess"), None);
    }

    #[test]
    fn under_25_kg_without_an_age_there_is_no_tbv_and_the_reason_says_so() {
        let p = patient(r#"{"weight_kg":10,"height_cm":80,"sex":"male"}"#);
        assert_eq!(p.tbv(), None);
        assert_eq!(
            p.tbv_unavailable_reason().unwrap(),
            "needs the patient's age (under 25 kg the TBV is estimated per kg by age), \
             or a TBV entered"
        );
        // From 25 kg up, the age does not matter and Nadler's inputs are what is missing.
        let p = patient(r#"{"weight_kg":30,"age":{"value":9,"unit":"years"}}"#);
        assert_eq!(
            p.tbv_unavailable_reason().unwrap(),
            "needs a valid sex, height"
        );
    }

    #[test]
    fn an_entered_tbv_overrides_the_estimate_and_an_implausible_one_is_refused() {
        let p =
            patient(r#"{"weight_kg":10,"age":{"value":3,"unit":"years"},"tbv_entered_ml":820}"#);
        assert_eq!(
            p.tbv(),
            Some(Tbv {
                ml: 820.0,
                method: TbvMethod::Entered
            })
        );
        let p = patient(r#"{"weight_kg":80,"height_cm":178,"sex":"male","tbv_entered_ml":5600}"#);
        assert_eq!(
            p.tbv().map(|t| (t.ml, t.method)),
            Some((5600.0, TbvMethod::Entered))
        );
        // 800 mL for 80 kg is 800 ÷ 80 = 10 mL/kg: refused, and never replaced by Nadler's.
        let p = patient(r#"{"weight_kg":80,"height_cm":178,"sex":"male","tbv_entered_ml":800}"#);
        assert_eq!(p.tbv(), None);
        assert_eq!(
            p.problems,
            ["TBV entered 800 mL is 10 mL/kg for 80 kg, outside 35–150 mL/kg"]
        );
        assert_eq!(
            p.tbv_unavailable_reason().unwrap(),
            "the TBV entered cannot be used"
        );
        // Litres typed where mL are asked for.
        let p = patient(r#"{"tbv_entered_ml":5.2}"#);
        assert_eq!(p.problems, ["TBV entered 5.2 mL is outside 100–15000 mL"]);
        let p = patient(r#"{"tbv_entered_ml":"5 L"}"#);
        assert_eq!(p.problems, [r#"TBV entered "5 L" is not a number"#]);
        // The per-kg edges are accepted: 35 × 100 = 3500 mL and 150 × 2 = 300 mL.
        assert_eq!(validate_entered_tbv_ml(3500.0, Some(100.0)), Ok(3500.0));
        assert_eq!(validate_entered_tbv_ml(300.0, Some(2.0)), Ok(300.0));
        assert!(validate_entered_tbv_ml(3499.0, Some(100.0)).is_err());
        assert!(validate_entered_tbv_ml(301.0, Some(2.0)).is_err());
    }

    #[test]
    fn an_age_that_makes_no_sense_is_refused_with_a_reason() {
        let text = |value: f64, unit| validate_age(value, unit).unwrap_err().to_string();
        assert_eq!(
            text(-1.0, AgeUnit::Years),
            "age -1 years is outside 0–120 years"
        );
        assert_eq!(
            text(121.0, AgeUnit::Years),
            "age 121 years is outside 0–120 years"
        );
        assert_eq!(
            text(1441.0, AgeUnit::Months),
            "age 1441 months is outside 0–1440 months"
        );
        assert_eq!(text(f64::NAN, AgeUnit::Days), "age is not a number");
        assert_eq!(
            validate_age(0.0, AgeUnit::Days),
            Ok(Age {
                value: 0.0,
                unit: AgeUnit::Days
            })
        );
        let p = patient(r#"{"weight_kg":10,"age":{"value":-2,"unit":"years"}}"#);
        assert_eq!(p.age, None);
        assert_eq!(p.problems, ["age -2 years is outside 0–120 years"]);
        let p = patient(r#"{"weight_kg":10,"age":{"value":3,"unit":"decades"}}"#);
        assert_eq!(
            p.problems,
            [r#"age {"unit":"decades","value":3} is not a number of years, months, weeks or days"#]
        );
        let p = patient(r#"{"age":3}"#);
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    }

    #[test]
    fn the_method_is_stamped_into_the_metadata_from_the_details() {
        let mut meta = SessionMeta::default();
        stamp_tbv_method(&mut meta);
        assert_eq!(meta.patient, None);
        meta.patient = Some(
            serde_json::from_str(r#"{"weight_kg":10,"age":{"value":8,"unit":"months"}}"#).unwrap(),
        );
        stamp_tbv_method(&mut meta);
        let stamped = |meta: &SessionMeta| meta.patient.as_ref().unwrap().tbv_method.clone();
        assert_eq!(stamped(&meta), Some(Value::from("ml_per_kg_infant")));
        meta.patient.as_mut().unwrap().age = None;
        stamp_tbv_method(&mut meta);
        assert_eq!(stamped(&meta), None);
        meta.patient.as_mut().unwrap().tbv_entered_ml = Some(Value::from(700));
        stamp_tbv_method(&mut meta);
        assert_eq!(stamped(&meta), Some(Value::from("entered")));
    }
}
