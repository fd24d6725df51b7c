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

use super::progress::Progress;

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
        cells_so_far: processed * cells_per_ml,
        wb_needed_ml,
        wb_remaining_ml,
        reached,
        ce,
    })
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
}
