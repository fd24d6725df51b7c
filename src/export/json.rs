//! The summary as one JSON object: the identity, every figure of the table under its key, the
//! logs (see `analysis/summary/json.rs`); a figure that could not be computed is `null` and
//! listed in `unavailable` with the reason.

use std::path::Path;

use crate::analysis::summary::Summary;

use super::{ExportError, write_atomically};

/// The summary as pretty-printed JSON (ends with a newline).
pub fn to_json(summary: &Summary) -> String {
    // A struct of strings, numbers, options and vectors always serialises; a non-finite
    // number (which no figure should be) becomes `null`.
    let mut text = serde_json::to_string_pretty(summary).unwrap_or_else(|e| {
        serde_json::json!({ "error": format!("cannot serialise the summary: {e}") }).to_string()
    });
    text.push('\n');
    text
}

/// Writes the JSON summary to `path` (owner-only, atomically).
pub fn write_json(path: &Path, summary: &Summary) -> Result<(), ExportError> {
    write_atomically(path, to_json(summary).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{Figure, SummaryInput, summarize_input};

    #[test]
    fn every_key_is_present_and_missing_figures_are_null() {
        let s = summarize_input(&SummaryInput::default());
        let value: serde_json::Value = serde_json::from_str(&to_json(&s)).unwrap();
        let object = value.as_object().unwrap();
        for key in [
            "started_utc",
            "ended_utc",
            "duration_s",
            "run_time_s",
            "pause_count",
            "pause_time_s",
            "inlet_ml",
            "ac_ml",
            "collect_ml",
            "plasma_ml",
            "replace_ml",
            "wb_processed_ml",
            "tbv_ml",
            "tbv_processed",
            "mean_inlet_ml_min",
            "citrate_mean_mg_kg_min",
            "citrate_peak_mg_kg_min",
            "alarms_high",
            "alarms_medium",
            "alarms_low",
            "monitor_alarms_high",
            "monitor_alarms_medium",
            "monitor_alarms_low",
            "run_start_utc",
            "collection_end_utc",
            "end_utc",
            "alarm_log",
            "notes",
            "note_log",
            "lost_sentences",
            "link_losses",
            "cd3_yield_cells",
            "ce2_percent",
            "wb_needed_for_target_ml",
            "unavailable",
            "patient_id",
            "machine",
            "operator",
            "recording_file",
            "rows_skipped",
            "tbv_method",
            "notices",
            "collection",
        ] {
            assert!(object.contains_key(key), "{key}");
        }
        // No other keys: the identity, the figures of the table, the logs, the notices, the
        // collection record.
        let not_figures = [
            "collection",
            "recording_file",
            "patient_id",
            "machine",
            "operator",
            "tbv_method",
            "alarm_log",
            "note_log",
            "unavailable",
            "notices",
        ];
        assert_eq!(
            object.len(),
            not_figures.len() + Figure::ALL.len(),
            "no other keys"
        );
        for key in object.keys() {
            assert!(
                not_figures.contains(&key.as_str()) || Figure::from_key(key).is_some(),
                "{key}"
            );
        }
        assert!(object["inlet_ml"].is_null());
        assert!(
            object["unavailable"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["figure"] == "inlet_ml")
        );
        let back: Summary = serde_json::from_value(value).unwrap();
        assert_eq!(back, s);
    }
}
