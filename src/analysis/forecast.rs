//! The live dose forecast: from the pre-collection CD3+ count and a collection efficiency
//! (CE2), the CD3+ cells collected so far, the whole blood still to process for the target
//! dose, and when that will be, at the current rate, or that it will not be before the run's
//! planned end.
//!
//! CE2 is the share of the CD3+ cells that passed through the machine that reached the bag:
//! cells = pre-count (cells/µL) × 1000 (µL/mL) × WB processed (mL) × CE2 / 100. The CE2 used is
//! the one observed in a mid-run product sample when there is one, else the nurse's expected
//! CE2, typed or the median of the unit's past collections.

use jiff::{SignedDuration, Timestamp};

use serde_json::{Map, Value};

use crate::recording::meta::LabMeta;

use super::labs::Analyte;
use super::progress::Progress;
use super::records::Record;
use super::timeline::{Moment, Series};

/// The metadata key of the CE2 the nurse expects (`lab.expected_ce2_percent`, a bare number).
pub const EXPECTED_CE2_KEY: &str = "expected_ce2_percent";
/// The note code of a mid-run product sample ([`Record::ProductSample`]).
pub const PRODUCT_SAMPLE_CODE: &str = "PRODUCT_SAMPLE";

/// Where the CE2 of a forecast comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CeSource {
    /// Typed in by the nurse.
    Typed,
    /// The median of the unit's past collections; how many.
    PastCollections(usize),
    /// Observed in a product sample taken during the run.
    ProductSample,
}

/// The CE2 a forecast uses, and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpectedCe {
    pub percent: f64,
    pub source: CeSource,
}

impl ExpectedCe {
    /// A CE2 typed by the nurse: above 0 and at most 100 %.
    pub fn typed(percent: f64) -> Result<ExpectedCe, String> {
        check_ce(percent).map(|percent| ExpectedCe {
            percent,
            source: CeSource::Typed,
        })
    }

    /// The median CE2 of past collections (implausible ones left out); `None` without any.
    pub fn median_of(past: &[f64]) -> Option<ExpectedCe> {
        let mut ok: Vec<f64> = past
            .iter()
            .copied()
            .filter(|&c| check_ce(c).is_ok())
            .collect();
        if ok.is_empty() {
            return None;
        }
        ok.sort_by(f64::total_cmp);
        let mid = ok.len() / 2;
        let median = if ok.len().is_multiple_of(2) {
            f64::midpoint(ok[mid - 1], ok[mid])
        } else {
            ok[mid]
        };
        Some(ExpectedCe {
            percent: median,
            source: CeSource::PastCollections(ok.len()),
        })
    }

    /// The CE2 observed in a product sample taken during the run: the sample's CD3+ count
    /// (cells/µL) times the bag's volume then (mL) over the CD3+ cells processed by then.
    pub fn observed(
        pre_cd3_per_ul: f64,
        sample_cd3_per_ul: f64,
        bag_ml: f64,
        wb_processed_ml: f64,
    ) -> Result<ExpectedCe, String> {
        if !(wb_processed_ml > 0.0 && pre_cd3_per_ul > 0.0) {
            return Err("no whole blood processed before the sample".into());
        }
        let percent = 100.0 * sample_cd3_per_ul * bag_ml / (pre_cd3_per_ul * wb_processed_ml);
        check_ce(percent).map(|percent| ExpectedCe {
            percent,
            source: CeSource::ProductSample,
        })
    }

    /// Where the CE2 comes from, for the screen: `expected 45 % (typed)`.
    pub fn describe(&self) -> String {
        match self.source {
            CeSource::Typed => format!("CE2 {:.0} % (typed)", self.percent),
            CeSource::PastCollections(n) => format!(
                "CE2 {:.0} % (median of {n} past collection{})",
                self.percent,
                if n == 1 { "" } else { "s" }
            ),
            CeSource::ProductSample => {
                format!("CE2 {:.0} % (observed in the product)", self.percent)
            }
        }
    }
}

fn check_ce(percent: f64) -> Result<f64, String> {
    if percent.is_finite() && percent > 0.0 && percent <= 100.0 {
        Ok(percent)
    } else {
        Err(format!(
            "a CE2 of {percent:.0} % is implausible: it must be above 0 and at most 100 %"
        ))
    }
}

/// When the target dose will be reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DoseReached {
    /// It has been, by the estimate.
    Already,
    /// At this time, at the current rate, before the planned end.
    At(Timestamp),
    /// Not before the run's planned end (when the volume target is reached); when it would be.
    NotBeforePlannedEnd { would_be: Timestamp },
    /// Not known: no processing rate yet.
    NoRate,
}

/// The forecast of the target dose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseForecast {
    /// The target dose, CD3+ cells.
    pub target_cells: f64,
    /// CD3+ cells collected so far, estimated.
    pub cells_so_far: f64,
    /// Whole blood to process in all for the target dose, mL.
    pub wb_needed_ml: f64,
    /// Whole blood still to process for it, mL (0 once reached).
    pub wb_remaining_ml: f64,
    pub reached: DoseReached,
    pub ce: ExpectedCe,
}

/// The forecast at `now`: `progress` gives the WB processed, the recent rate and the planned
/// end (when the volume target will be reached).
pub fn forecast(
    pre_cd3_per_ul: f64,
    target_cells: f64,
    ce: ExpectedCe,
    progress: &Progress,
    now: Timestamp,
) -> Option<DoseForecast> {
    let processed = progress.wb_processed_ml?;
    if !(pre_cd3_per_ul > 0.0 && target_cells > 0.0) {
        return None;
    }
    let cells_per_ml = pre_cd3_per_ul * 1000.0 * ce.percent / 100.0;
    let wb_needed_ml = target_cells / cells_per_ml;
    let wb_remaining_ml = (wb_needed_ml - processed).max(0.0);
    let reached = if wb_remaining_ml <= 0.0 {
        DoseReached::Already
    } else {
        match progress.rate_ml_min.filter(|r| *r > 0.0) {
            None => DoseReached::NoRate,
            Some(rate) => {
                let at = SignedDuration::try_from_secs_f64(wb_remaining_ml / rate * 60.0)
                    .ok()
                    .and_then(|d| now.checked_add(d).ok());
                match (at, progress.projected_end(now)) {
                    (None, _) => DoseReached::NoRate,
                    (Some(at), Some(end)) if at > end => {
                        DoseReached::NotBeforePlannedEnd { would_be: at }
                    }
                    (Some(at), _) => DoseReached::At(at),
                }
            }
        }
    };
    Some(DoseForecast {
        target_cells,
        cells_so_far: processed * cells_per_ml,
        wb_needed_ml,
        wb_remaining_ml,
        reached,
        ce,
    })
}

/// The forecast as the monitor shows it at a moment.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveForecast {
    /// The session has no CD3+ input at all (not a CAR-T collection): nothing is shown.
    NotApplicable,
    /// A CD3+ collection whose forecast cannot be made yet: why.
    Unavailable(String),
    Ready(DoseForecast),
}

/// The expected CE2 typed in the metadata (`lab.expected_ce2_percent`): `None` when absent,
/// an error when it is not a number from above 0 to 100.
pub fn typed_ce(lab: &Map<String, Value>) -> Option<Result<ExpectedCe, String>> {
    match lab.get(EXPECTED_CE2_KEY) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(ExpectedCe::typed(n.as_f64().unwrap_or(f64::NAN))),
        Some(other) => Some(Err(format!("the expected CE2 {other} is not a number"))),
    }
}

/// The CE2 observed in the latest product sample noted by the moment, with the whole blood
/// processed when it was noted; `None` without one.
pub fn observed_ce(moment: Moment<'_>, pre_cd3_per_ul: f64) -> Option<Result<ExpectedCe, String>> {
    let until = moment.x_range().map(|(_, x)| x);
    let timeline = moment.timeline;
    timeline
        .notes
        .iter()
        .rev()
        .filter(|n| n.code == PRODUCT_SAMPLE_CODE && until.is_none_or(|u| n.x <= u))
        .find_map(|n| match Record::from_text(&n.text) {
            Some(Record::ProductSample(sample)) => Some((n.x, sample)),
            _ => None,
        })
        .map(|(x, sample)| {
            let wb = timeline
                .moment(x)
                .latest_value(Series::WbProcessedMl)
                .unwrap_or(0.0);
            ExpectedCe::observed(pre_cd3_per_ul, sample.cd3_per_ul, sample.bag_ml, wb)
                .map_err(|e| format!("the product sample: {e}"))
        })
}

/// The forecast at `moment` (the live end or the replay's playhead) from the session's lab
/// values, the product samples noted by then and, when nothing better, `past` (the median CE2
/// of the unit's past collections, [`ExpectedCe::median_of`]). The CE2 is the one observed in
/// the latest product sample, else the one typed, else `past`. A product sample whose CE2 is
/// implausible is passed over for the next source.
pub fn live_forecast(
    lab: Option<&LabMeta>,
    moment: Moment<'_>,
    progress: &Progress,
    now: Timestamp,
    past: Option<ExpectedCe>,
) -> LiveForecast {
    let fields = lab.map(LabMeta::fields).unwrap_or_default();
    let pre = Analyte::PreCd3.read(&fields);
    let target = fields.get("target_cd3_cells").filter(|v| !v.is_null());
    let typed = typed_ce(&fields);
    if matches!(pre, Ok(None)) && target.is_none() && typed.is_none() {
        return LiveForecast::NotApplicable;
    }
    let pre = match pre {
        Ok(Some(v)) => v.canonical,
        Ok(None) => return LiveForecast::Unavailable("needs a pre-collection CD3+".into()),
        Err(e) => return LiveForecast::Unavailable(e.to_string()),
    };
    let target = match target.map(|v| v.as_f64().filter(|t| t.is_finite() && *t > 0.0)) {
        Some(Some(t)) => t,
        Some(None) => {
            return LiveForecast::Unavailable("the target dose is not a number of cells".into());
        }
        None => return LiveForecast::Unavailable("needs a target dose".into()),
    };
    let observed = observed_ce(moment, pre).and_then(Result::ok);
    let ce = match (observed, typed, past) {
        (Some(ce), _, _) | (None, Some(Ok(ce)), _) | (None, None, Some(ce)) => ce,
        (None, Some(Err(e)), _) => return LiveForecast::Unavailable(e),
        (None, None, None) => {
            return LiveForecast::Unavailable("needs an expected CE2".into());
        }
    };
    match forecast(pre, target, ce, progress, now) {
        Some(f) => LiveForecast::Ready(f),
        None => LiveForecast::Unavailable("no whole blood processed yet".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn progress(processed: f64, rate: Option<f64>, target_ml: f64) -> Progress {
        let remaining_s = rate.map(|r| ((target_ml - processed).max(0.0)) / r * 60.0);
        Progress {
            wb_processed_ml: Some(processed),
            rate_ml_min: rate,
            remaining_s,
            ..Progress::default()
        }
    }

    #[test]
    fn the_dose_so_far_and_the_blood_still_to_process_follow_the_ce() {
        // 1000 CD3+/µL, CE2 50 %: 500 000 cells per mL of WB; 1e9 cells need 2000 mL.
        let ce = ExpectedCe::typed(50.0).unwrap();
        let f = forecast(
            1000.0,
            1e9,
            ce,
            &progress(1500.0, Some(50.0), 10_000.0),
            at(0),
        )
        .unwrap();
        assert_eq!(f.cells_so_far, 7.5e8);
        assert_eq!(f.wb_needed_ml, 2000.0);
        assert_eq!(f.wb_remaining_ml, 500.0);
        // 500 mL at 50 mL/min: 10 min.
        assert_eq!(f.reached, DoseReached::At(at(600)));
    }

    #[test]
    fn a_dose_beyond_the_planned_end_says_so() {
        let ce = ExpectedCe::typed(50.0).unwrap();
        // The run ends after 2500 mL (20 min at 50 mL/min); the dose needs 2000 + 2000 mL more.
        let f = forecast(500.0, 1e9, ce, &progress(1500.0, Some(50.0), 2500.0), at(0)).unwrap();
        assert_eq!(f.wb_remaining_ml, 2500.0);
        assert_eq!(
            f.reached,
            DoseReached::NotBeforePlannedEnd { would_be: at(3000) }
        );
        // Without a rate, no time is promised.
        let f = forecast(1000.0, 1e9, ce, &progress(100.0, None, 2500.0), at(0)).unwrap();
        assert_eq!(f.reached, DoseReached::NoRate);
        // Past the dose: reached.
        let f = forecast(1000.0, 1e9, ce, &progress(2500.0, None, 5000.0), at(0)).unwrap();
        assert_eq!((f.reached, f.wb_remaining_ml), (DoseReached::Already, 0.0));
    }

    #[test]
    fn the_ce_is_typed_taken_from_past_collections_or_observed() {
        assert!(ExpectedCe::typed(0.0).is_err());
        assert!(ExpectedCe::typed(100.5).is_err());
        assert!(ExpectedCe::typed(f64::NAN).is_err());
        let past = ExpectedCe::median_of(&[40.0, 60.0, 250.0, 50.0, 45.0]).unwrap();
        // 250 % is left out: the median of 40, 45, 50, 60.
        assert_eq!(past.percent, 47.5);
        assert_eq!(past.source, CeSource::PastCollections(4));
        assert_eq!(past.describe(), "CE2 48 % (median of 4 past collections)");
        assert_eq!(ExpectedCe::median_of(&[f64::NAN, -3.0]), None);
        // Sample: 20 000/µL in a 100 mL bag after 4000 mL of WB at 1000/µL: 50 %.
        let seen = ExpectedCe::observed(1000.0, 20_000.0, 100.0, 4000.0).unwrap();
        assert_eq!((seen.percent, seen.source), (50.0, CeSource::ProductSample));
        // A sample count in ×10⁹/L read as /µL would make 1 %... or 50 000 %: refused.
        assert!(ExpectedCe::observed(1000.0, 20_000_000.0, 100.0, 4000.0).is_err());
        assert!(ExpectedCe::observed(1000.0, 20_000.0, 100.0, 0.0).is_err());
    }

    mod live {
        use super::super::*;
        use crate::analysis::labs::LabUnit;
        use crate::analysis::progress::{Target, progress};
        use crate::analysis::records::ProductSample;
        use crate::analysis::{Patient, Timeline};
        use crate::model::{Entry, EntryBody, MachineState, Note, Quantity, Sample};

        fn at(s: u64) -> Timestamp {
            Timestamp::from_second(1_800_000_000 + s as i64).unwrap()
        }

        /// RUN at 50 mL/min of whole blood for `minutes`, a sample a second; `notes` at
        /// their second.
        fn timeline(minutes: u64, notes: &[(u64, String, String)]) -> Timeline {
            let mut t = Timeline::new();
            let entry = |s: u64, body| Entry {
                time_utc: at(s),
                elapsed_ms: Some(s * 1000),
                seq: None,
                body,
            };
            t.push(&entry(0, EntryBody::State(MachineState::Run)));
            for s in 1..=minutes * 60 {
                let sample = Sample::default()
                    .with(Quantity::InletMl, 55.0 * s as f64 / 60.0)
                    .with(Quantity::AcMl, 5.0 * s as f64 / 60.0);
                t.push(&entry(s, EntryBody::Sample(sample)));
                for (_, code, text) in notes.iter().filter(|n| n.0 == s) {
                    t.push(&Entry {
                        elapsed_ms: None,
                        ..entry(
                            s,
                            EntryBody::Note(Note {
                                code: code.clone(),
                                text: text.clone(),
                            }),
                        )
                    });
                }
            }
            t
        }

        fn lab(json: serde_json::Value) -> LabMeta {
            serde_json::from_value(json).unwrap()
        }

        fn at_moment(lab: Option<&LabMeta>, t: &Timeline, x: f64) -> LiveForecast {
            let moment = t.moment(x);
            let p = progress(moment, &Patient::default(), Target::WbLitres(10.0));
            let now = moment.clock_at(x).unwrap();
            live_forecast(lab, moment, &p, now, None)
        }

        #[test]
        fn a_collection_without_cd3_inputs_has_no_forecast_and_says_nothing() {
            let t = timeline(20, &[]);
            assert_eq!(at_moment(None, &t, 600.0), LiveForecast::NotApplicable);
            let other = lab(serde_json::json!({"product_volume_ml": 200}));
            assert_eq!(
                at_moment(Some(&other), &t, 600.0),
                LiveForecast::NotApplicable
            );
        }

        #[test]
        fn a_missing_input_is_named() {
            let t = timeline(20, &[]);
            for (json, why) in [
                (
                    serde_json::json!({"target_cd3_cells": 2e9}),
                    "needs a pre-collection CD3+",
                ),
                (
                    serde_json::json!({"pre_cd3_per_ul": 500}),
                    "needs a target dose",
                ),
                (
                    serde_json::json!({"pre_cd3_per_ul": 500, "target_cd3_cells": 2e9}),
                    "needs an expected CE2",
                ),
            ] {
                let lab = lab(json);
                assert_eq!(
                    at_moment(Some(&lab), &t, 600.0),
                    LiveForecast::Unavailable(why.into())
                );
            }
        }

        #[test]
        fn the_ce_is_observed_in_the_latest_sample_before_the_moment_else_typed_else_past() {
            // 500 CD3+/µL. At 10 min, 500 mL processed; a sample of 30 000/µL in a 4 mL bag
            // holds 1.2e8 cells of the 2.5e8 processed: 48 %. At 15 min, 750 mL; 40 000/µL
            // in 6 mL: 2.4e8 of 3.75e8, 64 %.
            let sample = |cd3: f64, bag: f64| {
                let r = Record::ProductSample(
                    ProductSample::new(cd3, LabUnit::PerMicrolitre, bag).unwrap(),
                );
                (r.code().to_owned(), r.to_text())
            };
            let (code, first) = sample(30_000.0, 4.0);
            let (_, second) = sample(40_000.0, 6.0);
            let t = timeline(20, &[(600, code.clone(), first), (900, code, second)]);
            let typed = lab(serde_json::json!({
                "pre_cd3_per_ul": 500, "target_cd3_cells": 2e9, "expected_ce2_percent": 40,
            }));
            let ce = |f: LiveForecast| match f {
                LiveForecast::Ready(f) => (f.ce.percent, f.ce.source),
                other => panic!("{other:?}"),
            };
            assert_eq!(
                ce(at_moment(Some(&typed), &t, 300.0)),
                (40.0, CeSource::Typed)
            );
            let (p, source) = ce(at_moment(Some(&typed), &t, 700.0));
            assert!(
                (p - 48.0).abs() < 1e-9 && source == CeSource::ProductSample,
                "{p}"
            );
            let (p, _) = ce(at_moment(Some(&typed), &t, 1100.0));
            assert!((p - 64.0).abs() < 1e-9, "{p}");
            // Without a typed CE2, the past collections' median.
            let bare = lab(serde_json::json!({"pre_cd3_per_ul": 500, "target_cd3_cells": 2e9}));
            let past = ExpectedCe::median_of(&[30.0, 50.0]);
            let moment = t.moment(300.0);
            let p = progress(moment, &Patient::default(), Target::WbLitres(10.0));
            let f = live_forecast(Some(&bare), moment, &p, at(300), past);
            assert_eq!(ce(f), (40.0, CeSource::PastCollections(2)));
            // A typed CE2 out of range is named, not used.
            let wrong = lab(serde_json::json!({
                "pre_cd3_per_ul": 500, "target_cd3_cells": 2e9, "expected_ce2_percent": 140,
            }));
            assert!(matches!(
                at_moment(Some(&wrong), &t, 300.0),
                LiveForecast::Unavailable(why) if why.contains("140 %")
            ));
        }
    }
}
