//! How the summary's figures are written for people, shared by the text and PDF reports.

use crate::analysis::summary::{AlarmRecord, Summary};
use crate::model::Priority;
use crate::present::text::{cells, duration};

/// One line of the figures table.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRow {
    pub label: &'static str,
    /// The figure as written, or `None` when it could not be computed.
    pub value: Option<String>,
}

fn row(label: &'static str, value: Option<String>) -> FigureRow {
    FigureRow { label, value }
}

/// How long an alarm lasted, or why there is no duration.
pub fn alarm_duration(alarm: &AlarmRecord) -> String {
    match (alarm.duration_s, alarm.priority) {
        (Some(d), _) => duration(d),
        (None, Priority::Info) => "event".to_owned(),
        (None, _) => "not cleared".to_owned(),
    }
}

/// The machine as one line: `SIM-OPTIA, serial SN000123, software 1.0.0`.
pub fn machine(summary: &Summary) -> Option<String> {
    summary.machine.as_ref().map(|m| {
        let mut parts = vec![m.model.clone()];
        if !m.serial_no.is_empty() {
            parts.push(format!("serial {}", m.serial_no));
        }
        if !m.software_version.is_empty() {
            parts.push(format!("software {}", m.software_version));
        }
        parts.join(", ")
    })
}

/// The procedure figures (times, rates, events), in report order.
pub fn procedure_rows(s: &Summary) -> Vec<FigureRow> {
    vec![
        row("Duration", s.duration_s.map(duration)),
        row("Run time", s.run_time_s.map(duration)),
        row(
            "Pauses",
            s.pause_count.map(|n| match s.pause_time_s {
                Some(t) if n > 0 => format!("{n} ({} in total)", duration(t)),
                _ => n.to_string(),
            }),
        ),
        row(
            "Mean inlet flow (RUN)",
            s.mean_inlet_ml_min.map(|v| format!("{v:.1} mL/min")),
        ),
        row(
            "Citrate, mean (RUN)",
            s.citrate_mean_mg_kg_min
                .map(|v| format!("{v:.2} mg/kg/min")),
        ),
        row(
            "Citrate, peak 1-min",
            s.citrate_peak_mg_kg_min
                .map(|v| format!("{v:.2} mg/kg/min")),
        ),
        row(
            "Alarms",
            Some(format!(
                "{} high, {} medium, {} low",
                s.alarms_high, s.alarms_medium, s.alarms_low
            )),
        ),
        row("Nurse notes", Some(s.notes.to_string())),
        row(
            "Data link",
            Some(format!(
                "{} sentence{} lost, {} interruption{}",
                s.lost_sentences,
                plural(s.lost_sentences),
                s.link_losses,
                plural(s.link_losses)
            )),
        ),
        row("Rows skipped", Some(s.rows_skipped.to_string())),
    ]
}

/// The volume and collection figures, in report order.
pub fn volume_rows(s: &Summary) -> Vec<FigureRow> {
    let ml = |v: Option<f64>| v.map(|v| format!("{v:.1} mL"));
    vec![
        row("WB processed", ml(s.wb_processed_ml)),
        row("Inlet volume", ml(s.inlet_ml)),
        row("AC volume", ml(s.ac_ml)),
        row("Product volume", ml(s.collect_ml)),
        row("Plasma volume", ml(s.plasma_ml)),
        row("Replacement volume", ml(s.replace_ml)),
        row("TBV (Nadler)", s.tbv_ml.map(|v| format!("{v:.0} mL"))),
        row("TBV processed", s.tbv_processed.map(|v| format!("{v:.2}"))),
        row(
            "CD3+ yield",
            s.cd3_yield_cells.map(|v| format!("{} cells", cells(v))),
        ),
        row("CE2", s.ce2_percent.map(|v| format!("{v:.1} %"))),
        row(
            "WB for target dose",
            s.wb_needed_for_target_ml.map(|v| format!("{v:.0} mL")),
        ),
    ]
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
