//! Progress towards the collection target and the projected end.

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
    /// Session time at which the target will be reached at the recent rate.
    pub end_x: Option<f64>,
    /// Why there is no fraction or projection, for the screen.
    pub unavailable: Option<String>,
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
        return p;
    }
    match timeline.recent_wb_rate_ml_min(RATE_WINDOW_SECS) {
        Some(rate) if rate > 0.5 => {
            p.rate_ml_min = Some(rate);
            p.end_x = Some(x + remaining / rate * 60.0);
        }
        _ => p.unavailable = Some("projection needs a minute of processing".into()),
    }
    p
}
