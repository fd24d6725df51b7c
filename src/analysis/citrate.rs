//! Citrate: how much citrate each anticoagulant carries (one table), the AC infusion rate
//! stated the way the machine's own setting is (ACD-A mL/min per litre of total blood volume)
//! and in mg/kg/min, and the AC flow averaged over the last minutes of a session.
//!
//! Decisions (see docs/citrate-alarm.md):
//! - The rate is stated as **ACD-A-equivalent** mL/min per L TBV: the AC flow times the
//!   anticoagulant's citrate content relative to ACD-A's, divided by the TBV in litres. With
//!   ACD-A it is the machine's own "AC infusion rate"; with a weaker solution the same number
//!   still means the same citrate load.
//! - Citrate reaches the patient only while the machine is connected to them: AC pumped in IDLE,
//!   PRIME or END goes into the kit, so it counts as no infusion. A sample before the machine
//!   has stated any state counts as infused (the safe side).
//! - The average holds each sample's value until the next sample (sample-and-hold), like the
//!   summary's rates; an interval longer than [`MAX_HOLD_S`] is unknown and not counted.

use serde::{Deserialize, Serialize};

use super::patient::ACD_A_CITRATE_MG_PER_ML;
use super::summary::MAX_HOLD_S;
use super::timeline::{Series, Timeline};
use crate::model::{MachineState, Quantity};

/// Plausible citrate content of a custom anticoagulant, mg/mL (inclusive).
pub const CUSTOM_CITRATE_MG_PER_ML_RANGE: (f64, f64) = (1.0, 50.0);

/// The anticoagulant running in the AC line.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Anticoagulant {
    /// Anticoagulant citrate dextrose, solution A: the usual one in apheresis.
    #[default]
    #[serde(rename = "ACD-A")]
    AcdA,
    /// Anticoagulant citrate dextrose, solution B.
    #[serde(rename = "ACD-B")]
    AcdB,
    /// Trisodium citrate 4 % w/v.
    #[serde(rename = "TSC-4")]
    TrisodiumCitrate4,
    /// Another solution, by its citrate content.
    #[serde(rename = "custom")]
    Custom { citrate_mg_per_ml: f64 },
}

/// The named anticoagulants, in the order a list offers them.
pub const ANTICOAGULANTS: [Anticoagulant; 3] = [
    Anticoagulant::AcdA,
    Anticoagulant::AcdB,
    Anticoagulant::TrisodiumCitrate4,
];

impl Anticoagulant {
    /// Its name on the screen and in the reports.
    pub fn name(self) -> &'static str {
        match self {
            Anticoagulant::AcdA => "ACD-A",
            Anticoagulant::AcdB => "ACD-B",
            Anticoagulant::TrisodiumCitrate4 => "Trisodium citrate 4 %",
            Anticoagulant::Custom { .. } => "Other (citrate content given)",
        }
    }

    /// Citrate (the citrate ion, from the sodium citrate and the citric acid), mg per mL; `None`
    /// for a custom content outside [`CUSTOM_CITRATE_MG_PER_ML_RANGE`].
    ///
    /// The table, from the solutions' compositions per litre and the molar masses (citrate ion
    /// 189.10, trisodium citrate dihydrate 294.10, citric acid anhydrous 192.12 g/mol):
    /// - ACD-A: 22.0 g trisodium citrate dihydrate + 7.3 g citric acid (anhydrous):
    ///   22.0 × 189.10/294.10 + 7.3 × 189.10/192.12 = 14.15 + 7.19 = 21.3 mg/mL;
    /// - ACD-B: 13.2 g + 4.4 g: 8.49 + 4.33 = 12.8 mg/mL;
    /// - trisodium citrate 4 %: 40 g trisodium citrate dihydrate: 40 × 189.10/294.10 = 25.7 mg/mL.
    pub fn citrate_mg_per_ml(self) -> Option<f64> {
        match self {
            Anticoagulant::AcdA => Some(ACD_A_CITRATE_MG_PER_ML),
            Anticoagulant::AcdB => Some(12.8),
            Anticoagulant::TrisodiumCitrate4 => Some(25.7),
            Anticoagulant::Custom { citrate_mg_per_ml } => {
                let (low, high) = CUSTOM_CITRATE_MG_PER_ML_RANGE;
                (citrate_mg_per_ml.is_finite() && (low..=high).contains(&citrate_mg_per_ml))
                    .then_some(citrate_mg_per_ml)
            }
        }
    }

    /// Why the content cannot be used, if it cannot.
    pub fn problem(self) -> Option<String> {
        if self.citrate_mg_per_ml().is_some() {
            return None;
        }
        let (low, high) = CUSTOM_CITRATE_MG_PER_ML_RANGE;
        Some(match self {
            Anticoagulant::Custom { citrate_mg_per_ml } => format!(
                "the anticoagulant's citrate content {citrate_mg_per_ml} mg/mL is outside \
                 {low}–{high} mg/mL"
            ),
            other => format!("{} has no citrate content", other.name()),
        })
    }
}

/// An AC flow as ACD-A-equivalent mL/min per litre of total blood volume.
pub fn acd_a_ml_min_per_l(ac_ml_min: f64, citrate_mg_per_ml: f64, tbv_ml: f64) -> f64 {
    ac_ml_min * (citrate_mg_per_ml / ACD_A_CITRATE_MG_PER_ML) / (tbv_ml / 1000.0)
}

/// An ACD-A-equivalent rate per litre of TBV as citrate mg/kg/min: the rate times ACD-A's
/// 21.3 mg/mL times the TBV in litres, divided by the weight.
pub fn mg_kg_min_from_acd_a_per_l(rate_ml_min_per_l: f64, tbv_ml: f64, weight_kg: f64) -> f64 {
    rate_ml_min_per_l * ACD_A_CITRATE_MG_PER_ML * (tbv_ml / 1000.0) / weight_kg
}

/// The AC flow infused into the patient, averaged over the end of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcAverage {
    /// Mean flow, mL/min (zero for the time the machine was not connected to the patient).
    pub ac_ml_min: f64,
    /// How much of the window the samples cover, seconds.
    pub covered_s: f64,
}

/// Whether AC pumped in `state` reaches the patient (see the module's decisions).
fn infuses(state: Option<MachineState>) -> bool {
    !matches!(
        state,
        Some(MachineState::Idle | MachineState::Prime | MachineState::End)
    )
}

/// The AC flow infused over the last `window_s` seconds of session time before the last sample,
/// sample-and-hold; `None` when the samples cover less than `min_cover_s` of it.
///
/// Its cost grows with the samples in the window only (a binary search finds its start).
pub fn recent_infused_ac(
    timeline: &Timeline,
    window_s: f64,
    min_cover_s: f64,
) -> Option<AcAverage> {
    let xs = timeline.xs();
    let end = *xs.last()?;
    let start = end - window_s;
    // The first sample whose hold can reach into the window.
    let first = xs.partition_point(|&x| x < start - MAX_HOLD_S);
    let states = timeline.sample_states();
    let series = Series::Measured(Quantity::AcMlMin);
    let mut weighted = 0.0;
    let mut covered = 0.0;
    // The last sample with an AC value and its time.
    let mut held: Option<(f64, f64)> = None;
    for (i, &x) in xs.iter().enumerate().skip(first) {
        let Some(value) = timeline.value(series, i) else {
            continue;
        };
        if let Some((x0, v0)) = held {
            let dt = x - x0;
            if dt > 0.0 && dt <= MAX_HOLD_S {
                let piece = (x.min(end) - x0.max(start)).max(0.0);
                weighted += v0 * piece;
                covered += piece;
            }
        }
        let infused = if infuses(states.get(i).copied().flatten()) {
            value
        } else {
            0.0
        };
        held = Some((x, infused));
    }
    (covered > 0.0 && covered >= min_cover_s).then(|| AcAverage {
        ac_ml_min: weighted / covered,
        covered_s: covered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::patient::{Sex, nadler_tbv_ml};
    use crate::model::{Entry, EntryBody, Sample};
    use jiff::Timestamp;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-4, "{a} != {b}");
    }

    #[test]
    fn the_table_holds_the_usual_solutions() {
        // Worked out in the doc of `citrate_mg_per_ml` from the compositions.
        assert_eq!(Anticoagulant::AcdA.citrate_mg_per_ml(), Some(21.3));
        assert_eq!(Anticoagulant::AcdB.citrate_mg_per_ml(), Some(12.8));
        assert_eq!(
            Anticoagulant::TrisodiumCitrate4.citrate_mg_per_ml(),
            Some(25.7)
        );
        let custom = |mg| Anticoagulant::Custom {
            citrate_mg_per_ml: mg,
        };
        assert_eq!(custom(15.0).citrate_mg_per_ml(), Some(15.0));
        for bad in [0.0, -3.0, 0.99, 50.01, f64::NAN, f64::INFINITY] {
            assert_eq!(custom(bad).citrate_mg_per_ml(), None, "{bad}");
            assert!(custom(bad).problem().is_some(), "{bad}");
        }
        assert_eq!(
            custom(60.0).problem().unwrap(),
            "the anticoagulant's citrate content 60 mg/mL is outside 1–50 mg/mL"
        );
        assert_eq!(Anticoagulant::default(), Anticoagulant::AcdA);
        // Stored by name.
        assert_eq!(
            serde_json::to_string(&ANTICOAGULANTS).unwrap(),
            r#"["ACD-A","ACD-B","TSC-4"]"#
        );
        assert_eq!(
            serde_json::to_string(&custom(15.0)).unwrap(),
            r#"{"custom":{"citrate_mg_per_ml":15.0}}"#
        );
    }

    #[test]
    fn the_rate_per_litre_of_tbv_and_in_mg_per_kg_match_hand_calculation() {
        // The shipped teenager: female, 155 cm, 40 kg. Nadler:
        // 0.3561 × 1.55³ + 0.03308 × 40 + 0.1833 = 0.3561 × 3.723875 + 1.3232 + 0.1833
        //   = 1.3260719 + 1.5065 = 2.8325719 L.
        let tbv = nadler_tbv_ml(Sex::Female, 155.0, 40.0);
        close(tbv, 2832.5719);
        // Her operator aims at 1.17 mg/kg/min: AC = 1.17 × 40 ÷ 21.3 = 2.1972 mL/min,
        // 2.1972 ÷ 2.8325719 = 0.7757 mL/min per L: the routine ~0.8.
        let ac = 1.17 * 40.0 / 21.3;
        close(acd_a_ml_min_per_l(ac, 21.3, tbv), 0.775_69);
        // The 1.2 limit for her is 1.2 × 21.3 × 2.8325719 ÷ 40 = 1.8101 mg/kg/min.
        close(mg_kg_min_from_acd_a_per_l(1.2, tbv, 40.0), 1.810_013);
        // ACD-B at the same flow carries 12.8/21.3 of the citrate: 0.7757 × 0.600939 = 0.4661.
        close(acd_a_ml_min_per_l(ac, 12.8, tbv), 0.466_144);
    }

    fn at(s: f64) -> Timestamp {
        Timestamp::from_millisecond(1_700_000_000_000 + (s * 1000.0) as i64).unwrap()
    }

    fn push(timeline: &mut Timeline, s: f64, body: EntryBody) {
        timeline.push(&Entry {
            time_utc: at(s),
            elapsed_ms: Some((s * 1000.0) as u64),
            seq: None,
            body,
        });
    }

    fn ac(v: f64) -> EntryBody {
        EntryBody::Sample(Sample::default().with(Quantity::AcMlMin, v))
    }

    #[test]
    fn the_average_holds_each_sample_until_the_next_over_the_window() {
        let mut t = Timeline::new();
        assert_eq!(recent_infused_ac(&t, 300.0, 120.0), None);
        push(&mut t, 0.0, EntryBody::State(MachineState::Run));
        // 0–599 s at 2 mL/min, 600–700 s at 4 mL/min, one sample a second.
        for s in 0..=700 {
            push(&mut t, f64::from(s), ac(if s < 600 { 2.0 } else { 4.0 }));
        }
        // Window [400, 700]: 2 mL/min held over [400, 600), 4 over [600, 700):
        // (2 × 200 + 4 × 100) ÷ 300 = 800 ÷ 300 = 2.6667.
        let avg = recent_infused_ac(&t, 300.0, 120.0).unwrap();
        close(avg.ac_ml_min, 800.0 / 300.0);
        close(avg.covered_s, 300.0);
        // Window [580, 700]: (2 × 20 + 4 × 100) ÷ 120 = 3.6667.
        close(
            recent_infused_ac(&t, 120.0, 120.0).unwrap().ac_ml_min,
            440.0 / 120.0,
        );
    }

    #[test]
    fn priming_counts_as_no_infusion_and_a_gap_as_unknown() {
        let mut t = Timeline::new();
        push(&mut t, 0.0, EntryBody::State(MachineState::Prime));
        for s in 0..200 {
            push(&mut t, f64::from(s), ac(3.0));
        }
        // Priming only: covered, but nothing reached the patient.
        let avg = recent_infused_ac(&t, 300.0, 120.0).unwrap();
        assert_eq!(avg.ac_ml_min, 0.0);
        close(avg.covered_s, 199.0);
        push(&mut t, 200.0, EntryBody::State(MachineState::Run));
        for s in 200..=300 {
            push(&mut t, f64::from(s), ac(3.0));
        }
        // Window [0, 300]: the priming samples 0–199 held zero over [0, 200), RUN 3 over
        // [200, 300): 300 ÷ 300 = 1.0 mL/min.
        let avg = recent_infused_ac(&t, 300.0, 120.0).unwrap();
        close(avg.ac_ml_min, 1.0);
        close(avg.covered_s, 300.0);
        // The link lost for 100 s: samples stop at 300 and come back at 400 at 6 mL/min.
        for s in 400..=460 {
            push(&mut t, f64::from(s), ac(6.0));
        }
        // Window [160, 460]: zero over [160, 200), 3 over [200, 300), nothing known over
        // [300, 400) (longer than the 30 s hold), 6 over [400, 460):
        // (0 + 300 + 360) ÷ (40 + 100 + 60) = 660 ÷ 200 = 3.3 mL/min.
        let avg = recent_infused_ac(&t, 300.0, 120.0).unwrap();
        close(avg.ac_ml_min, 3.3);
        close(avg.covered_s, 200.0);
        // Less than the minimum covered: no average.
        assert_eq!(recent_infused_ac(&t, 300.0, 201.0), None);
    }

    #[test]
    fn before_any_state_the_flow_counts_as_infused() {
        let mut t = Timeline::new();
        for s in 0..=150 {
            push(&mut t, f64::from(s), ac(2.5));
        }
        close(recent_infused_ac(&t, 300.0, 120.0).unwrap().ac_ml_min, 2.5);
        // Samples without an AC value are skipped: the value holds across them.
        push(
            &mut t,
            151.0,
            EntryBody::Sample(Sample::default().with(Quantity::InletMlMin, 30.0)),
        );
        push(&mut t, 152.0, ac(2.5));
        let avg = recent_infused_ac(&t, 300.0, 120.0).unwrap();
        close(avg.ac_ml_min, 2.5);
        close(avg.covered_s, 152.0);
    }
}
