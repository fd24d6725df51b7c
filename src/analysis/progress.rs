//! Progress towards the collection target and the projected end.
//!
//! The projection is a time still to go at the recent rate ([`Progress::remaining_s`]), and
//! the end is counted from *now* ([`Progress::projected_end`]), not from the last sample: when
//! data stops, the end moves later with the clock instead of drawing nearer unseen.

use jiff::{SignedDuration, Timestamp};

use crate::recording::meta::TargetsMeta;

use super::patient::Patient;
use super::timeline::{Moment, Series};

/// Default target: total blood volumes to process.
pub const DEFAULT_TARGET_TBV: f64 = 2.5;
/// Window of RUN time the processing rate is taken over.
pub const RATE_WINDOW_SECS: f64 = 600.0;

/// What the collection aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Total blood volumes to process.
    Tbv(f64),
    /// Litres of whole blood to process.
    WbLitres(f64),
}

impl Default for Target {
    fn default() -> Self {
        Target::Tbv(DEFAULT_TARGET_TBV)
    }
}

impl Target {
    /// Reads the metadata's target; an invalid value falls back to the default with a reason.
    pub fn from_meta(meta: Option<&TargetsMeta>) -> (Target, Option<String>) {
        let Some(meta) = meta else {
            return (Target::default(), None);
        };
        let number = |v: &Option<serde_json::Value>| v.as_ref().and_then(serde_json::Value::as_f64);
        if let Some(litres) = number(&meta.wb_processed_l) {
            if litres > 0.0 && litres <= 50.0 {
                return (Target::WbLitres(litres), None);
            }
            return (
                Target::default(),
                Some(format!("target {litres} L is outside 0–50 L")),
            );
        }
        if let Some(tbv) = number(&meta.tbv_processed) {
            if tbv > 0.0 && tbv <= 6.0 {
                return (Target::Tbv(tbv), None);
            }
            return (
                Target::default(),
                Some(format!("target {tbv} TBV is outside 0–6 TBV")),
            );
        }
        (Target::default(), None)
    }

    /// Whole blood to process, mL, when it can be known.
    pub fn wb_ml(self, tbv_ml: Option<f64>) -> Option<f64> {
        match self {
            Target::Tbv(n) => tbv_ml.map(|tbv| n * tbv),
            Target::WbLitres(l) => Some(l * 1000.0),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Target::Tbv(n) => format!("{n:.1} TBV"),
            Target::WbLitres(l) => format!("{l:.1} L WB"),
        }
    }
}

/// Where the collection stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    pub wb_processed_ml: Option<f64>,
    pub tbv_ml: Option<f64>,
    pub tbv_processed: Option<f64>,
    pub target_wb_ml: Option<f64>,
    /// 0 to 1 (or above, past the target).
    pub fraction: Option<f64>,
    pub rate_ml_min: Option<f64>,
    /// Session time at which the target will be reached at the recent rate, counted from the
    /// last sample (for the time axis; the screen counts from now, [`Progress::projected_end`]).
    pub end_x: Option<f64>,
    /// Seconds of processing still to go at the recent rate (0 once the target is reached).
    pub remaining_s: Option<f64>,
    /// Why there is no fraction or projection, for the screen.
    pub unavailable: Option<String>,
}

impl Progress {
    /// When the target will be reached at the recent rate, counted from `now`.
    pub fn projected_end(&self, now: Timestamp) -> Option<Timestamp> {
        let remaining = SignedDuration::try_from_secs_f64(self.remaining_s?).ok()?;
        now.checked_add(remaining).ok()
    }
}

/// Computes progress from the timeline, the validated patient and the target.
pub fn progress(timeline: Moment<'_>, patient: &Patient, target: Target) -> Progress {
    let wb = timeline.latest(Series::WbProcessedMl);
    let tbv_ml = patient.tbv_ml();
    let target_wb_ml = target.wb_ml(tbv_ml);
    let mut p = Progress {
        wb_processed_ml: wb.map(|(_, v)| v),
        tbv_ml,
        tbv_processed: wb.and_then(|(_, v)| tbv_ml.map(|t| v / t)),
        target_wb_ml,
        ..Progress::default()
    };
    let Some(target_ml) = target_wb_ml else {
        p.unavailable = Some(format!(
            "no target volume: TBV {}",
            patient.tbv_unavailable_reason().unwrap_or_default()
        ));
        return p;
    };
    let Some((x, done)) = wb else {
        p.unavailable = Some("no volume from the machine yet".into());
        return p;
    };
    p.fraction = Some(done / target_ml);
    let remaining = target_ml - done;
    if remaining <= 0.0 {
        p.end_x = Some(x);
        p.remaining_s = Some(0.0);
        return p;
    }
    match timeline.recent_wb_rate_ml_min(RATE_WINDOW_SECS) {
        Some(rate) if rate > 0.5 => {
            let remaining_s = remaining / rate * 60.0;
            p.rate_ml_min = Some(rate);
            p.end_x = Some(x + remaining_s);
            p.remaining_s = Some(remaining_s);
        }
        _ => p.unavailable = Some("projection needs a minute of processing".into()),
    }
    p
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::analysis::Timeline;
    use crate::model::{Entry, EntryBody, MachineState, Quantity, Sample};
    use crate::recording::meta::PatientMeta;

    fn targets(wb_l: Option<f64>, tbv: Option<f64>) -> TargetsMeta {
        TargetsMeta {
            wb_processed_l: wb_l.map(|v| json!(v)),
            tbv_processed: tbv.map(|v| json!(v)),
            ..TargetsMeta::default()
        }
    }

    #[test]
    fn the_target_from_the_metadata_is_checked_against_its_range() {
        assert_eq!(Target::from_meta(None), (Target::Tbv(2.5), None));
        let none = targets(None, None);
        assert_eq!(Target::from_meta(Some(&none)), (Target::Tbv(2.5), None));
        for (wb_l, target) in [(12.0, 12.0), (50.0, 50.0), (0.01, 0.01)] {
            assert_eq!(
                Target::from_meta(Some(&targets(Some(wb_l), None))),
                (Target::WbLitres(target), None)
            );
        }
        for (wb_l, problem) in [
            (0.0, "target 0 L is outside 0–50 L"),
            (-3.0, "target -3 L is outside 0–50 L"),
            (50.5, "target 50.5 L is outside 0–50 L"),
        ] {
            assert_eq!(
                Target::from_meta(Some(&targets(Some(wb_l), None))),
                (Target::Tbv(2.5), Some(problem.to_owned()))
            );
        }
        for tbv in [1.0, 6.0] {
            assert_eq!(
                Target::from_meta(Some(&targets(None, Some(tbv)))),
                (Target::Tbv(tbv), None)
            );
        }
        for (tbv, problem) in [
            (0.0, "target 0 TBV is outside 0–6 TBV"),
            (6.5, "target 6.5 TBV is outside 0–6 TBV"),
        ] {
            assert_eq!(
                Target::from_meta(Some(&targets(None, Some(tbv)))),
                (Target::Tbv(2.5), Some(problem.to_owned()))
            );
        }
        // Litres of whole blood win over a TBV count when both are given.
        assert_eq!(
            Target::from_meta(Some(&targets(Some(10.0), Some(3.0)))),
            (Target::WbLitres(10.0), None)
        );
        // A target that is not a number is ignored.
        let text = TargetsMeta {
            wb_processed_l: Some(json!("ten")),
            ..TargetsMeta::default()
        };
        assert_eq!(Target::from_meta(Some(&text)), (Target::Tbv(2.5), None));
    }

    #[test]
    fn the_target_in_whole_blood_and_its_description() {
        assert_eq!(Target::Tbv(2.5).wb_ml(Some(4000.0)), Some(10_000.0));
        assert_eq!(Target::Tbv(2.5).wb_ml(None), None);
        assert_eq!(Target::WbLitres(12.0).wb_ml(None), Some(12_000.0));
        assert_eq!(Target::WbLitres(12.0).wb_ml(Some(4000.0)), Some(12_000.0));
        assert_eq!(Target::Tbv(2.5).describe(), "2.5 TBV");
        assert_eq!(Target::WbLitres(12.0).describe(), "12.0 L WB");
    }

    /// Male, 175 cm, 70 kg: Nadler's TBV is 0.3669 × 1.75³ + 0.032 19 × 70 + 0.6041
    /// = 1.966 354 687 5 + 2.2533 + 0.6041 = 4.823 754 687 5 L.
    fn patient() -> Patient {
        Patient::from_meta(Some(&PatientMeta {
            weight_kg: Some(json!(70.0)),
            height_cm: Some(json!(175.0)),
            sex: Some(json!("male")),
            ..PatientMeta::default()
        }))
    }

    fn at(s: u64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s as i64).unwrap()
    }

    fn state(t: &mut Timeline, ms: u64, state: MachineState) {
        t.push(&Entry {
            time_utc: at(ms / 1000),
            elapsed_ms: Some(ms),
            seq: None,
            body: EntryBody::State(state),
        });
    }

    /// A sample at `s` seconds with `wb` mL of whole blood processed (inlet − AC).
    fn sample(t: &mut Timeline, s: u64, wb: f64) {
        t.push(&Entry {
            time_utc: at(s),
            elapsed_ms: Some(s * 1000),
            seq: None,
            body: EntryBody::Sample(
                Sample::default()
                    .with(Quantity::InletMl, wb + 50.0)
                    .with(Quantity::AcMl, 50.0),
            ),
        });
    }

    /// RUN 0–500 s at 2 mL/s (0 → 1000 mL), PAUSE 500–600 s (flat), RUN 600–900 s at
    /// 1 mL/s (1000 → 1300 mL).
    fn run_pause_run() -> Timeline {
        let mut t = Timeline::new();
        state(&mut t, 0, MachineState::Run);
        for s in 0..=500 {
            sample(&mut t, s, 2.0 * s as f64);
        }
        state(&mut t, 500_500, MachineState::Pause);
        for s in 501..600 {
            sample(&mut t, s, 1000.0);
        }
        state(&mut t, 600_000, MachineState::Run);
        for s in 600..=900 {
            sample(&mut t, s, 1000.0 + (s - 600) as f64);
        }
        t
    }

    #[test]
    fn progress_is_the_processed_volume_over_the_target_projected_at_the_last_ten_minutes_of_run() {
        let t = run_pause_run();
        let p = progress(t.now(), &patient(), Target::Tbv(2.0));
        assert_eq!(p.wb_processed_ml, Some(1300.0));
        assert!((p.tbv_ml.unwrap() - 4_823.754_687_5).abs() < 1e-6);
        // 2 TBV = 9 647.509 375 mL; 1 300 / 9 647.509 375 = 0.134 749 8;
        // 1 300 / 4 823.754 687 5 = 0.269 499 6.
        assert!((p.target_wb_ml.unwrap() - 9_647.509_375).abs() < 1e-6);
        assert!((p.fraction.unwrap() - 0.134_749_8).abs() < 1e-7, "{p:?}");
        assert!(
            (p.tbv_processed.unwrap() - 0.269_499_6).abs() < 1e-7,
            "{p:?}"
        );
        // The last 600 s of RUN, going back from 900 s: the 301 one-second steps that end in
        // RUN from 600 to 900 s (300 mL: the step into 600 s moved nothing), the pause
        // skipped, then 299 steps ending at 202…500 s at 2 mL/s (598 mL).
        // 898 mL in 600 s = 89.8 mL/min. (Counting the pause as running would give 70;
        // taking all of RUN, 97.5.)
        let rate = p.rate_ml_min.unwrap();
        assert!((rate - 89.8).abs() < 1e-9, "{rate}");
        // 8 347.509 mL left at 89.8 mL/min = 92.956 67 min = 5 577.40 s after 900 s.
        let end = p.end_x.unwrap();
        assert!((end - 6477.40).abs() < 0.01, "{end}");
        let remaining = p.remaining_s.unwrap();
        assert!((remaining - 5577.40).abs() < 0.01, "{remaining}");
        assert_eq!(p.unavailable, None);
    }

    #[test]
    fn progress_at_a_replay_moment_reads_the_session_as_it_stood() {
        let t = run_pause_run();
        // At 300 s: 600 mL of a 1 L target; the last 300 s at 2 mL/s (too little RUN for
        // ten minutes, but over the minute the projection needs): 120 mL/min, 400 mL left
        // = 200 s.
        let p = progress(t.moment(300.0), &Patient::default(), Target::WbLitres(1.0));
        assert_eq!(p.wb_processed_ml, Some(600.0));
        assert_eq!(p.fraction, Some(0.6));
        assert!((p.rate_ml_min.unwrap() - 120.0).abs() < 1e-9, "{p:?}");
        assert!((p.end_x.unwrap() - 500.0).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn progress_says_why_it_has_no_fraction_or_projection() {
        // No TBV (no sex, height): a target in TBV cannot be turned into a volume.
        let weight_only = Patient::from_meta(Some(&PatientMeta {
            weight_kg: Some(json!(70.0)),
            ..PatientMeta::default()
        }));
        let t = run_pause_run();
        let p = progress(t.now(), &weight_only, Target::Tbv(2.0));
        assert_eq!(p.wb_processed_ml, Some(1300.0));
        assert_eq!((p.fraction, p.end_x, p.target_wb_ml), (None, None, None));
        assert_eq!(
            p.unavailable.as_deref(),
            Some("no target volume: TBV needs a valid sex, height")
        );
        // No volume yet.
        let empty = Timeline::new();
        let p = progress(empty.now(), &patient(), Target::WbLitres(10.0));
        assert_eq!((p.fraction, p.end_x), (None, None));
        assert_eq!(
            p.unavailable.as_deref(),
            Some("no volume from the machine yet")
        );
        // 59 s of RUN: a fraction, but no projection yet; 60 s: a projection.
        let mut t = Timeline::new();
        state(&mut t, 0, MachineState::Run);
        for s in 0..=59 {
            sample(&mut t, s, s as f64);
        }
        let p = progress(t.now(), &patient(), Target::WbLitres(1.0));
        assert!((p.fraction.unwrap() - 0.059).abs() < 1e-12);
        assert_eq!((p.rate_ml_min, p.end_x), (None, None));
        assert_eq!(
            p.unavailable.as_deref(),
            Some("projection needs a minute of processing")
        );
        sample(&mut t, 60, 60.0);
        let p = progress(t.now(), &patient(), Target::WbLitres(1.0));
        assert!((p.rate_ml_min.unwrap() - 60.0).abs() < 1e-9);
        assert!((p.end_x.unwrap() - 1000.0).abs() < 1e-9);
        // Running but processing nothing (0.5 mL/min or less): no projection.
        let mut t = Timeline::new();
        state(&mut t, 0, MachineState::Run);
        for s in 0..=120 {
            sample(&mut t, s, 100.0 + s as f64 / 120.0);
        }
        let p = progress(t.now(), &patient(), Target::WbLitres(1.0));
        assert_eq!((p.rate_ml_min, p.end_x), (None, None), "0.5 mL/min");
        assert_eq!(
            p.unavailable.as_deref(),
            Some("projection needs a minute of processing")
        );
    }

    #[test]
    fn at_the_target_the_end_is_now() {
        let t = run_pause_run();
        // 1.3 L done of 1.3 L, then of 1.2 L.
        for litres in [1.3, 1.2] {
            let p = progress(t.now(), &patient(), Target::WbLitres(litres));
            assert!((p.fraction.unwrap() - 1.3 / litres).abs() < 1e-12);
            assert_eq!(p.end_x, Some(900.0));
            assert_eq!(p.remaining_s, Some(0.0));
            assert_eq!(p.projected_end(at(5000)), Some(at(5000)));
            assert_eq!((p.rate_ml_min, p.unavailable), (None, None));
        }
    }

    #[test]
    fn the_projected_end_counts_from_now_not_from_the_last_sample() {
        // RUN 0–60 s at 1 mL/s, target 1 L: 60 mL/min, 940 mL left = 940 s to go.
        let mut t = Timeline::new();
        state(&mut t, 0, MachineState::Run);
        for s in 0..=60 {
            sample(&mut t, s, s as f64);
        }
        let p = progress(t.now(), &patient(), Target::WbLitres(1.0));
        assert!((p.remaining_s.unwrap() - 940.0).abs() < 1e-9, "{p:?}");
        // Seen at the last sample: the end is 940 s later.
        let end = p.projected_end(at(60)).unwrap();
        assert!(
            (end.duration_since(at(1000)).as_secs_f64()).abs() < 1e-6,
            "{end}"
        );
        // No data for two minutes: 940 s still to go from now, so the end is two minutes
        // later, not drawing nearer unseen.
        let end = p.projected_end(at(180)).unwrap();
        assert!(
            (end.duration_since(at(1120)).as_secs_f64()).abs() < 1e-6,
            "{end}"
        );
        // No projection, no end.
        assert_eq!(Progress::default().projected_end(at(60)), None);
    }
}
