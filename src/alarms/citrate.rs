//! The citrate rule: the AC infused over the last minutes, as ACD-A mL/min per litre of the
//! patient's total blood volume (the unit of the machine's own AC infusion setting), against a
//! limit, with hysteresis. docs/citrate-alarm.md says why it is built this way.
//!
//! - The rate is a moving average (default 5 min, at least [`MIN_AVERAGE_MIN`]): a brief spike
//!   moves it little, a sustained excess crosses the limit within the window.
//! - Once the condition holds, it holds until the average falls [`HYSTERESIS`] below the limit,
//!   so a rate hovering at the limit does not make the alarm come and go.
//! - It needs the patient's TBV (from [`Patient::tbv_ml`]); mg/kg/min is shown beside it when
//!   the weight is known too.

use serde::{Deserialize, Serialize};

use crate::analysis::citrate::{
    Anticoagulant, acd_a_ml_min_per_l, mg_kg_min_from_acd_a_per_l, recent_infused_ac,
};
use crate::analysis::{Patient, Timeline};

/// The default limit, ACD-A mL/min per L TBV: the top of the machine's usual range.
pub const DEFAULT_LIMIT: f64 = 1.2;
/// The limits a person may set, ACD-A mL/min per L TBV (inclusive).
pub const LIMIT_RANGE: (f64, f64) = (0.4, 2.5);
/// The default averaging window, minutes.
pub const DEFAULT_AVERAGE_MIN: f64 = 5.0;
/// The shortest averaging window, minutes: the average never spans less data than this.
pub const MIN_AVERAGE_MIN: f64 = 2.0;
/// The longest averaging window, minutes.
pub const MAX_AVERAGE_MIN: f64 = 15.0;
/// The alarm clears when the average falls this fraction below the limit.
pub const HYSTERESIS: f64 = 0.10;

/// The citrate rule's settings beside its [`super::RuleSettings`] (whose `limit` is in ACD-A
/// mL/min per L TBV).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CitrateSettings {
    /// Minutes of AC flow averaged ([`MIN_AVERAGE_MIN`] to [`MAX_AVERAGE_MIN`]).
    pub average_min: f64,
    /// The anticoagulant in the AC line; its citrate content comes from the table in
    /// [`crate::analysis::citrate`].
    pub anticoagulant: Anticoagulant,
}

impl Default for CitrateSettings {
    fn default() -> Self {
        CitrateSettings {
            average_min: DEFAULT_AVERAGE_MIN,
            anticoagulant: Anticoagulant::AcdA,
        }
    }
}

impl CitrateSettings {
    /// The averaging window used, minutes: the setting, kept within its range.
    pub fn window_min(&self) -> f64 {
        if self.average_min.is_finite() {
            self.average_min.clamp(MIN_AVERAGE_MIN, MAX_AVERAGE_MIN)
        } else {
            DEFAULT_AVERAGE_MIN
        }
    }

    /// Why these settings cannot be used as given, if they cannot.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(self.average_min.is_finite()
            && (MIN_AVERAGE_MIN..=MAX_AVERAGE_MIN).contains(&self.average_min))
        {
            problems.push(format!(
                "citrate averaging {} min is outside {MIN_AVERAGE_MIN}–{MAX_AVERAGE_MIN} min",
                self.average_min
            ));
        }
        problems.extend(self.anticoagulant.problem());
        problems
    }
}

/// What the citrate rule reads at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CitrateReading {
    /// The AC infused, ACD-A-equivalent mL/min per L TBV, averaged over `average_min`.
    pub ml_min_per_l: f64,
    /// The same as citrate mg/kg/min, when the weight is known.
    pub mg_kg_min: Option<f64>,
    /// The averaging window, minutes.
    pub average_min: f64,
    /// The anticoagulant it was converted from.
    pub anticoagulant: Anticoagulant,
}

impl CitrateReading {
    /// A reading of `ml_min_per_l` over the default window, ACD-A, without a weight (tests and
    /// callers that have the number already).
    pub fn per_l(ml_min_per_l: f64) -> CitrateReading {
        CitrateReading {
            ml_min_per_l,
            mg_kg_min: None,
            average_min: DEFAULT_AVERAGE_MIN,
            anticoagulant: Anticoagulant::AcdA,
        }
    }
}

/// The citrate rule's reading from the session: the AC infused over the settings' window, for
/// the patient's TBV. `None` when the TBV is unknown, the anticoagulant's content is invalid or
/// the samples cover less than [`MIN_AVERAGE_MIN`] of the window.
pub fn reading(
    timeline: &Timeline,
    patient: &Patient,
    settings: &CitrateSettings,
) -> Option<CitrateReading> {
    let tbv_ml = patient.tbv_ml()?;
    let citrate = settings.anticoagulant.citrate_mg_per_ml()?;
    let average_min = settings.window_min();
    let average = recent_infused_ac(timeline, average_min * 60.0, MIN_AVERAGE_MIN * 60.0)?;
    let ml_min_per_l = acd_a_ml_min_per_l(average.ac_ml_min, citrate, tbv_ml);
    Some(CitrateReading {
        ml_min_per_l,
        mg_kg_min: patient
            .weight_kg
            .map(|w| mg_kg_min_from_acd_a_per_l(ml_min_per_l, tbv_ml, w)),
        average_min,
        anticoagulant: settings.anticoagulant,
    })
}

/// The level below which a holding condition ends.
pub fn clears_below(limit: f64) -> f64 {
    limit * (1.0 - HYSTERESIS)
}

/// Whether the citrate condition holds: it starts above `limit` and, once `holding`, lasts
/// until the average falls below [`clears_below`]. No reading, no condition.
pub fn holds(reading: Option<&CitrateReading>, limit: f64, holding: bool) -> bool {
    reading.is_some_and(|r| {
        if holding {
            r.ml_min_per_l >= clears_below(limit)
        } else {
            r.ml_min_per_l > limit
        }
    })
}

/// The limit as citrate mg/kg/min for a patient, when their TBV and weight are known.
pub fn limit_mg_kg_min(limit: f64, patient: &Patient) -> Option<f64> {
    Some(mg_kg_min_from_acd_a_per_l(
        limit,
        patient.tbv_ml()?,
        patient.weight_kg?,
    ))
}

/// The alarm's text: the reading, its unit and window, mg/kg/min, the limit and where it
/// clears. A value above the limit that rounds to it reads "just over" it, never as the limit.
pub fn alarm_text(reading: Option<&CitrateReading>, limit: f64) -> String {
    let Some(r) = reading else {
        return format!("Citrate rate unknown; limit {limit:.2} mL/min per L TBV");
    };
    let mut value = format!("{:.2}", r.ml_min_per_l);
    if r.ml_min_per_l > limit && value == format!("{limit:.2}") {
        value = format!("just over {limit:.2}");
    }
    let equivalent = if r.anticoagulant == Anticoagulant::AcdA {
        "ACD-A"
    } else {
        "as ACD-A"
    };
    let mg = r
        .mg_kg_min
        .map_or_else(String::new, |mg| format!(", {mg:.2} mg/kg/min"));
    format!(
        "Citrate {value} mL/min per L TBV {equivalent} ({}-min mean{mg}); limit {limit:.2}, \
         clears below {:.2} — watch for tingling, consider calcium",
        r.average_min,
        clears_below(limit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_raises_above_the_limit_and_clears_ten_percent_below() {
        let r = |v| Some(CitrateReading::per_l(v));
        // Not holding: only above 1.2.
        assert!(!holds(r(1.2).as_ref(), 1.2, false));
        assert!(holds(r(1.2001).as_ref(), 1.2, false));
        // Holding: until below 1.2 × 0.9 = 1.08.
        assert!(holds(r(1.15).as_ref(), 1.2, true));
        assert!(holds(r(1.08).as_ref(), 1.2, true));
        assert!(!holds(r(1.0799).as_ref(), 1.2, true));
        // No reading, no condition.
        assert!(!holds(None, 1.2, true));
        assert!((clears_below(1.2) - 1.08).abs() < 1e-12);
    }

    #[test]
    fn the_text_tells_the_value_the_window_mg_per_kg_the_limit_and_where_it_clears() {
        let reading = CitrateReading {
            ml_min_per_l: 1.4926,
            mg_kg_min: Some(2.1909),
            average_min: 5.0,
            anticoagulant: Anticoagulant::AcdA,
        };
        assert_eq!(
            alarm_text(Some(&reading), 1.2),
            "Citrate 1.49 mL/min per L TBV ACD-A (5-min mean, 2.19 mg/kg/min); limit 1.20, \
             clears below 1.08 — watch for tingling, consider calcium"
        );
        // Just above the limit: never "1.20 … limit 1.20".
        let barely = CitrateReading {
            ml_min_per_l: 1.2004,
            mg_kg_min: None,
            average_min: 2.5,
            anticoagulant: Anticoagulant::AcdB,
        };
        assert_eq!(
            alarm_text(Some(&barely), 1.2),
            "Citrate just over 1.20 mL/min per L TBV as ACD-A (2.5-min mean); limit 1.20, clears below \
             1.08 — watch for tingling, consider calcium"
        );
        let barely = CitrateReading {
            ml_min_per_l: 1.2049,
            ..barely
        };
        assert!(alarm_text(Some(&barely), 1.2).starts_with("Citrate just over 1.20 mL/min"));
        // At the limit or under it (while the alarm holds), the value as it is.
        let under = CitrateReading {
            ml_min_per_l: 1.1,
            ..barely
        };
        assert!(alarm_text(Some(&under), 1.2).starts_with("Citrate 1.10 mL/min"));
    }

    #[test]
    fn the_window_is_kept_within_two_to_fifteen_minutes() {
        let with = |average_min| CitrateSettings {
            average_min,
            ..CitrateSettings::default()
        };
        assert_eq!(CitrateSettings::default().window_min(), 5.0);
        assert_eq!(with(1.0).window_min(), 2.0);
        assert_eq!(with(60.0).window_min(), 15.0);
        assert_eq!(with(f64::NAN).window_min(), 5.0);
        assert!(with(3.5).problems().is_empty());
        assert_eq!(
            with(1.0).problems(),
            ["citrate averaging 1 min is outside 2–15 min"]
        );
        let custom = CitrateSettings {
            anticoagulant: Anticoagulant::Custom {
                citrate_mg_per_ml: 0.0,
            },
            ..CitrateSettings::default()
        };
        assert_eq!(custom.problems().len(), 1);
    }
}
