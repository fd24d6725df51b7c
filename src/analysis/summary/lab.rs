//! The collection-efficiency figures, from the nurse's lab values in the metadata: the CD3+
//! yield, the collection efficiency CE2 and the whole blood needed for the target dose.
//!
//! Counts carry their unit (`{"value": 0.95, "unit": "10*9/L"}`, see [`crate::analysis::labs`])
//! and are refused outside their plausible range; the bare cells/µL numbers of earlier versions
//! are still read. A CE2 above 100 % cannot be: it is refused, with the reason.

use serde_json::{Map, Value};

use crate::analysis::labs::Analyte;
use crate::recording::meta::LabMeta;

/// The most CE2 can be: a collection cannot hold more cells than passed through the machine.
pub const CE2_MAX_PERCENT: f64 = 100.0;

use super::{Figure, Summary, Unavailables};

/// A count or volume, in its analyte's canonical unit (cells/µL, mL); the error says why it
/// cannot be used.
fn lab_reading(lab: &Map<String, Value>, analyte: Analyte) -> Result<f64, String> {
    match analyte.read(lab) {
        Ok(Some(value)) => Ok(value.canonical),
        Ok(None) => Err(format!("lab {} is missing", analyte.key())),
        Err(e) => Err(e.to_string()),
    }
}

/// A lab value that must be a positive number; the error says why it cannot be used.
fn lab_value(value: Option<&serde_json::Value>, key: &'static str) -> Result<f64, String> {
    crate::analysis::patient::validate_lab_value(value, key).map_err(|e| e.to_string())
}

/// The collection-efficiency figures from the nurse's lab values.
pub(super) fn lab_figures(s: &mut Summary, lab: Option<&LabMeta>, gaps: &mut Unavailables) {
    use Figure::{Cd3YieldCells, Ce2Percent, WbNeededForTargetMl, WbProcessedMl};
    let Some(lab) = lab else {
        gaps.add(
            &[Cd3YieldCells, Ce2Percent, WbNeededForTargetMl],
            "no lab values in the metadata",
        );
        return;
    };
    let fields = lab.fields();
    let pre = lab_reading(&fields, Analyte::PreCd3);
    let product = lab_reading(&fields, Analyte::ProductCd3);
    let volume = lab_reading(&fields, Analyte::ProductVolume);
    let target = lab_value(lab.target_cd3_cells.as_ref(), "target_cd3_cells");
    let needs = |problems: Vec<&String>| {
        problems
            .into_iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ")
    };

    match (&product, &volume) {
        (Ok(product), Ok(volume)) => s.set(Cd3YieldCells, product * 1000.0 * volume),
        _ => gaps.add(
            &[Cd3YieldCells],
            &needs(
                [&product, &volume]
                    .into_iter()
                    .filter_map(|r| r.as_ref().err())
                    .collect(),
            ),
        ),
    }
    let (cells, wb_processed) = (s.number(Cd3YieldCells), s.number(WbProcessedMl));
    match (cells, &pre, wb_processed) {
        (Some(cells), Ok(pre), Some(wb)) if wb > 0.0 => {
            let ce2 = 100.0 * cells / (pre * 1000.0 * wb);
            if ce2 <= CE2_MAX_PERCENT {
                s.set(Ce2Percent, ce2);
            } else {
                gaps.add(
                    &[Ce2Percent],
                    &format!(
                        "CE2 would be {ce2:.0} %, above {CE2_MAX_PERCENT:.0} %: implausible; \
                         check the lab values and their units"
                    ),
                );
            }
        }
        _ => {
            let mut problems: Vec<String> = Vec::new();
            if cells.is_none() {
                problems.push("needs cd3_yield_cells".into());
            }
            if let Err(e) = &pre {
                problems.push(e.clone());
            }
            match wb_processed {
                None => problems.push("needs wb_processed_ml".into()),
                Some(wb) if wb <= 0.0 => problems.push("no whole blood was processed".into()),
                Some(_) => {}
            }
            gaps.add(&[Ce2Percent], &problems.join("; "));
        }
    }
    let ce2 = s.number(Ce2Percent);
    match (ce2, &pre, &target) {
        (Some(ce2), Ok(pre), Ok(target)) if ce2 > 0.0 => {
            s.set(WbNeededForTargetMl, target / (pre * 1000.0 * ce2 / 100.0));
        }
        _ => {
            let mut problems: Vec<String> = Vec::new();
            if ce2.is_none() {
                problems.push("needs ce2_percent".into());
            }
            if let Err(e) = &target {
                problems.push(e.clone());
            }
            if ce2.is_some() && pre.is_err() {
                problems.push("needs pre_cd3".into());
            }
            gaps.add(&[WbNeededForTargetMl], &problems.join("; "));
        }
    }
}
